/**
 * The ONNX int8 MobileNet v2 of ../shared/weights in two builds of ONNX Runtime: onnxruntime-node (native, x86
 * int8 kernels) and onnxruntime-web (wasm, in Node), same input (ImageNet preprocessing, NCHW): how often their
 * top-1 classes agree, their Top-1, and the largest logit difference. It bounds what a float32 conversion can agree
 * with: two int8 executions of the same graph already differ (docs/WEIGHTS.md, note on the int8 model).
 * Usage: npx tsx tools/onnx-int8-runtimes.ts [--limit N] [--data DIR]
 */
import * as ortn from 'onnxruntime-node';
import * as ortw from 'onnxruntime-web';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/eval/dataset.js';
import { decodeImage } from '../src/image/decode.js';
import { normalize, resizeAndCrop } from '../src/image/preprocess.js';
import { IMAGENET_DEFAULT } from '../src/image/preprocess.js';

const SHARED = process.env.CNN_ZOO_SHARED ?? '../shared';
const { values } = parseArgs({ options: { limit: { type: 'string' }, data: { type: 'string', default: join(SHARED, 'imagenet', 'val-subset') } } });
const file = join(SHARED, 'weights', 'onnx-mobilenetv2-int8', 'mobilenet_v2_quant.onnx');
ortw.env.wasm.numThreads = 1;
const native = await ortn.InferenceSession.create(file, { intraOpNumThreads: 1 });
const wasm = await ortw.InferenceSession.create(new Uint8Array(readFileSync(file)));
const items = (await openDataset(values.data!)).items.slice(0, values.limit ? Number(values.limit) : undefined);
const pre = { ...IMAGENET_DEFAULT, size: 224 };
let same = 0, hitN = 0, hitW = 0, worst = 0;
for (const it of items) {
  const hwc = normalize(resizeAndCrop(await decodeImage(it.path), pre), pre);
  const x = new Float32Array(hwc.length);
  for (let i = 0; i < 224 * 224; i++) for (let c = 0; c < 3; c++) x[c * 224 * 224 + i] = hwc[i * 3 + c]!;
  const a = (await native.run({ input: new ortn.Tensor('float32', x, [1, 3, 224, 224]) })).output!.data as Float32Array;
  const b = (await wasm.run({ input: new ortw.Tensor('float32', x, [1, 3, 224, 224]) })).output!.data as Float32Array;
  const am = a.indexOf(Math.max(...a)), bm = b.indexOf(Math.max(...b));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  if (am === bm) same++;
  if (am === it.label) hitN++;
  if (bm === it.label) hitW++;
}
const pct = (v: number) => `${((100 * v) / items.length).toFixed(1)}%`;
console.log(`${items.length} images: onnxruntime-node vs onnxruntime-web (wasm) top-1 agree on ${pct(same)}; Top-1 node ${pct(hitN)}, web ${pct(hitW)}; max |logit diff| ${worst.toFixed(2)}`);
