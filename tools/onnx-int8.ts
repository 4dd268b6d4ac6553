/**
 * Static int8 ONNX (src/onnx/quantize.ts) against the float ONNX export of the same weights: Top-1/Top-5 on a
 * labelled image folder and batch-1 latency in onnxruntime-node (interleaved rounds, so both see the same load).
 * Calibration uses the first `--calibrate` images of the sorted dataset; accuracy is measured on the others only,
 * for float, int8, and the same int8 without bias correction (the weights' rounding shift left in the biases).
 *
 * One model (`--model NAME [--weights W]`, with cnn-zoo's own wasm inference form timed for reference), or the real
 * checkpoints of ../shared/weights (`--checkpoints all` or `--checkpoints ID,...`, the ids of
 * tools/convert/checkpoints.ts): each is converted once into out/converted/<id> (as `npm run convert:all` does),
 * then measured; a markdown table of all of them is printed at the end. A checkpoint whose int8 loses more than
 * `--max-loss` Top-1 points is measured again with the first conv and the last dense layer left in float
 * (`--keep-ends` does that from the start), and if still over, also with activation ranges clipped at the 99.99th
 * percentile (`--percentile P` does that from the start).
 * Usage: npx tsx tools/onnx-int8.ts [--model tf_mobilenet_v2_100] [--weights DIR] [--checkpoints all|ID,...]
 *        [--data ../shared/imagenet/val-subset] [--calibrate 100] [--rounds 30] [--threads 1] [--keep-ends]
 *        [--max-loss 1] [--percentile 99.99]
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/backend.js';
import { load, type ZooModel } from '../src/api/index.js';
import { openDataset, type ImageDataset as Dataset } from '../src/eval/dataset.js';
import { exportOnnx } from '../src/onnx/export.js';
import { calibrate, QUANTIZED_CLASSES, type Int8Calibration } from '../src/onnx/quantize.js';
import { modelMetadata } from '../src/artifacts/metadata.js';
import { saveConverted } from '../src/artifacts/save.js';
import { nodeFileSystem } from '../src/artifacts/node-fs.js';
import { convertCheckpoint } from '../src/convert/convert.js';
import { interleave } from './bench/common.js';
import { checkpointJobs } from './convert/checkpoints.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: {
  model: { type: 'string', default: 'tf_mobilenet_v2_100' }, weights: { type: 'string' }, checkpoints: { type: 'string' },
  data: { type: 'string', default: '../shared/imagenet/val-subset' }, calibrate: { type: 'string', default: '100' },
  rounds: { type: 'string', default: '30' }, threads: { type: 'string', default: '1' }, 'keep-ends': { type: 'boolean', default: false },
  'max-loss': { type: 'string', default: '1' }, shared: { type: 'string' }, percentile: { type: 'string' },
} });
const threads = Number(values.threads);
const rounds = Number(values.rounds);
const maxLoss = Number(values['max-loss']);
const percentile = values.percentile === undefined ? undefined : Number(values.percentile);
const BATCH = 8;

/** The calibration without the first conv's input and the last dense layer's input and output: those layers stay float. */
function withoutEnds(model: tf.LayersModel, cal: Int8Calibration): Int8Calibration {
  const quantized = model.layers.filter((l) => QUANTIZED_CLASSES.has(l.getClassName()));
  const drop = new Set<string>();
  const inputsOf = (l: tf.layers.Layer) => (l as unknown as { inboundNodes: { inputTensors: tf.SymbolicTensor[] }[] }).inboundNodes[0]!.inputTensors;
  const first = quantized[0], last = quantized[quantized.length - 1];
  for (const t of first ? inputsOf(first) : []) drop.add(t.sourceLayer.name);
  if (last && last !== first) {
    for (const t of inputsOf(last)) drop.add(t.sourceLayer.name);
    drop.add(last.name);
  }
  const keep = <T>(r: Readonly<Record<string, T>>) => Object.fromEntries(Object.entries(r).filter(([k]) => !drop.has(k)));
  return { ranges: keep(cal.ranges), means: keep(cal.means) };
}

interface Measured {
  name: string; images: number; calImages: number; calS: number; floatMb: number; int8Mb: number;
  float: [number, number]; int8: [number, number]; plain: [number, number]; agree: number; agreePlain: number; keptEnds: boolean; percentile?: number;
  floatMs: { min: number; median: number }; int8Ms: { min: number; median: number }; zooMs?: { min: number; median: number };
}

const pct = (v: number, n: number) => (100 * v) / n;
const summary = (ts: number[]) => { const s = [...ts].sort((a, b) => a - b); return { min: s[0]!, median: s[Math.floor(s.length / 2)]! }; };

