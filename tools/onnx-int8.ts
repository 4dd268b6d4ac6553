/**
 * Static int8 ONNX (src/onnx/quantize.ts) against the float ONNX export of the same weights: Top-1/Top-5 on a
 * labelled image folder and batch-1 latency in onnxruntime-node (interleaved rounds, so both see the same load),
 * with cnn-zoo's own wasm inference form for reference. Calibration uses the first `--calibrate` images of the
 * sorted dataset; accuracy is measured on the others only.
 * Usage: npx tsx tools/onnx-int8.ts [--model tf_mobilenet_v2_100] [--weights DIR] [--data ../shared/imagenet/val-subset]
 *        [--calibrate 100] [--rounds 30] [--threads 1]
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/backend.js';
import { load } from '../src/api/index.js';
import { openDataset } from '../src/eval/dataset.js';
import { exportOnnx } from '../src/onnx/export.js';
import { calibrate } from '../src/onnx/quantize.js';
import { modelMetadata } from '../src/artifacts/metadata.js';
import { interleave } from './bench/common.js';

const { values } = parseArgs({ options: {
  model: { type: 'string', default: 'tf_mobilenet_v2_100' }, weights: { type: 'string' },
  data: { type: 'string', default: '../shared/imagenet/val-subset' }, calibrate: { type: 'string', default: '100' },
  rounds: { type: 'string', default: '30' }, threads: { type: 'string', default: '1' },
} });
const threads = Number(values.threads);
await useBackend('wasm', { wasmThreads: threads });
const zoo = await load(values.model!, values.weights ? { weights: values.weights } : {});
const offset = modelMetadata(zoo.model)?.classOffset ?? 0;
const dataset = await openDataset(values.data!);
const nCal = Number(values.calibrate);
const calItems = dataset.items.slice(0, nCal), evalItems = dataset.items.slice(nCal);
const BATCH = 8;

async function* batchesOf(paths: string[]): AsyncGenerator<tf.Tensor4D> {
  for (let i = 0; i < paths.length; i += BATCH) {
    const x = await zoo.preprocess(paths.slice(i, i + BATCH));
    try { yield x; } finally { x.dispose(); }
  }
}

let t0 = performance.now();
const ranges = await calibrate(zoo.model, batchesOf(calItems.map((it) => it.path)));
const calMs = performance.now() - t0;
t0 = performance.now();
const floatBytes = await exportOnnx(zoo.model);
const int8Bytes = await exportOnnx(zoo.model, { int8: ranges });
const exportMs = performance.now() - t0;
const opts = { intraOpNumThreads: threads, graphOptimizationLevel: 'all' as const };
const sessions = { float: await ort.InferenceSession.create(floatBytes, opts), int8: await ort.InferenceSession.create(int8Bytes, opts) };
console.log(`${zoo.name}: calibrated ${Object.keys(ranges).length} activations on ${calItems.length} images in ${(calMs / 1000).toFixed(1)} s; ` +
  `export ${(exportMs / 1000).toFixed(1)} s; float ${(floatBytes.length / 1e6).toFixed(1)} MB, int8 ${(int8Bytes.length / 1e6).toFixed(1)} MB`);

const [, h, w, c] = zoo.model.inputs[0]!.shape as number[];
const hits = { float: [0, 0], int8: [0, 0] };
let agree = 0, n = 0;
let first: Float32Array | undefined;
for (let i = 0; i < evalItems.length; i += BATCH) {
  const items = evalItems.slice(i, i + BATCH);
  const x = await zoo.preprocess(items.map((it) => it.path));
  const data = (await x.data()) as Float32Array;
  x.dispose();
  first ??= data.slice(0, h! * w! * c!);
  const tops: Record<string, number[][]> = {};
  for (const [name, s] of Object.entries(sessions)) {
    const out = await s.run({ input: new ort.Tensor('float32', data, [items.length, h!, w!, c!]) });
    const logits = out.logits!.data as Float32Array, k = logits.length / items.length;
    tops[name] = items.map((_, r) => {
      const row = logits.subarray(r * k, (r + 1) * k);
      return [...row.keys()].filter((j) => j >= offset).sort((a, b) => row[b]! - row[a]!).slice(0, 5).map((j) => j - offset);
    });
  }
  items.forEach((it, r) => {
    for (const name of ['float', 'int8'] as const) {
      const top = tops[name]![r]!;
      if (top[0] === it.label) hits[name][0]!++;
      if (top.includes(it.label)) hits[name][1]!++;
    }
    if (tops.float![r]![0] === tops.int8![r]![0]) agree++;
    n++;
  });
}
const pct = (v: number) => `${((100 * v) / n).toFixed(2)}%`;
console.log(`accuracy on ${n} images of ${dataset.name} (not the calibration images):`);
for (const name of ['float', 'int8'] as const) console.log(`  ${name.padEnd(5)} Top-1 ${pct(hits[name][0]!)}  Top-5 ${pct(hits[name][1]!)}`);
console.log(`  Top-1 change ${(((hits.int8[0]! - hits.float[0]!) * 100) / n).toFixed(2)} points, Top-5 change ${(((hits.int8[1]! - hits.float[1]!) * 100) / n).toFixed(2)} points; same top-1 class on ${pct(agree)}`);

// Latency, batch 1, interleaved rounds: ORT float, ORT int8, cnn-zoo wasm inference form.
const feeds = { input: new ort.Tensor('float32', first!, [1, h!, w!, c!]) };
const x1 = tf.tensor4d(first!, [1, h!, w!, c!]);
const variants: [string, () => Promise<void>][] = [
  ['onnxruntime float', async () => { await sessions.float.run(feeds); }],
  ['onnxruntime int8', async () => { await sessions.int8.run(feeds); }],
  ['cnn-zoo wasm inference form', async () => { const y = zoo.model.predict(x1) as tf.Tensor; await y.data(); y.dispose(); }],
];
const rounds = Number(values.rounds);
const times = await interleave(variants.map(([, run]) => run), rounds);
console.log(`batch 1 latency, ${threads} thread(s), ${rounds} interleaved rounds:`);
const stat = times.map((ts) => { const s = [...ts].sort((a, b) => a - b); return { min: s[0]!, median: s[Math.floor(s.length / 2)]! }; });
variants.forEach(([label], i) => console.log(`  ${label.padEnd(28)} min ${stat[i]!.min.toFixed(2).padStart(7)} ms  median ${stat[i]!.median.toFixed(2).padStart(7)} ms`));
console.log(`  int8 speed-up over float onnxruntime: ${(stat[0]!.min / stat[1]!.min).toFixed(2)}x (min), ${(stat[0]!.median / stat[1]!.median).toFixed(2)}x (median)`);
x1.dispose();
zoo.dispose();
for (const s of Object.values(sessions)) await s.release();
