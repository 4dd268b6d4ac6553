/**
 * What the bench's processes share: the job and result records, deterministic weights and inputs (the same
 * numbers in every process, so cnn-zoo and onnxruntime run identical weights on identical images), timing
 * statistics and machine facts.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { det } from '../../src/parity/det.js';
import { median, percentile } from '../../src/eval/profile.js';

export type Runtime = 'cnn-zoo' | 'onnxruntime' | 'pytorch';

export interface Job {
  mode: 'tfjs' | 'ort' | 'export';
  model: string;
  batches: number[];
  /** cnn-zoo: backend and form. */
  backend?: string;
  form?: 'inference' | 'training';
  wasmThreads?: number;
  flags?: Record<string, number | boolean | string>;
  dawnOptions?: string[];
  /** Precompile WebGPU shaders in parallel before the first run. */
  compileWarmup?: boolean;
  /** ONNX file to run or to write. */
  onnxPath?: string;
  runs: number;
  maxSeconds: number;
}

export interface Result {
  runtime: Runtime;
  backend: string;
  form: string;
  model: string;
  batch: number;
  threads: number;
  /** Build/load (+ fold, + compile warm-up) before the first run, ms. */
  setupMs: number;
  coldMs: number;
  warmMs: number;
  warmP90Ms: number;
  runs: number;
  imgPerSec: number;
  peakRssMb: number;
  /** tfjs tensor bytes (or GPU bytes on WebGPU / CUDA), MB. */
  deviceMb: number;
  /** First logits row, for agreement checks between runtimes on the same weights. */
  firstRow?: number[];
  /** tf.profile at this batch: kernels launched and the sum of their times (ms). */
  kernels?: number;
  kernelMs?: number;
  /** The kernels by total time at this batch: `Name x count: ms`, slowest first. */
  kernelTop?: string;
  note?: string;
}

export const INPUT_SEED = 'cnn-zoo-bench-input';

/** The bench input for `batch` images in NCHW order (what onnxruntime and PyTorch take). */
export function inputNchw(batch: number, h: number, w: number): Float32Array {
  return det(INPUT_SEED, batch * 3 * h * w, 1);
}

const roleOf = (w: tf.LayerVariable): string => w.originalName.slice(w.originalName.lastIndexOf('/') + 1);

/**
 * Deterministic weights for `model` (training form): He-uniform kernels, small biases, batch norms near
 * identity, so activations stay O(1) through deep stacks (no denormals to skew CPU timings).
 */
export function setBenchWeights(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    tf.tidy(() => layer.setWeights(layer.weights.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const role = roleOf(w);
      const seed = w.originalName;
      if (role === 'kernel' || role === 'depthwise_kernel') {
        const fanIn = shape.length === 4 ? shape[0]! * shape[1]! * (role === 'depthwise_kernel' ? 1 : shape[2]!) : shape[0]!;
        return tf.tensor(det(seed, n, Math.sqrt(6 / fanIn)), shape);
      }
      if (role === 'gamma' || role === 'moving_variance') return tf.tensor(det(seed, n, 0.1).map((v) => 1 + v), shape);
      return tf.tensor(det(seed, n, role === 'moving_mean' ? 0.1 : 0.01), shape);
    })));
  }
}

/** Median and nearest-rank p90 (the product's statistics, src/eval/profile.ts). */
export function stats(times: number[]): { median: number; p90: number } {
  return { median: median(times), p90: percentile(times, 90) };
}

/** Peak resident memory of this process so far, MB. */
export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

export interface Machine {
  host: string;
  cpu: string;
  cores: number;
  memGb: number;
  os: string;
  node: string;
  gpu: string;
}

export function machine(gpu = ''): Machine {
  const cpus = os.cpus();
  return {
    host: os.hostname(), cpu: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length,
    memGb: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version, gpu,
  };
}

/**
 * Orders for interleaved rounds in which each variant follows every other equally often (a Williams design: n rows
 * for an even n, 2n for an odd one; each ordered pair of neighbours appears once, or twice, per cycle of rows).
 * In one process a variant inherits what the previous one left behind (garbage to collect, onnxruntime's worker
 * threads still spinning), so a fixed order always charges that to the same neighbour.
 */
export function balancedOrders(n: number): number[][] {
  const first = [0];
  for (let k = 1, lo = 1, hi = n - 1; first.length < n; k++) first.push(k % 2 ? lo++ : hi--);
  const rows = Array.from({ length: n }, (_, r) => first.map((v) => (v + r) % n));
  return n % 2 ? [...rows, ...rows.map((row) => [...row].reverse())] : rows;
}

/**
 * Interleaved timing: each round runs every variant once, so machine noise spreads over all of them, in the
 * orders of `balancedOrders` (round r takes row r mod its length); the first `warmup` rounds are not recorded.
 * Returns the times (ms) per variant. A variant that returns a number timed itself (e.g. in another process) and
 * that number (ms) is recorded instead of the wall time of the call.
 */
export async function interleave(runs: readonly (() => Promise<void | number>)[], rounds: number, warmup = 2): Promise<number[][]> {
  const times = runs.map(() => [] as number[]);
  const orders = balancedOrders(runs.length);
  for (let r = 0; r < rounds + warmup; r++) {
    for (const i of orders[r % orders.length]!) {
      const t = performance.now();
      const own = await runs[i]!();
      if (r >= warmup) times[i]!.push(typeof own === 'number' ? own : performance.now() - t);
    }
  }
  return times;
}
