/**
 * `npx tsx tools/convert/eval-subset.ts [DIR...]`: Top-1/Top-5 of converted models (default: every
 * folder of out/converted) on shared/imagenet/val-subset, with each model's own metadata preprocessing.
 * A minimal loop (src/eval has the full evaluation); prints a Markdown table against the publisher's accuracy.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../../src/backend.js';
import { decodeImage } from '../../src/image/decode.js';
import { preprocess } from '../../src/image/preprocess.js';
import { checkMetadata, modelMetadata } from '../../src/artifacts/metadata.js';
import { nodeFileSystem } from '../../src/artifacts/node-fs.js';
import { modelWithWeights } from '../../src/api/weights.js';
import { checkpointJobs } from './checkpoints.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = process.env.CNN_ZOO_SHARED ?? join(root, '..', 'shared');
const subset = join(shared, 'imagenet', 'val-subset');
const limit = Number(process.env.LIMIT ?? Infinity);
const args = process.argv.slice(2);
const outRoot = join(root, 'out', 'converted');
const dirs = args.length ? args : (await readdir(outRoot)).sort().map((d) => join(outRoot, d));
const jobs = new Map(checkpointJobs(join(shared, 'weights')).map((j) => [j.id, j]));

const items = (await readFile(join(subset, 'labels.txt'), 'utf8')).trim().split('\n').map((l) => l.split(/\s+/)).map(([f, i]) => ({ file: join(subset, 'images', f!), label: Number(i) })).slice(0, limit);
await useBackend('wasm');
const rows: string[] = [];
for (const dir of dirs) {
  if (!existsSync(join(dir, 'model.json'))) continue;
  const meta = checkMetadata((await nodeFileSystem(dir).load!()).userDefinedMetadata, dir);
  const model = await modelWithWeights(meta.arch, { weights: dir });
  const m = modelMetadata(model)!;
  let top1 = 0, top5 = 0;
  const t0 = performance.now();
  for (let i = 0; i < items.length; i += 16) {
    const batch = items.slice(i, i + 16);
    const imgs = await Promise.all(batch.map((b) => decodeImage(b.file)));
    const topk = tf.tidy(() => {
      const x = tf.stack(imgs.map((img) => preprocess(img, m.preprocessing)));
      let y = model.predict(x) as tf.Tensor2D;
      if (m.classOffset) y = y.slice([0, m.classOffset], [-1, 1000]);
      return tf.topk(y, 5).indices.arraySync() as number[][];
    });
    batch.forEach((b, j) => { if (topk[j]![0] === b.label) top1++; if (topk[j]!.includes(b.label)) top5++; });
    if (process.env.PROGRESS && (i / 16) % 16 === 0) console.error(`  ${basename(dir)} ${i + batch.length}/${items.length} top-1 ${(100 * top1 / (i + batch.length)).toFixed(1)}%`);
  }
  model.dispose();
  const id = basename(dir), ref = jobs.get(id)?.reference;
  const pct = (n: number) => (100 * n / items.length).toFixed(1);
  rows.push(`| ${id} | ${meta.arch} | ${meta.source.format} (${meta.dtype}) | ${pct(top1)} | ${pct(top5)} | ${ref ? `${ref.top1}${ref.top5 ? ' / ' + ref.top5 : ''} (${ref.source})` : '-'} |`);
  console.log(rows[rows.length - 1], `${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`\nval-subset (${items.length} images)\n\n| checkpoint | architecture | source | Top-1 | Top-5 | publisher's Top-1 / Top-5 |\n|---|---|---|---|---|---|\n${rows.join('\n')}`);
