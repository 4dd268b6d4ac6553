/**
 * One measurement process (fresh, so "cold" is cold and peak memory is its own): times cnn-zoo on one tfjs
 * backend, or onnxruntime-node on the exported ONNX file, for one model over the batch sizes; or exports the
 * ONNX file. Prints one `@@result <json>` line per batch size.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFile } from 'node:fs/promises';
import { useBackend, type BackendName } from '../../src/backend.js';
import { create } from '../../src/zoo/registry.js';
import { toInference } from '../../src/inference/transform.js';
import { warmUp } from '../../src/inference/warmup.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { inputNchw, peakRssMb, setBenchWeights, stats, type Job, type Result } from './common.js';

const emit = (r: Result): void => console.log(`@@result ${JSON.stringify(r)}`);

/** Repeated timed calls: at least 3, at most `runs`, stopping once `budgetMs` is spent. */
async function timeRuns(call: () => Promise<void>, runs: number, budgetMs: number): Promise<number[]> {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < runs && (times.length < 3 || performance.now() - start < budgetMs)) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  return times;
}

function buildModel(job: Job): tf.LayersModel {
  const training = create(job.model);
  setBenchWeights(training);
  if ((job.form ?? 'inference') === 'training') return training;
  const inference = toInference(training);
  training.dispose();
  return inference;
}

async function runTfjs(job: Job): Promise<void> {
  const backend = job.backend as BackendName;
  await useBackend(backend, { wasmThreads: job.wasmThreads, flags: job.flags, dawnOptions: job.dawnOptions });
  let threads = 1;
  if (backend === 'wasm') threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  const t0 = performance.now();
  const model = buildModel(job);
  const [, h, w] = model.inputs[0]!.shape as number[];
  let setupMs = performance.now() - t0;
  let skipRest = false;
  for (const batch of job.batches) {
    const asked = backend === 'wasm' ? job.wasmThreads ?? 1 : 1;
    const base = { runtime: 'cnn-zoo' as const, backend, form: job.form ?? 'inference', model: job.model, batch, threads,
      ...(threads !== asked ? { note: `asked for ${asked} wasm threads, the XNNPACK pool has ${threads}` } : {}) };
    if (skipRest) {
      emit({ ...base, setupMs: 0, coldMs: NaN, warmMs: NaN, warmP90Ms: NaN, runs: 0, imgPerSec: NaN, peakRssMb: peakRssMb(), deviceMb: NaN, note: 'skipped: earlier batch over the time budget' });
      continue;
    }
    const x = tf.tidy(() => tf.tensor4d(inputNchw(batch, h!, w!), [batch, 3, h!, w!]).transpose([0, 2, 3, 1]));
    let firstRow: number[] | undefined;
    const call = async (keep = false) => {
      const y = model.predict(x, { batchSize: batch }) as tf.Tensor;
      const data = await y.data();
      if (keep) firstRow = Array.from(data.subarray(0, y.shape[1]!));
      y.dispose();
    };
    let coldMs: number;
    if (job.compileWarmup && batch === job.batches[0]) {
      // Cold = parallel shader compilation + the first real call (what warmUp() costs a user).
      const wu = await warmUp(model, batch);
      coldMs = wu.compileMs + wu.firstRunMs;
      await call(true);
    } else {
      const tc = performance.now();
      await call(true);
      coldMs = performance.now() - tc;
    }
    const times = await timeRuns(call, job.runs, job.maxSeconds * 1000);
    const { median, p90 } = stats(times);
    let kernels: number | undefined, kernelMs: number | undefined, kernelTop: string | undefined;
    if (batch === job.batches[0]) {
      const info = await tf.profile(async () => { const y = model.predict(x, { batchSize: batch }) as tf.Tensor; await y.data(); return y; });
      kernels = info.kernels.length;
      kernelMs = info.kernels.reduce((a, k) => a + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0), 0);
      const by = new Map<string, [number, number]>();
      for (const k of info.kernels) {
        const e = by.get(k.name) ?? [0, 0];
        e[0]++;
        e[1] += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        by.set(k.name, e);
      }
      kernelTop = [...by].sort((a, b) => b[1][1] - a[1][1]).slice(0, 8).map(([n, [c, ms]]) => `${n} x${c}: ${ms.toFixed(2)}`).join(', ');
      tf.dispose(info.result as tf.Tensor);
    }
    const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPUAllocated?: number };
    emit({
      ...base, setupMs: batch === job.batches[0] ? setupMs : 0, coldMs, warmMs: median, warmP90Ms: p90, runs: times.length,
      imgPerSec: (1000 * batch) / median, peakRssMb: peakRssMb(), deviceMb: (mem.numBytesInGPUAllocated ?? mem.numBytes) / 1e6,
      firstRow, kernels, kernelMs, kernelTop,
    });
    x.dispose();
    if (coldMs + median * 3 > job.maxSeconds * 1000) skipRest = true;
  }
  model.dispose();
}

async function runOrt(job: Job): Promise<void> {
  const ort = await import('onnxruntime-node');
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(job.onnxPath!, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const setupMs = performance.now() - t0;
  const meta = (session as unknown as { inputMetadata?: { shape?: (number | string)[] }[] }).inputMetadata?.[0];
  const [h, w] = meta?.shape ? [Number(meta.shape[2]), Number(meta.shape[3])] : [224, 224];
  let skipRest = false;
  for (const batch of job.batches) {
    const base = { runtime: 'onnxruntime' as const, backend: 'cpu', form: 'onnx', model: job.model, batch, threads: 0 };
    if (skipRest) {
      emit({ ...base, setupMs: 0, coldMs: NaN, warmMs: NaN, warmP90Ms: NaN, runs: 0, imgPerSec: NaN, peakRssMb: peakRssMb(), deviceMb: NaN, note: 'skipped: over the time budget' });
      continue;
    }
    const feeds = { input: new ort.Tensor('float32', inputNchw(batch, h, w), [batch, 3, h, w]) };
    let firstRow: number[] | undefined;
    const call = async (keep = false) => {
      const out = await session.run(feeds);
      const y = out.logits!;
      if (keep) firstRow = Array.from((y.data as Float32Array).subarray(0, Number(y.dims[1])));
    };
    const tc = performance.now();
    await call(true);
    const coldMs = performance.now() - tc;
    const times = await timeRuns(call, job.runs, job.maxSeconds * 1000);
    const { median, p90 } = stats(times);
    emit({ ...base, setupMs: batch === job.batches[0] ? setupMs : 0, coldMs, warmMs: median, warmP90Ms: p90, runs: times.length,
      imgPerSec: (1000 * batch) / median, peakRssMb: peakRssMb(), deviceMb: NaN, firstRow });
    if (coldMs + median * 3 > job.maxSeconds * 1000) skipRest = true;
  }
  await session.release();
}

async function exportJob(job: Job): Promise<void> {
  await useBackend('cpu'); // weights only, no forward pass
  const model = buildModel({ ...job, form: 'inference' });
  await writeFile(job.onnxPath!, await exportOnnx(model, { layout: 'NCHW' }));
  model.dispose();
  console.log(`@@exported ${job.onnxPath}`);
}

export async function workerMain(arg: string): Promise<void> {
  const job = JSON.parse(arg) as Job;
  if (job.mode === 'tfjs') await runTfjs(job);
  else if (job.mode === 'ort') await runOrt(job);
  else await exportJob(job);
}
