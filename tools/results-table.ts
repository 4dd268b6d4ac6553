/**
 * `npx tsx tools/results-table.ts [RESULTS_DIR]`: the README's real-checkpoint table. For each
 * `eval-<id>.json` written by `cnn-zoo eval --json` (see docs in README), loads the converted weights of
 * out/converted/<id> in inference form, times batch 1 on wasm (median of warm runs) and prints one Markdown row:
 * Top-1/Top-5 on val-subset, the publisher's numbers, params, FLOPs at the checkpoint's input size.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { info, load, useBackend } from '../src/index.js';
import { profileModel } from '../src/eval/profile.js';

interface EvalJson { model: string; weights: string; top1: number; top5: number; evaluated: number; preprocess: { size: number } }

const dir = process.argv[2] ?? 'out/results';
await useBackend('wasm');
console.log('| checkpoint | architecture | input | Top-1 | Top-5 | publisher Top-1 / Top-5 | params (M) | GFLOPs | wasm bs1 (ms) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const f of readdirSync(dir).filter((n) => /^eval-.*\.json$/.test(n)).sort()) {
  const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as EvalJson;
  const m = await load(r.model, { weights: r.weights });
  const prof = await profileModel(m.model, { batchSizes: [1], runs: 15, maxMsPerBatch: 20000 });
  const { params, flops } = info(r.model, { inputSize: r.preprocess.size }).counted; // the architecture (BN unfolded)
  const meta = m.card.meta;
  const pub = meta.top1 !== undefined ? `${meta.top1}${meta.top5 !== undefined ? ` / ${meta.top5}` : ''}` : '-';
  console.log(`| ${f.slice(5, -5)} | \`${r.model}\` | ${r.preprocess.size} | ${r.top1.toFixed(2)} | ${r.top5.toFixed(2)} | ${pub} | ` +
    `${(params / 1e6).toFixed(2)} | ${(flops / 1e9).toFixed(3)} | ${prof.latency[0]!.warmMedianMs.toFixed(1)} |`);
  m.dispose();
}
