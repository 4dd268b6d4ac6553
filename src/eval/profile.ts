/**
 * Profiling one model on the current tfjs backend: analytic size (params, FLOPs = 2 x MACs, per-layer table),
 * `tf.profile` of one forward pass (kernel count and time, new and peak tensor bytes), and latency per batch size:
 * cold (the first call at that batch size: shader compilation, weight upload, allocation) and warm (median and
 * p90 of repeated calls, each timed until its output is read back), throughput and peak tensor memory.
 * `profileOnnxRuntime` times the same model exported to ONNX on onnxruntime (what `load()` runs in Node).
 */
import * as tf from '@tensorflow/tfjs';
import { countParams, layerTable, type LayerCount } from '../zoo/count.js';
import { CnnZooError, checkOptionKinds, checkOptionNames, shown } from '../errors.js';
import { inputSizeOf } from './model-settings.js';
import { isNode } from '../platform.js';
import { toInference } from '../inference/index.js';
import { ORT_PACKAGE, OnnxSession, importOnnxRuntime, missingRuntimeError } from '../onnx/runtime.js';

type ProfileInfo = Awaited<ReturnType<typeof tf.profile>>;

export interface LatencyPoint {
  batch: number;
  /** First call at this batch size, ms. */
  coldMs: number;
  /** Median / 90th percentile (nearest rank) of the warm calls, ms per batch. */
  warmMedianMs: number;
  warmP90Ms: number;
  /** Warm calls timed. */
  runs: number;
  /** batch / warm median, images per second. */
  imagesPerSec: number;
  /**
   * Peak bytes held by tfjs tensors during one call (weights included), from `tf.profile`; absent on onnxruntime,
   * whose memory is its own allocator's (the process's resident size does not isolate one model: tried, it moved
   * with what earlier work had freed).
   */
  peakBytes?: number;
}

export interface KernelStat { name: string; count: number; ms: number }

export interface KernelProfile {
  /** Batch size of the profiled call. */
  batch: number;
  kernelCount: number;
  /** Sum of kernel times reported by the backend, ms. */
  kernelMs: number;
  newBytes: number;
  newTensors: number;
  peakBytes: number;
  /** Kernels by total time, slowest first (at most 10). */
  topKernels: KernelStat[];
}

export interface EnvironmentInfo {
  /** The tfjs backend, or the onnxruntime package (`onnxruntime-node`). */
  backend: string;
  tfjs: string;
  platform: string;
  cpu: string;
  cores: number;
  node?: string;
  /** tfjs flags that change speed (WASM SIMD/threads, WebGPU). */
  flags: Record<string, boolean | number | string>;
}

export interface ProfileResult {
  kind: 'bench';
  model: string;
  inputSize: number;
  numClasses: number;
  /** Learnable parameters (BN running statistics excluded). */
  params: number;
  /** Conv + matmul FLOPs for one image (1 multiply-add = 2 FLOPs). */
  flops: number;
  /** Multiply-adds for one image (flops / 2). */
  macs: number;
  /** Bytes of all weights (incl. BN statistics) as stored by tfjs. */
  weightBytes: number;
  layers?: LayerCount[];
  /** One forward pass under `tf.profile` (absent on onnxruntime, whose kernels are not tfjs's). */
  profile?: KernelProfile;
  latency: LatencyPoint[];
  env: EnvironmentInfo;
  date: string;
}

export interface ProfileOptions {
  /** Batch sizes to time (default 1, 2, 4, 8, 16, 32, 64). */
  batchSizes?: readonly number[];
  /** Warm calls per batch size (default 10; fewer if `maxMsPerBatch` runs out, never fewer than 3). */
  runs?: number;
  /** Time budget for the warm calls of one batch size (default 10 s). */
  maxMsPerBatch?: number;
  /** Keep the per-layer table in the result. */
  layers?: boolean;
  /** Name to report (default model.name). */
  name?: string;
  onProgress?: (msg: string) => void;
}

const PROFILE_OPTIONS = ['batchSizes', 'runs', 'maxMsPerBatch', 'layers', 'name', 'onProgress'] as const satisfies readonly (keyof ProfileOptions)[];

export const DEFAULT_BATCH_SIZES: readonly number[] = [1, 2, 4, 8, 16, 32, 64];

