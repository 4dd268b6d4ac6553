/** Datasets (layouts, bad lines, missing/unlabelled/corrupt images), top-k math and a tiny evaluate run. */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { useBackend } from '../src/backend.js';
import { CnnZooError } from '../src/errors.js';
import { openDataset, parseLabels, summarizeProblems } from '../src/eval/dataset.js';
import { evaluate } from '../src/eval/evaluate.js';
import { AccuracyMeter, topK } from '../src/eval/topk.js';
import { imagenetLabels } from '../src/labels/index.js';
import { SHARED } from './helpers/shared.js';

const png = (v: number): Promise<Buffer> =>
  sharp({ create: { width: 20, height: 12, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer();

/**
 * A model whose logits ignore the image: bias 3 on class `best`, 2 on `runnersUp`, 0 elsewhere, so every image is
 * predicted [best, ...runnersUp] and the expected accuracy follows from the labels alone.
 */
function constantModel(best: number, runnersUp: number[], outputs = 1000, size = 32): tf.LayersModel {
  const bias = new Float32Array(outputs);
  bias[best] = 3;
  for (const r of runnersUp) bias[r] = 2;
  const model = tf.sequential({ name: 'constant' });
  model.add(tf.layers.globalAveragePooling2d({ inputShape: [size, size, 3] }));
  model.add(tf.layers.dense({ units: outputs, weights: [tf.zeros([3, outputs]), tf.tensor1d(bias)] }));
  return model;
}

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown;
  try { await p; } catch (e) { err = e; }
  expect(err).to.be.instanceOf(CnnZooError);
  expect((err as Error).message).to.match(re);
}

describe('evaluation', () => {
  let dir: string;
  before(async () => {
    await useBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-eval-'));
    mkdirSync(join(dir, 'images'));
    for (const [f, v] of [['a.png', 10], ['b.png', 50], ['c.png', 90], ['d.png', 130], ['e.png', 170], ['stray.png', 200]] as const) {
      writeFileSync(join(dir, 'images', f), await png(v));
    }
    writeFileSync(join(dir, 'images', 'corrupt.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const wnid = (i: number): string => imagenetLabels()[i]!.wnid;
    writeFileSync(join(dir, 'labels.txt'), [
      '# file index wnid',
      `a.png 7 ${wnid(7)}`, `b.png 7`, `c.png 1 ${wnid(1)}`, `d.png 2`, `e.png 500`,
      'corrupt.jpg 7', 'gone.png 7', 'this line is bad', `d.png 3`, `x.png 4 ${wnid(5)}`, 'y.png 1000', '',
    ].join('\n'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ranks top-k with ties to the lower index and NaN last', () => {
    expect(topK([0.1, 0.9, 0.5, 0.9, -1], 3)).to.deep.equal([1, 3, 2]);
    expect(topK([NaN, 1, 2], 2)).to.deep.equal([2, 1]);
    expect(topK([9, 0, 5, 7], 2, 1)).to.deep.equal([2, 1]); // offset 1: sees [0, 5, 7]
    expect(topK([1, 2], 5)).to.deep.equal([1, 0]);
    const m = new AccuracyMeter(3);
    m.add(0, [0, 1, 2]); m.add(1, [0, 1, 2]); m.add(1, [1, 0, 2]); m.add(2, [0, 1]);
    const s = m.summary();
    expect([s.images, s.top1, s.top5]).to.deep.equal([4, 50, 75]);
    expect(s.perClass.map((c) => [c.label, c.images, c.top1, c.top5])).to.deep.equal([[0, 1, 100, 100], [1, 2, 50, 100], [2, 1, 0, 0]]);
    expect(s.meanClassTop1).to.equal(50);
  });

  it('parses labels files, reporting every bad line, label, wnid, duplicate, missing and unlabelled file', async () => {
    const ds = await openDataset(dir);
    expect(ds.layout).to.equal('labels-file');
    expect(ds.items.map((i) => i.file)).to.deep.equal(['a.png', 'b.png', 'c.png', 'corrupt.jpg', 'd.png', 'e.png', 'gone.png']);
    const kinds = ds.problems.map((p) => `${p.kind} ${p.file}`).sort();
    expect(kinds).to.deep.equal(['bad-label y.png', 'bad-line labels.txt:9', 'duplicate d.png', 'missing gone.png', 'unlabelled stray.png', 'wnid-mismatch x.png']);
    expect(ds.problems.find((p) => p.kind === 'wnid-mismatch')!.detail).to.match(/index 4 is n01494475 but the line says n01496331 \(index 5\)/);
    const { entries, problems } = parseLabels('f.jpg 1 n01443537\r\nbad\n', 'l.txt', imagenetLabels());
    expect(entries).to.deep.equal([{ file: 'f.jpg', label: 1, wnid: 'n01443537', line: 1 }]);
    expect(problems[0]!.file).to.equal('l.txt:2');
  });

  it('opens the shared val subset, ImageNet val layout and class folders', async () => {
    const sub = await openDataset(join(SHARED, 'imagenet', 'val-subset'));
    expect([sub.layout, sub.items.length, sub.problems.length]).to.deep.equal(['labels-file', 999, 0]);
    // The official layout: val images + ILSVRC2012_val_labels.txt covering all 50,000.
    const val = mkdtempSync(join(tmpdir(), 'cnn-zoo-val-'));
    try {
      writeFileSync(join(val, 'ILSVRC2012_val_00000002.JPEG'), '');
      writeFileSync(join(val, 'ILSVRC2012_val_00000001.JPEG'), '');
      await rejects(openDataset(val), /--labels ILSVRC2012_val_labels.txt/);
      const ds = await openDataset(val, { labels: join(SHARED, 'imagenet', 'ILSVRC2012_val_labels.txt') });
      expect(ds.layout).to.equal('imagenet-val');
      expect(ds.items.map((i) => [i.file, i.label])).to.deep.equal([['ILSVRC2012_val_00000001.JPEG', 65], ['ILSVRC2012_val_00000002.JPEG', 970]]);
      expect(ds.absent).to.equal(49_998);
      // ImageFolder layout: sub-folders named by wnid.
      const cf = mkdtempSync(join(tmpdir(), 'cnn-zoo-cf-'));
      mkdirSync(join(cf, 'n01443537'));
      mkdirSync(join(cf, 'not_a_wnid'));
      writeFileSync(join(cf, 'n01443537', 'x.jpg'), '');
      writeFileSync(join(cf, 'not_a_wnid', 'y.jpg'), '');
      const c = await openDataset(cf);
      expect([c.layout, c.items[0]!.label, c.problems[0]!.kind]).to.deep.equal(['class-folders', 1, 'unlabelled']);
      rmSync(cf, { recursive: true });
    } finally {
      rmSync(val, { recursive: true, force: true });
    }
    await rejects(openDataset(join(dir, 'nope')), /does not exist/);
  });

  it('refuses a folder with nothing to evaluate instead of reporting 0% (the parent of the data, as users mistype it)', async () => {
    // ../shared/imagenet holds the val ground truth but its images sit in sub-folders.
    await rejects(openDataset(join(SHARED, 'imagenet')),
      /No images to evaluate in .*imagenet \(ILSVRC2012_val_labels.txt labels 50000 images\)\. Sub-folders with images or labels: one-per-class, val-subset; did you mean --data .*one-per-class \/ openDataset\(".*one-per-class"\)\?/);
    const empty = mkdtempSync(join(tmpdir(), 'cnn-zoo-empty-'));
    try {
      mkdirSync(join(empty, 'n01443537'));
      await rejects(openDataset(empty), /No images to evaluate in .*Point --data \/ openDataset\(dir\) at the folder that holds the image files/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('evaluates a tiny dataset: Top-1/Top-5, per class, failed images counted, no tensor leak', async () => {
    const ds = await openDataset(dir);
    const model = constantModel(7, [1, 2, 3, 4]);
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const r = await evaluate(model, ds, { batchSize: 2, preprocess: { size: 32, cropFraction: 0.875, interpolation: 'bilinear', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'RGB' }, onProgress: (p) => progress.push(p.done) });
    expect(tf.memory().numTensors).to.equal(before);
    // a(7) b(7) c(1) d(2) e(500) evaluated; corrupt.jpg and gone.png failed.
    expect([r.images, r.evaluated, r.failed.map((f) => f.file).sort()]).to.deep.equal([7, 5, ['corrupt.jpg', 'gone.png']]);
    expect(r.failed.find((f) => f.file === 'gone.png')!.error).to.match(/no such file/);
    expect(r.top1).to.equal(40); // a, b
    expect(r.top5).to.equal(80); // a, b, c, d
    expect(r.perClass.map((c) => [c.label, c.images, c.top1, c.top5])).to.deep.equal([[1, 1, 0, 100], [2, 1, 0, 100], [7, 2, 100, 100], [500, 1, 0, 0]]);
    expect(r.perClass[2]!.name).to.equal('cock');
    expect(progress).to.deep.equal([2, 4, 6, 7]);
    expect(r.datasetProblems.length).to.equal(6);
    const limited = await evaluate(model, ds, { batchSize: 4, limit: 2, preprocess: r.preprocess });
    expect([limited.images, limited.top1]).to.deep.equal([2, 100]);
    model.dispose();
  });

  it('limits class sub-folders to every class in its share, not the first class, and names folders that are no class', async () => {
    // A trained classifier's folder: 6 + 3 + 1 images of its classes, and a folder of a class it does not have.
    const cf = mkdtempSync(join(tmpdir(), 'cnn-zoo-cf-limit-'));
    try {
      const counts = { bird: 6, dog: 3, fish: 1, insect: 4 };
      for (const [c, n] of Object.entries(counts)) {
        mkdirSync(join(cf, c));
        for (let i = 0; i < n; i++) writeFileSync(join(cf, c, `${c}${i}.png`), await png(20 * i));
      }
      const ds = await openDataset(cf, { classes: ['bird', 'dog', 'fish'] });
      expect(ds.items.length).to.equal(10);
      // One line for the folder, with its count, in the model's terms (it said "not a known wnid", image by image).
      expect(summarizeProblems(ds)).to.deep.equal([
        '4 unlabelled: folder "insect" is not one of the model\'s classes (bird, dog, fish); not evaluated: 4 images, e.g. insect/insect0.png']);
      const model = constantModel(0, [1, 2], 3, 16);
      const preprocess = { size: 16, cropFraction: 1, interpolation: 'bilinear' as const, scale: 1 / 255, mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], channelOrder: 'RGB' as const };
      const images = async (limit: number) => (await evaluate(model, ds, { limit, preprocess })).perClass.map((c) => [c.name, c.images]);
      // The first 5 sorted images would all be birds: each class gets its share, at least one image.
      expect(await images(5)).to.deep.equal([['bird', 2], ['dog', 2], ['fish', 1]]);
      expect(await images(8)).to.deep.equal([['bird', 5], ['dog', 2], ['fish', 1]]);
      expect(await images(3)).to.deep.equal([['bird', 1], ['dog', 1], ['fish', 1]]);
      expect(await images(2)).to.deep.equal([['bird', 1], ['dog', 1]]);
      expect(await images(100)).to.deep.equal([['bird', 6], ['dog', 3], ['fish', 1]]);
      model.dispose();
      // ImageNet's labels for a 3-class classifier: what data it takes.
      await rejects(openDataset(join(SHARED, 'imagenet', 'val-subset'), { classes: ['bird', 'dog', 'fish'] }),
        /is outside 0\.\.2\)\. The model has 3 classes: use one sub-folder per class named as them \(bird, dog, fish\), or a labels\.txt \("file index" per line, index 0 to 2\)\.$/);
    } finally {
      rmSync(cf, { recursive: true, force: true });
    }
  });

  it('skips the background class of 1001-output models and checks options', async () => {
    const ds = await openDataset(dir);
    const model = constantModel(8, [2, 3, 4, 5], 1001, 224); // logit 8 = class 7 with offset 1
    const r = await evaluate(model, ds, { limit: 2 });
    expect([r.classOffset, r.top1, r.preprocess.size]).to.deep.equal([1, 100, 224]);
    // Converted artifacts carry their preprocessing and class offset in userDefinedMetadata.cnnZoo.
    const preprocessing = { ...r.preprocess, interpolation: 'bicubic' as const };
    model.setUserDefinedMetadata({ cnnZoo: { preprocessing, classOffset: 0 } });
    const m = await evaluate(model, ds, { limit: 2 });
    expect([m.classOffset, m.top1, m.preprocess.interpolation]).to.deep.equal([0, 0, 'bicubic']);
    let err: unknown;
    try { await evaluate(model, ds, { batchSize: 0 }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(CnnZooError);
    err = undefined;
    try { await evaluate(constantModel(1, [], 10), ds); } catch (e) { err = e; }
    expect((err as Error).message).to.match(/10 outputs .* 1000 classes/);
    for (const [call, why] of [
      [() => evaluate('resnet18' as never, ds), /^evaluate\(model, dataset\): model is what load\(name\) returns, or a tf\.LayersModel \(create\(name\)\), got "resnet18" \(a string\)\.$/],
      [() => evaluate({ model } as never, ds), /\(a ZooModel holds one: evaluate\(zooModel\.model, dataset\)\), got an object\.$/],
      [() => evaluate(model, dir as never), /^evaluate\(model, dataset\): dataset comes from openDataset\(dir\), got ".*" \(a string\)\.$/],
      [() => openDataset(5 as never), /^openDataset\(dir\): dir is the path of an image folder, got 5\.$/],
      [() => openDataset(dir, { label: 'x' } as never), /^openDataset: unknown option "label"\. Did you mean labels\?/],
      [() => evaluate(model, ds, { limt: 2 } as never), /^evaluate\(model, dataset, options\): unknown option "limt"\. Did you mean limit\?/],
    ] as const) {
      err = undefined;
      try { await call(); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(CnnZooError);
      expect((err as Error).message).to.match(why);
    }
    model.dispose();
  });
});
