/**
 * Weights without internet (issue #19, item 7): a checkpoint file downloaded elsewhere used directly as `weights`
 * (recognised by its hash against the published-weights table, or else read by its format, converted once into
 * the cache), or its http(s) URL (downloaded once into the cache; a loopback server here); folder and file:// mirrors; a cached download whose hash is wrong is reported (file, both hashes,
 * what to do). Real checkpoint files from ../shared, no network (a dead 127.0.0.1 port stands for "offline").
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { load } from '../src/api/index.js';
import { calibrateInt8, exportOnnx, toInference } from '../src/index.js';
import { runtimeCounts } from '../src/onnx/runtime.js';
import * as ort from 'onnxruntime-node';
import { modelWithWeights } from '../src/api/weights.js';
import { useBackend } from '../src/backend.js';
import { CnnZooError } from '../src/errors.js';
import { nodeModules } from '../src/platform.js';
import { digestBytes } from '../src/pretrained/hash.js';
import { modelMetadata } from '../src/artifacts/metadata.js';
import { loadFixture, type Fixture } from '../src/parity/fixture.js';
import { maxRelError, nchwToNhwc } from '../src/parity/run.js';
import { sniffCheckpointFormat } from '../src/checkpoints/sniff.js';
import { fetchWeights, importCheckpoint, resolveCheckpoint, PUBLISHED, type PublishedCheckpoint } from '../src/pretrained/index.js';
import { heldCheckpointBytes } from '../src/pretrained/local.js';
import { openDataset } from '../src/eval/dataset.js';
import { evaluate } from '../src/eval/evaluate.js';
import { fixturePath, SHARED } from './helpers/shared.js';

const SQUEEZE_PTH = join(SHARED, 'fixtures', 'checkpoints', 'squeezenet1_1.pth');
const bytes = new Uint8Array(readFileSync(SQUEEZE_PTH));
const sha256 = createHash('sha256').update(bytes).digest('hex');

async function rejection(p: Promise<unknown>): Promise<CnnZooError> {
  try { await p; } catch (e) { if (e instanceof CnnZooError) return e; throw e; }
  throw new Error('expected a CnnZooError');
}

/** The times `work` reads `path` (the package reads checkpoint files through nodeModules()'s readFile). */
async function readsOf(path: string, work: () => Promise<unknown>): Promise<number> {
  const node = await nodeModules();
  const real = node.readFile;
  let reads = 0;
  node.readFile = ((p: Parameters<typeof real>[0], ...rest: unknown[]) => {
    if (p === path) reads++;
    return (real as (...a: unknown[]) => unknown)(p, ...rest);
  }) as typeof real;
  try {
    await work();
  } finally {
    node.readFile = real;
  }
  return reads;
}

function logits(model: tf.LayersModel, fx: Fixture): Float32Array {
  return tf.tidy(() => (model.predict(nchwToNhwc(fx.input, fx.inputShape)) as tf.Tensor).dataSync() as Float32Array);
}

