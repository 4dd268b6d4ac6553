/**
 * A contention-robust CPU comparison for shared machines: one process holds cnn-zoo's inference and training
 * forms (wasm) and an onnxruntime session on the same weights, and runs them in interleaved rounds, so each
 * round sees the same load; reports min and median per variant and the ratios to onnxruntime.
 * Usage: npx tsx tools/bench-interleaved.ts [--models mobilenet_v2,resnet50] [--rounds 30] [--threads 1]
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/backend.js';
import { create } from '../src/zoo/registry.js';
import { toInference } from '../src/inference/transform.js';
import { exportOnnx } from '../src/onnx/export.js';
import { inputNchw, interleave, setBenchWeights } from './bench/common.js';

const { values } = parseArgs({ options: { models: { type: 'string', default: 'mobilenet_v2,resnet50' }, rounds: { type: 'string', default: '30' }, threads: { type: 'string', default: '1' } } });
await useBackend('wasm', { wasmThreads: Number(values.threads) });
const rounds = Number(values.rounds);
for (const name of values.models!.split(',')) {
  const training = create(name);
  setBenchWeights(training);
  const inference = toInference(training);
  const session = await ort.InferenceSession.create(await exportOnnx(inference, { layout: 'NCHW' }), { graphOptimizationLevel: 'all' });
  const [, h, w] = training.inputs[0]!.shape as number[];
  const nchw = inputNchw(1, h!, w!);
  const x = tf.tidy(() => tf.tensor4d(nchw, [1, 3, h!, w!]).transpose([0, 2, 3, 1]));
  const feeds = { input: new ort.Tensor('float32', nchw, [1, 3, h!, w!]) };
  const variants: [string, () => Promise<void>][] = [
    ['cnn-zoo inference form', async () => { const y = inference.predict(x) as tf.Tensor; await y.data(); y.dispose(); }],
    ['cnn-zoo training form', async () => { const y = training.predict(x) as tf.Tensor; await y.data(); y.dispose(); }],
    ['onnxruntime', async () => { await session.run(feeds); }],
  ];
  const times = await interleave(variants.map(([, run]) => run), rounds);
  const summary = times.map((ts) => { const s = [...ts].sort((a, b) => a - b); return { min: s[0]!, median: s[Math.floor(s.length / 2)]! }; });
  const ortT = summary[2]!;
  console.log(`\n${name}, batch 1, wasm ${values.threads} thread(s), ${rounds} interleaved rounds`);
  variants.forEach(([label], i) => {
    const s = summary[i]!;
    console.log(`  ${label.padEnd(24)} min ${s.min.toFixed(1).padStart(7)} ms  median ${s.median.toFixed(1).padStart(7)} ms` +
      (i < 2 ? `   x ORT: ${(s.min / ortT.min).toFixed(2)} (min) ${(s.median / ortT.median).toFixed(2)} (median)` : ''));
  });
  x.dispose();
  training.dispose();
  inference.dispose();
  await session.release();
}