/** Nearest-rank percentile of `xs` (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** The median (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One forward pass, timed until the output is on the CPU (so async backends are measured fully). */
async function timedCall(model: tf.LayersModel, x: tf.Tensor): Promise<number> {
  const t0 = performance.now();
  const out = model.predict(x);
  const outs = Array.isArray(out) ? out : [out];
  await Promise.all(outs.map((o) => o.data()));
  const ms = performance.now() - t0;
  tf.dispose(outs);
  return ms;
}

async function profileCall(model: tf.LayersModel, x: tf.Tensor): Promise<ProfileInfo> {
  const info = await tf.profile(() => model.predict(x) as tf.Tensor | tf.Tensor[]);
  tf.dispose(info.result as tf.Tensor | tf.Tensor[]);
  return info;
}

function kernelProfile(info: ProfileInfo, batch: number): KernelProfile {
  const byName = new Map<string, KernelStat>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    kernelMs += ms;
    const s = byName.get(k.name) ?? { name: k.name, count: 0, ms: 0 };
    s.count++;
    s.ms += ms;
    byName.set(k.name, s);
  }
  return {
    batch, kernelCount: info.kernels.length, kernelMs, newBytes: info.newBytes, newTensors: info.newTensors,
    peakBytes: info.peakBytes, topKernels: [...byName.values()].sort((a, b) => b.ms - a.ms).slice(0, 10),
  };
}

