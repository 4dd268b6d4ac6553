/** The high-level API: list/info/load, classify/embed/features/preprocess on real images, and no tensor leaks. */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { list, info, load, useBackend, pickBackend, nodeFileSystem, CnnZooError, type ZooModel, fetchWeights, decodeImage, convertCheckpoint, create, exportOnnx } from '../src/index.js';
import { evaluate, openDataset, profileModel } from '../src/eval/index.js';
import { CLI, ROOT, SHARED } from './helpers/shared.js';
import { spawnSync } from 'node:child_process';

const GRACE = join(SHARED, 'images', 'grace_hopper.bmp');

/** The CnnZooError `call` rejects with. */
const refusal = async (call: () => Promise<unknown>): Promise<CnnZooError> => {
  try { await call(); } catch (e) { expect(e).to.be.instanceOf(CnnZooError); return e as CnnZooError; }
  throw new Error('expected a CnnZooError');
};

describe('public API', () => {
  before(async () => { await useBackend('wasm'); });

  it('list() returns plain cards, filtered', () => {
    const all = list();
    expect(all.length).to.be.greaterThan(40);
    expect(all[0]).to.not.have.property('build');
    expect(list({ family: 'vgg' }).map((c) => c.name)).to.include('vgg16_bn');
    expect(list({ maxParams: 2e6 }).every((c) => (c.meta.params ?? Infinity) <= 2e6)).to.equal(true);
    expect(list({ hasWeights: true }).map((c) => c.name)).to.deep.equal(['tf_mobilenet_v2_100']);
    expect(() => list({ family: 'vg' })).to.throw(CnnZooError, /^list\(\): no family "vg"\. Did you mean vgg\? Families: alexnet, /);
    // Nothing close enough to suggest: no "Did you mean dpn?" for "foo".
    expect(() => list({ family: 'foo' })).to.throw(CnnZooError, /^list\(\): no family "foo"\. Families: alexnet, /);
    expect(() => info('resnet18', { zzz: 1 } as never)).to.throw(CnnZooError, /^info\("resnet18"\): unknown option "zzz"\. Options: inputSize, numClasses, globalPool\.$/);
    expect(() => list({ maxParams: '5e6' as never })).to.throw(CnnZooError, /^list\(\): maxParams must be a positive number .*got "5e6" \(a string\)\.$/);
  });

  it('info() counts params and FLOPs', () => {
    const i = info('squeezenet1_1');
    expect(i.counted).to.deep.equal({ inputSize: 224, numClasses: 1000, params: 1235496, flops: 698303872, macs: 349151936 });
    // A 10-class head: SqueezeNet's classifier is a 1x1 conv from 512 channels (513 x 990 fewer weights).
    expect(info('squeezenet1_1', { numClasses: 10 }).counted.params).to.equal(1235496 - 513 * 990);
    expect(() => info('squeezenet2')).to.throw(CnnZooError, /Closest names: squeezenet/);
    expect(() => info('resnet18', { size: 3 } as never)).to.throw(CnnZooError, /^info\("resnet18"\): unknown option "size"\. Did you mean inputSize\?/);
    expect(() => info(5 as never)).to.throw(CnnZooError, /^A model is named by a string such as "resnet50", got 5. All \d+ models: `cnn-zoo list` \/ list\(\)\./);
    // A saved model's folder (cnn-zoo info DIR reads it): it said Unknown model, closest names alexnet, ...
    expect(() => info('./pet-classifier')).to.throw(CnnZooError,
      /^info\("\.\/pet-classifier"\) counts a model of the registry by its name; for weights in a folder or at a URL, const m = await load\("\.\/pet-classifier"\) has them in m\.card and m\.metadata/);
    expect(() => info('https://example.com/m/model.json')).to.throw(CnnZooError, /counts a model of the registry by its name/);
  });

  it('load() without weights for a model that ships none says how to get them', async () => {
    let err: unknown;
    try { await load('resnet50'); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(CnnZooError);
    expect((err as Error).message).to.match(/ships no weights.*weights: null/);
    let typo: unknown;
    try { await load('resnet50', { weigths: null } as never); } catch (e) { typo = e; }
    expect(typo).to.be.instanceOf(CnnZooError);
    expect((typo as Error).message).to.match(/load\("resnet50"\): unknown option "weigths"\. Did you mean weights\?/);
    for (const [call, message] of [
      [() => load(123 as never), /^load\(name\): name is a model name such as "resnet50" or the folder or URL of converted weights, got 123\.$/],
      [() => load('resnet50', null as never), /^load\("resnet50"\): options must be an object \(\{ inputSize, .*\}\), got null\.$/],
      [() => load('resnet18', { weights: null, numClasses: '10' as never }), /^resnet18: numClasses must be a positive integer, got "10" \(a string\)\.$/],
      // Inside hub and cache too: a misspelt mirror went online (4 attempts, 7 s) and failed with a network error.
      [() => load('squeezenet1_1', { weights: 'imagenet', hub: { mirorr: '/tmp' } as never }), /^load\("squeezenet1_1"\), hub: unknown option "mirorr"\. Did you mean mirror\? Options: mirror, cacheDir, /],
      [() => load('squeezenet1_1', { weights: 'imagenet', hub: '/tmp' as never }), /^load\("squeezenet1_1"\), hub: options must be an object \(\{ mirror, .*\}\), got "\/tmp" \(a string\)\.$/],
      [() => load('squeezenet1_1', { weights: null, cache: { indexDB: 'x' } as never }), /^load\("squeezenet1_1"\), cache: unknown option "indexDB"\. Did you mean indexedDB\? Options: indexedDB\.$/],
      // A string where a boolean goes was read as true: includeTop: 'false' built the classifier.
      [() => load('resnet18', { weights: null, includeTop: 'false' as never }), /^resnet18: includeTop must be true or false, got "false" \(a string\)\.$/],
      [() => load('resnet18', { weights: null, inference: 'yes' as never }), /^load\("resnet18"\): inference must be true or false, got "yes" \(a string\)\.$/],
      // A misspelt weights name was read as a folder ("Cannot read model.json at "imagenett" (ENOENT)").
      [() => load('resnet50', { weights: 'imagenett' }), /^resnet50: weights "imagenett" is neither a weights name nor a path here\. Did you mean "imagenet"\? Weights names: imagenet, torchvision, torchvision:IMAGENET1K_V2, /],
    ] as const) {
      let e: unknown;
      try { await call(); } catch (x) { e = x; }
      expect(e).to.be.instanceOf(CnnZooError);
      expect((e as Error).message).to.match(message);
    }
  });

  it('every exported call with options refuses a misspelt one by name, before any work (a misspelt mirror went online)', async () => {
    const tiny = create('squeezenet1_1', { inputSize: 64 });
    try {
      for (const [call, message] of [
        [() => fetchWeights('squeezenet1_1', 'imagenet', { mirorr: '/tmp', retries: 0 } as never), /^fetchWeights\(arch, selector, options\): unknown option "mirorr"\. Did you mean mirror\?/],
        [() => decodeImage(join(SHARED, 'images', 'parrot.jpg'), { nam: 'x' } as never), /^decodeImage\(input, options\): unknown option "nam"\. Did you mean name\? Options: maxPixels, name\.$/],
        [() => profileModel(tiny, { batchSize: [1] } as never), /^profileModel\(model, options\): unknown option "batchSize"\. Did you mean batchSizes\?/],
        [() => convertCheckpoint({ arch: 'squeezenet1_1', from: 'torch', inputs: [], dtyp: 'float16' } as never), /^convertCheckpoint: unknown option "dtyp"\. Did you mean dtype\?/],
        [() => exportOnnx(tiny, { output: 'features' } as never), /^exportOnnx: unknown option "output"\. Did you mean outputs\?/],
        [async () => evaluate(tiny, await openDataset(join(SHARED, 'imagenet', 'val-subset')), { limt: 1 } as never), /^evaluate\(model, dataset, options\): unknown option "limt"\. Did you mean limit\?/],
        // A known option of the wrong kind: fp16: 'true' exported float32, outputs: 'feature' asked for layers "f", "e", ...;
        // batchSizes: '1,2', onProgress: 'x' and a string maxPixels failed later or were read loosely.
        [() => exportOnnx(tiny, { fp16: 'true' } as never), /^exportOnnx: fp16 must be true or false, got "true" \(a string\)\.$/],
        [() => exportOnnx(tiny, { outputs: 'feature' } as never), /^exportOnnx: outputs is 'features' \(every feature stage and the embedding\) or a list of layer names, got "feature" \(a string\)\.$/],
        [() => profileModel(tiny, { batchSizes: '1,2' } as never), /^profileModel\(model, options\): batchSizes is a list of positive integers such as \[1, 8\], got "1,2" \(a string\)\.$/],
        [() => profileModel(tiny, { onProgress: true } as never), /^profileModel\(model, options\): onProgress must be a function, got true\.$/],
        [() => decodeImage(join(SHARED, 'images', 'parrot.jpg'), { maxPixels: '1e6' } as never), /^decodeImage\(input, options\): maxPixels must be a positive integer, got "1e6" \(a string\)\.$/],
        [() => fetchWeights('squeezenet1_1', 'imagenet', { keepDownload: 'yes', retries: 0 } as never), /^fetchWeights\(arch, selector, options\): keepDownload must be true or false, got "yes" \(a string\)\.$/],
        [() => load('squeezenet1_1', { weights: 'imagenet', hub: { timeoutMs: '5000' } as never }), /^load\("squeezenet1_1"\), hub: timeoutMs must be a positive number, got "5000" \(a string\)\.$/],
        [() => pickBackend({ order: 'wasm' } as never), /^pickBackend\(\): order is a list of backend names such as \['wasm', 'cpu'\], got "wasm" \(a string\)\.$/],
        [() => useBackend('wasm', { flags: 'WEBGL_PACK' } as never), /^useBackend\("wasm"\): flags is an object of tfjs flags such as .*, got "WEBGL_PACK" \(a string\)\.$/],
        [() => convertCheckpoint({ arch: 'squeezenet1_1', from: 'pytorch' as never, inputs: ['x.pth'] }), /^convertCheckpoint: from must be one of torch, .*, got "pytorch" \(a string\)\. Did you mean 'torch'\?$/],
      ] as const) {
        let e: unknown;
        try { await call(); } catch (x) { e = x; }
        expect(e, String(call)).to.be.instanceOf(CnnZooError);
        expect((e as Error).message).to.match(message);
      }
    } finally {
      tiny.dispose();
    }
  });

  it('a disposed model says so for every call, and disposing it again does nothing', async () => {
    for (const runtime of ['tfjs', 'onnxruntime'] as const) {
      const m = await load('tf_mobilenet_v2_100', { runtime });
      m.dispose();
      m.dispose();
      for (const [call, run] of [['classify', () => m.classify(GRACE)], ['embed', () => m.embed(GRACE)], ['features', () => m.features(GRACE)],
        ['warmup', () => m.warmup()], ['fit', () => m.fit('unused')], ['save', () => m.save('unused')]] as const) {
        let err: unknown;
        try { await run(); } catch (e) { err = e; }
        expect(err, `${runtime} ${call}`).to.be.instanceOf(CnnZooError);
        expect((err as CnnZooError).code).to.equal('DISPOSED');
        expect((err as Error).message).to.equal(`tf_mobilenet_v2_100.${call}(): the model was disposed (model.dispose()); load it again to use it.`);
      }
    }
  });

  it('dispose() while calls run (a server shutting down): they finish with their answers, then the model is freed', async () => {
    const before = tf.memory().numTensors;
    for (const runtime of ['tfjs', 'onnxruntime'] as const) {
      const m = await load('tf_mobilenet_v2_100', { runtime });
      const alone = await m.classify(GRACE, { topK: 1 });
      const running = [m.classify([GRACE, GRACE], { topK: 1 }), m.embed(GRACE), m.features(GRACE, { stages: [4] })] as const;
      m.dispose(); // it failed each running call with tfjs's "Layer 'MobilenetV2.Conv' is already disposed"
      const [top, [embedding], [map]] = await Promise.all(running);
      expect(top, runtime).to.deep.equal([alone, alone]);
      expect(embedding, runtime).to.have.length(1280);
      expect(map!.shape, runtime).to.deep.equal([1, 7, 7, 1280]);
      expect(tf.memory().numTensors, `${runtime}: freed once they ended`).to.equal(before);
      let err: unknown;
      try { await m.classify(GRACE); } catch (e) { err = e; }
      expect((err as CnnZooError).code).to.equal('DISPOSED');
    }
  });

  it('a second fit() while one runs is refused (they interleaved their steps on the same weights)', async () => {
    const clf = await load('tf_mobilenet_v2_100', { classes: ['macaw', 'person'], inputSize: 96 });
    try {
      const data = { classes: ['macaw', 'person'], items: [{ image: join(SHARED, 'images', 'parrot.jpg'), label: 0 }, { image: GRACE, label: 1 }] };
      const first = clf.fit(data, { epochs: 2, validationSplit: 0 });
      let err: unknown;
      try { await clf.fit(data, { epochs: 1, validationSplit: 0 }); } catch (e) { err = e; }
      expect((err as CnnZooError).code).to.equal('BUSY');
      expect((err as Error).message).to.equal('tf_mobilenet_v2_100.fit(): another fit() of this model is running; await it first.');
      expect((await first).epochs).to.have.length(2);
      expect((await clf.fit(data, { epochs: 1, validationSplit: 0 })).epochs, 'after it, fit() runs again').to.have.length(1);
    } finally {
      clf.dispose();
    }
  });

  describe('the embedded MobileNet v2', () => {
    let m: ZooModel;
    before(async () => { m = await load('tf_mobilenet_v2_100'); });
    after(() => m.dispose());

    it('classifies Grace Hopper (file path and Buffer) with military uniform in the top 5', async () => {
      const top = await m.classify(GRACE, { topK: 5 });
      expect(top).to.have.length(5);
      expect(top.map((p) => p.index)).to.include(652);
      const hit = top.find((p) => p.index === 652)!;
      expect(hit.label).to.equal('military uniform');
      expect(hit.wnid).to.equal('n03763968');
      // model.labels: the names by index (TF's background output is not a class).
      expect([m.labels.length, m.labels[652], m.labels[0]]).to.deep.equal([1000, 'military uniform', 'tench']);
      const again = await m.classify(readFileSync(GRACE));
      expect(again[0]!.index).to.equal(top[0]!.index);
      expect(again[0]!.probability).to.be.closeTo(top[0]!.probability, 1e-6);
    });

    it('classifies a batch, one list per image', async () => {
      const rows = await m.classify([GRACE, join(SHARED, 'images', 'owl.jpg')], { topK: 3 });
      expect(rows).to.have.length(2);
      expect(rows[1]).to.have.length(3);
    });

    it('embeds and taps feature stages', async () => {
      const [e] = await m.embed(GRACE);
      expect(e).to.have.length(1280);
      const stages = m.stages;
      expect(stages.map((s) => s.reduction)).to.deep.equal([2, 4, 8, 16, 32]);
      const maps = await m.features(GRACE, { stages: [1, 4] });
      expect(maps.map((f) => f.shape)).to.deep.equal([[1, 56, 56, stages[1]!.channels], [1, 7, 7, stages[4]!.channels]]);
      let err: unknown;
      try { await m.features(GRACE, { stages: [9] }); } catch (x) { err = x; }
      expect((err as Error).message).to.match(/stage 9 does not exist; valid stages are 0\.\.4/);
      err = undefined;
      // A stage written as a string (from a query string, a CLI flag) is named as one, not said to be missing.
      try { await m.features(GRACE, { stages: ['2' as unknown as number] }); } catch (x) { err = x; }
      expect((err as Error).message).to.match(/stage "2" \(a string\) is not a stage index; valid stages are 0\.\.4/);
    });

    it('refuses bad options of classify/embed/features by name, and keeps more than the classes to all of them', async () => {
      const img = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(128) };
      const refused = async (call: () => Promise<unknown>): Promise<string> => {
        try { await call(); } catch (e) { expect(e).to.be.instanceOf(CnnZooError); return (e as Error).message; }
        throw new Error('expected a CnnZooError');
      };
      for (const topK of [0, -1, 1.5]) {
        expect(await refused(() => m.classify(img, { topK }))).to.equal(
          `tf_mobilenet_v2_100.classify(): topK must be a positive integer (classes per image; more than the model has gives all), got ${topK}.`);
      }
      expect(await refused(() => m.classify(img, { topK: '3' } as never))).to.match(/topK must be a positive integer .*got "3" \(a string\)\.$/);
      expect(await refused(() => m.classify(img, { top: 3 } as never))).to.match(/classify\(\): unknown option "top"\. Did you mean topK\?/);
      expect(await refused(() => m.classify(img, null as never))).to.match(/classify\(\): options must be an object \(\{ topK, batchSize \}\), got null\./);
      expect(await refused(() => m.classify([img], { batchSize: '8' } as never))).to.match(/batchSize must be a positive integer .*got "8" \(a string\)/);
      expect(await refused(() => m.embed(img, { batch: 2 } as never))).to.match(/embed\(\): unknown option "batch"\. Did you mean batchSize\?/);
      expect(await refused(() => m.features(img, { stages: 1 } as never))).to.match(/features\(\): stages must be an array of stage indices \(0\.\.4; leave it out for all\), got 1\./);
      // A stage twice reached tfjs ("Argument 'tensors[0]' passed to 'concat' must be a Tensor", after a console warning).
      expect(await refused(() => m.features(img, { stages: [2, 2] }))).to.equal('tf_mobilenet_v2_100.features(): stage 2 is named twice in stages [2, 2]; name each once.');
      // An empty list reached tfjs ("At least one output should be requested.").
      expect(await refused(() => m.features(img, { stages: [] }))).to.match(/features\(\): stages must be an array of stage indices \(0\.\.4; leave it out for all\), got an empty one\./);
      expect(await m.classify(img, { topK: 2000 })).to.have.length(1000);
      // An empty list said "No images given." without the model or the fix.
      const none = 'tf_mobilenet_v2_100: no images given (an empty list); pass an image or a list of one or more.';
      for (const call of [() => m.classify([]), () => m.embed([]), () => m.features([]), () => m.preprocess([])]) expect(await refused(call)).to.equal(none);
    });

    it('without its classifier (includeTop: false), classify() refuses and embed() gives the pooled features', async () => {
      const [full] = await m.embed(GRACE);
      const maps = await m.features(GRACE, { stages: [4] });
      const { shape, data } = maps[0]!;
      const channels = shape[3]!;
      const maxPooled = Array.from({ length: channels }, (_, c) => {
        let v = -Infinity;
        for (let p = c; p < data.length; p += channels) v = Math.max(v, data[p]!);
        return v;
      });
      for (const [options, want] of [[{ pooling: 'avg' }, full!], [{ pooling: 'max' }, maxPooled], [{}, full!]] as const) {
        const headless = await load('tf_mobilenet_v2_100', { includeTop: false, runtime: 'tfjs', ...options });
        try {
          let err: unknown;
          try { await headless.classify(GRACE); } catch (e) { err = e; }
          expect(err, JSON.stringify(options)).to.be.instanceOf(CnnZooError);
          expect((err as CnnZooError).code).to.equal('NO_CLASSIFIER');
          expect(headless.labels).to.deep.equal([]);
          expect((err as Error).message).to.equal('tf_mobilenet_v2_100 has no classifier (built or saved with includeTop: false), so it gives ' +
            'features, not classes: use embed() or features(), or load weights that have a classifier.');
          const [e] = await headless.embed(GRACE);
          expect(e).to.have.length(1280);
          const worst = Math.max(...e!.map((v, i) => Math.abs(v - want[i]!)));
          expect(worst, `${JSON.stringify(options)}: embed() against the full model's pooled features`).to.be.below(1e-4);
          // Saved, it loads back as it was built (it failed: "lacks 2 weights of tf_mobilenet_v2_100: ...Logits...").
          const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-headless-'));
          try {
            await headless.save(dir);
            const again = await load(dir);
            expect(again.metadata).to.include({ includeTop: false, pooling: options.pooling ?? null });
            expect(again.model.outputs[0]!.shape).to.deep.equal(headless.model.outputs[0]!.shape);
            expect((await again.embed(GRACE))[0], JSON.stringify(options)).to.deep.equal(e);
            expect((await refusal(() => again.classify(GRACE))).code).to.equal('NO_CLASSIFIER');
            // evaluate() of features gave top-1 0% as if it were an answer.
            const noTop = await refusal(async () => evaluate(again.model, await openDataset(join(SHARED, 'imagenet', 'val-subset')), { limit: 1 }));
            expect(noTop.message).to.equal('evaluate(model, dataset): the model has no classifier (built or saved with includeTop: false), so it ' +
              'gives features, not classes: evaluate weights that have a classifier.');
            again.dispose();
            const top = await refusal(() => load(dir, { includeTop: true }));
            expect(top.message).to.equal(`${dir} holds tf_mobilenet_v2_100 without its classifier (saved with includeTop: false), so there are ` +
              'no classifier weights to load: leave out includeTop, or load weights that have the classifier.');
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        } finally {
          headless.dispose();
        }
      }
    });

    it('preprocess() returns the model input batch', async () => {
      const x = await m.preprocess(GRACE);
      expect(x.shape).to.deep.equal([1, 224, 224, 3]);
      const [min, max] = [x.min().dataSync()[0]!, x.max().dataSync()[0]!];
      x.dispose();
      expect(min).to.be.at.least(-1.0001);
      expect(max).to.be.at.most(1.0001);
    });

    it('leaks no tensors over 100 calls on wasm', async () => {
      const img = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(128) };
      await m.classify(img); // the first calls build the embedding/feature models
      await m.embed(img);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 100; i++) {
        if (i % 2) await m.classify(img); else await m.embed(img);
      }
      expect(tf.memory().numTensors).to.equal(before);
    });
  });

  it('leaks no tensors over 100 calls on cpu', async () => {
    await useBackend('cpu');
    const m = await load('squeezenet1_1', { weights: null, inputSize: 64 });
    const img = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(128) };
    await m.classify(img);
    await m.features(img, { stages: [0] });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      if (i % 2) await m.classify(img); else await m.features(img, { stages: [0] });
    }
    expect(tf.memory().numTensors).to.equal(before);
    m.dispose();
    await useBackend('wasm');
  });

  it('load(name, { weights: null }) builds random weights with default preprocessing, which save() and load(dir) keep', async () => {
    const m = await load('squeezenet1_1', { weights: null, inputSize: 128 });
    expect(m.preprocessing.size).to.equal(128);
    const img = { width: 4, height: 4, data: new Uint8Array(48) };
    const top = await m.classify(img, { topK: 2 });
    expect(top).to.have.length(2);
    m.dispose();
    // A model to train from scratch: save() said "needs a registry model with weights metadata (from load())".
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-random-'));
    try {
      const ten = await load('resnet18', { weights: null, numClasses: 10, inputSize: 64 });
      expect(ten.metadata).to.include({ arch: 'resnet18', inputSize: 64, numClasses: 10, classOffset: 0 });
      expect(ten.metadata!.source.format).to.equal('random');
      await ten.save(dir);
      const back = await load(dir, { inference: false });
      expect(back.preprocessing).to.deep.equal(ten.preprocessing);
      const [a, b] = [await ten.classify(img, { topK: 10 }), await back.classify(img, { topK: 10 })];
      expect(b).to.deep.equal(a);
      expect(a.map((p) => p.label).sort()).to.deep.equal(Array.from({ length: 10 }, (_, i) => `class ${i}`).sort());
      expect(back.labels).to.deep.equal(Array.from({ length: 10 }, (_, i) => `class ${i}`));
      a.forEach((p) => expect(back.labels[p.index]).to.equal(p.label));
      for (const x of [ten, back]) x.dispose();
      // create()'s bare model, trained elsewhere and saved with tfjs: load(dir) said "no cnn-zoo metadata".
      const bare = create('squeezenet1_1', { inputSize: 64, numClasses: 3 });
      const bareDir = join(dir, 'bare');
      await bare.save(nodeFileSystem(bareDir));
      const again = await load(bareDir, { inference: false });
      expect([again.name, again.preprocessing.size, (await again.classify(img)).map((p) => p.label).sort()]).to.deep.equal(['squeezenet1_1', 64, ['class 0', 'class 1', 'class 2']]);
      const x = tf.randomUniform([1, 64, 64, 3]);
      const [p, q] = [bare.predict(x) as tf.Tensor, again.model.predict(x) as tf.Tensor];
      expect(Array.from(await q.data())).to.deep.equal(Array.from(await p.data()));
      tf.dispose([x, p, q]);
      bare.dispose();
      again.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('save(URL) uploads model.json and the weights by POST, as tfjs does; a refused upload or an empty dest says so', async () => {
    // save('http://...') made a folder named "http:" in the working folder.
    const { createServer } = await import('node:http');
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString('latin1')}`);
        res.writeHead(req.url === '/upload' ? 200 : 500).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    const m = await load('squeezenet1_1', { weights: null, inference: false, inputSize: 64, numClasses: 3 });
    try {
      await m.save(`${url}/upload`);
      expect(bodies).to.have.length(1);
      expect(bodies[0]).to.match(/^POST \/upload /).and.include('name="model.json"').and.include('"cnnZoo"').and.include('name="model.weights.bin"');
      const refused = await m.save(`${url}/full`).then(() => undefined, (e: CnnZooError) => e);
      expect(refused?.code).to.equal('CANNOT_WRITE');
      expect(refused?.message).to.match(new RegExp(`^Cannot upload the model to ${url}/full \\(.*500.*\\)\\. save\\(URL\\) POSTs model\\.json and its weights there`));
      const empty = await m.save('').then(() => undefined, (e: CnnZooError) => e);
      expect(empty?.message).to.equal('save(dest): dest is empty; give a folder path (Node), "indexeddb://NAME" or "downloads://NAME" (browsers), ' +
        'or an http(s) URL to upload the model to.');
      expect(readdirSync(process.cwd())).not.to.include('http:');
    } finally {
      m.dispose();
      server.close();
    }
  });

  it('save() over an earlier model leaves none of its shards; two NAME.json in one folder keep their own shards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-resave-'));
    try {
      const big = await load('resnet18', { weights: null, inference: false, inputSize: 32 });
      const small = await load('squeezenet1_1', { weights: null, inference: false, inputSize: 64, numClasses: 3 });
      const shards = () => readdirSync(dir).filter((f) => f.endsWith('.bin')).sort();
      await big.save(dir);
      expect(shards()).to.have.length(12);
      // It left resnet18's 12 shards (45 MB) beside squeezenet's one, which its model.json did not name.
      await small.save(dir);
      expect(shards()).to.deep.equal(['group1-shard1of1.bin']);
      // a.json and b.json in one folder: b's shards overwrote a's, so load(a.json) read b's weights without a word.
      const other = await load('squeezenet1_1', { weights: null, inference: false, inputSize: 64, numClasses: 3 });
      await small.save(join(dir, 'a.json'));
      await other.save(join(dir, 'b.json'));
      expect(shards()).to.deep.equal(['a.group1-shard1of1.bin', 'b.group1-shard1of1.bin', 'group1-shard1of1.bin']);
      const img = { width: 8, height: 8, data: new Uint8Array(192).map((_, i) => (i * 37) % 256) };
      for (const [saved, file] of [[small, 'a.json'], [other, 'b.json']] as const) {
        const back = await load(join(dir, file), { inference: false });
        expect(await back.classify(img)).to.deep.equal(await saved.classify(img));
        back.dispose();
      }
      for (const m of [big, small, other]) m.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('load(dir, { classes }) puts a new head on saved weights, whose metadata names the architecture (it was refused)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-rehead-'));
    try {
      const clf = await load('squeezenet1_1', { weights: null, classes: ['cat', 'dog'], inputSize: 64 });
      await clf.save(dir);
      const more = await load(dir, { classes: ['cat', 'dog', 'bird'] });
      expect([more.name, more.labels, more.metadata!.training!.base.weights]).to.deep.equal(['squeezenet1_1', ['cat', 'dog', 'bird'], dir]);
      // The backbone is the saved one; the classifier is new, with three outputs.
      const first = (m: ZooModel) => m.model.layers.find((l) => l.weights.length > 0)!;
      expect(first(more).name).to.equal(first(clf).name);
      const [a, b] = [first(clf).getWeights()[0]!, first(more).getWeights()[0]!];
      expect(Array.from(await b.data())).to.deep.equal(Array.from(await a.data()));
      expect(more.model.outputs[0]!.shape).to.deep.equal([null, 3]);
      for (const m of [clf, more]) m.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('load(NAME) of a folder saved as save(NAME) in the working folder reads it (a registry name still wins); so does cnn-zoo info NAME', async () => {
    // It said: Unknown model "classifier". Closest names: alexnet, effnet, ...
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-cwd-'));
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const clf = await load('squeezenet1_1', { weights: null, classes: ['cat', 'dog'], inputSize: 64 });
      await clf.save('classifier');
      clf.dispose();
      const back = await load('classifier', { runtime: 'tfjs' });
      expect([back.name, back.labels]).to.deep.equal(['squeezenet1_1', ['cat', 'dog']]);
      back.dispose();
      const cli = spawnSync(process.execPath, [...CLI, 'info', 'classifier'], { encoding: 'utf8', cwd: dir });
      expect(cli.status, cli.stderr).to.equal(0);
      expect(cli.stdout).to.include('classes:     2: cat, dog');
      // A folder named like a registry model is not read for it; ./NAME is.
      const named = await load('squeezenet1_1', { weights: null, classes: ['a', 'b'], inputSize: 64 });
      await named.save('resnet18');
      named.dispose();
      expect((await refusal(() => load('resnet18'))).message).to.match(/ships no weights for "resnet18"/);
      const local = await load('./resnet18', { runtime: 'tfjs' });
      expect(local.name).to.equal('squeezenet1_1');
      local.dispose();
      expect((await refusal(() => load('nothing-here'))).code).to.equal('UNKNOWN_MODEL');
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a non-square model (create(name, { inputSize: [h, w] })) saves and loads back non-square; image calls say they crop squares', async () => {
    // Its metadata said inputSize 128 only, and load(dir) built it at 128x128 without a word.
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-nonsquare-'));
    try {
      const bare = create('resnet18', { inputSize: [64, 96], numClasses: 3 });
      await bare.save(nodeFileSystem(dir));
      const back = await load(dir, { runtime: 'tfjs', inference: false });
      expect(back.model.inputs[0]!.shape).to.deep.equal([null, 64, 96, 3]);
      expect(back.metadata).to.include({ inputSize: 64, inputWidth: 96 });
      const x = tf.randomUniform([2, 64, 96, 3]);
      const [p, q] = [bare.predict(x) as tf.Tensor, back.model.predict(x) as tf.Tensor];
      expect(Array.from(await q.data())).to.deep.equal(Array.from(await p.data()));
      tf.dispose([x, p, q]);
      // classify() said "Input is 64x64 but resnet18 was built for 64x96 ... create the model with inputSize: 64" of a JPEG.
      const img = { width: 4, height: 4, data: new Uint8Array(48) };
      for (const call of [() => back.classify(img), () => back.embed(img), () => back.features(img), () => back.preprocess(img)]) {
        const e = await refusal(call);
        expect(e.code).to.equal('NON_SQUARE_INPUT');
        expect(e.message).to.equal('resnet18 takes 64x96 inputs, and the preprocessing of classify(), embed(), features() and preprocess() crops ' +
          'squares: run model.model.predict() on [N, 64, 96, 3] tensors preprocessed your way, or build the model with one inputSize.');
      }
      // One inputSize builds it square again, with square preprocessing.
      const square = await load(dir, { inputSize: 80, runtime: 'tfjs' });
      expect([square.model.inputs[0]!.shape, square.metadata!.inputWidth, (await square.classify(img)).length]).to.deep.equal([[null, 80, 80, 3], undefined, 3]);
      for (const m of [back, square]) m.dispose();
      bare.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a model built with globalPool (its fixed-window head at another size) saves and loads back as built, a new head too', async () => {
    // load(dir) rebuilt the reference head: "does not fit a 96x96 input ... or pass globalPool: true".
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-global-'));
    const img = { width: 4, height: 4, data: new Uint8Array(48).fill(90) };
    try {
      for (const [name, opts] of [['random', { weights: null, inference: false }], ['classifier', { weights: null, classes: ['a', 'b'] }]] as const) {
        const built = await load('shufflenet_v1_g3_0_5x', { ...opts, inputSize: 96, globalPool: true, runtime: 'tfjs' });
        expect(built.metadata!.globalPool, name).to.equal(true);
        await built.save(join(dir, name));
        const back = await load(join(dir, name), { inference: false, runtime: 'tfjs' });
        expect(back.metadata!.globalPool, name).to.equal(true);
        expect(await back.classify(img, { topK: 2 }), name).to.deep.equal(await built.classify(img, { topK: 2 }));
        // cnn-zoo info DIR counts it as built (it built the reference head at 96 px and failed).
        const cli = spawnSync(process.execPath, [...CLI, 'info', join(dir, name)], { encoding: 'utf8', cwd: ROOT });
        expect(cli.status, cli.stderr).to.equal(0);
        expect(cli.stdout, name).to.include(`model:       shufflenet_v1_g3_0_5x at 96 px, ${back.metadata!.numClasses} outputs, global average pool (--global-pool)`);
        for (const m of [built, back]) m.dispose();
      }
      // At the reference's size without globalPool, the metadata says nothing of it.
      const plain = await load('shufflenet_v1_g3_0_5x', { weights: null, inputSize: 224 });
      expect(plain.metadata).to.not.have.property('globalPool');
      plain.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pretrained weights at another input size (inputSize with weights)', () => {
  before(async () => { await useBackend('wasm'); });

  it('builds the same weights at 160 px, preprocesses to 160 with the same crop fraction, on tfjs and onnxruntime alike', async () => {
    const full = await load('tf_mobilenet_v2_100', { inference: false, runtime: 'tfjs' });
    const small = await load('tf_mobilenet_v2_100', { inputSize: 160, inference: false, runtime: 'tfjs' });
    const fast = await load('tf_mobilenet_v2_100', { inputSize: [160, 160], runtime: 'onnxruntime' });
    try {
      expect(small.model.inputs[0]!.shape).to.deep.equal([null, 160, 160, 3]);
      expect(small.preprocessing).to.deep.equal({ ...full.preprocessing, size: 160 });
      expect(small.metadata!.inputSize).to.equal(160);
      expect(fast.preprocessing).to.deep.equal(small.preprocessing);
      let compared = 0;
      for (const layer of full.model.layers) {
        const [a, b] = [layer.getWeights(), small.model.getLayer(layer.name).getWeights()];
        for (let i = 0; i < a.length; i++) {
          expect(b[i]!.dataSync()).to.deep.equal(a[i]!.dataSync(), layer.name);
          compared++;
        }
      }
      expect(compared).to.equal(full.model.weights.length);
      const [tfjs, ort] = [await small.classify(GRACE), await fast.classify(GRACE)];
      expect(ort.map((p) => p.index)).to.deep.equal(tfjs.map((p) => p.index));
      ort.forEach((p, i) => expect(p.probability).to.be.closeTo(tfjs[i]!.probability, 1e-4));
      expect(tfjs[0]!.label).to.equal('mortarboard');
    } finally {
      for (const m of [full, small, fast]) m.dispose();
    }
  });

  it('says what a size needs: one number, a head that pools a fixed window (or globalPool), numClasses never', async () => {
    const rect = await refusal(() => load('tf_mobilenet_v2_100', { inputSize: [192, 160] }));
    expect(rect.message).to.equal('tf_mobilenet_v2_100: with pretrained weights, inputSize is one number (the preprocessing crops a square), ' +
      'got [192,160]. For other shapes, pass images already at that size to model.model.predict().');
    expect((await refusal(() => load('tf_mobilenet_v2_100', { inputSize: '224' as never }))).message).to.include('got "224" (a string).');
    // Random weights or create(): a string was read as its characters ("input size 1x2 is invalid" for '128').
    for (const call of [() => load('squeezenet1_1', { weights: null, inputSize: '128' as never }), async () => create('squeezenet1_1', { inputSize: [128] as never })]) {
      expect((await refusal(call)).message).to.match(/^squeezenet1_1: inputSize must be a number of pixels \(224\) or \[height, width\] in pixels, got ("128" \(a string\)|an array of 1)\.$/);
    }
    expect((await refusal(() => load('tf_mobilenet_v2_100', { numClasses: 10 }))).message).to.match(/^tf_mobilenet_v2_100: numClasses comes from the weights; for a new head with your classes, load\(name, \{ classes \}\)/);
    // A classifier saved from tf_mobilenet_v1_025 (TF-slim's head pools a fixed window: up to 256 px) at 288 px.
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-size-'));
    try {
      const clf = await load('tf_mobilenet_v1_025', { weights: null, classes: ['cat', 'dog'] });
      await clf.save(dir);
      clf.dispose();
      const tooBig = await refusal(() => load(dir, { inputSize: 288 }));
      expect(tooBig.code).to.equal('BAD_INPUT_SIZE');
      expect(tooBig.message).to.match(/^tf_mobilenet_v1_025: the reference's head .* does not fit a 288x288 input .*pass globalPool: true/);
      const pooled = await load(dir, { inputSize: 288, globalPool: true });
      expect(pooled.model.inputs[0]!.shape).to.deep.equal([null, 288, 288, 3]);
      expect((await pooled.classify(GRACE)).map((p) => p.label).sort()).to.deep.equal(['cat', 'dog']);
      pooled.dispose();
      const retrain = await load('tf_mobilenet_v1_025', { weights: dir, classes: ['cat', 'dog'], inputSize: 128 });
      expect([retrain.model.inputs[0]!.shape, retrain.preprocessing.size]).to.deep.equal([[null, 128, 128, 3], 128]);
      retrain.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a size that load() builds, save() keeps and load(dir) reads back; a side over MAX_INPUT_SIDE is refused before anything is built', async () => {
    // Saved at 1200 px, load(dir) said "metadata inputSize 1200 is not an integer from 1 to 1024 ... corrupt".
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-large-'));
    try {
      const large = await load('tf_mobilenet_v2_100', { inputSize: 1200, inference: false, runtime: 'tfjs' });
      await large.save(dir);
      large.dispose();
      const back = await load(dir, { runtime: 'tfjs' });
      expect([back.model.inputs[0]!.shape, back.preprocessing.size]).to.deep.equal([[null, 1200, 1200, 3], 1200]);
      back.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // 100000 px was built, then failed in the preprocessing: "RangeError: Invalid typed array length: 30000000000".
    const tensors = tf.memory().numTensors;
    for (const call of [() => load('tf_mobilenet_v2_100', { inputSize: 100_000 }), async () => create('resnet18', { inputSize: [224, 5000] })]) {
      const e = await refusal(call);
      expect(e.code).to.equal('BAD_INPUT_SIZE');
      expect(e.message).to.match(/^\w+: input size (100000x100000|224x5000) is too large; sides of up to 4096 px are built \(at that size one image's feature maps take gigabytes\): pass inputSize: 4096 or smaller \(its default is 224\)\.$/);
    }
    expect(tf.memory().numTensors).to.equal(tensors);
  });
});
