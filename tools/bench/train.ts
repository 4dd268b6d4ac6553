/**
 * Training throughput (images/s of forward + backward + SGD update, batch norm in training mode) of zoo models
 * on one tfjs backend: `npx tsx tools/bench/train.ts [--backend wasm|cpu] [--threads 1] [--models a,b]
 * [--batches 16,32] [--size 224] [--steps 2]`. One warm-up step, then `steps` timed steps (each waits for
 * its loss). Threads are fixed when wasm starts, so run one process per thread count; a configuration that
 * outgrows wasm's heap aborts the wasm module (measured: MobileNet v2, batch 16 at 224 px), so run one process
 * per model and batch when probing the limits. PyTorch's numbers on the
 * same machine: tools/bench/train_torch.py. Timings are noisy on a shared machine; never asserted in tests.
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../../src/backend.js';
import { create } from '../../src/zoo/registry.js';

interface Options { backend: BackendName; threads: number; models: string[]; batches: number[]; size: number; steps: number }

function parse(argv: string[]): Options {
  const o: Options = { backend: 'wasm', threads: 1, models: ['mobilenet_v2', 'resnet18', 'resnet50'], batches: [16, 32], size: 224, steps: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i]!, argv[i + 1] ?? ''];
    if (k === '--backend') o.backend = v as BackendName;
    else if (k === '--threads') o.threads = Number(v);
    else if (k === '--models') o.models = v.split(',');
    else if (k === '--batches') o.batches = v.split(',').map(Number);
    else if (k === '--size') o.size = Number(v);
    else if (k === '--steps') o.steps = Number(v);
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

async function step(model: tf.LayersModel, opt: tf.Optimizer, x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
  const v = (await loss.data())[0]!;
  loss.dispose();
  return v;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const detail = await useBackend(o.backend, o.backend === 'wasm' ? { wasmThreads: o.threads } : {});
  console.log(`# ${detail}; ${o.size} px; ${o.steps} timed steps after 1 warm-up`);
  console.log('| backend | model | batch | s/step | images/s |');
  console.log('|---|---|---|---|---|');
  for (const name of o.models) {
    for (const batch of o.batches) {
      const model = create(name, { inputSize: o.size });
      const x = tf.randomNormal([batch, o.size, o.size, 3]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 1000), 'int32'), 1000));
      const opt = tf.train.sgd(1e-3);
      let cell: string;
      try {
        await step(model, opt, x, y);
        const t0 = performance.now();
        for (let s = 0; s < o.steps; s++) await step(model, opt, x, y);
        const sec = (performance.now() - t0) / 1000 / o.steps;
        cell = `${sec.toFixed(2)} | ${(batch / sec).toFixed(2)}`;
      } catch (e) {
        cell = `failed: ${(e as Error).message.split('\n')[0]!.slice(0, 80)} | -`;
      }
      console.log(`| ${detail} | ${name} | ${batch} | ${cell} |`);
      opt.dispose();
      tf.dispose([x, y]);
      model.dispose();
    }
  }
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
