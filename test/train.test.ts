/**
 * A fine-tuned model is a zoo model (issue 17): `load(base, { classes })` + `fit(folder)` trains a new head on the
 * shipped MobileNet v2's frozen features (wasm), `save(dir)` writes artifacts that `load(dir)`, `load(base,
 * { weights: dir })` and `cnn-zoo classify --weights dir` read back with the same predictions and the new class
 * names; `cnn-zoo train` does the same from the command line; folders of 0 or 1 classes fail with the fix named.
 * Data: 3 classes x 4 ImageNet samples from shared/imagenet/one-per-class, linked into a temporary folder.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { checkGradients, CnnZooError, load, useBackend, type FitHistory, type FitProgress, type ZooModel } from '../src/index.js';
import { runtimeCounts } from '../src/onnx/runtime.js';
import { ONNX_FEATURES_MIN } from '../src/train/extract.js';
import type { CnnZooMetadata } from '../src/artifacts/metadata.js';
import { archOfWeights } from '../src/api/weights.js';
import { featureLayerNames } from '../src/zoo/heads.js';
import { getSpec } from '../src/zoo/registry.js';
import { CLI, ROOT, SHARED } from './helpers/shared.js';

const BASE = 'tf_mobilenet_v2_100';
const SOURCE = join(SHARED, 'imagenet', 'one-per-class');
const CLASSES: Record<string, string[]> = {
  beetle: ['n02165105_tiger_beetle', 'n02165456_ladybug', 'n02167151_ground_beetle', 'n02168699_long-horned_beetle'],
  dog: ['n02085620_Chihuahua', 'n02085782_Japanese_spaniel', 'n02085936_Maltese_dog', 'n02086079_Pekinese'],
  fish: ['n01440764_tench', 'n01443537_goldfish', 'n01484850_great_white_shark', 'n01491361_tiger_shark'],
};
const PARROT = join(SHARED, 'images', 'parrot.jpg');
const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args],
  { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });

/** `dir/<class>/<image>` linked from the shared ImageNet samples. */
function makeFolder(dir: string, classes: Record<string, string[]>): string {
  for (const [c, files] of Object.entries(classes)) {
    mkdirSync(join(dir, c), { recursive: true });
    for (const f of files) symlinkSync(join(SOURCE, `${f}.JPEG`), join(dir, c, `${f}.JPEG`));
  }
  return dir;
}

