/**
 * `npx tsx tools/convert/check-onnx.ts MODEL.onnx CONVERTED_DIR [N]`: runs the ONNX file in onnxruntime-node
 * and the converted tfjs model on the first N val-subset images (the converted model's preprocessing, NCHW for
 * ONNX) and reports logit error and Top-1 agreement. For int8 models the difference is ONNX's activation
 * quantization, which the float conversion does not have.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../../src/backend.js';
import { decodeImage } from '../../src/image/decode.js';
import { preprocess } from '../../src/image/preprocess.js';
import { checkMetadata, modelMetadata } from '../../src/artifacts/metadata.js';
import { nodeFileSystem } from '../../src/artifacts/node-fs.js';
import { modelWithWeights } from '../../src/api/weights.js';

const [onnxPath, dir, n = '50'] = process.argv.slice(2);
if (!onnxPath || !dir) throw new Error('usage: check-onnx.ts MODEL.onnx CONVERTED_DIR [N]');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const subset = join(process.env.CNN_ZOO_SHARED ?? join(root, '..', 'shared'), 'imagenet', 'val-subset');
await useBackend('wasm');
const meta = checkMetadata((await nodeFileSystem(dir).load!()).userDefinedMetadata, dir);
const lines = (await readFile(join(subset, 'labels.txt'), 'utf8')).trim().split('\n').slice(0, Number(n)).map((l) => l.split(/\s+/));
const files = lines.map((l) => join(subset, 'images', l[0]!));
const labels = lines.map((l) => Number(l[1]) + meta.classOffset);
const model = await modelWithWeights(meta.arch, { weights: dir });
const session = await ort.InferenceSession.create(onnxPath);
let agree = 0, worst = 0, oursTop1 = 0, ortTop1 = 0;
for (const [k, f] of files.entries()) {
  const x = preprocess(await decodeImage(f), modelMetadata(model)!.preprocessing);
  const ours = tf.tidy(() => (model.predict(x.expandDims(0)) as tf.Tensor).dataSync() as Float32Array);
  const nchw = tf.tidy(() => x.transpose([2, 0, 1]).dataSync() as Float32Array);
  x.dispose();
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', nchw, [1, 3, meta.inputSize, meta.inputSize]) });
  const ref = out[session.outputNames[0]!]!.data as Float32Array;
  const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));
  if (argmax(ours) === argmax(ref)) agree++;
  if (argmax(ours) === labels[k]) oursTop1++;
  if (argmax(ref) === labels[k]) ortTop1++;
  let d = 0, m = 0;
  for (let i = 0; i < ref.length; i++) { d = Math.max(d, Math.abs(ours[i]! - ref[i]!)); m = Math.max(m, Math.abs(ref[i]!)); }
  worst = Math.max(worst, d / m);
}
console.log(`${files.length} images: Top-1 agrees on ${agree} (${(100 * agree / files.length).toFixed(1)}%), worst max|ours-ort|/max|ort| ${worst.toExponential(2)}; ` +
  `Top-1 ours ${(100 * oursTop1 / files.length).toFixed(1)}%, onnxruntime ${(100 * ortTop1 / files.length).toFixed(1)}%`);
