/**
 * Grouped convolution implementations compared (`npm run bench:grouped-conv -- [options]`):
 *   split/call   the original layer: split input and kernel per call, one conv per group, concat
 *   depthwise    gather each output's input channels, depthwise conv (multiplier 1), sum over the group
 *   packed c     GroupedConv2D: g/c convs of c groups each, block-diagonal kernels derived once (c = 1: one
 *                cached conv per group; c = g: one dense conv)
 *   auto         GroupedConv2D's default: c chosen per shape by `clusterSize()`
 * Part 1 times every distinct grouped conv of the chosen models (batch 1) for each implementation; part 2
 * times whole ResNeXt-50 32x4d (batch 1, 224 px) per implementation, median of --runs after --warmup,
 * and checks every implementation's logits against auto's.
 *
 * Options: --backend wasm|cpu (default wasm), --models a,b (part 1; default resnext50_32x4d),
 *          --model NAME (part 2; default resnext50_32x4d), --runs N (default 10), --warmup N (default 2),
 *          --skip-layers, --skip-model, --json FILE.
 * Set CNN_ZOO_WASM_DIR to a folder holding the tfjs-backend-wasm .wasm files when the package is not installed
 * (a bundled copy of this script on another machine).
 *
 * Measured (tfjs 4.22 wasm, single-threaded SIMD build, Node 20, an otherwise idle 16-core Intel Xeon; a
 * shared 2-core machine is far too noisy for this). Whole ResNeXt-50 32x4d, batch 1, 224 px, median of 15
 * runs after 2 warm-up, ms:
 *   auto 798 (run again last: 699) | split/call 1362 | packed 1 (cached split) 1218 | packed 32
 *   (block-diagonal) 1384 | depthwise 3222. Logits identical to auto for every packing (max |diff| 0);
 *   depthwise sums in another order (9.7e-8).
 * Its grouped convs (medians of 10, ms; c = groups per packed conv, * = auto's choice):
 *   56x56x128 s1 (x3)   split/call 63.5  depthwise 62.3  c1 52.2  c2 30.4  c4 24.0  c8 20.4*  c16 29.1  c32 53.5
 *   56x56x256 s2 (x1)   split/call 98.7  depthwise 456   c1 35.9  c2 36.1  c4 22.3  c8 25.3*  c16 36.0  c32 59.8
 *   28x28x256 s1 (x3)   split/call 26.1  depthwise 116   c1 19.2  c2 15.3  c4 10.9* c8 21.7  c16 31.3  c32 58.4
 *   28x28x512 s2 (x1)   split/call 31.5  depthwise 410   c1 42.4  c2 23.5  c4 14.7* c8 13.1  c16 24.8  c32 57.3
 *   14x14x512 s1 (x5)   split/call 17.5  depthwise 107   c1 12.1  c2 12.2* c4 9.4   c8 16.0  c16 31.0  c32 42.8
 *   14x14x1024 s2 (x1)  split/call 47.9  depthwise 457   c1 22.4  c2 13.1* c4 13.6  c8 19.8  c16 37.1  c32 72.3
 *   7x7x1024 s1 (x2)    split/call 31.5  depthwise 112   c1 4.0*  c2 7.1   c4 8.8   c8 18.0  c16 34.0  c32 68.4
 * The ResNeXt-101 32x8d / 64x4d and SENet-154 shapes (--models resnext101_32x8d,resnext101_64x4d,legacy_senet154)
 * put the fastest packing at 32-64 output channels per packed conv too, which is the rule `clusterSize()` encodes.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../src/backend.js';
import { GroupedConv2D } from '../src/layers/grouped-conv2d.js';
import { create } from '../src/zoo/registry.js';

const { values: opt } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    models: { type: 'string', default: 'resnext50_32x4d' },
    model: { type: 'string', default: 'resnext50_32x4d' },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'skip-layers': { type: 'boolean', default: false },
    'skip-model': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const RUNS = Number(opt.runs), WARMUP = Number(opt.warmup);

type Explicit4D = [[number, number], [number, number], [number, number], [number, number]];
interface LayerInternals { kernel: tf.LayerVariable; bias: tf.LayerVariable | null }
const internals = (l: GroupedConv2D): LayerInternals => l as unknown as LayerInternals;
const padOf = (l: GroupedConv2D): Explicit4D => [[0, 0], l.padding[0], l.padding[1], [0, 0]];

/** The original implementation: everything split per call. */
function splitPerCall(l: GroupedConv2D, x: tf.Tensor4D): tf.Tensor4D {
  const kernel = internals(l).kernel.read() as tf.Tensor4D;
  const xs = tf.split(x, l.groups, 3) as tf.Tensor4D[];
  const ks = tf.split(kernel, l.groups, 3) as tf.Tensor4D[];
  return tf.concat(xs.map((xi, i) => tf.conv2d(xi, ks[i]!, l.strides, padOf(l), 'NHWC', l.dilationRate)), 3);
}