async function measure(zoo: ZooModel, dataset: Dataset, opts: { keepEnds: boolean; timeZoo: boolean; percentile?: number }): Promise<Measured> {
  const offset = modelMetadata(zoo.model)?.classOffset ?? 0;
  const nCal = Number(values.calibrate);
  const calItems = dataset.items.slice(0, nCal), evalItems = dataset.items.slice(nCal);
  async function* batchesOf(paths: string[]): AsyncGenerator<tf.Tensor4D> {
    for (let i = 0; i < paths.length; i += BATCH) {
      const x = await zoo.preprocess(paths.slice(i, i + BATCH));
      try { yield x; } finally { x.dispose(); }
    }
  }
  const t0 = performance.now();
  const measured = await calibrate(zoo.model, batchesOf(calItems.map((it) => it.path)), { percentile: opts.percentile });
  const calS = (performance.now() - t0) / 1000;
  const cal = opts.keepEnds ? withoutEnds(zoo.model, measured) : measured;
  const floatBytes = await exportOnnx(zoo.model);
  const int8Bytes = await exportOnnx(zoo.model, { int8: cal });
  const sessOpts = { intraOpNumThreads: threads, graphOptimizationLevel: 'all' as const };
  const sessions = {
    float: await ort.InferenceSession.create(floatBytes, sessOpts), int8: await ort.InferenceSession.create(int8Bytes, sessOpts),
    // The same int8 model without bias correction (no channel means), for accuracy only.
    plain: await ort.InferenceSession.create(await exportOnnx(zoo.model, { int8: { ranges: cal.ranges, means: {} } }), sessOpts),
  };
  console.log(`${zoo.name}: calibrated ${Object.keys(cal.ranges).length} activations on ${calItems.length} images in ${calS.toFixed(1)} s` +
    `${opts.keepEnds ? ' (first conv and last dense left in float)' : ''}${opts.percentile ? ` (ranges at the ${opts.percentile}th percentile)` : ''}; float ${(floatBytes.length / 1e6).toFixed(1)} MB, int8 ${(int8Bytes.length / 1e6).toFixed(1)} MB`);

  const [, h, w, c] = zoo.model.inputs[0]!.shape as number[];
  const hits = { float: [0, 0] as [number, number], int8: [0, 0] as [number, number], plain: [0, 0] as [number, number] };
  let agree = 0, agreePlain = 0, n = 0;
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
      for (const name of ['float', 'int8', 'plain'] as const) {
        const top = tops[name]![r]!;
        if (top[0] === it.label) hits[name][0]++;
        if (top.includes(it.label)) hits[name][1]++;
      }
      if (tops.float![r]![0] === tops.int8![r]![0]) agree++;
      if (tops.float![r]![0] === tops.plain![r]![0]) agreePlain++;
      n++;
    });
  }
  console.log(`  accuracy on ${n} images of ${dataset.name} (not the calibration images):`);
  for (const name of ['float', 'int8', 'plain'] as const) console.log(`    ${name === 'plain' ? 'int8 without bias correction' : name.padEnd(5)} Top-1 ${pct(hits[name][0], n).toFixed(2)}%  Top-5 ${pct(hits[name][1], n).toFixed(2)}%`);
  console.log(`    Top-1 change ${(pct(hits.int8[0] - hits.float[0], n)).toFixed(2)} points, Top-5 change ${pct(hits.int8[1] - hits.float[1], n).toFixed(2)} points; same top-1 class on ${pct(agree, n).toFixed(2)}% (${pct(agreePlain, n).toFixed(2)}% without bias correction)`);

  // Latency, batch 1, interleaved rounds: ORT float, ORT int8 (and cnn-zoo's wasm inference form for one model).
  const feeds = { input: new ort.Tensor('float32', first!, [1, h!, w!, c!]) };
  const x1 = tf.tensor4d(first!, [1, h!, w!, c!]);
  const variants: [string, () => Promise<void>][] = [
    ['onnxruntime float', async () => { await sessions.float.run(feeds); }],
    ['onnxruntime int8', async () => { await sessions.int8.run(feeds); }],
  ];
  if (opts.timeZoo) variants.push(['cnn-zoo wasm inference form', async () => { const y = zoo.model.predict(x1) as tf.Tensor; await y.data(); y.dispose(); }]);
  const stat = (await interleave(variants.map(([, run]) => run), rounds)).map(summary);
  console.log(`  batch 1 latency, ${threads} thread(s), ${rounds} interleaved rounds:`);
  variants.forEach(([label], i) => console.log(`    ${label.padEnd(28)} min ${stat[i]!.min.toFixed(2).padStart(7)} ms  median ${stat[i]!.median.toFixed(2).padStart(7)} ms`));
  console.log(`    int8 speed-up over float onnxruntime: ${(stat[0]!.min / stat[1]!.min).toFixed(2)}x (min), ${(stat[0]!.median / stat[1]!.median).toFixed(2)}x (median)`);
  x1.dispose();
  for (const s of Object.values(sessions)) await s.release();
  return {
    name: zoo.name, images: n, calImages: calItems.length, calS, floatMb: floatBytes.length / 1e6, int8Mb: int8Bytes.length / 1e6,
    float: hits.float, int8: hits.int8, plain: hits.plain, agree, agreePlain, keptEnds: opts.keepEnds, percentile: opts.percentile, floatMs: stat[0]!, int8Ms: stat[1]!, zooMs: stat[2],
  };
}

