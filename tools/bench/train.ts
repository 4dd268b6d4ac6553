/**
 * Training throughput (images/s of forward + backward + SGD update, batch norm in training mode) of zoo models
 * on one tfjs backend: `npx tsx tools/bench/train.ts [--backend wasm|cpu] [--threads 1] [--models a,b]
 * [--batches 16,32] [--size 224] [--steps 2] [--warmup 1] [--micro N] [--csv docs/bench-results.csv] [--label TEXT]
 * [--profile] [--stock]`. `--profile`: after the timed steps, one more step under `tf.profile`, kernel time summed per
 * kernel (the sixteen largest, with their share). `--stock` (cpu): tfjs's own cpu kernels instead of cnn-zoo's
 * (src/kernels/cpu-kernels.ts), the pure-JavaScript baseline users of stock tfjs get.
 * `warmup` untimed steps, then `steps` timed steps (each waits for its loss); the minimum step time is reported.
 * Threads are fixed when wasm starts, so run one process per thread count.
 *
 * Memory: tfjs keeps every tensor of the forward pass, and every gradient of the backward pass, until the step
 * ends, and wasm's heap stops at 4 GB: at 224 px a step of MobileNet v2 holds ~420 MB per image at its peak, so
 * batches above 8 abort the wasm module (docs/PERFORMANCE.md "Training"). `--micro N` runs a batch as
 * micro-batches of N images whose gradients are summed before the one update (batch norm then normalises over
 * each micro-batch); run one process per model when probing the limits. PyTorch's numbers on the same machine:
 * tools/bench/train_torch.py. Timings are noisy on a shared machine; never asserted in tests.
 */
import * as tf from '@tensorflow/tfjs';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { useBackend, type BackendName } from '../../src/backend.js';
import { unregisterCpuKernels } from '../../src/kernels/cpu-kernels.js';
import { create } from '../../src/zoo/registry.js';
import { batchGradients } from '../../src/train/step.js';
import { machine, peakRssMb } from './common.js';

interface Options {
  backend: BackendName; threads: number; models: string[]; batches: number[]; size: number; steps: number; warmup: number;
  micro: number; csv: string; label: string; profile: boolean; stock: boolean;
}

function parse(argv: string[]): Options {
  const o: Options = { backend: 'wasm', threads: 1, models: ['mobilenet_v2', 'resnet18', 'resnet50'], batches: [16, 32], size: 224, steps: 2, warmup: 1,
    micro: 0, csv: '', label: '', profile: false, stock: false };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i]!, argv[i + 1] ?? ''];
    if (k === '--profile') { o.profile = true; i--; continue; }
    if (k === '--stock') { o.stock = true; i--; continue; }
    if (k === '--backend') o.backend = v as BackendName;
    else if (k === '--threads') o.threads = Number(v);
    else if (k === '--models') o.models = v.split(',');
    else if (k === '--batches') o.batches = v.split(',').map(Number);
    else if (k === '--size') o.size = Number(v);
    else if (k === '--steps') o.steps = Number(v);
    else if (k === '--warmup') o.warmup = Number(v);
    else if (k === '--micro') o.micro = Number(v);
    else if (k === '--csv') o.csv = v;
    else if (k === '--label') o.label = v;
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

const lossOf = (model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): tf.Scalar =>
  tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;

const trained = (model: tf.LayersModel): tf.Variable[] => model.trainableWeights.map((w) => w.read() as tf.Variable);

/** One SGD step on the batch, as micro-batches of `micro` images (0: all at once) whose gradients are summed. */
async function step(model: tf.LayersModel, opt: tf.Optimizer, x: tf.Tensor, y: tf.Tensor, micro: number): Promise<number> {
  const n = x.shape[0]!;
  const { loss, grads } = batchGradients(model, trained(model), n, micro > 0 ? micro : n,
    (begin, size) => (size === n ? lossOf(model, x, y) : lossOf(model, x.slice(begin, size), y.slice(begin, size))));
  opt.applyGradients(grads);
  tf.dispose(Object.values(grads));
  try { return (await loss.data())[0]!; } finally { loss.dispose(); }
}