/** Depthwise + reduce: output o = sum_i dw(x[:, :, :, group(o)*ci + i]) with kernel K[.., i, o]. */
const depthwiseCache = new WeakMap<GroupedConv2D, { idx: tf.Tensor1D; kernel: tf.Tensor4D }>();
function depthwiseReduce(l: GroupedConv2D, x: tf.Tensor4D): tf.Tensor4D {
  let c = depthwiseCache.get(l);
  if (!c) {
    const k = internals(l).kernel.read() as tf.Tensor4D;
    const [kh, kw, ci, out] = k.shape;
    const co = out / l.groups;
    const idx = new Int32Array(out * ci);
    for (let o = 0; o < out; o++) for (let i = 0; i < ci; i++) idx[o * ci + i] = Math.floor(o / co) * ci + i;
    c = { idx: tf.keep(tf.tensor1d(idx, 'int32')), kernel: tf.keep(tf.tidy(() => k.transpose([0, 1, 3, 2]).reshape([kh, kw, out * ci, 1]) as tf.Tensor4D)) };
    depthwiseCache.set(l, c);
  }
  const ci = c.idx.shape[0] / l.filters;
  const xg = tf.gather(x, c.idx, 3) as tf.Tensor4D;
  // tfjs core takes explicit padding for depthwise convs too; its typing lags.
  const y = tf.depthwiseConv2d(xg, c.kernel, l.strides, padOf(l) as unknown as 'valid', 'NHWC', l.dilationRate);
  const [n, h, w] = y.shape;
  return tf.sum(y.reshape([n, h, w, l.filters, ci]), 4) as tf.Tensor4D;
}

function releaseDepthwise(layers: GroupedConv2D[]): void {
  for (const l of layers) {
    const c = depthwiseCache.get(l);
    if (c) tf.dispose([c.idx, c.kernel]);
    depthwiseCache.delete(l);
  }
}

type Impl = { name: string; packing?: number; call?: (l: GroupedConv2D, x: tf.Tensor4D) => tf.Tensor4D };

const originalCall = GroupedConv2D.prototype.call;
/** Make every GroupedConv2D run `impl`. */
function select(impl: Impl, layers: GroupedConv2D[]): void {
  for (const l of layers) l.packing = impl.packing ?? null;
  const custom = impl.call;
  GroupedConv2D.prototype.call = custom
    ? function (this: GroupedConv2D, inputs: tf.Tensor | tf.Tensor[]) {
      return tf.tidy(() => {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
        const y = custom(this, x);
        const bias = internals(this).bias;
        return bias ? tf.add(y, bias.read()) : y;
      });
    }
    : originalCall;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
function timeMs(f: () => tf.Tensor, runs = RUNS, warmup = WARMUP): number {
  const ts: number[] = [];
  for (let r = 0; r < warmup + runs; r++) {
    const t0 = performance.now();
    const y = f();
    y.dataSync();
    y.dispose();
    if (r >= warmup) ts.push(performance.now() - t0);
  }
  return median(ts);
}

const divisors = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

interface LayerRow { shape: string; count: number; auto: number; ms: Record<string, number> }

function benchLayers(models: string[]): LayerRow[] {
  const out: LayerRow[] = [];
  const seen = new Set<string>();
  for (const name of models) {
    const model = create(name);
    const shapes = new Map<string, { layer: GroupedConv2D; input: [number, number, number, number]; count: number }>();
    for (const l of model.layers) {
      if (!(l instanceof GroupedConv2D)) continue;
      const [, h, w, cin] = (l.input as tf.SymbolicTensor).shape as number[];
      const key = `${h}x${w}x${cin} -> ${l.filters} k${l.kernelSize[0]} s${l.strides[0]} g${l.groups}`;
      const hit = shapes.get(key);
      if (hit) hit.count++;
      else if (!seen.has(key)) shapes.set(key, { layer: l, input: [1, h!, w!, cin!], count: 1 });
    }
    for (const [key, { layer: l, input, count }] of shapes) {
      seen.add(key);
      const x = tf.randomNormal(input) as tf.Tensor4D;
      const impls: Impl[] = [{ name: 'split/call', call: splitPerCall }, { name: 'depthwise', call: depthwiseReduce },
        ...divisors(l.groups).map((c) => ({ name: `packed ${c}`, packing: c }))];
      const ms: Record<string, number> = {};
      for (const impl of impls) {
        select(impl, [l]);
        ms[impl.name] = timeMs(() => l.apply(x) as tf.Tensor);
        l.releasePackedKernels();
        releaseDepthwise([l]);
      }
      select({ name: 'auto' }, [l]);
      x.dispose();
      const auto = l.clusterSize();
      const best = Object.entries(ms).sort((a, b) => a[1] - b[1])[0]!;
      console.log(`${name} ${key} (x${count}): auto packs ${auto} ${ms[`packed ${auto}`]!.toFixed(2)} ms; fastest ${best[0]} ${best[1].toFixed(2)} ms; ` +
        Object.entries(ms).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', '));
      out.push({ shape: `${name} ${key}`, count, auto, ms });
    }
    model.dispose();
  }
  return out;
}

