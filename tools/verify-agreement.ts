/**
 * The converted real checkpoints of ../shared/weights against their original runtimes on the whole val-subset
 * (src/parity/agreement.ts): the five TFLite MobileNets against the TFLite interpreter in headless Chromium, the ONNX
 * int8 MobileNet v2 against onnxruntime-node. Writes `docs/agreement.csv`; `npm run readme:models` then puts the
 * table into README.md and docs/WEIGHTS.md. CI runs a subset of the same check (test/verify-agreement.test.ts).
 * Usage: npx tsx tools/verify-agreement.ts [--only ID[,ID]] [--limit N] [--data DIR] [--no-write]
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/backend.js';
import { convertCheckpoint } from '../src/convert/convert.js';
import { openDataset } from '../src/eval/dataset.js';
import { agreement } from '../src/parity/agreement.js';
import { checkpointJobs } from './convert/checkpoints.js';
import { AGREEMENT_CSV, AGREEMENT_HEADER, readAgreement, type AgreementRow } from './agreement-table.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.CNN_ZOO_SHARED ?? join(ROOT, '..', 'shared');
const { values } = parseArgs({ options: {
  only: { type: 'string' }, limit: { type: 'string' }, data: { type: 'string', default: join(SHARED, 'imagenet', 'val-subset') },
  'no-write': { type: 'boolean' },
} });
/** The checkpoints with an original runtime in JavaScript. */
export const AGREEMENT_JOBS = checkpointJobs(join(SHARED, 'weights')).filter((j) => j.options.from === 'tflite' || j.options.from === 'onnx');

await useBackend('wasm');
const dataset = await openDataset(values.data!);
const items = dataset.items.slice(0, values.limit ? Number(values.limit) : undefined).map((it) => ({ path: it.path, label: it.label }));
const only = values.only?.split(',');
const rows: AgreementRow[] = [];
for (const job of AGREEMENT_JOBS.filter((j) => !only || only.includes(j.id))) {
  const t0 = performance.now();
  const { model, metadata } = await convertCheckpoint(job.options);
  try {
    const a = await agreement(model, metadata, job.options.inputs, items, {
      onProgress: (d, n) => { if (d % 100 === 0) process.stderr.write(`  ${job.id}: ${d}/${n}\n`); },
    });
    const row: AgreementRow = {
      id: job.id, arch: job.options.arch, original: job.options.inputs.map((f) => f.split('/').pop()!).join(' + '), runtime: a.runtime,
      images: a.images, top1Agreement: a.top1Agreement, maxProbDiff: a.maxProbDiff, top1Ours: a.top1.ours, top1Original: a.top1.original,
    };
    rows.push(row);
    console.log(`${job.id} (${job.options.arch}) vs ${a.runtime}, ${a.images} images: top-1 agrees on ${(100 * a.top1Agreement).toFixed(1)}%, ` +
      `max |dp| ${a.maxProbDiff.toFixed(3)}, Top-1 ours ${(100 * a.top1.ours).toFixed(1)}%, original ${(100 * a.top1.original).toFixed(1)}% ` +
      `(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  } finally {
    model.dispose();
  }
}
if (!values['no-write']) {
  // Rows of checkpoints not run this time (--only) are kept; the table follows AGREEMENT_JOBS' order.
  const old = existsSync(join(ROOT, AGREEMENT_CSV)) ? readAgreement(join(ROOT, AGREEMENT_CSV)) : [];
  const all = AGREEMENT_JOBS.map((j) => rows.find((r) => r.id === j.id) ?? old.find((r) => r.id === j.id)).filter((r): r is AgreementRow => r !== undefined);
  writeFileSync(join(ROOT, AGREEMENT_CSV), [AGREEMENT_HEADER.join(','), ...all.map((r) => AGREEMENT_HEADER.map((k) => String(r[k])).join(','))].join('\n') + '\n');
  console.log(`wrote ${AGREEMENT_CSV}; run npm run readme:models to update README.md and docs/WEIGHTS.md`);
}
