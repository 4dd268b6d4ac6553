/**
 * Converted real checkpoints against their original runtimes (src/parity/agreement.ts) on the first images of
 * ../shared/imagenet/val-subset: the five TFLite MobileNets against the TFLite interpreter (tfjs-tflite in headless
 * Chromium), the ONNX int8 MobileNet v2 against onnxruntime-node. The whole val-subset is measured by
 * `npx tsx tools/verify-agreement.ts` into docs/agreement.csv; here each subset's top-1 agreement must be at least
 * that figure minus MARGIN, and its Top-1 the same as the original's within MARGIN too.
 *
 * MARGIN: the subset is fixed (the first SUBSET images in name order) and the runtimes deterministic, so the number
 * only moves when a conversion or runtime changes; the margin covers the subset being harder than the whole set:
 * three standard deviations of a SUBSET-image sample of a rate near 0.9 (3 * sqrt(0.9 * 0.1 / 16) = 0.225). A
 * broken conversion (wrong layout, preprocessing or class offset) agrees on a few percent at most and fails.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { useBackend } from '../src/backend.js';
import { convertCheckpoint } from '../src/convert/convert.js';
import { openDataset } from '../src/eval/dataset.js';
import { agreement } from '../src/parity/agreement.js';
import { checkpointJobs } from '../tools/convert/checkpoints.js';
import { readFileSync } from 'node:fs';
import { AGREEMENT_END, AGREEMENT_START, agreementMarkdown, readAgreement } from '../tools/agreement-table.js';
import { ROOT, SHARED } from './helpers/shared.js';

const SUBSET = 16;
const MARGIN = 0.23;

describe('converted checkpoints agree with their original runtime (val-subset, first images)', () => {
  const full = readAgreement(join(ROOT, 'docs', 'agreement.csv'));
  const jobs = checkpointJobs(join(SHARED, 'weights')).filter((j) => j.options.from === 'tflite' || j.options.from === 'onnx');
  before(async () => { await useBackend('wasm'); });

  it('docs/agreement.csv has a row for every checkpoint with a JavaScript runtime', () => {
    expect(full.map((r) => r.id)).to.deep.equal(jobs.map((j) => j.id));
  });

  it('README.md and docs/WEIGHTS.md show docs/agreement.csv (regenerate: npm run readme:models)', () => {
    for (const file of ['README.md', join('docs', 'WEIGHTS.md')]) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const a = text.indexOf(AGREEMENT_START), b = text.indexOf(AGREEMENT_END);
      expect(a, `${file}: markers`).to.be.greaterThan(0);
      expect(text.slice(a + AGREEMENT_START.length, b).trim(), file).to.equal(agreementMarkdown(full));
    }
  });

  for (const job of jobs) {
    it(`${job.id} (${job.options.arch}) vs ${job.options.from === 'onnx' ? 'onnxruntime-node' : 'the TFLite interpreter in Chromium'}`, async () => {
      const row = full.find((r) => r.id === job.id)!;
      const items = (await openDataset(join(SHARED, 'imagenet', 'val-subset'))).items.slice(0, SUBSET).map((it) => ({ path: it.path, label: it.label }));
      const { model, metadata } = await convertCheckpoint(job.options);
      try {
        const a = await agreement(model, metadata, job.options.inputs, items);
        console.log(`      ${SUBSET} images: top-1 agrees ${(100 * a.top1Agreement).toFixed(1)}% (whole set ${(100 * row.top1Agreement).toFixed(1)}% of ${row.images}), ` +
          `max |dp| ${a.maxProbDiff.toFixed(3)}, Top-1 ours ${(100 * a.top1.ours).toFixed(1)}%, original ${(100 * a.top1.original).toFixed(1)}%`);
        expect(a.images).to.equal(SUBSET);
        expect(a.runtime).to.equal(row.runtime);
        expect(a.top1Agreement).to.be.at.least(row.top1Agreement - MARGIN);
        expect(Math.abs(a.top1.ours - a.top1.original), 'Top-1 of converted vs original').to.be.at.most(Math.abs(row.top1Ours - row.top1Original) + MARGIN);
      } finally {
        model.dispose();
      }
    });
  }
});