describe('training: a fine-tuned model is a zoo model (wasm; head only, but --fine-tune 2 in the CLI test)', function () {
  this.timeout(600_000);
  let tmp = '', data = '', saved = '';
  let clf: ZooModel;
  const images = Object.entries(CLASSES).map(([c, files]) => join(SOURCE, `${files[0]}.JPEG`)).concat(PARROT);

  before(async () => {
    await useBackend('wasm');
    tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-train-'));
    data = makeFolder(join(tmp, 'data'), CLASSES);
    saved = join(tmp, 'classifier');
  });
  after(() => {
    clf?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('load(base, { classes }) + fit(folder): features once with progress, epochs, held-out accuracy; save() writes the metadata', async () => {
    clf = await load(BASE, { classes: ['beetle', 'dog', 'fish'] });
    expect(clf.model.outputs[0]!.shape).to.deep.equal([null, 3]);
    expect(clf.metadata).to.deep.include({ numClasses: 3, classOffset: 0, labels: ['beetle', 'dog', 'fish'] });
    expect(clf.labels).to.deep.equal(['beetle', 'dog', 'fish']);
    const events: FitProgress[] = [];
    const tensors = tf.memory().numTensors;
    const h = await clf.fit(data, { epochs: 8, augment: 1, validationSplit: 0.25, onProgress: (p) => events.push(p) });
    expect(tf.memory().numTensors, 'tensors left by fit()').to.equal(tensors);
    console.log(`      ${h.trainExamples} examples, held-out ${h.validationAccuracy} (${h.validationImages}), losses ${h.epochs.map((e) => e.loss.toFixed(3)).join(' ')}, ` +
      `${h.seconds.features.toFixed(1)} s features, ${h.seconds.head.toFixed(1)} s head`);
    expect(h).to.include({ trainImages: 9, trainExamples: 18, validationImages: 3, backend: 'wasm', featuresRuntime: 'tfjs' }); // 21 images: too few to export
    expect(h.classes).to.deep.equal(['beetle', 'dog', 'fish']);
    expect(h.epochs.map((e) => `${e.phase}${e.epoch}`)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8].map((e) => `head${e}`));
    // Features: one event before, then per batch until every training example (9 x 2) and held-out image (3) is done.
    const features = events.filter((e) => e.phase === 'features');
    expect(features.at(0)).to.deep.equal({ phase: 'features', done: 0, total: 21 });
    expect(features.at(-1)).to.deep.equal({ phase: 'features', done: 21, total: 21 });
    expect(events.filter((e) => e.phase === 'head')).to.have.length(8);
    expect(h.epochs.at(-1)!.loss).to.be.below(h.epochs[0]!.loss);
    // Chance is 1/3; each held-out image is a species or breed the head never saw.
    expect(h.validationAccuracy).to.be.at.least(2 / 3);
    expect(h.validationAccuracy).to.equal(h.headValidationAccuracy);
    // The seed repeats the run exactly: split, augmentation, shuffles, the head's initialisation and its dropout
    // (MobileNet v2's Logits.Dropout, rate 0.001, drawn from the seed rather than tfjs's unseeded generator).
    const again = await load(BASE, { classes: ['beetle', 'dog', 'fish'] });
    const h2 = await again.fit(data, { epochs: 8, augment: 1, validationSplit: 0.25 });
    expect(again.model.layers.some((l) => l.getClassName() === 'Dropout' && (l.getConfig() as { rate: number }).rate > 0), 'a head with dropout').to.equal(true);
    expect(h2.epochs).to.deep.equal(h.epochs);
    again.dispose();

    await clf.save(saved);
    const meta = (JSON.parse(readFileSync(join(saved, 'model.json'), 'utf8')) as { userDefinedMetadata: { cnnZoo: CnnZooMetadata } }).userDefinedMetadata.cnnZoo;
    expect(meta).to.include({ arch: BASE, numClasses: 3, classOffset: 0, dtype: 'float32', inputSize: 224 });
    expect(meta.labels).to.deep.equal(['beetle', 'dog', 'fish']);
    expect(meta.preprocessing).to.deep.equal(clf.preprocessing);
    expect(meta.training!.base).to.include({ arch: BASE, weights: 'shipped' });
    expect(meta.training!.base.source!.files.length).to.be.greaterThan(0);
    expect(meta.training!.fit).to.include({ epochs: 8, augment: 1, validationSplit: 0.25, fineTune: 0, trainImages: 9, validationImages: 3, backend: 'wasm' });
  });

  it(`fit() computes the frozen features on onnxruntime-node from ${ONNX_FEATURES_MIN} images, and while fine-tuning the layers before the fine-tuned ones; the history as on tfjs; runtime: 'tfjs' keeps them on tfjs`, async () => {
    // 9 x 4 training examples + 3 held out = 39 features; fine-tuning 3 epochs of 9 training and 3 held-out images = 36.
    const opts = { epochs: 4, augment: 3, validationSplit: 0.25, fineTune: 6, fineTuneEpochs: 3 };
    const backbone = featureLayerNames(getSpec(BASE), 224);
    const histories: FitHistory[] = [], changes: string[][] = [];
    let expected: string[] = [];
    for (const runtime of ['auto', 'tfjs'] as const) {
      const c = await load(BASE, { classes: ['beetle', 'dog', 'fish'], runtime });
      try {
        const was = new Map(await Promise.all(c.model.weights.map(async (w) => [w.originalName, await w.read().data()] as const)));
        const before = runtimeCounts(), tensors = tf.memory().numTensors;
        const h = await c.fit(data, opts);
        expect(tf.memory().numTensors, 'tensors left by fit()').to.equal(tensors);
        const after = runtimeCounts();
        const onnx = runtime === 'auto';
        // Two exports (the features' extractor, then the layers before the fine-tuned ones), each session released.
        expect([h.featuresRuntime, after.exports - before.exports, after.sessions - before.sessions, after.open], runtime)
          .to.deep.equal([onnx ? 'onnxruntime-node' : 'tfjs', onnx ? 2 : 0, onnx ? 2 : 0, before.open]);
        expect(c.metadata!.training!.fit!.featuresRuntime).to.equal(onnx ? 'onnxruntime-node' : undefined);
        expect(h.epochs.map((e) => `${e.phase}${e.epoch}`)).to.deep.equal(['head1', 'head2', 'head3', 'head4', 'fine-tune1', 'fine-tune2', 'fine-tune3']);
        const layers = c.model.layers.filter((l) => l.weights.length > 0);
        expected = [...layers.filter((l) => backbone.has(l.name)).slice(-6), ...layers.filter((l) => !backbone.has(l.name))]
          .flatMap((l) => l.trainableWeights.map((w) => w.originalName)).sort();
        const changed: string[] = [];
        for (const w of c.model.weights) if ((await w.read().data()).some((v, i) => v !== was.get(w.originalName)![i])) changed.push(w.originalName);
        changes.push(changed.sort());
        histories.push(h);
      } finally {
        c.dispose();
      }
    }
    // Exactly the head and the last 6 backbone layers with weights trained, either way.
    expect(changes).to.deep.equal([expected, expected]);
    // The same features up to float rounding (export parity: test/onnx-export.test.ts), so the same training.
    const [onOnnx, onTfjs] = histories as [FitHistory, FitHistory];
    onOnnx.epochs.forEach((e, i) => expect(e.loss, `loss of ${e.phase} epoch ${e.epoch}`).to.be.closeTo(onTfjs.epochs[i]!.loss, 1e-3 * onTfjs.epochs[i]!.loss));
    expect([onOnnx.trainExamples, onOnnx.validationImages]).to.deep.equal([36, 3]);
  });

  it('load(dir), load(base, { weights: dir }) and cnn-zoo classify --weights dir predict the same, with the class names', async () => {
    const trained = await clf.classify(images, { topK: 3 });
    const exact = await load(saved, { inference: false });
    expect(await exact.classify(images, { topK: 3 })).to.deep.equal(trained);
    exact.dispose();

    const byDir = await load(saved);
    const byWeights = await load(BASE, { weights: saved });
    const a = await byDir.classify(images, { topK: 3 });
    expect(await byWeights.classify(images, { topK: 3 })).to.deep.equal(a);
    expect(byDir.name).to.equal(BASE);
    byDir.dispose();
    byWeights.dispose();
    // The inference form folds batch norm: the same classes in the same order, probabilities to float32 rounding.
    a.forEach((row, i) => {
      expect(row.map((p) => p.label)).to.deep.equal(trained[i]!.map((p) => p.label));
      row.forEach((p, j) => expect(p.probability).to.be.closeTo(trained[i]![j]!.probability, 1e-5));
    });
    // Each class's first sample is one it trained on: the head names it.
    expect(a.slice(0, 3).map((row) => row[0]!.label)).to.deep.equal(['beetle', 'dog', 'fish']);

    const out = execFileSync(process.execPath, [...CLI, 'classify', ...images, '--weights', saved, '--top', '3', '--json'],
      { encoding: 'utf8', cwd: ROOT });
    const printed = JSON.parse(out) as { image: string; top: { label: string; probability: number; index: number }[] }[];
    expect(printed.map((r) => r.top)).to.deep.equal(a);
    const text = execFileSync(process.execPath, [...CLI, 'classify', PARROT, '--weights', saved, '--top', '3'],
      { encoding: 'utf8', cwd: ROOT });
    expect(text).to.match(new RegExp(`1\\. +\\d+\\.\\d\\d% +\\d +${a[3]![0]!.label}`));
  });

  it('load(folder or URL, { classes }) reads the saved weights once: naming their model reads model.json alone', async () => {
    const gets = new Map<string, number>();
    const server = createServer((req, res) => {
      const name = basename(req.url ?? '');
      gets.set(name, (gets.get(name) ?? 0) + 1);
      try { res.end(readFileSync(join(saved, name))); } catch { res.writeHead(404).end(); }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/classifier`;
      const again = await load(url, { classes: ['beetle', 'dog'] });
      expect([again.name, again.labels]).to.deep.equal([BASE, ['beetle', 'dog']]);
      again.dispose();
      const shards = readdirSync(saved).filter((f) => f.endsWith('.bin'));
      expect(shards.length).to.be.above(0);
      // It read them twice: once to name the model, once to load it.
      expect(Object.fromEntries([...gets].filter(([f]) => f.endsWith('.bin')))).to.deep.equal(Object.fromEntries(shards.map((f) => [f, 1])));
    } finally {
      await new Promise((done) => server.close(done));
    }
    // A folder: its model.json alone names the model.
    const bare = join(tmp, 'model-json-only');
    mkdirSync(bare);
    copyFileSync(join(saved, 'model.json'), join(bare, 'model.json'));
    expect((await archOfWeights(bare)).name).to.equal(BASE);
    const { code } = await load(bare, { classes: ['beetle', 'dog'] }).then(() => ({ code: 'loaded' }), (e: CnnZooError) => e);
    expect(code, 'the shards are still needed to load').to.equal('MISSING_FILE');
  });

  it('cnn-zoo train DATA --model NAME --out DIR --fine-tune 2 --threads 2: progress, held-out accuracy (per fine-tuning epoch too), a classifier classify reads', () => {
    const out = join(tmp, 'cli-classifier');
    const run = cli(['train', data, '--model', BASE, '--out', out, '--epochs', '3', '--augment', '0', '--validation-split', '0.25',
      '--fine-tune', '2', '--fine-tune-epochs', '1', '--threads', '2', '--learning-rate', '0.002', '--fine-tune-learning-rate', '2e-5']);
    console.log(run.stdout.trim().split('\n').map((l) => `      ${l}`).join('\n'));
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/ on wasm SIMD, 2 threads\n/);
    expect(run.stderr).to.match(/features \[#+\] 12\/12/);
    expect(run.stderr).to.match(/head \[#+\] 3\/3/);
    // Without a terminal the bar prints its finished line again once the epoch's held-out accuracy is measured.
    expect(run.stderr).to.match(/fine-tune \[#+\] 9\/9 epoch 1\/1 +loss \d+\.\d{4} +held-out \d+\.\d%/);
    expect(run.stdout).to.match(/held-out accuracy of the head before fine-tuning: \d+\.\d%/);
    expect(run.stdout).to.match(/held-out accuracy: \d+\.\d% \(\d\/3; chance 33\.3%\)/);
    const meta = (JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { userDefinedMetadata: { cnnZoo: CnnZooMetadata } }).userDefinedMetadata.cnnZoo;
    expect(meta.labels).to.deep.equal(['beetle', 'dog', 'fish']);
    expect(meta.training!.fit).to.include({ epochs: 3, augment: 0, trainImages: 9, fineTune: 2, fineTuneEpochs: 1, learningRate: 0.002, fineTuneLearningRate: 2e-5 });
    const classified = cli(['classify', PARROT, '--weights', out, '--json']);
    expect(classified.status, classified.stderr).to.equal(0);
    expect((JSON.parse(classified.stdout) as { top: { label: string }[] }[])[0]!.top.map((p) => p.label).sort()).to.deep.equal(['beetle', 'dog', 'fish']);
    // eval reads a folder like the training one: class sub-folders named as the classifier's classes (it wanted wnids).
    const evaluated = cli(['eval', BASE, '--weights', out, '--data', data, '--per-class']);
    expect(evaluated.status, evaluated.stderr).to.equal(0);
    expect(evaluated.stdout).to.match(/^dataset \S+ \(class-folders\): 12 images, 0 problems$/m);
    expect(evaluated.stdout).to.match(/^1 +dog +4 /m); // the classifier's classes in one column
    expect(evaluated.stdout).to.match(/\(12 of 12 images evaluated, 0 failed;/);
  });

  it('cnn-zoo train --input-size 128: trains and saves at 128 px, and classify reads it at that size', () => {
    const out = join(tmp, 'cli-classifier-128');
    const run = cli(['train', data, '--model', BASE, '--out', out, '--epochs', '1', '--augment', '0', '--validation-split', '0', '--input-size', '128']);
    expect(run.status, run.stderr).to.equal(0);
    const meta = (JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { userDefinedMetadata: { cnnZoo: CnnZooMetadata } }).userDefinedMetadata.cnnZoo;
    expect([meta.inputSize, meta.preprocessing.size]).to.deep.equal([128, 128]);
    const classified = cli(['classify', PARROT, '--weights', out, '--json']);
    expect(classified.status, classified.stderr).to.equal(0);
    expect((JSON.parse(classified.stdout) as { top: { label: string }[] }[])[0]!.top.map((p) => p.label).sort()).to.deep.equal(['beetle', 'dog', 'fish']);
    const bad = cli(['train', data, '--model', BASE, '--out', out, '--input-size', '0']);
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.match(/--input-size must be a positive integer, got "0"/);
  });

  it('validationData (--validation-data DIR): held-out accuracy on another folder, every training image trains, the metadata names it', async () => {
    const val = makeFolder(join(tmp, 'val'), { beetle: ['n02169497_leaf_beetle'], dog: ['n02086240_Shih-Tzu', 'n02086646_Blenheim_spaniel'], fish: ['n01494475_hammerhead'] });
    const c = await load(BASE, { classes: Object.keys(CLASSES) });
    try {
      const h = await c.fit(data, { epochs: 2, augment: 0, validationData: val });
      expect([h.trainImages, h.validationImages]).to.deep.equal([12, 4]);
      expect(h.validationAccuracy).to.be.a('number');
      expect(c.metadata!.training!.fit).to.deep.include({ validationSplit: 0, validationData: val, validationImages: 4 });
      // The same images as lists of { image, label }: labels are the model's class names (or their indices).
      const listed = (dir: string) => readdirSync(dir).sort().flatMap((cls) => readdirSync(join(dir, cls)).sort().map((f) => ({ image: join(dir, cls, f), label: cls })));
      const fresh = await load(BASE, { classes: Object.keys(CLASSES) });
      try {
        const valList = listed(val).map(({ image, label }) => ({ image, label: Object.keys(CLASSES).indexOf(label) }));
        const fromList = await fresh.fit(listed(data), { epochs: 2, augment: 0, validationData: valList });
        expect([fromList.trainImages, fromList.validationImages, fromList.validationAccuracy]).to.deep.equal([12, 4, h.validationAccuracy]);
        fromList.epochs.forEach((e, i) => expect(e.loss).to.be.closeTo(h.epochs[i]!.loss, 1e-6 * h.epochs[i]!.loss));
        for (const [list, why] of [
          [[{ image: PARROT, label: 'cat' }], /^the training data: item 0 has label "cat" \(a string\), which is not one of the model's classes \("beetle", "dog", "fish", or their indices 0\.\.2\)\.$/],
          [[{ image: PARROT, label: 3 }], /^the training data: item 0 has label 3, which is not one of the model's classes/],
          [[PARROT], /^the training data: item 0 is ".*parrot\.jpg" \(a string\), not \{ image, label \}\.$/],
          [[{ image: PARROT, label: 'dog' }], /^Class "beetle" has 0 image\(s\); each class needs at least 2/],
        ] as const) {
          let err: unknown;
          try { await fresh.fit(list as never, { epochs: 1 }); } catch (e) { err = e; }
          expect(err, JSON.stringify(list)).to.be.instanceOf(CnnZooError);
          expect((err as Error).message).to.match(why);
        }
      } finally {
        fresh.dispose();
      }
      // Validation images may leave a class out: accuracy over the others.
      const some = await c.fit(data, { epochs: 1, augment: 0, validationData: { classes: ['fish', 'dog'], items: [{ image: PARROT, label: 1 }] } });
      expect([some.trainImages, some.validationImages]).to.deep.equal([12, 1]);
      for (const [opts, why] of [
        [{ validationData: val, validationSplit: 0.2 }, /^.*\.fit\(\): validationData holds the images to measure accuracy on, so no split of the training data is held out: leave out validationSplit\.$/],
        [{ validationData: join(val, 'dog') }, /^.*dog has no class sub-folders with images; validation images go in sub-folders named as the classes/],
        [{ validationData: { classes: ['dog', 'cat'], items: [{ image: PARROT, label: 0 }, { image: PARROT, label: 1 }] } },
          /^validationData has classes \["dog","cat"\], the model \["beetle","dog","fish"\]; unknown to the model: cat\. Give validationData images of classes of the model only\.$/],
        [{ validationData: join(tmp, 'no-such-val') }, /^Validation folder .*no-such-val does not exist or is not a folder\.$/],
      ] as const) {
        let err: unknown;
        try { await c.fit(data, { epochs: 1, ...opts }); } catch (e) { err = e; }
        expect(err, JSON.stringify(opts)).to.be.instanceOf(CnnZooError);
        expect((err as Error).message).to.match(why);
      }
    } finally {
      c.dispose();
    }
    const out = join(tmp, 'cli-validation-data');
    const run = cli(['train', data, '--validation-data', val, '--model', BASE, '--out', out, '--epochs', '1', '--augment', '0']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(new RegExp(`^12 training images \\(12 examples with augmented copies\\), 4 held out; `, 'm'));
    expect(run.stdout).to.match(new RegExp(`^held-out accuracy on ${val.replace(/[/\\]/g, '.')}: [\\d.]+% \\(\\d/4; chance 33\\.3%\\)$`, 'm'));
    const both = cli(['train', data, '--validation-data', val, '--validation-split', '0.1', '--model', BASE, '--out', out]);
    expect(both.stderr.trim()).to.equal('cnn-zoo: --validation-data DIR holds the held-out images, so no split of DATA is held out: leave out --validation-split.');
  });

  it('an image that cannot be decoded stops fit() naming the file and skipUnreadable; with it, they are left out and listed; a class with none readable is refused', async () => {
    const messy = makeFolder(join(tmp, 'messy'), CLASSES);
    writeFileSync(join(messy, 'dog', 'broken.jpg'), 'not an image');
    writeFileSync(join(messy, 'fish', 'truncated.jpg'), readFileSync(join(SOURCE, `${CLASSES.fish![0]}.JPEG`)).subarray(0, 600));
    const c = await load(BASE, { classes: Object.keys(CLASSES) });
    try {
      const tensors = tf.memory().numTensors;
      // By default nothing is left out silently: the error names the file and the option.
      let stop: unknown;
      try { await c.fit(messy, { epochs: 1, augment: 1, validationSplit: 0 }); } catch (e) { stop = e; }
      expect((stop as Error).message).to.match(/broken\.jpg: not a readable image .*Re-save or remove the file\. To leave unreadable images out of the training instead \(listed in history\.skipped\), pass skipUnreadable: true\.$/);
      expect(tf.memory().numTensors, 'tensors left by the stopped fit()').to.equal(tensors);
      // Stopped in a later batch (its first batch's features made), on onnxruntime (13 x 3 images): nothing left either,
      // its session released.
      const late = makeFolder(join(tmp, 'late'), CLASSES);
      writeFileSync(join(late, 'fish', 'truncated.jpg'), readFileSync(join(SOURCE, `${CLASSES.fish![0]}.JPEG`)).subarray(0, 600));
      stop = undefined;
      const counts = runtimeCounts();
      try { await c.fit(late, { epochs: 1, augment: 2, validationSplit: 0 }); } catch (e) { stop = e; }
      expect((stop as Error).message).to.match(/truncated\.jpg: [\s\S]*pass skipUnreadable: true\.$/);
      expect(tf.memory().numTensors, 'tensors left by fit() stopped in its second batch').to.equal(tensors);
      expect([runtimeCounts().sessions - counts.sessions, runtimeCounts().open], 'its onnxruntime session, released').to.deep.equal([1, counts.open]);
      const h = await c.fit(messy, { epochs: 1, augment: 1, validationSplit: 0, skipUnreadable: true });
      expect(tf.memory().numTensors, 'tensors left by fit()').to.equal(tensors);
      expect([h.trainImages, h.trainExamples]).to.deep.equal([12, 24]);
      expect(h.skipped.map((k) => k.image)).to.deep.equal([join(messy, 'dog', 'broken.jpg'), join(messy, 'fish', 'truncated.jpg')]);
      expect(h.skipped[0]!.error).to.match(/broken\.jpg: not a readable image .*Re-save or remove the file\.$/);
      expect(c.metadata!.training!.fit).to.deep.include({ trainImages: 12, skippedImages: 2 });
      const dead = join(tmp, 'dead');
      mkdirSync(join(dead, 'beetle'), { recursive: true });
      writeFileSync(join(dead, 'beetle', 'a.jpg'), 'no');
      makeFolder(dead, { dog: CLASSES.dog!, fish: CLASSES.fish! });
      let err: unknown;
      try { await c.fit(dead, { epochs: 1, validationSplit: 0, skipUnreadable: true }); } catch (e) { err = e; }
      expect((err as Error).message).to.match(/\.fit\(\): no training image of beetle could be read \(1 unreadable: .*a\.jpg: not a readable image/);
      expect(tf.memory().numTensors, 'tensors left by a refused fit()').to.equal(tensors);
    } finally {
      c.dispose();
    }
  });

  it('refuses fewer than two classes, in load(), fit() and cnn-zoo train, naming the fix', async () => {
    let err: unknown;
    try { await load(BASE, { classes: ['cat'] }); } catch (e) { err = e; }
    expect((err as Error).message).to.match(/at least two classes, got 1 \(cat\).*another class/);
    // Keras' classes=10 is a count; here classes are names, and a count is answered with both ways to say it.
    err = undefined;
    try { await load(BASE, { classes: 10 as never }); } catch (e) { err = e; }
    expect((err as Error).message).to.equal(`load("${BASE}", { classes }): classes must be a list of class names (non-empty strings), e.g. ['cat', 'dog']. ` +
      'Got the number 10: name the 10 classes (e.g. Array.from({ length: 10 }, (_, i) => `class ${i}`)), or for a random model of 10 outputs pass weights: null, numClasses: 10.');

    const one = makeFolder(join(tmp, 'one'), { fish: CLASSES.fish! });
    err = undefined;
    try { await clf.fit(one, { epochs: 1 }); } catch (e) { err = e; }
    expect((err as Error).message).to.match(/images of one class only \(fish\).*one sub-folder of images per class, at least two classes/);

    // A folder of iPhone photos: HEIC is not read (no HEVC decoder), and the error says so instead of "no images".
    const iphone = join(tmp, 'iphone');
    for (const c of ['cat', 'dog']) {
      mkdirSync(join(iphone, c), { recursive: true });
      writeFileSync(join(iphone, c, 'IMG_0001.HEIC'), 'not decoded');
    }
    err = undefined;
    try { await clf.fit(iphone, { epochs: 1 }); } catch (e) { err = e; }
    expect((err as Error).message).to.match(/no class sub-folders with images; .* Its 2 HEIC photo\(s\) cannot be read here: convert them to JPEG/);

    // A DATA/train/<class> layout given as DATA: the folder that holds the class folders is named.
    const split = join(tmp, 'split');
    for (const part of ['train', 'val']) mkdirSync(join(split, part, 'fish'), { recursive: true });
    err = undefined;
    try { await clf.fit(split, { epochs: 1 }); } catch (e) { err = e; }
    expect((err as Error).message).to.match(new RegExp(`no class sub-folders with images; .* Its sub-folders train, val hold folders: give the one with the class folders \\(${join(split, 'train').replace(/[/\\]/g, '.')}\\), ` +
      `and validationData: '${join(split, 'val').replace(/[/\\]/g, '.')}' to measure accuracy on the other\\.$`));

    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    for (const [dir, why] of [[empty, /no class sub-folders with images/], [one, /images of one class only \(fish\)/]] as const) {
      const run = cli(['train', dir, '--model', BASE, '--out', join(tmp, 'never')]);
      expect(run.status).to.equal(1);
      expect(run.stderr).to.match(why);
      expect(run.stderr).to.match(/at least two classes/);
    }
    for (const [call, why] of [
      [() => clf.fit(data, { epochs: '2' as never }), /^.*\.fit\(\): epochs must be an integer of at least 1, got "2" \(a string\)\.$/],
      // It failed after the features with "opts.onProgress is not a function".
      [() => clf.fit(data, { onProgress: 'log' as never }), /^.*\.fit\(\): onProgress must be a function, got "log" \(a string\)\.$/],
      [() => clf.save(5 as never), /\.save\(dest\): dest is a folder path \(Node\), "indexeddb:\/\/NAME" or "downloads:\/\/NAME" \(browsers\), an http\(s\) URL to upload to, or a tf\.io\.IOHandler with save\(\); got 5\.$/],
      [() => clf.save('indexeddb://clf'), /^"indexeddb:\/\/clf": tfjs has no save handler for this URL in Node, which has no IndexedDB, localStorage or downloads: pass a folder path\.$/],
      [() => load('indexeddb://clf'), /^"indexeddb:\/\/clf": tfjs has no load handler for this URL in Node/],
      [() => clf.fit({ classes: ['beetle', 'dog', 'fish'], items: [{ image: PARROT, label: 'dog' as never }] }, { epochs: 1 }),
        /^the training data: item 0 has label "dog" \(a string\), not an index into its 3 classes \(labels are indices into classes: 1 for "dog"\)\.$/],
    ] as const) {
      err = undefined;
      try { await call(); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(CnnZooError);
      expect((err as Error).message).to.match(why);
    }
    for (const [args, why] of [[['--threads', '0'], /--threads must be at least 1/], [['--threads', '2', '--backend', 'cpu'], /--threads sets wasm's threads.*--backend wasm/],
      [['--learning-rate', '0'], /--learning-rate must be a positive number such as 0\.001, got "0"/]] as const) {
      const run = cli(['train', data, '--model', BASE, '--out', join(tmp, 'never'), ...args]);
      expect(run.status, args.join(' ')).to.equal(1);
      expect(run.stderr).to.match(why);
    }
  });
});

describe('training: fine-tuning the last backbone layers (cpu, which has convolution gradients)', function () {
  this.timeout(900_000);
  let tmp = '', data = '';
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-finetune-'));
    // 2 images per class (1 to train, 1 held out): the cpu backend is slow.
    data = makeFolder(join(tmp, 'data'), Object.fromEntries(Object.entries(CLASSES).map(([c, files]) => [c, files.slice(0, 2)])));
  });
  after(async () => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    await useBackend('wasm');
  });

  it('checks for convolution gradients before any work: wasm has them (src/kernels), a backend without them is refused naming those that can', async () => {
    await useBackend('wasm');
    expect(() => checkGradients('wasm')).to.not.throw();
    expect(() => checkGradients('no-such-backend')).to.throw(/the no-such-backend backend has no Conv2DBackpropFilter.*on another backend \(useBackend\(NAME\)\): wasm.*cpu.*tensorflow.*webgl or webgpu/);
  });

  it('fit({ fineTune: 2 }) trains exactly the head and the last 2 backbone layers (batch norm statistics kept), then saves and reloads', async () => {
    await useBackend('cpu');
    const clf = await load(BASE, { classes: ['beetle', 'dog', 'fish'] });
    const before = new Map(await Promise.all(clf.model.weights.map(async (w) => [w.originalName, await w.read().data()] as const)));
    const events: FitProgress[] = [];
    const h = await clf.fit(data, { epochs: 2, augment: 0, validationSplit: 0.5, fineTune: 2, fineTuneEpochs: 1, onProgress: (p) => events.push(p) });
    console.log(`      held-out ${h.headValidationAccuracy} -> ${h.validationAccuracy}, ${h.seconds.fineTune.toFixed(1)} s fine-tuning`);
    expect(h).to.include({ trainImages: 3, validationImages: 3 });
    expect(h.epochs.map((e) => `${e.phase}${e.epoch}`)).to.deep.equal(['head1', 'head2', 'fine-tune1']);
    expect(h.validationAccuracy).to.be.within(0, 1);
    expect(h.epochs.at(-1)!.valAccuracy).to.equal(h.validationAccuracy);
    // Each fine-tuning epoch ends with the whole model's held-out accuracy, in the history and in the progress.
    expect(events.at(-1)).to.deep.include({ phase: 'fine-tune', epoch: 1, done: 3, total: 3, valAccuracy: h.validationAccuracy });

    const backbone = featureLayerNames(getSpec(BASE), 224);
    const withWeights = clf.model.layers.filter((l) => l.weights.length > 0);
    const trained = [...withWeights.filter((l) => backbone.has(l.name)).slice(-2), ...withWeights.filter((l) => !backbone.has(l.name))];
    const expected = trained.flatMap((l) => l.trainableWeights.map((w) => w.originalName)).sort();
    const changed: string[] = [];
    for (const w of clf.model.weights) {
      const was = before.get(w.originalName)!, now = await w.read().data();
      if (now.some((v, i) => v !== was[i])) changed.push(w.originalName);
    }
    expect(changed.sort()).to.deep.equal(expected);
    expect(expected.some((n) => n.includes('Conv_1/'))).to.equal(true); // a convolution of the backbone trained

    const dir = join(tmp, 'fine-tuned');
    await clf.save(dir);
    const back = await load(dir, { inference: false });
    const image = join(SOURCE, `${CLASSES.dog![0]}.JPEG`);
    expect(await back.classify(image, { topK: 3 })).to.deep.equal(await clf.classify(image, { topK: 3 }));
    expect(back.metadata!.training!.fit).to.include({ fineTune: 2, fineTuneEpochs: 1, backend: 'cpu' });
    back.dispose();
    clf.dispose();
  });
});

describe('training: other heads (random backbones, labelled images in memory, wasm)', function () {
  this.timeout(300_000);
  before(async () => { await useBackend('wasm'); });

  // SqueezeNet's classifier is dropout + a 1x1 conv with ReLU over a 13x13 map; ResNet's is pooling + a dense layer.
  for (const arch of ['squeezenet1_1', 'resnet18']) {
    it(`${arch}: fit() on { classes, items } trains the head only and leaves the backbone as it was`, async () => {
      const clf = await load(arch, { classes: ['dark', 'light'], weights: null });
      const pixels = (v: number) => ({ width: 40, height: 30, data: new Uint8Array(40 * 30 * 3).map((_, i) => (v + 7 * i) % 256) });
      const items = [10, 20, 30, 200, 220, 240].map((v, i) => ({ image: pixels(v), label: i < 3 ? 0 : 1 }));
      const before = new Map(await Promise.all(clf.model.weights.map(async (w) => [w.originalName, await w.read().data()] as const)));
      const tensors = tf.memory().numTensors;
      const h = await clf.fit({ classes: ['dark', 'light'], items }, { epochs: 2, augment: 1, validationSplit: 0, batchSize: 4 });
      expect(tf.memory().numTensors, 'tensors left by fit()').to.equal(tensors);
      expect(h).to.include({ trainImages: 6, trainExamples: 12, validationImages: 0, validationAccuracy: null });
      const backbone = featureLayerNames(getSpec(arch), 224);
      const changed = new Set<string>();
      for (const l of clf.model.layers) {
        for (const w of l.weights) {
          const was = before.get(w.originalName)!, now = await w.read().data();
          if (now.some((v, i) => v !== was[i])) changed.add(l.name);
        }
      }
      const head = clf.model.layers.filter((l) => !backbone.has(l.name) && l.trainableWeights.length > 0).map((l) => l.name);
      expect(head.length).to.be.greaterThan(0);
      expect([...changed].sort()).to.deep.equal(head.sort());
      clf.dispose();
    });
  }
});