/** Facts about the machine and backend that the timings depend on. */
export async function environmentInfo(): Promise<EnvironmentInfo> {
  const flags: Record<string, boolean | number | string> = {};
  // Only flags already evaluated (evaluating e.g. WEBGL_VERSION in Node would try to create a canvas).
  const evaluated = tf.env().getFlags();
  const prefix = { wasm: /^WASM_HAS_/, webgpu: /^WEBGPU_/, webgl: /^WEBGL_VERSION$/ }[tf.getBackend()];
  for (const [f, v] of Object.entries(evaluated)) {
    if (prefix?.test(f) && (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string')) flags[f] = v;
  }
  const info: EnvironmentInfo = { backend: tf.getBackend(), tfjs: tf.version.tfjs, platform: 'browser', cpu: 'unknown', cores: 0, flags };
  if (isNode) {
    const os = await import('node:os');
    info.platform = `${os.platform()} ${os.arch()}`;
    info.cpu = os.cpus()[0]?.model ?? 'unknown';
    info.cores = os.cpus().length;
    info.node = process.versions.node;
  } else if (typeof navigator !== 'undefined') {
    info.platform = navigator.userAgent;
    info.cores = navigator.hardwareConcurrency ?? 0;
  }
  return info;
}

/** The options of a profile, checked, with their defaults. */
function profileSettings(where: string, opts: ProfileOptions): { batchSizes: readonly number[]; runs: number; budget: number } {
  checkOptionNames(where, opts, PROFILE_OPTIONS);
  checkOptionKinds(where, opts, { runs: 'positive integer', maxMsPerBatch: 'positive number', layers: 'boolean', name: 'string', onProgress: 'function' });
  if (opts.batchSizes !== undefined && !Array.isArray(opts.batchSizes)) {
    throw new CnnZooError(`${where}: batchSizes is a list of positive integers such as [1, 8], got ${shown(opts.batchSizes)}.`, 'BAD_OPTION');
  }
  const batchSizes = opts.batchSizes ?? DEFAULT_BATCH_SIZES;
  if (batchSizes.length === 0 || batchSizes.some((b) => !Number.isInteger(b) || b < 1)) {
    throw new CnnZooError(`Batch sizes must be positive integers, got ${batchSizes.join(',')}.`, 'BAD_OPTION');
  }
  return { batchSizes, runs: opts.runs ?? 10, budget: opts.maxMsPerBatch ?? 10_000 };
}

/** How one batch size is timed: a call (ms until its outputs are read), and the peak memory after the calls. */
interface BatchTiming { call: () => Promise<number>; peakBytes: () => number | undefined; dispose: () => void }

/** Cold, then warm calls (at least 3, at most `runs`, within `budget` ms after the third) per batch size. */
async function latencyPoints(batchSizes: readonly number[], runs: number, budget: number, name: string, opts: ProfileOptions,
  timing: (batch: number) => Promise<BatchTiming>): Promise<LatencyPoint[]> {
  const latency: LatencyPoint[] = [];
  for (const batch of batchSizes) {
    const t = await timing(batch);
    try {
      const coldMs = await t.call();
      const times: number[] = [];
      const start = performance.now();
      while (times.length < runs && (times.length < 3 || performance.now() - start < budget)) times.push(await t.call());
      const warmMedianMs = median(times);
      const peakBytes = t.peakBytes();
      latency.push({ batch, coldMs, warmMedianMs, warmP90Ms: percentile(times, 90), runs: times.length, imagesPerSec: (1000 * batch) / warmMedianMs, ...(peakBytes === undefined ? {} : { peakBytes }) });
      opts.onProgress?.(`${name} batch ${batch}: cold ${coldMs.toFixed(1)} ms, warm median ${warmMedianMs.toFixed(1)} ms (${times.length} runs)`);
    } finally {
      t.dispose();
    }
  }
  return latency;
}

/** What a profile says of the model itself: size, FLOPs, output width (and the per-layer table on request). */
function modelFacts(model: tf.LayersModel, name: string, opts: ProfileOptions) {
  const [h] = inputSizeOf(model);
  const table = layerTable(model);
  const flops = table.reduce((a, l) => a + l.flops, 0);
  const out = model.outputs[0]!.shape;
  const weightBytes = model.weights.reduce((a, v) => a + (v.shape as number[]).reduce((x, y) => x * y, 1) * (v.dtype === 'float32' || v.dtype === 'int32' ? 4 : 1), 0);
  return {
    kind: 'bench' as const, model: name, inputSize: h, numClasses: out[out.length - 1] ?? 0,
    params: countParams(model), flops, macs: flops / 2, weightBytes, ...(opts.layers ? { layers: table } : {}),
  };
}

/** Profiles `model` on the current backend (see the module comment). */
export async function profileModel(model: tf.LayersModel, opts: ProfileOptions = {}): Promise<ProfileResult> {
  const { batchSizes, runs, budget } = profileSettings('profileModel(model, options)', opts);
  const [h, w] = inputSizeOf(model);
  const name = opts.name ?? model.name;
  let profile: KernelProfile | undefined;
  const latency = await latencyPoints(batchSizes, runs, budget, name, opts, async (batch) => {
    const x = tf.randomUniform([batch, h, w, 3], -1, 1, 'float32', 1);
    let peak: number | undefined;
    return {
      call: async () => {
        const ms = await timedCall(model, x);
        if (peak === undefined) { // after the cold call: one profiled call per batch size
          const info = await profileCall(model, x);
          profile ??= kernelProfile(info, batch);
          peak = info.peakBytes;
        }
        return ms;
      },
      peakBytes: () => peak,
      dispose: () => x.dispose(),
    };
  });
  return { ...modelFacts(model, name, opts), profile: profile!, latency, env: await environmentInfo(), date: new Date().toISOString() };
}

/**
 * Profiles `model` as `load()` runs it on onnxruntime: its inference form (batch norm folded) exported to ONNX and
 * run by onnxruntime-node (Node; onnxruntime-web in browsers after `setOnnxRuntime(ort)`), each call timed until its
 * outputs are plain arrays. No `profile` (no tfjs kernels run) and no `peakBytes`.
 */
export async function profileOnnxRuntime(model: tf.LayersModel, opts: ProfileOptions = {}): Promise<ProfileResult> {
  const where = 'profileOnnxRuntime(model, options)';
  const { batchSizes, runs, budget } = profileSettings(where, opts);
  const ort = await importOnnxRuntime();
  if (!ort) throw missingRuntimeError(where);
  const [h, w] = inputSizeOf(model);
  const name = opts.name ?? model.name;
  const fast = toInference(model);
  let session: OnnxSession | undefined;
  try {
    session = await OnnxSession.create(ort, fast);
    const s = session;
    const latency = await latencyPoints(batchSizes, runs, budget, name, opts, async (batch) => {
      const data = new Float32Array(batch * h * w * 3).map((_, i) => ((i * 7919) % 2001) / 1000 - 1);
      return {
        call: async () => {
          const t0 = performance.now();
          await s.run(data, [batch, h, w, 3]);
          return performance.now() - t0;
        },
        peakBytes: () => undefined,
        dispose: () => {},
      };
    });
    const env = await environmentInfo();
    const version = ort.env?.versions?.common;
    return {
      ...modelFacts(model, name, opts), latency, date: new Date().toISOString(),
      env: { ...env, backend: ORT_PACKAGE, flags: version ? { onnxruntime: version } : {} },
    };
  } finally {
    session?.release();
    fast.dispose();
  }
}
