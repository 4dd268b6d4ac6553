/**
 * Published weights end to end without the internet: a real HTTP server on 127.0.0.1 serves the checkpoints of
 * shared/fixtures/checkpoints under the table's file names (as a mirror), and `modelWithWeights(name, { weights: 'imagenet' })`
 * downloads, verifies, converts and caches them; the model reproduces the fixture's logits; the next load makes
 * no request. A wrong hash, a truncated download, a server error, a dead server and a stalled one each fail
 * clearly and leave nothing in the cache. The table's own hash is checked too: the fixture file is not the
 * published file, so without the test's sha256 the production path must refuse it.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { gzipSync } from 'fflate';
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync, utimesSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { load as loadModel } from '../src/api/index.js';
import { useBackend } from '../src/backend.js';
import { CnnZooError } from '../src/errors.js';
import { loadFixture, type Fixture } from '../src/parity/fixture.js';
import { maxRelError, nchwToNhwc, top5Agree } from '../src/parity/run.js';
import { modelMetadata } from '../src/artifacts/metadata.js';
import { det } from '../src/parity/det.js';
import { convertCheckpoint } from '../src/convert/convert.js';
import { writeDarknetWeights } from '../src/checkpoints/darknet.js';
import { loadStateDict } from '../src/convert/mapping.js';
import type { StateDict } from '../src/arrays.js';
import { withoutInitialisation } from '../src/zoo/ops.js';
import { getSpec, resolveOptions } from '../src/zoo/registry.js';
import { makeTar } from '../src/checkpoints/tar.js';
import { expectedHash } from '../src/pretrained/expected.js';
import { fetchWeights, resolveCheckpoint } from '../src/pretrained/index.js';
import { modelWithWeights } from '../src/api/weights.js';
import { CLI, fixturePath, ROOT, SHARED, HANG_MS } from './helpers/shared.js';

const CK = join(SHARED, 'fixtures', 'checkpoints');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

type Mode = 'ok' | 'truncate-once' | 'truncate' | 'error500' | 'hang' | 'gzip';

/** A mirror: table file name -> fixture checkpoint bytes; honours Range; can misbehave on purpose. */
class Mirror {
  server!: Server;
  files = new Map<string, Uint8Array>();
  /** JSON answers (a fake Hugging Face API). */
  api = new Map<string, unknown>();
  mode: Mode = 'ok';
  /** While set, a download stops half-way until it resolves (a download in progress, held open by the test). */
  gate?: Promise<void>;
  requests: { path: string; range?: string }[] = [];
  encodings: (string | undefined)[] = [];
  private sockets = new Set<import('node:net').Socket>();
  get url(): string { return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`; }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    this.requests.push({ path: name, range: req.headers.range });
    if (this.mode === 'hang') return; // never answers
    const api = this.api.get(name);
    if (api !== undefined) { res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(api)); return; }
    const body = this.files.get(name);
    if (this.mode === 'error500') { res.writeHead(500, 'Internal Server Error').end('boom'); return; }
    if (!body) { res.writeHead(404, 'Not Found').end(); return; }
    this.encodings.push(req.headers['accept-encoding']);
    if (this.mode === 'gzip') { // compressed whatever the client accepts
      const zipped = gzipSync(body);
      res.writeHead(200, { 'Content-Length': zipped.length, 'Content-Encoding': 'gzip' }).end(zipped);
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const slice = body.subarray(start);
    res.writeHead(m ? 206 : 200, { 'Content-Length': slice.length, ...(m ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}), 'Accept-Ranges': 'bytes' });
    const cut = this.mode === 'truncate' || (this.mode === 'truncate-once' && this.requests.length === 1);
    if (cut) {
      res.write(slice.subarray(0, slice.length >> 1), () => res.destroy());
      return;
    }
    if (this.gate) {
      const gate = this.gate;
      res.write(slice.subarray(0, slice.length >> 1));
      void gate.then(() => res.end(slice.subarray(slice.length >> 1)));
      return;
    }
    res.end(slice);
  }
}

function logits(model: tf.LayersModel, fx: Fixture): Float32Array {
  return tf.tidy(() => (model.predict(nchwToNhwc(fx.input, fx.inputShape)) as tf.Tensor).dataSync() as Float32Array);
}

/** Everything under `dir`, relative. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1)).sort();
}

async function rejection(p: Promise<unknown>): Promise<CnnZooError> {
  try { await p; } catch (e) { if (e instanceof CnnZooError) return e; throw e; }
  throw new Error('expected a CnnZooError');
}

describe('published weights: download, verify, convert, cache (loopback mirror)', function () {
  const mirror = new Mirror();
  const squeeze = resolveCheckpoint('squeezenet1_1');
  const shuffle = resolveCheckpoint('shufflenet_v1_g3_0_5x', 'megvii');
  const squeezeBytes = new Uint8Array(readFileSync(join(CK, 'squeezenet1_1.pth')));
  const shuffleBytes = new Uint8Array(readFileSync(join(CK, 'shufflenet_v1_g3_0_5x.legacy.pth')));
  let fx: Fixture;
  let tmp: string;
  const fresh = () => mkdtempSync(join(tmp, 'cache-'));
  const fast = { retries: 1, retryDelayMs: 0, timeoutMs: HANG_MS };

  before(async () => {
    await useBackend('wasm');
    tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-fetch-'));
    mirror.files.set(squeeze.file, squeezeBytes);
    mirror.files.set(shuffle.file, shuffleBytes);
    await mirror.start();
    fx = await loadFixture(fixturePath('squeezenet1_1'));
  });
  after(async () => {
    await mirror.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => { mirror.mode = 'ok'; mirror.gate = undefined; mirror.requests = []; });

  it('the table names squeezenet1_1\'s torchvision file and its hash prefix', () => {
    expect(squeeze.file).to.equal('squeezenet1_1-b8a52dc0.pth');
    expect(squeeze.hash).to.deep.include({ algorithm: 'sha256', prefix: 'b8a52dc0' });
  });

  it('load(squeezenet1_1, { weights: "imagenet" }) downloads once, verifies, converts, caches and reproduces the fixture', async () => {
    const cacheDir = fresh();
    const hub = { mirror: mirror.url, cacheDir, sha256: sha256(squeezeBytes), ...fast };
    const t0 = performance.now();
    const model = await modelWithWeights('squeezenet1_1', { weights: 'imagenet', hub });
    const t1 = performance.now();
    const ours = logits(model, fx);
    const err = maxRelError(ours, fx.logits);
    console.log(`      first load ${((t1 - t0) / 1000).toFixed(2)} s, max_rel_err ${err.toExponential(3)} (tolerance ${fx.tolerance})`);
    expect(err).to.be.below(fx.tolerance);
    expect(top5Agree(ours, fx.logits, fx.logitsShape[1])).to.equal(true);
    expect(mirror.requests.map((r) => r.path)).to.deep.equal([squeeze.file]);
    const meta = modelMetadata(model)!;
    expect(meta.preprocessing).to.deep.equal(squeeze.preprocessing);
    expect(meta.licence).to.equal(squeeze.licence);
    expect(meta.source.files[0]!.sha256).to.equal(sha256(squeezeBytes));
    model.dispose();
    const dir = join('models', 'squeezenet1_1', 'torchvision-IMAGENET1K_V1-float32');
    expect(tree(cacheDir)).to.deep.equal([join(dir, 'fetch.json'), join(dir, 'group1-shard1of2.bin'), join(dir, 'group1-shard2of2.bin'), join(dir, 'model.json')]);
    const record = JSON.parse(readFileSync(join(cacheDir, dir, 'fetch.json'), 'utf8'));
    expect(record).to.include({ checkpoint: 'torchvision:IMAGENET1K_V1', sha256: sha256(squeezeBytes), dtype: 'float32' });

    mirror.requests = [];
    const t2 = performance.now();
    const again = await modelWithWeights('squeezenet1_1', { weights: 'imagenet', hub });
    console.log(`      cached load ${((performance.now() - t2) / 1000).toFixed(2)} s, ${mirror.requests.length} requests`);
    expect(mirror.requests).to.have.length(0);
    expect(maxRelError(logits(again, fx), ours)).to.equal(0);
    again.dispose();
    const zoo = await loadModel('squeezenet1_1', { weights: 'imagenet', hub });
    expect(mirror.requests).to.have.length(0);
    expect(zoo.preprocessing).to.deep.equal(squeeze.preprocessing);
    zoo.dispose();
  });

  it('without the test\'s sha256 the table\'s hash is enforced: the fixture file is refused, nothing is cached', async () => {
    const cacheDir = fresh();
    const e = await rejection(modelWithWeights('squeezenet1_1', { weights: 'imagenet', hub: { mirror: mirror.url, cacheDir, ...fast } }));
    expect(e.code).to.equal('HASH_MISMATCH');
    expect(e.message).to.include('b8a52dc0').and.include(sha256(squeezeBytes));
    expect(tree(cacheDir)).to.deep.equal([]);
  });

  it('a wrong file under the right name fails verification and leaves nothing', async () => {
    const cacheDir = fresh();
    mirror.files.set(squeeze.file, shuffleBytes);
    try {
      const e = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: mirror.url, cacheDir, sha256: sha256(squeezeBytes), ...fast }));
      expect(e.code).to.equal('HASH_MISMATCH');
      expect(tree(cacheDir)).to.deep.equal([]);
    } finally {
      mirror.files.set(squeeze.file, squeezeBytes);
    }
  });

  it('an HTML page instead of the file (a login or captive portal) is named as such, not only as a wrong hash', async () => {
    const cacheDir = fresh();
    mirror.files.set(squeeze.file, new TextEncoder().encode('<!DOCTYPE html>\n<html><head><title>Hotel Wi-Fi: sign in</title></head><body>...</body></html>'));
    try {
      const e = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: mirror.url, cacheDir, sha256: sha256(squeezeBytes), ...fast }));
      expect(e.code).to.equal('HASH_MISMATCH');
      expect(e.message).to.match(/failed verification: .* What came is an HTML page \("Hotel Wi-Fi: sign in"\), not a checkpoint: a login, proxy or captive-portal page answered instead of the file\.$/);
      expect(tree(cacheDir)).to.deep.equal([]);
      // A publisher without hashes (trustUnpinned): the page is not taken for the checkpoint either.
      mirror.files.set(shuffle.file, new TextEncoder().encode('<html><title>Proxy authentication required</title></html>'));
      const unpinned = await rejection(fetchWeights('shufflenet_v1_g3_0_5x', 'megvii', { mirror: mirror.url, cacheDir, trustUnpinned: true, ...fast }));
      expect(unpinned.code).to.equal('BAD_CHECKPOINT');
      expect(unpinned.message).to.match(/^The download of shufflenet.* is not a checkpoint\. What came is an HTML page \("Proxy authentication required"\)/);
      expect(tree(cacheDir)).to.deep.equal([]);
    } finally {
      mirror.files.set(squeeze.file, squeezeBytes);
      mirror.files.set(shuffle.file, shuffleBytes);
    }
  });

  it('a download cut short is resumed with a Range request and verified', async () => {
    const cacheDir = fresh();
    mirror.mode = 'truncate-once';
    const r = await fetchWeights('squeezenet1_1', 'imagenet', { mirror: mirror.url, cacheDir, sha256: sha256(squeezeBytes), ...fast });
    expect(r.fromCache).to.equal(false);
    expect(mirror.requests).to.have.length(2);
    expect(mirror.requests[1]!.range).to.match(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(mirror.requests[1]!.range!)![0])).to.be.greaterThan(0);
  });

  it('a mirror that compresses its answers (Content-Encoding: gzip, nginx with gzip on): the file is verified, not taken as cut short', async () => {
    const cacheDir = fresh();
    mirror.mode = 'gzip';
    const r = await fetchWeights('squeezenet1_1', 'imagenet', { mirror: mirror.url, cacheDir, sha256: sha256(squeezeBytes), ...fast });
    expect(r.fromCache).to.equal(false);
    expect(r.record.sha256).to.equal(sha256(squeezeBytes));
    expect(mirror.requests).to.have.length(1);
    expect(mirror.encodings.at(-1), 'downloads ask for the file\'s own bytes').to.equal('identity');
  });

  it('a download that keeps breaking fails clearly and leaves nothing', async () => {
    const cacheDir = fresh();
    mirror.mode = 'truncate';
    const e = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: mirror.url, cacheDir, sha256: sha256(squeezeBytes), ...fast }));
    expect(e.code).to.equal('DOWNLOAD_FAILED');
    expect(e.message).to.match(/after 2 attempts/).and.match(/bytes/).and.include('--mirror');
    expect(tree(cacheDir)).to.deep.equal([]);
  });

  it('a server error (500) fails clearly after the retries and leaves nothing', async () => {
    const cacheDir = fresh();
    mirror.mode = 'error500';
    const e = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: mirror.url, cacheDir, sha256: sha256(squeezeBytes), ...fast }));
    expect(e.code).to.equal('DOWNLOAD_FAILED');
    expect(e.message).to.include('500');
    expect(mirror.requests).to.have.length(2);
    expect(tree(cacheDir)).to.deep.equal([]);
  });

  it('a missing file (404) fails at once and says so', async () => {
    const cacheDir = fresh();
    const e = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: `${mirror.url}nothing-here/`, cacheDir, sha256: sha256(squeezeBytes), ...fast }));
    expect(e.code).to.equal('HTTP_ERROR');
    expect(e.message).to.include('404');
    expect(mirror.requests).to.have.length(1);
    expect(tree(cacheDir)).to.deep.equal([]);
  });

  it('offline (nothing listening) and stalled servers give clear errors', async () => {
    const cacheDir = fresh();
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const e = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: `http://127.0.0.1:${port}/`, cacheDir, sha256: sha256(squeezeBytes), ...fast }));
    expect(e.message).to.include('cannot reach 127.0.0.1').and.include('ECONNREFUSED').and.include('--mirror').and.not.include('PROXY');
    // Behind a proxy: Node's fetch ignores HTTPS_PROXY (unless NODE_USE_ENV_PROXY=1 where Node reads it), and says so.
    process.env.HTTPS_PROXY = 'http://proxy.invalid:3128';
    try {
      const behind = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: `http://127.0.0.1:${port}/`, cacheDir, sha256: sha256(squeezeBytes), ...fast }));
      const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
      expect(behind.message).to.match(major >= 24 || (major === 22 && minor >= 21)
        ? /ECONNREFUSED\).*HTTPS_PROXY is set, but Node's fetch goes through it only with NODE_USE_ENV_PROXY=1: set that too\.$/
        : new RegExp(`ECONNREFUSED\\).*HTTPS_PROXY is set, but the fetch of Node ${process.versions.node} does not go through a proxy .*use it from disk\\.$`));
    } finally {
      delete process.env.HTTPS_PROXY;
    }
    mirror.mode = 'hang';
    const t = await rejection(fetchWeights('squeezenet1_1', 'imagenet', { mirror: mirror.url, cacheDir, sha256: sha256(squeezeBytes), retries: 0, timeoutMs: 300 }));
    expect(t.message).to.include('timeout');
    expect(tree(cacheDir)).to.deep.equal([]);
  });

  it('a manual-download checkpoint (Megvii ShuffleNet v1, legacy pickle) comes through the mirror and reproduces its fixture', async () => {
    const cacheDir = fresh();
    const offline = await rejection(fetchWeights('shufflenet_v1_g3_0_5x', 'megvii', { cacheDir }));
    expect(offline.code).to.equal('MANUAL_DOWNLOAD');
    const unpinned = await rejection(fetchWeights('shufflenet_v1_g3_0_5x', 'megvii', { mirror: mirror.url, cacheDir }));
    expect(unpinned.code).to.equal('NO_HASH');
    const sfx = await loadFixture(fixturePath('shufflenet_v1_g3_0_5x'));
    const model = await modelWithWeights('shufflenet_v1_g3_0_5x', { weights: 'megvii', hub: { mirror: mirror.url, cacheDir, sha256: sha256(shuffleBytes), dtype: 'float32', ...fast } });
    const err = maxRelError(logits(model, sfx), sfx.logits);
    console.log(`      shufflenet_v1_g3_0_5x via mirror: max_rel_err ${err.toExponential(3)} (tolerance ${sfx.tolerance})`);
    expect(err).to.be.below(sfx.tolerance);
    expect(top5Agree(logits(model, sfx), sfx.logits, sfx.logitsShape[1])).to.equal(true);
    model.dispose();
  });

  it('a TF hosted .tgz is unpacked: the .tflite inside converts exactly like the same file converted directly', async () => {
    const cacheDir = fresh();
    const c = resolveCheckpoint('tf_mobilenet_v1_025');
    const tflite = join(SHARED, 'weights', 'tflite-mobilenet', 'mobilenet_v1_0.25_128_quant.tflite');
    const tgz = gzipSync(makeTar({ './mobilenet_v1_0.25_224_info.txt': new TextEncoder().encode('info'), [`./${c.member}`]: new Uint8Array(readFileSync(tflite)) }));
    mirror.files.set(c.file, tgz);
    const r = await fetchWeights(c.arch, 'imagenet', { mirror: mirror.url, cacheDir, sha256: sha256(tgz), ...fast });
    const fetched = await modelWithWeights(c.arch, { weights: r.dir });
    const direct = await convertCheckpoint({ arch: c.arch, from: 'tflite', inputs: [tflite], inputSize: 224 });
    const x = tf.tidy(() => tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 7));
    const [a, b] = [fetched, direct.model].map((m) => tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array));
    expect(maxRelError(a!, b!)).to.equal(0);
    expect(modelMetadata(fetched)!.preprocessing).to.deep.equal(c.preprocessing);
    x.dispose();
    fetched.dispose();
    direct.model.dispose();
  });

  it('a Darknet .weights file (no shapes inside) is read against the cfg model and equals the same arrays loaded directly', async () => {
    const cacheDir = fresh();
    const c = resolveCheckpoint('tiny_darknet');
    const spec = getSpec(c.arch);
    const ref = withoutInitialisation(() => spec.build(resolveOptions(spec)));
    const sd: StateDict = new Map();
    const order: string[] = [];
    for (const l of ref.layers) {
      const i = /^layers\.(\d+)\.conv$/.exec(l.name)?.[1];
      if (i === undefined) continue;
      const [kh, kw, ci, n] = l.weights[0]!.shape as number[];
      order.push(i);
      sd.set(`layers.${i}.conv.weight`, { shape: [n!, ci!, kh!, kw!], data: det(`dk${i}w`, n! * ci! * kh! * kw!, Math.sqrt(3 / (ci! * kh! * kw!))) });
      if (ref.layers.some((x) => x.name === `layers.${i}.bn`)) {
        for (const [role, lo] of [['weight', 0.5], ['bias', -0.1], ['running_mean', -0.1], ['running_var', 0.5]] as const) {
          sd.set(`layers.${i}.bn.${role}`, { shape: [n!], data: det(`dk${i}${role}`, n!, 0.1).map((v) => v + lo + 0.1) });
        }
      } else {
        sd.set(`layers.${i}.conv.bias`, { shape: [n!], data: det(`dk${i}b`, n!, 0.1) });
      }
    }
    loadStateDict(ref, sd);
    const file = writeDarknetWeights(sd, order);
    mirror.files.set(c.file, file);
    const model = await modelWithWeights(c.arch, { weights: 'darknet', hub: { mirror: mirror.url, cacheDir, sha256: sha256(file), ...fast } });
    const x = tf.tidy(() => tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 3));
    const [a, b] = [model, ref].map((m) => tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync() as Float32Array));
    const err = maxRelError(a!, b!);
    console.log(`      tiny_darknet .weights round trip: max_rel_err ${err.toExponential(3)}`);
    expect(err).to.be.below(1e-5);
    expect(modelMetadata(model)!.source.format).to.equal('darknet');
    const short = file.subarray(0, file.length - 8);
    mirror.files.set(c.file, short);
    const bad = await rejection(fetchWeights(c.arch, 'imagenet', { mirror: mirror.url, cacheDir: fresh(), sha256: sha256(short), ...fast }));
    expect(bad.code).to.equal('SHAPE_MISMATCH');
    x.dispose();
    model.dispose();
    ref.dispose();
  });

  it('Hugging Face Hub files are verified against the sha256 the Hub declares (and need --sha256 through a mirror)', async () => {
    const c = resolveCheckpoint('dpn68');
    const oid = 'ab'.repeat(32);
    mirror.api.set('api/models/timm/dpn68.mx_in1k/tree/main', [{ type: 'file', path: 'README.md', size: 10 }, { type: 'file', path: 'model.safetensors', size: 5, lfs: { oid, size: 5 } }]);
    const e = await expectedHash(c, { hfEndpoint: mirror.url });
    expect(e).to.deep.include({ algorithm: 'sha256', hex: oid });
    const viaMirror = await rejection(expectedHash(c, { mirror: mirror.url }));
    expect(viaMirror.code).to.equal('NO_HASH');
    expect(viaMirror.message).to.include('https://huggingface.co/timm/dpn68.mx_in1k/blob/main/model.safetensors');
  });

  it('`cnn-zoo fetch squeezenet1_1 --mirror URL` fetches into the cache and then finds it there', async () => {
    const cacheDir = fresh();
    const run = (extra: string[] = []) => promisify(execFile)(process.execPath,
      [...CLI, 'fetch', 'squeezenet1_1', '--mirror', mirror.url, '--sha256', sha256(squeezeBytes), '--cache', cacheDir, ...extra],
      { cwd: ROOT, encoding: 'utf8' });
    const first = await run();
    expect(first.stdout).to.include('torchvision:IMAGENET1K_V1').and.include(join(cacheDir, 'models', 'squeezenet1_1'));
    expect(mirror.requests).to.have.length(1);
    const second = await run();
    expect(second.stdout).to.include('cached');
    expect(mirror.requests).to.have.length(1);
  });

  describe('one download per checkpoint when callers share a cache', function () {
    const opts = (cacheDir: string) => ({ mirror: mirror.url, cacheDir, sha256: sha256(squeezeBytes), ...fast });
    const dest = (cacheDir: string) => join(cacheDir, 'downloads', squeeze.file);
    const modelFiles = [join('models', 'squeezenet1_1', 'torchvision-IMAGENET1K_V1-float32', 'fetch.json'),
      join('models', 'squeezenet1_1', 'torchvision-IMAGENET1K_V1-float32', 'group1-shard1of2.bin'),
      join('models', 'squeezenet1_1', 'torchvision-IMAGENET1K_V1-float32', 'group1-shard2of2.bin'),
      join('models', 'squeezenet1_1', 'torchvision-IMAGENET1K_V1-float32', 'model.json')];

    it('two loads at once in one process: one download; the second waits and finds it cached (it failed: ENOENT ... rename)', async () => {
      const cacheDir = fresh();
      const [a, b] = await Promise.all([fetchWeights('squeezenet1_1', 'imagenet', opts(cacheDir)), fetchWeights('squeezenet1_1', 'imagenet', opts(cacheDir))]);
      expect([a.fromCache, b.fromCache].sort(), 'one downloaded, the other found it (either may reach the lock first)').to.deep.equal([false, true]);
      expect(b.dir).to.equal(a.dir);
      expect(mirror.requests).to.have.length(1);
      expect(tree(cacheDir)).to.deep.equal(modelFiles);
    });

    it('three `cnn-zoo fetch` processes at once: one downloads, the others say whom they wait for and find it cached', async () => {
      const cacheDir = fresh();
      let open!: () => void;
      mirror.gate = new Promise<void>((r) => { open = r; });
      const fetchProcess = () => {
        const child = spawn(process.execPath, [...CLI, 'fetch', 'squeezenet1_1', '--mirror', mirror.url,
          '--sha256', sha256(squeezeBytes), '--cache', cacheDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        let stdout = '';
        // What the test waits to read on its stderr; a process that ends without saying it fails the wait.
        const seen: { text: string; then: () => void; fail: (e: Error) => void }[] = [];
        child.stdout.on('data', (d: Buffer) => { stdout += String(d); });
        child.stderr.on('data', (d: Buffer) => {
          stderr += String(d);
          for (const w of seen.filter((x) => stderr.includes(x.text))) { seen.splice(seen.indexOf(w), 1); w.then(); }
        });
        const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on('close', (code) => {
          for (const w of seen.splice(0)) w.fail(new Error(`process ${child.pid} ended (${code}) without saying "${w.text}": ${stderr}`));
          r({ code, stdout, stderr });
        }));
        const says = (text: string) => new Promise<void>((then, fail) => { if (stderr.includes(text)) then(); else seen.push({ text, then, fail }); });
        return { child, exit, says };
      };
      const first = fetchProcess();
      await first.says('downloading'); // it holds the lock, its download held half-way by the gate
      while (mirror.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
      const others = [fetchProcess(), fetchProcess()];
      const waiting = `waiting for process ${first.child.pid}, which is writing ${dest(cacheDir)} into the cache`;
      await Promise.all(others.map((o) => o.says(waiting)));
      expect(existsSync(`${dest(cacheDir)}.lock`)).to.equal(true);
      open();
      const results = await Promise.all([first, ...others].map((p) => p.exit));
      for (const r of results) expect(r.code, r.stderr).to.equal(0);
      expect(mirror.requests, 'one download').to.have.length(1);
      for (const r of results.slice(1)) expect(r.stderr).to.include(waiting).and.not.include('downloading');
      expect(tree(cacheDir)).to.deep.equal(modelFiles);
    });

    it('a lock left by a process that no longer runs (Ctrl-C) is taken over at once', async () => {
      const cacheDir = fresh();
      const gone = spawn(process.execPath, ['-e', '']);
      await new Promise((r) => gone.on('close', r));
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(cacheDir, 'downloads'), { recursive: true });
      writeFileSync(`${dest(cacheDir)}.lock`, JSON.stringify({ host: hostname(), pid: gone.pid, since: new Date().toISOString() }));
      const said: string[] = [];
      const r = await fetchWeights('squeezenet1_1', 'imagenet', { ...opts(cacheDir), onStatus: (m) => said.push(m) });
      expect(r.fromCache).to.equal(false);
      expect(said.filter((m) => m.startsWith('waiting'))).to.deep.equal([]);
      expect(tree(cacheDir)).to.deep.equal(modelFiles);
    });

    it('another host\'s lock is waited for while it is touched, and taken over once it is not touched for a minute', async () => {
      const cacheDir = fresh();
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(cacheDir, 'downloads'), { recursive: true });
      const lock = `${dest(cacheDir)}.lock`;
      const foreign = JSON.stringify({ host: 'build-box-7', pid: process.pid, since: new Date().toISOString() });
      writeFileSync(lock, foreign);
      const said: string[] = [];
      // Fresh: waited for (and named) until its holder releases it; this test releases it when told of the wait.
      const waited = await fetchWeights('squeezenet1_1', 'imagenet', { ...opts(cacheDir), onStatus: (m) => { said.push(m); if (m.startsWith('waiting')) unlinkSync(lock); } });
      expect(waited.fromCache).to.equal(false);
      expect(said.filter((m) => m.startsWith('waiting'))).to.deep.equal([`waiting for process ${process.pid} on build-box-7, which is writing ${dest(cacheDir)} into the cache (${lock})`]);
      // Not touched for two minutes: its holder is gone (or frozen); taken over without waiting.
      const other = fresh();
      mkdirSync(join(other, 'downloads'), { recursive: true });
      writeFileSync(`${dest(other)}.lock`, foreign);
      const old = new Date(Date.now() - 120_000);
      utimesSync(`${dest(other)}.lock`, old, old);
      said.length = 0;
      const taken = await fetchWeights('squeezenet1_1', 'imagenet', { ...opts(other), onStatus: (m) => said.push(m) });
      expect(taken.fromCache).to.equal(false);
      expect(said.filter((m) => m.startsWith('waiting'))).to.deep.equal([]);
      expect(tree(other)).to.deep.equal(modelFiles);
    });
  });
});