function table(rows: { id: string; arch: string; m: Measured }[]): string {
  const lines = ['| checkpoint | model | float Top-1 / Top-5 | int8 Top-1 / Top-5 | change (points) | change without bias correction | same top-1 as float (without bias correction) | MB float → int8 | float ms (min / median) | int8 ms (min / median) | speed-up (min / median) |',
    '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const { id, arch, m } of rows) {
    const p = (v: number) => pct(v, m.images).toFixed(2);
    const d = (a: number, b: number) => { const v = pct(a - b, m.images); return `${v >= 0 ? '+' : ''}${v.toFixed(2)}`; };
    const how = [m.keptEnds ? 'first conv, last dense float' : '', m.percentile ? `${m.percentile}th percentile ranges` : ''].filter((x) => x).join('; ');
    lines.push(`| ${id}${how ? ` (${how})` : ''} | ${arch} | ${p(m.float[0])} / ${p(m.float[1])} | ${p(m.int8[0])} / ${p(m.int8[1])} | ` +
      `${d(m.int8[0], m.float[0])} / ${d(m.int8[1], m.float[1])} | ${d(m.plain[0], m.float[0])} / ${d(m.plain[1], m.float[1])} | ${p(m.agree)}% (${p(m.agreePlain)}%) | ${m.floatMb.toFixed(1)} → ${m.int8Mb.toFixed(1)} | ` +
      `${m.floatMs.min.toFixed(2)} / ${m.floatMs.median.toFixed(2)} | ${m.int8Ms.min.toFixed(2)} / ${m.int8Ms.median.toFixed(2)} | ` +
      `${(m.floatMs.min / m.int8Ms.min).toFixed(2)}x / ${(m.floatMs.median / m.int8Ms.median).toFixed(2)}x |`);
  }
  return lines.join('\n');
}

await useBackend('wasm', { wasmThreads: threads });
const dataset = await openDataset(values.data!);
if (!values.checkpoints) {
  const zoo = await load(values.model!, values.weights ? { weights: values.weights } : {});
  await measure(zoo, dataset, { keepEnds: values['keep-ends']!, timeZoo: true, percentile });
  zoo.dispose();
} else {
  const shared = values.shared ?? process.env.CNN_ZOO_SHARED ?? join(root, '..', 'shared');
  const jobs = checkpointJobs(join(shared, 'weights'));
  const ids = values.checkpoints === 'all' ? jobs.map((j) => j.id) : values.checkpoints.split(',');
  const unknown = ids.filter((id) => !jobs.some((j) => j.id === id));
  if (unknown.length) throw new Error(`--checkpoints: unknown ${unknown.join(', ')}; known: ${jobs.map((j) => j.id).join(', ')}`);
  const rows: { id: string; arch: string; m: Measured }[] = [];
  for (const id of ids) {
    const job = jobs.find((j) => j.id === id)!;
    const dir = join(root, 'out', 'converted', id);
    if (!existsSync(join(dir, 'model.json'))) {
      const { model, metadata } = await convertCheckpoint({ ...job.options, dtype: 'float32' });
      await saveConverted(model, nodeFileSystem(dir), metadata);
      model.dispose();
    }
    const zoo = await load(dir);
    console.log(`\n== ${id} (${zoo.name}, publisher Top-1 ${job.reference.top1}%)`);
    let m = await measure(zoo, dataset, { keepEnds: values['keep-ends']!, timeZoo: false, percentile });
    rows.push({ id, arch: zoo.name, m });
    const lost = () => pct(m.float[0] - m.int8[0], m.images) > maxLoss;
    if (!m.keptEnds && lost()) {
      console.log(`  int8 lost more than ${maxLoss} point(s) of Top-1: again with the first conv and the last dense layer in float`);
      m = await measure(zoo, dataset, { keepEnds: true, timeZoo: false, percentile });
      rows.push({ id, arch: zoo.name, m });
    }
    if (!m.percentile && lost()) {
      console.log(`  still more than ${maxLoss} point(s): again with activation ranges at the 99.99th percentile`);
      m = await measure(zoo, dataset, { keepEnds: true, timeZoo: false, percentile: 99.99 });
      rows.push({ id, arch: zoo.name, m });
    }
    zoo.dispose();
  }
  console.log(`\n${table(rows)}`);
}
