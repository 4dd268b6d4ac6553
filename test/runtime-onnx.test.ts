/**
 * `load(name, { runtime })` (src/api/runtime.ts, src/onnx/runtime.ts): classify, embed, features and batched calls on
 * onnxruntime-node give the tfjs results; per runtime, models with fixture weights reproduce their parity fixture
 * (logits, and the embedding against `pre_logits` where the fixture has it); nothing leaks (tfjs tensors, sessions);
 * the missing peer; a fitted model never runs stale exported weights; the export is cached once and reused (counted).
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, rmSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { useBackend } from '../src/backend.js';
import { exportOnnx, load, ZooModel } from '../src/index.js';
import type { FeatureMap } from '../src/api/zoo-model.js';
import { startRuntime } from '../src/api/runtime.js';
import { exportKey, hideOnnxRuntimeForTests, nodeSessionOptions, runtimeCounts } from '../src/onnx/runtime.js';
import { heapBytes } from '../src/kernels/wasm-copy.js';
import { onnxFileMetadata, onnxMetadata } from '../src/checkpoints/onnx-metadata.js';
import { loadFixture, type Fixture } from '../src/parity/fixture.js';
import { findByFixture, maxRelError, runParity, top5Agree } from '../src/parity/run.js';
import { toInference } from '../src/inference/index.js';
import { CnnZooError } from '../src/errors.js';
import { embeddingLayer, embeddingModel } from '../src/zoo/heads.js';
import { fixturePath, ROOT, SHARED } from './helpers/shared.js';

const PHOTOS = [join(ROOT, 'examples', 'images', 'grace_hopper.jpg'), join(SHARED, 'images', 'parrot.jpg')];
const afterRelease = () => new Promise((r) => setImmediate(r));
const ORT_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string }).version;

/** Fixture input rows NCHW -> NHWC. */
function nhwc(fx: Fixture): Float32Array {
  const [n, c, h, w] = fx.inputShape;
  const out = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    out[((b * h + y) * w + x) * c + ch] = fx.input[((b * c + ch) * h + y) * w + x]!;
  }
  return out;
}

