/**
 * The transfer-learning example runs to completion on wasm: a labelled folder of 4 categories x 10 ImageNet
 * samples (shared/imagenet/one-per-class, linked into a temporary folder), a head trained on the frozen
 * MobileNet v2's features, held-out accuracy well above chance, and the saved classifier reloads with identical
 * predictions. Full fine-tuning (`--fine-tune N`) runs on wasm too, with cnn-zoo's wasm gradient kernels.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SHARED, HANG_MS } from './helpers/shared.js';

const EXAMPLE = join(ROOT, 'examples', 'transfer-learning');
/** Run an example script as users do, with `cnn-zoo` resolved to this checkout's sources. */
const runExample = (script: string, args: string[]) => spawnSync(process.execPath,
  ['--import', 'tsx', '--import', join(ROOT, 'test', 'helpers', 'cnn-zoo-from-src.mjs'), join(EXAMPLE, script), ...args],
  { cwd: ROOT, encoding: 'utf8', timeout: HANG_MS });

interface Report {
  classes: string[]; trainImages: number; trainExamples: number; testImages: number; accuracy: number; chance: number;
  savedTo: string; reloadMaxDiff: number; reloadSamePredictions: boolean; seconds: { total: number };
}

describe('transfer-learning example (wasm)', function () {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-tl-')); });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('builds a labelled folder, trains a head, beats chance on held-out images and reloads with the same predictions', () => {
    const data = join(dir, 'animals'), out = join(dir, 'classifier');
    const made = runExample('make-folder.ts', [join(SHARED, 'imagenet', 'one-per-class'), data, '--per-category', '10', '--categories', 'bird,dog,reptile,insect']);
    expect(made.status, made.stderr).to.equal(0);
    expect(readdirSync(data).sort()).to.deep.equal(['bird', 'dog', 'insect', 'reptile']);

    const run = runExample('train.ts', [data, '--out', out, '--augment', '1', '--test-fraction', '0.3', '--json']);
    expect(run.status, run.stderr).to.equal(0);
    const lines = run.stdout.trim().split('\n');
    console.log(lines.slice(0, -1).map((l) => `      ${l}`).join('\n'));
    expect(run.stdout).to.match(/held-out accuracy: \d+\.\d% \(\d+\/12; chance 25\.0%\)/);
    const report = JSON.parse(lines.at(-1)!) as Report;
    expect(report).to.include({ trainImages: 28, trainExamples: 56, testImages: 12, chance: 0.25 });
    expect(report.classes).to.deep.equal(['bird', 'dog', 'insect', 'reptile']);
    // Chance is 25%; each held-out image is a species or breed the head never saw.
    expect(report.accuracy).to.be.above(0.5);
    expect(report.reloadSamePredictions).to.equal(true);
    expect(report.reloadMaxDiff).to.equal(0);

    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { userDefinedMetadata: { cnnZoo: { labels: string[]; numClasses: number; classOffset: number } }; weightsManifest: { paths: string[] }[] };
    expect(json.userDefinedMetadata.cnnZoo).to.include({ numClasses: 4, classOffset: 0 });
    expect(json.userDefinedMetadata.cnnZoo.labels).to.deep.equal(report.classes);
    for (const p of json.weightsManifest.flatMap((g) => g.paths)) expect(existsSync(join(out, p)), p).to.equal(true);
  });

  it('fine-tunes the backbone on wasm (--fine-tune 2: convolution gradients from src/kernels)', () => {
    const data = join(dir, 'few'), out = join(dir, 'fine-tuned');
    const made = runExample('make-folder.ts', [join(SHARED, 'imagenet', 'one-per-class'), data, '--per-category', '4', '--categories', 'bird,dog']);
    expect(made.status, made.stderr).to.equal(0);
    const run = runExample('train.ts', [data, '--out', out, '--augment', '0', '--epochs', '5', '--test-fraction', '0.3', '--fine-tune', '2', '--fine-tune-epochs', '1', '--json']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/fine-tuned 2 backbone layers \+ head: held-out accuracy \d+\.\d%/);
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Report & { fineTunedAccuracy?: number; seconds: { fineTune?: number } };
    expect(report.fineTunedAccuracy).to.be.a('number');
    expect(report.seconds.fineTune).to.be.greaterThan(0);
    expect(report.reloadSamePredictions).to.equal(true);
  });
});