/**
 * Kernel time of one profiled step, summed per kernel name: the sixteen largest. Entries named `...__op` (customGrad
 * ops such as `fusedConv2d__op`) contain the kernels they run, so they are listed but left out of the total.
 */
function printProfile(info: Awaited<ReturnType<typeof tf.profile>>, what: string): void {
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel].filter(([name]) => !name.endsWith('__op')).reduce((a, [, e]) => a + e.ms, 0);
  console.log(`# profile of one step (${what}): ${info.kernels.length} kernels, ${(total / 1000).toFixed(2)} s of kernel time`);
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) {
    console.log(`#   ${name.padEnd(36)} ${(e.ms / 1000).toFixed(2).padStart(7)} s  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.calls} calls`);
  }
}

const CSV_HEADER = 'date,label,host,cpu,cores,mem_gb,os,node,gpu,model,batch,runtime,backend,form,threads,setup_ms,cold_ms,warm_ms,warm_p90_ms,runs,img_per_s,peak_rss_mb,device_mb,kernels,kernel_ms,ort_warm_ms,ratio_warm_vs_ort,ratio_cold_vs_ort,max_rel_err_vs_ort,flags,note';
const cell = (v: unknown): string => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  let detail = await useBackend(o.backend, o.backend === 'wasm' ? { wasmThreads: o.threads } : {});
  if (o.stock) {
    if (o.backend !== 'cpu') throw new Error('--stock: tfjs\'s own kernels instead of cnn-zoo\'s exist for --backend cpu only');
    unregisterCpuKernels();
    detail += ', tfjs\'s own kernels (not cnn-zoo\'s)';
  }
  const threads = o.backend === 'wasm' ? o.threads : 1;
  console.log(`# ${detail}; ${o.size} px; min of ${o.steps} timed steps after ${o.warmup} warm-up${o.micro ? `; micro-batches of ${o.micro}` : ''}`);
  console.log('| backend | model | batch | s/step | images/s |');
  console.log('|---|---|---|---|---|');
  if (o.csv && existsSync(o.csv) && readFileSync(o.csv, 'utf8').split('\n')[0] !== CSV_HEADER) throw new Error(`${o.csv} has other columns`);
  const m = machine();
  const date = new Date().toISOString();
  for (const name of o.models) {
    for (const batch of o.batches) {
      const model = create(name, { inputSize: o.size });
      const x = tf.randomNormal([batch, o.size, o.size, 3]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 1000), 'int32'), 1000));
      const opt = tf.train.sgd(1e-3);
      let cell1: string;
      try {
        let cold = 0;
        for (let s = 0; s < o.warmup; s++) { const t = performance.now(); await step(model, opt, x, y, o.micro); cold ||= performance.now() - t; }
        let best = Infinity;
        for (let s = 0; s < o.steps; s++) { const t = performance.now(); await step(model, opt, x, y, o.micro); best = Math.min(best, performance.now() - t); }
        const sec = best / 1000;
        cell1 = `${sec.toFixed(2)} | ${(batch / sec).toFixed(2)}`;
        if (o.profile) printProfile(await tf.profile(() => step(model, opt, x, y, o.micro)), `${name}, batch ${batch}`);
        if (o.csv) {
          const row = [date, o.label, m.host, m.cpu, m.cores, m.memGb, m.os, m.node, '', name, batch, 'cnn-zoo', o.backend, 'fit', threads, '', o.warmup ? cold.toFixed(0) : '',
            best.toFixed(0), '', o.steps, (batch / sec).toFixed(3), peakRssMb().toFixed(0), '', '', '', '', '', '', '', o.micro ? `micro ${o.micro}` : '',
            `train step ${o.size} px, SGD, batch norm in training mode: ${detail}`];
          appendFileSync(o.csv, (existsSync(o.csv) ? '' : CSV_HEADER + '\n') + row.map(cell).join(',') + '\n');
        }
      } catch (e) {
        cell1 = `failed: ${(e as Error).message.split('\n')[0]!.slice(0, 80)} | -`;
      }
      console.log(`| ${detail} | ${name} | ${batch} | ${cell1} |`);
      opt.dispose();
      tf.dispose([x, y]);
      model.dispose();
    }
  }
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