/** The fixture's `pre_logits` (the classifier's input), where it has them (src/parity does not read them). */
function preLogits(name: string): Float32Array | undefined {
  const json = JSON.parse(gunzipSync(readFileSync(fixturePath(name))).toString('utf8')) as { pre_logits?: { b64: string } };
  if (!json.pre_logits) return undefined;
  const b = Buffer.from(json.pre_logits.b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

type Forward = (chunk: { data: Float32Array; n: number }, model: tf.LayersModel, stored?: readonly string[]) => Promise<{ data: Float32Array; shape: number[] }[]>;
/** The one path classify/embed/features take through a model's runtime (ZooModel's private `forward`). */
const forward = (zoo: ZooModel): Forward => (zoo as unknown as { forward: Forward }).forward.bind(zoo);
/** The session classify() runs on onnxruntime (ZooModel's private `ort.main`). */
const mainSession = (zoo: ZooModel) => (zoo as unknown as { ort: { main: { outputsOf(layers: readonly string[]): string[] | undefined } } }).ort.main;

describe('runtime: onnxruntime (onnxruntime-node) agrees with tfjs and with the parity fixtures', function () {
  before(async () => { await useBackend('wasm'); });

  // Distinct layer kinds: fire modules and ceil-mode pools, residual adds, depthwise + ReLU6, dense concats, channel shuffle.
  for (const name of ['squeezenet1_1', 'resnet18', 'mobilenet_v2', 'densenet121', 'shufflenet_v2_x1_0']) {
    it(`${name}: logits and embedding reproduce the fixture on both runtimes; batch 2 = two batches of 1`, async () => {
      const fx = await loadFixture(fixturePath(name));
      const pre = preLogits(name);
      const { spec } = findByFixture(name);
      const report: string[] = [];
      await runParity(fx, {
        inspect: async (trained) => {
          const zoo = new ZooModel(toInference(trained), spec, undefined);
          try {
            const x = nhwc(fx);
            const [n, , h] = fx.inputShape;
            const k = fx.logitsShape[1];
            for (const runtime of ['tfjs', 'onnxruntime'] as const) {
              const r = await startRuntime(zoo, { runtime, trainingForm: false, backend: false, source: null, shipped: false });
              expect(r.runtime).to.equal(runtime);
              expect(zoo.runtime).to.equal(runtime === 'tfjs' ? 'tfjs' : 'onnxruntime-node');
              const tensors = tf.memory().numTensors;
              const [logits] = await forward(zoo)({ data: x, n }, zoo.model);
              expect(logits!.shape).to.deep.equal([n, k]);
              const err = maxRelError(logits!.data, fx.logits);
              report.push(`${runtime} ${err.toExponential(2)}`);
              expect(err, `${runtime}: max|ours-ref|/max|ref|`).to.be.below(fx.tolerance);
              expect(top5Agree(logits!.data, fx.logits, k), `${runtime}: top-5 agree`).to.equal(true);
              // Batched = one by one (each image's row is what a call on that image alone gives, within the bound).
              const one = h * h * 3;
              const second = await forward(zoo)({ data: x.slice(one), n: 1 }, zoo.model);
              expect(maxRelError(second[0]!.data, fx.logits.subarray(k)), `${runtime}: batch of 1`).to.be.below(fx.tolerance);
              if (pre) {
                // What embed() runs: on onnxruntime the main session's embedding output (its graph outputs it beside
                // the logits), on tfjs an embedding model.
                const layer = embeddingLayer(zoo.model, () => zoo.stages);
                const stored = runtime === 'onnxruntime' && layer ? mainSession(zoo).outputsOf([layer]) : undefined;
                expect(stored === undefined, `${runtime}: embed() runs an embedding model`).to.equal(runtime === 'tfjs' || layer === undefined);
                const [e] = stored ? await forward(zoo)({ data: x, n }, zoo.model, stored) : await forward(zoo)({ data: x, n }, embeddingModel(zoo.model, () => zoo.stages));
                const eErr = maxRelError(e!.data, pre);
                report.push(`embed ${eErr.toExponential(2)}`);
                expect(eErr, `${runtime}: embedding vs pre_logits`).to.be.below(fx.tolerance);
              }
              expect(tf.memory().numTensors, `${runtime}: tensors left`).to.equal(tensors);
            }
          } finally {
            zoo.dispose();
          }
        },
      });
      console.log(`      ${name}: max_rel_err ${report.join(', ')} (tolerance ${fx.tolerance})`);
    });
  }
});

describe('runtime: classify, embed, features on photos, by load()', function () {
  let ort: ZooModel, tfjs: ZooModel;
  before(async () => {
    await useBackend('wasm');
    ort = await load('tf_mobilenet_v2_100', { runtime: 'onnxruntime' });
    tfjs = await load('tf_mobilenet_v2_100', { runtime: 'tfjs' });
  });
  after(() => { ort.dispose(); tfjs.dispose(); });

  it('gives the tfjs results (classes, probabilities, embeddings, feature maps) and leaves no tfjs tensor', async () => {
    expect(ort.runtime).to.equal('onnxruntime-node');
    expect(tfjs.runtime).to.equal('tfjs');
    expect(ort.model).to.be.instanceOf(tf.LayersModel);
    const tensors = tf.memory().numTensors;
    const [a, b] = [await ort.classify(PHOTOS, { topK: 5 }), await tfjs.classify(PHOTOS, { topK: 5 })];
    a.forEach((row, i) => {
      expect(row.map((p) => p.index)).to.deep.equal(b[i]!.map((p) => p.index));
      row.forEach((p, j) => expect(p.probability).to.be.closeTo(b[i]![j]!.probability, 1e-4));
    });
    // A batch is each image alone.
    expect(await ort.classify(PHOTOS, { topK: 5, batchSize: 1 })).to.deep.equal(a);
    const [ea, eb] = [await ort.embed(PHOTOS), await tfjs.embed(PHOTOS)];
    ea.forEach((row, i) => expect(maxRelError(Float32Array.from(row), Float32Array.from(eb[i]!))).to.be.below(1e-4));
    const [fa, fb] = [await ort.features(PHOTOS[0]!, { stages: [1, 4] }), await tfjs.features(PHOTOS[0]!, { stages: [1, 4] })];
    expect(fa.map((f) => [f.layer, f.reduction, f.shape])).to.deep.equal(fb.map((f) => [f.layer, f.reduction, f.shape]));
    fa.forEach((f, i) => expect(maxRelError(f.data, fb[i]!.data), f.layer).to.be.below(1e-4));
    expect(tf.memory().numTensors, 'tfjs tensors left').to.equal(tensors);
  });

  it('embed() runs the main session (its graph outputs the embedding); dispose() releases every session of the model (main, features)', async () => {
    const m = await load('tf_mobilenet_v2_100', { runtime: 'onnxruntime' });
    const before = runtimeCounts();
    await m.embed(PHOTOS[0]!);
    const after = runtimeCounts();
    expect([after.sessions - before.sessions, after.exports - before.exports], 'sessions and exports made by embed()').to.deep.equal([0, 0]);
    await m.features(PHOTOS[0]!, { stages: [0] });
    expect(runtimeCounts().sessions - after.sessions, 'sessions made by features()').to.equal(1);
    const open = runtimeCounts().open;
    m.dispose();
    await afterRelease();
    expect(runtimeCounts().open, 'sessions still open').to.equal(open - 2);
    let err: unknown;
    try { await m.classify(PHOTOS[0]!); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(Error);
  });

  it("without the peer: runtime 'onnxruntime' names `npm install onnxruntime-node`, 'auto' falls back to tfjs", async () => {
    hideOnnxRuntimeForTests(true);
    try {
      let err: unknown;
      try { await load('squeezenet1_1', { weights: null, inputSize: 64, runtime: 'onnxruntime' }); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(CnnZooError);
      expect((err as Error).message).to.include('npm install onnxruntime-node');
      const auto = await load('squeezenet1_1', { weights: null, inputSize: 64 });
      expect(auto.runtime).to.equal('tfjs');
      auto.dispose();
    } finally {
      hideOnnxRuntimeForTests(false);
    }
    let bad: unknown;
    try { await load('squeezenet1_1', { weights: null, runtime: 'onnx' as never }); } catch (e) { bad = e; }
    expect((bad as Error).message).to.match(/runtime must be 'auto', 'onnxruntime', 'tfjs'/);
  });

  it('the training form stays on tfjs under auto; a fitted model never classifies with the exported weights of before', async () => {
    const auto = await load('squeezenet1_1', { weights: null, inputSize: 64, inference: false });
    expect(auto.runtime).to.equal('tfjs');
    auto.dispose();
    const clf = await load('squeezenet1_1', { weights: null, classes: ['grace', 'parrot'], runtime: 'onnxruntime' });
    try {
      expect(clf.runtime).to.equal('onnxruntime-node');
      const before = await clf.classify(PHOTOS, { topK: 2 });
      await clf.fit({ classes: ['grace', 'parrot'], items: PHOTOS.map((image, label) => ({ image, label })) }, { epochs: 3, validationSplit: 0 });
      expect(clf.runtime, 'after fit()').to.equal('tfjs');
      const after = await clf.classify(PHOTOS, { topK: 2 });
      // What the trained tfjs model itself says.
      const x = await clf.preprocess(PHOTOS);
      const probs = tf.tidy(() => tf.softmax(clf.model.predict(x) as tf.Tensor2D));
      const rows = (await probs.array()) as number[][];
      tf.dispose([x, probs]);
      after.forEach((row, i) => row.forEach((p) => expect(p.probability).to.be.closeTo(rows[i]![p.index]!, 1e-6)));
      expect(after.map((r) => r.map((p) => p.probability))).to.not.deep.equal(before.map((r) => r.map((p) => p.probability)));
    } finally {
      clf.dispose();
    }
  });
});

describe('runtime: the exported model is cached once and reused, keyed by its weights', function () {
  const dirs: string[] = [];
  const temp = () => { const d = mkdtempSync(join(tmpdir(), 'cnn-zoo-rt-')); dirs.push(d); return d; };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  before(async () => { await useBackend('wasm'); });

  it('the shipped model: in the cache directory, exported once for two loads; the second opens onnxruntime\'s optimized form, same numbers to the bit', async () => {
    const cacheDir = temp();
    const before = runtimeCounts();
    const a = await load('tf_mobilenet_v2_100', { runtime: 'onnxruntime', hub: { cacheDir } });
    const b = await load('tf_mobilenet_v2_100', { runtime: 'onnxruntime', hub: { cacheDir } });
    const [pa, pb] = [await a.classify(PHOTOS), await b.classify(PHOTOS)];
    a.dispose(); b.dispose();
    const after = runtimeCounts();
    expect([after.exports - before.exports, after.optimizedWrites - before.optimizedWrites, after.optimizedOpens - before.optimizedOpens],
      'exports, optimized forms written, opened').to.deep.equal([1, 1, 1]);
    expect(pb).to.deep.equal(pa);
    const dir = join(cacheDir, 'onnx', 'tf_mobilenet_v2_100');
    const files = readdirSync(dir).sort();
    expect(files).to.have.length(2);
    expect(files[0]).to.match(/^[0-9a-f]{32}\.onnx$/);
    expect(files[1]).to.equal(files[0]!.replace(/\.onnx$/, `.ort-${ORT_VERSION}-`) + files[1]!.slice(-12));
    expect(files[1]).to.match(/-[0-9a-f]{12}$/);
    // The optimized form is a folder: its graph keeps the export's metadata (its key, checked before it is opened, read
    // without the graph) and its weights are external data beside it (opened without parsing them as protobuf).
    const folder = join(dir, files[1]!);
    const [graph, weights] = [join(folder, 'model.onnx'), join(folder, 'model.onnx.data')];
    expect(readdirSync(folder).sort()).to.deep.equal(['model.onnx', 'model.onnx.data']);
    const exported = onnxMetadata(readFileSync(join(dir, files[0]!)));
    expect(await onnxFileMetadata(graph)).to.deep.equal(exported);
    expect(await onnxFileMetadata(join(dir, files[0]!))).to.deep.equal(exported);
    expect(exported['cnnZoo.key']).to.match(/^[0-9a-f]{64}$/);
    const [exportBytes, graphBytes, weightBytes] = [join(dir, files[0]!), graph, weights].map((f) => statSync(f).size);
    expect(graphBytes, 'the graph without its weights').to.be.below(exportBytes! / 20);
    expect(weightBytes, 'the weights (float32, some reordered for this CPU)').to.be.above(exportBytes! * 0.9);

    // Not onnxruntime's optimized form of this export (another file's bytes, cut short, its weights cut short or
    // missing): written again, never run.
    const [wholeGraph, wholeWeights] = [readFileSync(graph), readFileSync(weights)];
    const spoil: [string, () => void][] = [
      ['a graph of other bytes', () => writeFileSync(graph, 'not an onnx file')],
      ['the graph cut short', () => writeFileSync(graph, wholeGraph.subarray(0, wholeGraph.length >> 1))],
      ['its weights cut short', () => writeFileSync(weights, wholeWeights.subarray(0, wholeWeights.length >> 1))],
      ['its weights missing', () => rmSync(weights)],
    ];
    for (const [what, bad] of spoil) {
      bad();
      const mid = runtimeCounts();
      const c = await load('tf_mobilenet_v2_100', { runtime: 'onnxruntime', hub: { cacheDir } });
      expect(await c.classify(PHOTOS), what).to.deep.equal(pa);
      c.dispose();
      const end = runtimeCounts();
      expect([end.exports - mid.exports, end.optimizedWrites - mid.optimizedWrites, end.optimizedOpens - mid.optimizedOpens], what).to.deep.equal([0, 1, 0]);
      expect(await onnxFileMetadata(graph), `${what}: written again`).to.deep.equal(exported);
      // (the graph's bytes differ from one write to the next, its weights do not)
      expect(readFileSync(weights).equals(wholeWeights), `${what}: the same weights again`).to.equal(true);
      expect(readdirSync(dir).sort(), `${what}: no temporary folder left`).to.deep.equal(files);
    }
    // The form earlier versions wrote (one file: the folder's name and .onnx) goes when the folder is written.
    writeFileSync(`${folder}.onnx`, wholeGraph);
    rmSync(folder, { recursive: true });
    const e = await load('tf_mobilenet_v2_100', { runtime: 'onnxruntime', hub: { cacheDir } });
    expect(await e.classify(PHOTOS)).to.deep.equal(pa);
    e.dispose();
    expect(readdirSync(dir).sort(), 'the folder again, the old file gone').to.deep.equal(files);
  });

  it('sessions of float32 graphs (exports made here, float32 files) skip prepacking; int8/float16 files keep it; all stop spinning after a run', () => {
    // Prepacking float weights bought nothing at batch 1-32 and cost VGG-16 1.7 s a session; int8 kernels need it.
    expect(nodeSessionOptions(true).extra.session).to.deep.equal({ force_spinning_stop: '1', disable_prepacking: '1' });
    expect(nodeSessionOptions(false).extra.session).to.deep.equal({ force_spinning_stop: '1' });
  });

  it('a float32 ONNX file given as weights: its optimized form kept in the cache, named by its sha256, opened by the next load, same numbers to the bit; a float16 file none', async () => {
    const dir = temp();
    const cacheDir = join(dir, 'cache');
    const m = await load('tf_mobilenet_v2_100', { runtime: 'tfjs' });
    const folded = toInference(m.model);
    folded.setUserDefinedMetadata(m.model.getUserDefinedMetadata()!);
    const files = { float32: join(dir, 'm.onnx'), float16: join(dir, 'm-fp16.onnx') };
    writeFileSync(files.float32, await exportOnnx(folded));
    writeFileSync(files.float16, await exportOnnx(folded, { fp16: true }));
    folded.dispose();
    m.dispose();
    const forms = () => (existsSync(join(cacheDir, 'onnx', 'tf_mobilenet_v2_100')) ? readdirSync(join(cacheDir, 'onnx', 'tf_mobilenet_v2_100')) : []).filter((f) => f.includes('.ort-'));
    const results = [];
    for (const round of [0, 1]) {
      const before = runtimeCounts();
      const f = await load(files.float32, { hub: { cacheDir } });
      results.push(await f.classify(PHOTOS));
      f.dispose();
      const after = runtimeCounts();
      expect([after.exports - before.exports, after.optimizedWrites - before.optimizedWrites, after.optimizedOpens - before.optimizedOpens],
        `load ${round + 1}: exports, optimized forms written, opened`).to.deep.equal([0, 1 - round, round]);
    }
    expect(results[1]).to.deep.equal(results[0]);
    const sha = createHash('sha256').update(readFileSync(files.float32)).digest('hex');
    expect(forms()).to.have.length(1);
    expect(forms()[0]).to.match(new RegExp(`^${sha.slice(0, 32)}\\.ort-${ORT_VERSION.replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
    const before = runtimeCounts();
    const h = await load(files.float16, { hub: { cacheDir } });
    await h.classify(PHOTOS[0]!);
    h.dispose();
    expect([runtimeCounts().exports - before.exports, runtimeCounts().optimizedWrites - before.optimizedWrites, forms().length], 'float16: exports, optimized forms written, kept').to.deep.equal([0, 0, 1]);
  });

  it('the export key reads weights in place on wasm (heapBytes): the same bytes, and the same key as from copies (cpu)', async () => {
    const keys: string[] = [];
    try {
      for (const backend of ['wasm', 'cpu'] as const) {
        await useBackend(backend);
        const m = await load('tf_mobilenet_v2_100', { runtime: 'tfjs', inference: false });
        try {
          const w = m.model.weights.map((x) => x.read());
          const views = w.map((t) => heapBytes(t));
          if (backend === 'cpu') expect(views.every((v) => v === undefined), 'no heap on cpu').to.equal(true);
          else for (const [i, v] of views.entries()) expect(Buffer.from(v!).equals(Buffer.from((await w[i]!.data()).buffer)), m.model.weights[i]!.name).to.equal(true);
          keys.push(await exportKey(m.model));
        } finally {
          m.dispose();
        }
      }
    } finally {
      await useBackend('wasm');
    }
    expect(keys[0]).to.match(/^[0-9a-f]{64}$/).and.equal(keys[1]);
  });

  it('features(): its export is kept in the cache directory (not its optimized form) and the next load opens it, same maps to the bit', async () => {
    const cacheDir = temp();
    const maps: FeatureMap[][] = [];
    const before = runtimeCounts();
    for (const round of [0, 1]) {
      const m = await load('tf_mobilenet_v2_100', { runtime: 'onnxruntime', hub: { cacheDir } });
      const mid = runtimeCounts();
      maps.push(await m.features(PHOTOS[0]!, { stages: [1, 3] }));
      const end = runtimeCounts();
      expect([end.exports - mid.exports, end.sessions - mid.sessions, end.optimizedWrites - mid.optimizedWrites, end.optimizedOpens - mid.optimizedOpens],
        `features() of load ${round + 1}: exports, sessions, optimized forms written, opened`).to.deep.equal([1 - round, 1, 0, 0]);
      m.dispose();
    }
    expect(runtimeCounts().exports - before.exports, 'exports in all: the main graph and the features model, once each').to.equal(2);
    const files = readdirSync(join(cacheDir, 'onnx', 'tf_mobilenet_v2_100'));
    expect(files.filter((f) => /^[0-9a-f]{32}\.onnx$/.test(f)), 'exports').to.have.length(2);
    expect(files.filter((f) => f.includes('.ort-')), 'optimized forms (the main graph\'s)').to.have.length(1);
    maps[1]!.forEach((f, i) => expect(Buffer.from(f.data.buffer).equals(Buffer.from(maps[0]![i]!.data.buffer)), f.layer).to.equal(true));
  });

  it('a cache that cannot be written (a read-only home): runs from memory, says so, and gives the same classes', async () => {
    const file = join(temp(), 'a-file');
    writeFileSync(file, '');
    const cacheDir = join(file, 'cache'); // below a file: ENOTDIR, as EACCES/EROFS under a read-only home
    const exports = runtimeCounts().exports;
    const m = await load('tf_mobilenet_v2_100', { runtime: 'tfjs' });
    const kept = await load('tf_mobilenet_v2_100', { runtime: 'onnxruntime', hub: { cacheDir: temp() } });
    try {
      const r = await startRuntime(m, { runtime: 'onnxruntime', trainingForm: false, backend: false, source: 'shipped', shipped: true, cacheDir });
      expect([r.runtime, m.runtime]).to.deep.equal(['onnxruntime', 'onnxruntime-node']);
      expect(r.detail).to.match(/, exported in memory \(cannot write .*a-file\/cache\/onnx\/tf_mobilenet_v2_100\/[0-9a-f]{32}\.onnx: ENOTDIR; set CNN_ZOO_CACHE to a writable folder to keep it\)$/);
      expect(runtimeCounts().exports - exports, 'exports').to.equal(2);
      expect(await m.classify(PHOTOS[0]!)).to.deep.equal(await kept.classify(PHOTOS[0]!));
    } finally {
      m.dispose(); kept.dispose();
    }
  });

  it('a weights folder: model.onnx beside model.json, reused; other weights in the folder are exported again', async () => {
    const cacheDir = temp();
    const dir = join(temp(), 'clf');
    const save = async (seedImage: number) => {
      const m = await load('squeezenet1_1', { weights: null, classes: ['a', 'b'], hub: { cacheDir } });
      if (seedImage) await m.fit({ classes: ['a', 'b'], items: PHOTOS.map((image, label) => ({ image, label })) }, { epochs: 1, validationSplit: 0 });
      await m.save(dir);
      m.dispose();
    };
    await save(0);
    const exports = runtimeCounts().exports;
    const a = await load(dir, { hub: { cacheDir } });
    const first = await a.classify(PHOTOS[0]!);
    a.dispose();
    const b = await load(dir, { hub: { cacheDir } });
    expect(b.runtime).to.equal('onnxruntime-node');
    expect(await b.classify(PHOTOS[0]!)).to.deep.equal(first);
    b.dispose();
    expect(runtimeCounts().exports - exports, 'one export for two loads').to.equal(1);
    const key = onnxMetadata(readFileSync(join(dir, 'model.onnx')))['cnnZoo.key'];
    expect(key).to.match(/^[0-9a-f]{64}$/);
    // The cache holds onnxruntime's optimized form for this machine, not the export.
    expect(readdirSync(join(cacheDir, 'onnx', 'squeezenet1_1')), 'in the cache').to.have.length(1).and.satisfy(
      (names: string[]) => names.every((n) => n.startsWith(key!.slice(0, 32) + '.ort-')));

    await save(1); // other weights, same folder
    const c = await load(dir, { hub: { cacheDir } });
    const tfjs = await load(dir, { hub: { cacheDir }, runtime: 'tfjs' });
    const [pc, pt] = [await c.classify(PHOTOS[0]!), await tfjs.classify(PHOTOS[0]!)];
    c.dispose(); tfjs.dispose();
    expect(runtimeCounts().exports - exports, 'exported again').to.equal(2);
    expect(onnxMetadata(readFileSync(join(dir, 'model.onnx')))['cnnZoo.key']).to.not.equal(key);
    pc.forEach((p, i) => expect(p.probability).to.be.closeTo(pt[i]!.probability, 1e-5));

    // A file of other content under the name is replaced, never run.
    writeFileSync(join(dir, 'model.onnx'), 'not an onnx file');
    const d = await load(dir, { hub: { cacheDir } });
    expect(await d.classify(PHOTOS[0]!)).to.deep.equal(pc);
    d.dispose();
    expect(runtimeCounts().exports - exports).to.equal(3);
  });
});
