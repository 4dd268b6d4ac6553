/**
 * The runtimes of `load()` side by side (docs/PERFORMANCE.md "Runtimes"): tfjs on wasm against onnxruntime-node, for
 * `classify(file)` end to end (decode, preprocess, model, softmax, top-5) and the model alone (a preprocessed batch
 * in, outputs read back), batch 1, interleaved rounds, minimum over the rounds.
 *
 *   npx tsx tools/runtime-bench.ts [--models mobilenet_v2,resnet50] [--rounds 10] [--image ../shared/images/parrot.jpg]
 *
 * Random weights (timing does not depend on their values); onnxruntime with its default threads.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { load, useBackend, type ZooModel } from '../src/index.js';

const { values } = parseArgs({ options: {
  models: { type: 'string', default: 'mobilenet_v2,resnet50' },
  rounds: { type: 'string', default: '10' },
  image: { type: 'string', default: join(import.meta.dirname, '..', '..', 'shared', 'images', 'parrot.jpg') },
} });
const rounds = Number(values.rounds);
process.env.CNN_ZOO_QUIET = '1';
await useBackend('wasm', { wasmThreads: 1 });

type Forward = (chunk: { data: Float32Array; n: number }, model: unknown) => Promise<unknown>;
const forward = (zoo: ZooModel) => (zoo as unknown as { forward: Forward }).forward.bind(zoo);

const rows: string[] = ['| model | runtime | classify(file) ms | model alone ms |', '|---|---|---|---|'];
for (const name of values.models!.split(',')) {
  const zoos = { 'tfjs wasm (1 thread)': await load(name, { weights: null, runtime: 'tfjs' }), onnxruntime: await load(name, { weights: null, runtime: 'onnxruntime' }) };
  const x = await zoos.onnxruntime.preprocess(values.image!);
  const chunk = { data: (await x.data()) as Float32Array, n: 1 };
  x.dispose();
  const best: Record<string, { classify: number; model: number }> = {};
  for (let r = -2; r < rounds; r++) { // two warm-up rounds
    for (const [label, zoo] of Object.entries(zoos)) {
      let t = performance.now();
      await zoo.classify(values.image!);
      const c = performance.now() - t;
      t = performance.now();
      await forward(zoo)(chunk, zoo.model);
      const m = performance.now() - t;
      if (r < 0) continue;
      const b = (best[label] ??= { classify: Infinity, model: Infinity });
      b.classify = Math.min(b.classify, c);
      b.model = Math.min(b.model, m);
    }
  }
  for (const [label, b] of Object.entries(best)) rows.push(`| ${name} | ${label} | ${b.classify.toFixed(1)} | ${b.model.toFixed(1)} |`);
  Object.values(zoos).forEach((z) => z.dispose());
}
console.log(rows.join('\n'));