describe('weights without internet', function () {
  this.timeout(300_000);
  let tmp: string;
  let fx: Fixture;
  const published = resolveCheckpoint('squeezenet1_1');
  const fresh = () => mkdtempSync(join(tmp, 'cache-'));

  it('digests of bytes (what recognises a checkpoint file): the standard vectors, and of a view its bytes only', async () => {
    const abc = new TextEncoder().encode('abc');
    expect(await digestBytes(abc, 'sha256')).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await digestBytes(abc, 'sha1')).to.equal('a9993e364706816aba3e25717850c26c9cd0d89d');
    const whole = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 255);
    const view = whole.subarray(1000, 5000);
    expect(await digestBytes(view, 'sha256')).to.equal(createHash('sha256').update(view).digest('hex'));
  });

  before(async () => {
    await useBackend('wasm');
    tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-offline-'));
    fx = await loadFixture(fixturePath('squeezenet1_1'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('recognises checkpoint formats by magic bytes, else by extension; an unknown file names the formats read', () => {
    const head = (p: string) => new Uint8Array(readFileSync(p)).subarray(0, 64);
    const ck = join(SHARED, 'fixtures', 'checkpoints');
    expect(sniffCheckpointFormat(head(join(ck, 'squeezenet1_1.pth')), 'x')).to.equal('torch'); // ZIP
    expect(sniffCheckpointFormat(head(join(ck, 'shufflenet_v1_g3_0_5x.legacy.pth')), 'x')).to.equal('torch'); // legacy pickle
    expect(sniffCheckpointFormat(head(join(ck, 'timm_mobilenetv1_025.safetensors')), 'x')).to.equal('safetensors');
    expect(sniffCheckpointFormat(head(join(SHARED, 'weights', 'keras-mobilenet_v1_0.25_224', 'mobilenet_v1_0.25_224.h5')), 'x')).to.equal('keras');
    expect(sniffCheckpointFormat(head(join(SHARED, 'weights', 'tflite-mobilenet', 'mobilenet_quant_v1_224_head_layers.tflite')), 'x')).to.equal('tflite');
    expect(sniffCheckpointFormat(head(join(SHARED, 'weights', 'onnx-mobilenetv2-int8', 'mobilenet_v2_quant.onnx')), 'm.onnx')).to.equal('onnx');
    const e = (() => { try { sniffCheckpointFormat(new TextEncoder().encode('hello'), 'notes.txt'); } catch (x) { return x as CnnZooError; } })();
    expect(e).to.be.instanceOf(CnnZooError);
    expect(e!.code).to.equal('UNKNOWN_FORMAT');
    expect(e!.message).to.include('notes.txt').and.include('cnn-zoo convert --from');
  });

  it('load(name, { weights: FILE.pth }): an unpublished file is read by its format, converted once into the cache, and reproduces its fixture', async () => {
    const cacheDir = fresh();
    const statuses: string[] = [];
    const model = await modelWithWeights('squeezenet1_1', { weights: SQUEEZE_PTH, hub: { cacheDir, onStatus: (m) => statuses.push(m) } });
    const err = maxRelError(logits(model, fx), fx.logits);
    expect(err).to.be.below(fx.tolerance);
    const meta = modelMetadata(model)!;
    expect(meta.source.files[0]).to.include({ name: 'squeezenet1_1.pth', sha256 });
    model.dispose();
    expect(statuses.join('\n')).to.match(/not a published checkpoint.*reading it as torch/);
    const dir = join(cacheDir, 'models', 'squeezenet1_1', `file-${sha256.slice(0, 16)}-float32-v2`);
    expect(readdirSync(dir).sort()).to.include('model.json').and.include('fetch.json');
    // Second use: from the cache, nothing converted (no status line, fromCache).
    const again = await importCheckpoint('squeezenet1_1', SQUEEZE_PTH, { cacheDir, onStatus: (m) => statuses.push(`again: ${m}`) });
    expect(again).to.include({ dir, fromCache: true, sha256 });
    expect(statuses.filter((s) => s.startsWith('again'))).to.deep.equal([]);
    // load() takes the same file; without a model name an unknown file's architecture must be named.
    const zoo = await load('squeezenet1_1', { weights: SQUEEZE_PTH, hub: { cacheDir } });
    expect(zoo.name).to.equal('squeezenet1_1');
    zoo.dispose();
    const e = await rejection(load(SQUEEZE_PTH));
    expect(e.code).to.equal('NEEDS_ARCH');
    expect(e.message).to.include(`load(NAME, { weights: "${SQUEEZE_PTH}" })`);
  });

  it('a cache that cannot be written (a read-only home): a checkpoint file converts in memory and reproduces its fixture; fetch names the cache and CNN_ZOO_CACHE', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, '');
    const cacheDir = join(file, 'cache'); // below a file: ENOTDIR, as EACCES/EROFS under a read-only home (it was mkdir's bare error)
    const statuses: string[] = [];
    const zoo = await load('squeezenet1_1', { weights: SQUEEZE_PTH, runtime: 'tfjs', inference: false, hub: { cacheDir, onStatus: (m) => statuses.push(m) } });
    expect(maxRelError(logits(zoo.model, fx), fx.logits)).to.be.below(fx.tolerance);
    expect(zoo.metadata!.source.files[0]).to.include({ name: 'squeezenet1_1.pth', sha256 });
    zoo.dispose();
    expect(statuses[0]).to.equal(`Cannot write the cnn-zoo cache at ${join(cacheDir, 'models', 'squeezenet1_1')} (ENOTDIR). Point it at a writable ` +
      `folder with CNN_ZOO_CACHE=DIR. Converting ${SQUEEZE_PTH} in memory instead (again on every load).`);
    const fetched = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { cacheDir, mirror: join(SHARED, 'fixtures', 'checkpoints'), sha256, retries: 0 }));
    expect(fetched.code).to.equal('CACHE_UNWRITABLE');
    expect(fetched.message).to.equal(`Cannot write the cnn-zoo cache at ${join(cacheDir, 'downloads')} (ENOTDIR). Point it at a writable folder with CNN_ZOO_CACHE=DIR.`);
  });

  it('load(name, { weights: URL of a checkpoint file }): downloaded once into the cache (also for two loads at once), converted, reproduces its fixture', async () => {
    const cacheDir = fresh();
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      if (req.url === '/ckpt/squeezenet1_1.pth') res.writeHead(200, { 'Content-Length': String(bytes.length) }).end(bytes);
      else if (req.url === '/ckpt/portal.pth') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><head><title>Sign in</title></head></html>');
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ckpt`;
    try {
      // Two loads at once (a server loading on its first requests): one download, which the second waits for.
      const [zoo, twin] = await Promise.all([0, 1].map(() => load('squeezenet1_1', { weights: `${base}/squeezenet1_1.pth`, runtime: 'tfjs', inference: false, hub: { cacheDir } })));
      expect(maxRelError(logits(zoo!.model, fx), fx.logits)).to.be.below(fx.tolerance);
      expect(maxRelError(logits(twin!.model, fx), fx.logits)).to.be.below(fx.tolerance);
      expect(zoo!.metadata!.source.files[0]).to.include({ name: 'squeezenet1_1.pth', sha256 });
      zoo!.dispose();
      twin!.dispose();
      expect(requests, 'one download').to.equal(1);
      const downloads = join(cacheDir, 'downloads');
      expect(readdirSync(downloads).flatMap((d) => readdirSync(join(downloads, d)))).to.deep.equal(['squeezenet1_1.pth']);
      (await load('squeezenet1_1', { weights: `${base}/squeezenet1_1.pth`, runtime: 'tfjs', hub: { cacheDir } })).dispose();
      expect(requests, 'the second load reads the cache').to.equal(1);
      const missing = await rejection(load('squeezenet1_1', { weights: `${base}/missing.pth`, hub: { cacheDir, retries: 0 } }));
      expect(missing.message).to.match(/^Download of missing\.pth failed: http:\/\/127\.0\.0\.1:\d+\/ckpt\/missing\.pth answered 404/);
      const unnamed = await rejection(load(`${base}/squeezenet1_1.pth`, { hub: { cacheDir } }));
      expect(unnamed.code).to.equal('NEEDS_ARCH');
      // A login page in place of the file: refused and not kept (nothing else checks an unpublished file).
      const portal = await rejection(load('squeezenet1_1', { weights: `${base}/portal.pth`, hub: { cacheDir } }));
      expect(portal.message).to.match(/^The download of http:\/\/127\.0\.0\.1:\d+\/ckpt\/portal\.pth is not a checkpoint\. What came is an HTML page \("Sign in"\), not a checkpoint: /);
      const again = await rejection(load('squeezenet1_1', { weights: `${base}/portal.pth`, hub: { cacheDir } }));
      expect(again.message, 'asked again, not read from the cache').to.equal(portal.message);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });

  it('a file whose hash is in the table is that published checkpoint: its preprocessing, licence and cache folder, and only for its architecture', async () => {
    const cacheDir = fresh();
    // The fixture file is not torchvision's file; a table that lists its sha256 stands in for one that would.
    const table = [{ ...published, hash: { algorithm: 'sha256' as const, hex: sha256, from: 'a test table' } }];
    const r = await importCheckpoint('squeezenet1_1', SQUEEZE_PTH, { cacheDir, table });
    expect(r.checkpoint).to.equal(table[0]);
    expect(r.dir).to.equal(join(cacheDir, 'models', 'squeezenet1_1', 'torchvision-IMAGENET1K_V1-float32'));
    const model = await modelWithWeights('squeezenet1_1', { weights: r.dir });
    const meta = modelMetadata(model)!;
    expect(meta.preprocessing).to.deep.equal(published.preprocessing);
    expect(meta.licence).to.equal(published.licence);
    expect(maxRelError(logits(model, fx), fx.logits)).to.be.below(fx.tolerance);
    model.dispose();
    const wrong = await rejection(importCheckpoint('resnet50', SQUEEZE_PTH, { cacheDir, table }));
    expect(wrong.code).to.equal('WRONG_ARCH');
    expect(wrong.message).to.include(`load('squeezenet1_1', { weights: '${SQUEEZE_PTH}' })`);
    // The real table does not list the fixture file (it is not the published one).
    expect(PUBLISHED.some((c) => c.hash && 'hex' in c.hash && c.hash.hex === sha256)).to.equal(false);
  });

  it('cnn-zoo convert FILE of a published checkpoint converts it as fetch does (its publisher\'s preprocessing), --arch left out', async () => {
    // It took the architecture's defaults (and needed --arch): torchvision's IMAGENET1K_V2 ResNets lost their 232 px resize.
    const entry = { ...published, preprocessing: { ...published.preprocessing, cropFraction: 0.95, interpolation: 'bicubic' as const },
      hash: { algorithm: 'sha256' as const, hex: sha256, from: 'a test table' } };
    (PUBLISHED as PublishedCheckpoint[]).push(entry); // a table that lists the fixture file stands in for one that would
    const out = join(fresh(), 'converted');
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => { lines.push(a.join(' ')); };
    try {
      const { run } = await import('../src/cli/commands/convert.js');
      // Read (and hashed) once: to name its model, then to convert it (it was read twice).
      expect(await readsOf(SQUEEZE_PTH, async () => expect(await run([SQUEEZE_PTH, '--out', out])).to.equal(0)), 'reads of the file').to.equal(1);
      let wrong: unknown;
      try { await run([SQUEEZE_PTH, '--arch', 'resnet50', '--out', join(out, 'x')]); } catch (e) { wrong = e; }
      expect((wrong as CnnZooError).code).to.equal('WRONG_ARCH');
      // cnn-zoo info FILE names it too (it said: not valid JSON (Unexpected token 'P', "PK...").
      expect(await (await import('../src/cli/commands/info.js')).run([SQUEEZE_PTH])).to.equal(0);
    } finally {
      console.log = log;
      (PUBLISHED as PublishedCheckpoint[]).splice(PUBLISHED.indexOf(entry), 1);
    }
    expect(lines.join('\n')).to.include(`${SQUEEZE_PTH} is the published checkpoint torchvision:IMAGENET1K_V1 of squeezenet1_1: converted with its publisher's preprocessing`);
    expect(lines.join('\n')).to.include(`${SQUEEZE_PTH}: the published checkpoint torchvision:IMAGENET1K_V1 of squeezenet1_1 (${entry.licence})\n`);
    expect(lines.join('\n')).to.include('squeezenet1_1  (family squeezenet');
    const model = await modelWithWeights('squeezenet1_1', { weights: out });
    const meta = modelMetadata(model)!;
    expect(meta.preprocessing).to.deep.equal(entry.preprocessing);
    expect(meta.licence).to.equal(entry.licence);
    expect(maxRelError(logits(model, fx), fx.logits)).to.be.below(fx.tolerance);
    model.dispose();
  });

  it('cnn-zoo\'s own ONNX export (float, fp16, int8) names its model and classes: load(FILE), convert, info and verify FILE read it back; onnxruntime runs the file itself', async () => {
    // It was "a checkpoint file that is not a published checkpoint", and with --model it failed on the class count.
    const clf = await load('tf_mobilenet_v2_100', { classes: ['cat', 'dog', 'bird'], inputSize: 96 });
    const img = { width: 80, height: 72, data: new Uint8Array(80 * 72 * 3).map((_, i) => (i * 29) % 251) };
    const x = await clf.preprocess(img);
    const outputs = (m: tf.LayersModel) => tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
    const want = outputs(clf.model);
    const dir = fresh();
    const file = join(dir, 'pets.onnx');
    // As cnn-zoo export writes it: the inference form (batch norm folded into the convolutions), with the metadata.
    const folded = toInference(clf.model);
    folded.setUserDefinedMetadata(clf.model.getUserDefinedMetadata()!);
    writeFileSync(file, await exportOnnx(folded));
    const fp16 = join(dir, 'pets-fp16.onnx');
    writeFileSync(fp16, await exportOnnx(folded, { fp16: true }));
    const int8 = join(dir, 'pets-int8.onnx');
    const photos = ['cat.bmp', 'hot_dog.jpg', 'bird.bmp', 'owl.jpg', 'parrot.jpg'].map((f) => join(SHARED, 'images', f));
    const batches = async function* () { yield await clf.preprocess(photos); };
    const int8Options = { int8: await calibrateInt8(folded, batches()) };
    writeFileSync(int8, await exportOnnx(folded, int8Options));
    // With its feature maps (cnn-zoo export --features), NCHW (--nchw): run as stored too, features() from the file.
    const mapsInt8 = join(dir, 'pets-maps-int8.onnx');
    writeFileSync(mapsInt8, await exportOnnx(folded, { ...int8Options, outputs: 'features', layout: 'NCHW' }));
    folded.dispose();
    const hub = { cacheDir: join(dir, 'cache') };
    // Float: the folded batch norm read back as such (measured 3.2e-6 of the logits' range); fp16: its weights'
    // rounding (1.2e-3). The int8 file's weights are compared with onnxruntime running it (verify, below).
    for (const [f, tolerance] of [[file, 1e-5], [fp16, 1e-2], [int8, undefined]] as const) {
      let back: Awaited<ReturnType<typeof load>> | undefined;
      expect(await readsOf(f, async () => { back = await load(f, { runtime: 'tfjs', hub }); }), `reads of ${f} (to name its model, then to convert it)`).to.equal(1);
      if (!back) throw new Error('not loaded');
      expect([back.name, back.labels, back.preprocessing], f).to.deep.equal(['tf_mobilenet_v2_100', ['cat', 'dog', 'bird'], clf.preprocessing]);
      if (tolerance) expect(maxRelError(outputs(back.model), want), f).to.be.below(tolerance);
      back.dispose();
    }
    // On onnxruntime (the default in Node) the int8 file runs as it is: no export of its dequantized weights.
    const exportsBefore = runtimeCounts().exports;
    const fast = await load(int8, { hub });
    expect(fast.runtime).to.equal('onnxruntime-node');
    const top = await fast.classify(img, { topK: 3 });
    expect(runtimeCounts().exports, 'exports made').to.equal(exportsBefore);
    const session = await ort.InferenceSession.create(int8);
    const logits = (await session.run({ input: new ort.Tensor('float32', await x.data() as Float32Array, x.shape) })).logits!.data as Float32Array;
    await session.release();
    const e = Array.from(logits, (v) => Math.exp(v - Math.max(...logits)));
    for (const p of top) expect(p.probability).to.be.closeTo(e[p.index]! / e.reduce((a, b) => a + b, 0), 1e-6);
    fast.dispose();
    const maps = await load(mapsInt8, { hub });
    const mapsSession = await ort.InferenceSession.create(mapsInt8);
    const nchw = tf.tidy(() => x.transpose([0, 3, 1, 2]));
    const stored = await mapsSession.run({ input: new ort.Tensor('float32', await nchw.data() as Float32Array, nchw.shape) });
    await mapsSession.release();
    nchw.dispose();
    const got = await maps.features(img, { stages: [3, 1] });
    const top1 = await maps.classify(img, { topK: 1 });
    expect(runtimeCounts().exports, 'exports made for the file with feature maps').to.equal(exportsBefore);
    expect(got.map((f) => [f.layer, f.shape])).to.deep.equal([3, 1].map((i) => [maps.stages[i]!.layer, (() => {
      const [n, c, h, w] = stored[`features/${maps.stages[i]!.layer}`]!.dims;
      return [n, h, w, c];
    })()]));
    for (const f of got) {
      const t = stored[`features/${f.layer}`]!;
      const want = tf.tidy(() => tf.tensor4d(t.data as Float32Array, t.dims as [number, number, number, number]).transpose([0, 2, 3, 1]).dataSync());
      expect(Array.from(f.data), f.layer).to.deep.equal(Array.from(want));
    }
    const storedLogits = stored.logits!.data as Float32Array;
    expect(top1[0]!.index).to.equal(storedLogits.indexOf(Math.max(...storedLogits)));
    // Its embedding output too (it ran the float embedding of a new export): embed() gives the file's, bit for bit.
    expect(stored.embedding!.dims, 'the embedding output').to.deep.equal([1, 1280]);
    const [embedded] = await maps.embed(img);
    expect(runtimeCounts().exports, 'exports made for embed()').to.equal(exportsBefore);
    expect(embedded).to.deep.equal(Array.from(stored.embedding!.data as Float32Array));
    maps.dispose();
    // Its own size asked for (cnn-zoo classify --input-size 96) runs it too; another size is a model the file is not.
    const sized = await load(int8, { hub, inputSize: 96 });
    expect([sized.runtime, runtimeCounts().exports], 'at its own size').to.deep.equal(['onnxruntime-node', exportsBefore]);
    sized.dispose();
    const other = await load(int8, { hub, inputSize: 128 });
    expect([other.runtime, other.preprocessing.size, runtimeCounts().exports], 'at 128 px').to.deep.equal(['onnxruntime-node', 128, exportsBefore + 1]);
    other.dispose();
    // On another architecture it is refused by name; a new head goes on it like on a folder.
    const wrong = await rejection(load('resnet18', { weights: file, hub }));
    expect([wrong.code, wrong.message]).to.deep.equal(['WRONG_ARCH', `${file} is cnn-zoo's ONNX export of tf_mobilenet_v2_100, not of resnet18: use it with that ` +
      `model, load('tf_mobilenet_v2_100', { weights: '${file}' }) (or load('${file}'), which it names).`]);
    const more = await load(file, { classes: ['cat', 'dog', 'bird', 'fish'], hub });
    expect(more.labels).to.have.length(4);
    more.dispose();
    x.dispose();
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => { lines.push(a.join(' ')); };
    const out = join(dir, 'converted');
    try {
      expect(await (await import('../src/cli/commands/convert.js')).run([int8, '--out', out])).to.equal(0);
      expect(await (await import('../src/cli/commands/info.js')).run([int8])).to.equal(0);
    } finally {
      console.log = log;
    }
    expect(lines.join('\n')).to.include(`${int8} is cnn-zoo's ONNX export of tf_mobilenet_v2_100: converted with the classes, preprocessing and licence it carries.`);
    expect(lines.join('\n')).to.include(`cnn-zoo's ONNX export ${int8} (int8 QDQ weights), of the model with this metadata:\n  model:       tf_mobilenet_v2_100 at 96 px, 3 outputs\n  classes:     3: cat, dog, bird`);
    // cnn-zoo classify --weights FILE says that the int8 file's weights run (they said: its origin's float32).
    lines.length = 0;
    console.log = (...a: unknown[]) => { lines.push(a.join(' ')); };
    const cacheEnv = process.env.CNN_ZOO_CACHE;
    process.env.CNN_ZOO_CACHE = hub.cacheDir;
    try {
      expect(await (await import('../src/cli/commands/classify.js')).run([photos[0]!, '--weights', int8, '--top', '1'])).to.equal(0);
    } finally {
      console.log = log;
      if (cacheEnv === undefined) delete process.env.CNN_ZOO_CACHE;
      else process.env.CNN_ZOO_CACHE = cacheEnv;
    }
    expect(lines.slice(0, 2)).to.deep.equal(["tf_mobilenet_v2_100 (trained on tf_mobilenet_v2_100's tflite, int8 QDQ ONNX export) on onnxruntime-node (CPU)",
      `${photos[0]}  (tf_mobilenet_v2_100, trained on tf_mobilenet_v2_100's tflite, int8 QDQ ONNX export)`]);
    // eval, verify and export --weights FILE name its model too (they said: needs a model name).
    const { modelAndWeightsArgs } = await import('../src/cli/args.js');
    expect(await modelAndWeightsArgs(undefined, int8)).to.deep.equal({ name: 'tf_mobilenet_v2_100', weights: int8 });
    // A file that names no model (unpublished here) says so, and how to name it (it was left to "needs a model").
    const unnamed = await rejection(modelAndWeightsArgs(undefined, SQUEEZE_PTH));
    expect([unnamed.code, unnamed.message]).to.deep.equal(['NEEDS_ARCH', `${SQUEEZE_PTH} is a checkpoint file that is not a published checkpoint ` +
      `cnn-zoo knows (by its sha256), so its architecture is unknown: name the model with it (NAME --weights ${SQUEEZE_PTH}).`]);
    // cnn-zoo verify --weights FILE: the file on onnxruntime against its weights read into tfjs, on images of its classes.
    const images = join(dir, 'pets');
    for (const [i, c] of ['cat', 'dog', 'bird'].entries()) {
      mkdirSync(join(images, c), { recursive: true });
      copyFileSync(join(SHARED, 'images', ['cat.bmp', 'hot_dog.jpg', 'bird.bmp'][i]!), join(images, c, ['a.bmp', 'a.jpg', 'a.bmp'][i]!));
    }
    const { verify } = await import('../src/parity/verify.js');
    // eval, export and verify --weights FILE read the file once: they read it to name its model, then again to load it.
    // What each progress line found held: verify's fixture and image runs come after the load, without the file's bytes.
    const heldAt: [string, number][] = [];
    const cli = async (command: string, args: string[]) => {
      const { run } = await import(`../src/cli/commands/${command}.js`) as { run: (argv: string[]) => Promise<number> };
      const [log, err] = [console.log, process.stderr.write];
      console.log = () => {};
      process.stderr.write = (line: string | Uint8Array) => { heldAt.push([`${command}:${String(line).trim()}`, heldCheckpointBytes()]); return true; };
      try {
        return await run(args);
      } finally {
        [console.log, process.stderr.write] = [log, err];
      }
    };
    const noFixtures = fresh();
    for (const [command, args] of [['export', ['--out', join(dir, 'again.onnx')]], ['eval', ['--data', images]],
      ['verify', ['--images', images, '--fixtures', noFixtures]]] as const) {
      expect(await readsOf(int8, async () => expect(await cli(command, ['--weights', int8, ...args]), command).to.equal(0)), `reads of the file by ${command}`).to.equal(1);
    }
    expect(heldAt.filter(([line]) => line.startsWith('verify:'))).to.deep.equal([['verify:agreement: 3/3 images', 0]]);
    // evaluate(zooModel) measures what classify runs: the int8 file as stored (cnn-zoo eval, on onnxruntime by default);
    // cnn-zoo eval --runtime tfjs says that it evaluates the file's weights dequantized.
    const asStored = await load(int8, { hub });
    const exportsThen = runtimeCounts().exports;
    const ds = await openDataset(images, { classes: ['cat', 'dog', 'bird'] });
    const evaluated = await evaluate(asStored, ds);
    const tops = await asStored.classify(ds.items.map((it) => it.path), { topK: 1 }) as { index: number }[][];
    expect([evaluated.backend, evaluated.evaluated, runtimeCounts().exports - exportsThen]).to.deep.equal(['onnxruntime-node', 3, 0]);
    expect(evaluated.top1).to.be.closeTo(100 * ds.items.filter((it, i) => tops[i]![0]!.index === it.label).length / 3, 1e-9);
    asStored.dispose();
    const said: string[] = [];
    const errWrite = process.stderr.write;
    console.log = (...a: unknown[]) => { said.push(a.join(' ')); };
    process.stderr.write = () => true; // the progress bar
    try {
      for (const flags of [['--runtime', 'tfjs'], []]) {
        expect(await (await import('../src/cli/commands/eval.js')).run(['--weights', int8, '--data', images, ...flags])).to.equal(0);
      }
    } finally {
      console.log = log;
      process.stderr.write = errWrite;
    }
    expect(said.filter((l) => /^model |note: /.test(l))).to.deep.equal([
      `model tf_mobilenet_v2_100 (weights: ${int8}), input 96 px, backend wasm, batch 16`,
      `  note: ${int8} stores int8 QDQ weights; tfjs evaluates them dequantized to float32. --runtime onnxruntime (without --backend) evaluates the file as stored.`,
      `model tf_mobilenet_v2_100 (weights: ${int8}), input 96 px, runtime onnxruntime-node (the file as stored, int8 QDQ weights), batch 16`]);
    // Probabilities: float file 9.5e-7 apart; int8, whose activations onnxruntime also rounds to uint8, 0.016.
    // Outputs (logits) as the fixtures compare them: float 3.9e-6; int8 0.127 (this 3-class head's logits are small).
    for (const [f, bound, outputBound] of [[file, 1e-5, 1e-5], [int8, 0.05, 0.25]] as const) {
      const w = (await verify('tf_mobilenet_v2_100', { weights: f, images, fixtureDirs: [] })).weights!;
      expect([w.format, w.original, w.agreement!.runtime, w.agreement!.images], f).to.deep.equal(['onnx', [f], 'onnxruntime-node', 3]);
      expect(w.agreement!.maxProbDiff, f).to.be.below(bound);
      console.log(`      verify ${f}: outputs max|ours - original| / max|original| ${w.agreement!.maxRelErr!.toExponential(2)}`);
      expect(w.agreement!.maxRelErr, f).to.be.below(outputBound);
    }
    const converted = await load(out, { runtime: 'tfjs' });
    expect([converted.labels, converted.metadata!.source.format, converted.metadata!.source.origin]).to.deep.equal([['cat', 'dog', 'bird'], 'tflite',
      `${clf.metadata!.source.origin}, through cnn-zoo's ONNX export pets-int8.onnx (int8 QDQ weights)`]);
    converted.dispose();
    clf.dispose();
  });

  it('cnn-zoo export of a model whose batch norms do not all fold into a conv (EffNet: after its activations) reads back: load(FILE) on tfjs computes what onnxruntime computes from the file', async () => {
    // It failed: "effnet.onnx does not fit model "effnet": 24 weights have no source: block1.pointwise.bn/moving_mean ...".
    const dir = fresh(), file = join(dir, 'effnet.onnx');
    const log = console.log;
    console.log = () => undefined;
    try {
      expect(await (await import('../src/cli/commands/export.js')).run(['effnet', '--weights', 'random', '--out', file])).to.equal(0);
    } finally {
      console.log = log;
    }
    const back = await load(file, { runtime: 'tfjs', hub: { cacheDir: join(dir, 'cache') } });
    const x = await back.preprocess(join(SHARED, 'images', 'owl.jpg'));
    const session = await ort.InferenceSession.create(file);
    const want = (await session.run({ input: new ort.Tensor('float32', await x.data() as Float32Array, x.shape) })).logits!.data as Float32Array;
    await session.release();
    const err = maxRelError(tf.tidy(() => (back.model.predict(x) as tf.Tensor).dataSync() as Float32Array), want);
    console.log(`      effnet export read back: ${err.toExponential(2)}`);
    expect(err).to.be.below(1e-5);
    x.dispose();
    back.dispose();
  });

  it('a folder or file:// mirror serves the table\'s file names (fetch, load with hub.mirror); a missing file names the folder and name', async () => {
    const mirrorDir = join(tmp, 'mirror');
    mkdirSync(mirrorDir, { recursive: true });
    copyFileSync(SQUEEZE_PTH, join(mirrorDir, published.file));
    const viaFolder = await fetchWeights('squeezenet1_1', 'imagenet', { mirror: mirrorDir, cacheDir: fresh(), sha256 });
    expect(viaFolder.record.url).to.equal(pathToFileURL(join(mirrorDir, published.file)).href);
    expect(existsSync(join(viaFolder.dir, 'model.json'))).to.equal(true);
    const zoo = await load('squeezenet1_1', { weights: 'imagenet', hub: { mirror: pathToFileURL(mirrorDir).href, cacheDir: fresh(), sha256 } });
    expect(zoo.preprocessing).to.deep.equal(published.preprocessing);
    zoo.dispose();
    mkdirSync(join(tmp, 'empty'));
    const missing = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: join(tmp, 'empty'), cacheDir: fresh(), sha256 }));
    expect(missing.code).to.equal('MIRROR_MISSING');
    expect(missing.message).to.include(join(tmp, 'empty')).and.include(published.file);
    // A mirror folder that is not there (a typo) said that it lacked the file.
    for (const [where, what] of [[join(tmp, 'no-such-mirror'), 'does not exist'], [join(mirrorDir, published.file), 'is a file, not a folder']]) {
      const absent = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: where, cacheDir: fresh(), sha256 }));
      expect([absent.code, absent.message]).to.deep.equal(['MIRROR_MISSING', `The mirror folder "${where}" ${what}.`]);
    }
    const bad = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: 'ftp://example.org/x', cacheDir: fresh(), sha256 }));
    expect(bad.message).to.include('neither an http(s) URL nor a file:// URL nor a folder');
  });

  it('a cached download with the wrong hash is reported: which file, expected and actual hash, what to do (not deleted silently)', async () => {
    const cacheDir = fresh();
    const cached = join(cacheDir, 'downloads', published.file);
    mkdirSync(join(cacheDir, 'downloads'), { recursive: true });
    writeFileSync(cached, bytes.subarray(0, 1000)); // a truncated copy
    const truncatedSha = createHash('sha256').update(bytes.subarray(0, 1000)).digest('hex');
    const statuses: string[] = [];
    const e = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: 'http://127.0.0.1:9/', cacheDir, sha256, retries: 0, retryDelayMs: 0, timeoutMs: 5_000, onStatus: (m) => statuses.push(m) }));
    expect(e.code).to.equal('DOWNLOAD_FAILED');
    expect(e.message).to.include(cached).and.include(truncatedSha).and.include(sha256).and.include('--weights FILE').and.include('cannot reach 127.0.0.1');
    expect(statuses[0]).to.include(cached).and.include(truncatedSha);
    expect(existsSync(cached)).to.equal(true);
    expect(basename(cached)).to.equal(published.file);
  });
});