interface ModelRow { impl: string; medianMs: number; runsMs: number[]; maxAbsDiffVsAuto: number }

function benchModel(name: string): ModelRow[] {
  const model = create(name);
  const layers = model.layers.filter((l): l is GroupedConv2D => l instanceof GroupedConv2D);
  const size = model.inputs[0]!.shape as number[];
  const x = tf.randomUniform([1, size[1]!, size[2]!, 3], -1, 1);
  const groups = layers[0]?.groups ?? 1;
  const impls: Impl[] = [{ name: 'auto' }, { name: 'split/call', call: splitPerCall }, { name: 'depthwise', call: depthwiseReduce },
    { name: 'packed 1 (cached split)', packing: 1 }, { name: `packed ${groups} (block-diagonal)`, packing: groups },
    { name: 'auto (again: drift check)' }];
  const rows: ModelRow[] = [];
  let reference: Float32Array | null = null;
  for (const impl of impls) {
    select(impl, layers);
    const runs: number[] = [];
    let logits: Float32Array | null = null;
    for (let r = 0; r < WARMUP + RUNS; r++) {
      const t0 = performance.now();
      const y = model.predict(x) as tf.Tensor;
      const data = y.dataSync() as Float32Array;
      y.dispose();
      if (r >= WARMUP) runs.push(performance.now() - t0);
      logits = data;
    }
    reference ??= logits;
    let diff = 0;
    for (let i = 0; i < reference!.length; i++) diff = Math.max(diff, Math.abs(reference![i]! - logits![i]!));
    const row = { impl: impl.name, medianMs: median(runs), runsMs: runs.map((v) => Math.round(v)), maxAbsDiffVsAuto: diff };
    console.log(`${name} ${impl.name.padEnd(28)} median ${row.medianMs.toFixed(0)} ms  (runs ${row.runsMs.join(' ')})  max|diff| vs auto ${diff.toExponential(2)}`);
    rows.push(row);
    for (const l of layers) l.releasePackedKernels();
    releaseDepthwise(layers);
  }
  select({ name: 'auto' }, layers);
  x.dispose();
  model.dispose();
  return rows;
}

if (process.env.CNN_ZOO_WASM_DIR && opt.backend === 'wasm') {
  // A bundled copy without the package installed: point tfjs at the .wasm files (single-threaded SIMD build).
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = process.env.CNN_ZOO_WASM_DIR.replace(/\/?$/, '/');
  wasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': `${dir}tfjs-backend-wasm.wasm`,
    'tfjs-backend-wasm-simd.wasm': `${dir}tfjs-backend-wasm-simd.wasm`,
    'tfjs-backend-wasm-threaded-simd.wasm': `${dir}tfjs-backend-wasm-threaded-simd.wasm`,
  });
  if (!(await tf.setBackend('wasm'))) throw new Error(`wasm backend failed to start from ${dir}`);
  await tf.ready();
} else {
  await useBackend(opt.backend as BackendName);
}
console.log(`backend ${tf.getBackend()}, runs ${RUNS} after ${WARMUP} warm-up, node ${process.version}`);
const result: { backend: string; layers?: LayerRow[]; model?: { name: string; rows: ModelRow[] } } = { backend: tf.getBackend() };
if (!opt['skip-layers']) result.layers = benchLayers(opt.models.split(','));
if (!opt['skip-model']) result.model = { name: opt.model, rows: benchModel(opt.model) };
if (opt.json) writeFileSync(opt.json, JSON.stringify(result, null, 1));
