/**
 * Paths read from files are never trusted: a model.json whose weights manifest names `../../etc/passwd`, an
 * absolute path, a URL, a percent-encoded `..`, a symlink or FIFO out of the model directory, or a shard on
 * another host is refused before anything is read or fetched; weight specs must describe exactly the shard
 * bytes; Caffe layer names cannot reach files outside the weights folder.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../src/backend.js';
import { fromFileMap, readArtifacts, weightsHandler } from '../src/artifacts/read.js';
import { CnnZooError } from '../src/errors.js';
import { modelWithWeights } from '../src/api/weights.js';
import { nodeFileSystem } from '../src/artifacts/node-fs.js';
import { readSource } from '../src/checkpoints/files.js';
import { expectRefused } from './helpers/fuzz.js';
import { ROOT, SHARED } from './helpers/shared.js';

const TFJS = join(SHARED, 'weights', 'tfjs-mobilenet_v1_0.25_224');
const HOSTILE_PATHS = ['../secret.bin', '../../../../../../etc/passwd', '/etc/passwd', 'sub/../../secret.bin', '..%2fsecret.bin', '%2e%2e/secret.bin',
  '.%2E/secret.bin', 'file:///etc/passwd', 'http://127.0.0.1:1/x.bin', '//evil.example/x.bin', 'C:\\Windows\\win.ini', '..\\secret.bin', 'a\0b'];

describe('security: weight-manifest paths stay inside the model directory', () => {
  let tmp: string;
  before(() => { tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-paths-')); });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** A model directory whose model.json names `paths` as its only shard group. */
  function modelDir(name: string, paths: string[], weights = [{ name: 'w', shape: [4], dtype: 'float32' }]): string {
    const dir = join(tmp, name, 'model');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(tmp, name, 'secret.bin'), new Uint8Array(16));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths, weights }] }));
    return dir;
  }

  it('the file-system handler refuses every escaping shard path, naming model.json and the path', async () => {
    for (const [i, p] of HOSTILE_PATHS.entries()) {
      const dir = modelDir(`fs${i}`, [p]);
      const err = await expectRefused(() => nodeFileSystem(dir).load!(), join(dir, 'model.json'), /weight shard path .* (leaves the model's directory|absolute|backslash or NUL|scheme)/);
      expect(err.code).to.equal('UNSAFE_PATH');
    }
  });

  it('a symlink or FIFO in the model directory cannot lead the reader elsewhere', async () => {
    const dir = modelDir('link', ['group1-shard1of1.bin']);
    symlinkSync(join(tmp, 'link', 'secret.bin'), join(dir, 'group1-shard1of1.bin'));
    await expectRefused(() => nodeFileSystem(dir).load!(), 'model.json', /links to .*secret\.bin, outside/);
    const fifoDir = modelDir('fifo', ['group1-shard1of1.bin']);
    execFileSync('mkfifo', [join(fifoDir, 'group1-shard1of1.bin')]);
    // Reading a FIFO would block forever.
    await expectRefused(() => nodeFileSystem(fifoDir).load!(), 'model.json', /is not a regular file/);
  });

  it('the in-memory file map refuses the same paths and only looks up its own keys', async () => {
    const json = (paths: string[]) => new TextEncoder().encode(JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths, weights: [{ name: 'w', shape: [4], dtype: 'float32' }] }] }));
    for (const p of HOSTILE_PATHS) {
      await expectRefused(() => fromFileMap({ 'model.json': json([p]), 'secret.bin': new Uint8Array(16), passwd: new Uint8Array(16) }).load!(), 'model.json', /weight shard path/);
    }
    for (const p of ['__proto__', 'constructor', 'toString']) {
      await expectRefused(() => fromFileMap({ 'model.json': json([p]) }).load!(), p, /lacks ".*", a shard named by model.json/);
    }
  });

  describe('over HTTP', () => {
    let server: Server, other: Server;
    const requests: string[] = [];
    let base = '';
    let manifestPaths: string[] = [];
    before(async () => {
      server = createServer((req, res) => {
        requests.push(req.url ?? '');
        const url = req.url ?? '';
        if (url === '/models/m/model.json') {
          const real = JSON.parse(readFileSync(join(TFJS, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
          if (manifestPaths.length) real.weightsManifest[0]!.paths = manifestPaths;
          res.end(JSON.stringify(real));
        } else if (url.startsWith('/models/m/group')) res.end(readFileSync(join(TFJS, url.slice('/models/m/'.length))));
        else { res.statusCode = 200; res.end(new Uint8Array(864)); } // what an escaped request would get
      });
      other = createServer((req, res) => { requests.push(`other:${req.url}`); res.end(new Uint8Array(864)); });
      await Promise.all([new Promise<void>((r) => server.listen(0, '127.0.0.1', r)), new Promise<void>((r) => other.listen(0, '127.0.0.1', r))]);
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/m/`;
    });
    after(() => { server.close(); other.close(); });

    it('loads the real model from its own directory (control)', async () => {
      manifestPaths = [];
      const { handler } = await weightsHandler(base);
      const artifacts = await handler.load!();
      expect(artifacts.weightSpecs).to.have.length(137);
      expect(requests.every((r) => r.startsWith('/models/m/'))).to.equal(true);
    });

    it('a URL that holds no converted weights, or a server that refuses, is one CnnZooError naming the URL and what it should be', async () => {
      const failure = async (url: string): Promise<CnnZooError> => {
        try { await readArtifacts(url); } catch (e) { expect(e).to.be.instanceOf(CnnZooError); return e as CnnZooError; }
        throw new Error('expected a CnnZooError');
      };
      const elsewhere = base.replace('/models/m/', '/elsewhere/');
      const notWeights = await failure(elsewhere); // the server answers 200 with bytes that are not a model.json
      expect(notWeights.code).to.equal('WEIGHTS_UNREACHABLE');
      expect(notWeights.message).to.match(new RegExp(`^Cannot load the weights at ${elsewhere}model\\.json \\(.+\\)\\. Check the URL: it is the folder, or its model\\.json, of weights`));
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((r) => closed.close(r));
      const refused = await failure(`http://127.0.0.1:${port}/w/`);
      expect(refused.message).to.equal(`Cannot load the weights at http://127.0.0.1:${port}/w/model.json (ECONNREFUSED). Check the URL: it is the folder, ` +
        'or its model.json, of weights converted by `cnn-zoo convert` or saved by model.save().');
    });

    it('refuses shard paths that leave the model URL\'s directory or host, fetching nothing outside it', async () => {
      const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/x.bin`;
      for (const p of [...HOSTILE_PATHS, otherUrl, '%2E%2E/%2E%2E/secret.bin']) {
        manifestPaths = [p];
        requests.length = 0;
        const { handler, where } = await weightsHandler(base);
        await expectRefused(() => handler.load!(), where, /weight shard path/);
        expect(requests, p).to.deep.equal(['/models/m/model.json']);
      }
    });
  });
});

describe('security: weight specs must describe exactly the shard bytes', () => {
  let tmp: string;
  before(async () => {
    await useBackend('cpu');
    tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-specs-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** A copy of the shared tfjs MobileNet whose first weight spec is replaced. */
  function withFirstSpec(name: string, spec: object): string {
    const dir = join(tmp, name);
    cpSync(TFJS, dir, { recursive: true });
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { weights: object[] }[] };
    json.weightsManifest[0]!.weights[0] = spec;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    return dir;
  }

  it('refuses a spec claiming 2^31 floats, a string tensor of 10^9 entries, or unknown dtypes, before tfjs decodes', async () => {
    const cases: [object, RegExp][] = [
      [{ name: 'conv1/kernel', shape: [2 ** 31], dtype: 'float32' }, /weights up to "conv1\/kernel" need 8589934592 bytes, the shards hold \d+/],
      [{ name: 'conv1/kernel', shape: [1e9], dtype: 'string' }, /dtype "string", which cnn-zoo does not read/],
      [{ name: 'conv1/kernel', shape: [3, 3, 3, 8], dtype: 'float32', quantization: { dtype: 'int4' } }, /quantized as "int4"/],
      [{ name: 'conv1/kernel', shape: [-216], dtype: 'float32' }, /invalid shape/],
      [{ name: 'conv1/kernel', shape: [3, 3, 3, 4], dtype: 'float32' }, /weights need \d+ bytes, the shards hold \d+/],
    ];
    for (const [i, [spec, re]] of cases.entries()) {
      const dir = withFirstSpec(`spec${i}`, spec);
      await expectRefused(() => readSource('tfjs', [dir]), dir, re);
    }
  });

  it('load() refuses a converted model whose spec was inflated (checked before tfjs allocates)', async () => {
    const dir = join(ROOT, 'models', 'tf_mobilenet_v2_100');
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { weights: { shape: number[] }[] }[] };
    json.weightsManifest[0]!.weights[0]!.shape = [2 ** 30];
    const files = { 'model.json': new TextEncoder().encode(JSON.stringify(json)), 'group1-shard1of1.bin': new Uint8Array(readFileSync(join(dir, 'group1-shard1of1.bin'))) };
    await expectRefused(() => modelWithWeights('tf_mobilenet_v2_100', { weights: files }), 'the weights map', /need \d+ bytes, the shards hold \d+/);
  });
});

describe('security: model.json metadata cannot make load() build a huge model', () => {
  before(async () => { await useBackend('cpu'); });
  const dir = join(ROOT, 'models', 'tf_mobilenet_v2_100');
  const withMeta = (edit: (m: Record<string, unknown>) => void) => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { userDefinedMetadata: { cnnZoo: Record<string, unknown> } };
    edit(json.userDefinedMetadata.cnnZoo);
    return { 'model.json': new TextEncoder().encode(JSON.stringify(json)), 'group1-shard1of1.bin': new Uint8Array(readFileSync(join(dir, 'group1-shard1of1.bin'))) };
  };

  it('refuses 10^9 classes, a 10^6-pixel input side and a megabyte architecture name before building', async () => {
    await expectRefused(() => modelWithWeights('tf_mobilenet_v2_100', { weights: withMeta((m) => { m['numClasses'] = 1e9; }) }), 'the weights map', /numClasses 1000000000 does not fit weights of \d+ values/);
    await expectRefused(() => modelWithWeights('tf_mobilenet_v2_100', { weights: withMeta((m) => { m['inputSize'] = 1e6; }) }), 'the weights map', /inputSize 1000000 is not an integer from 1 to 4096/);
    await expectRefused(() => modelWithWeights('tf_mobilenet_v2_100', { weights: withMeta((m) => { m['arch'] = 'x'.repeat(1 << 20); }) }), 'the weights map', /"arch" is not a short string/);
  });
});

describe('security: Caffe layer names cannot reach files outside the weights folder', () => {
  it('refuses a prototxt layer named "../../secret"', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-caffe-'));
    try {
      const dir = join(tmp, 'net');
      mkdirSync(join(dir, 'weights'), { recursive: true });
      writeFileSync(join(tmp, 'secret_filter.bin'), new Float32Array(27).fill(1));
      writeFileSync(join(tmp, 'secret_bias.bin'), new Float32Array(1).fill(1));
      writeFileSync(join(dir, 'deploy.prototxt'), 'input: "data"\nlayer { name: "../../secret" type: "Convolution" convolution_param { num_output: 1 kernel_size: 3 } }\n');
      await expectRefused(() => readSource('caffe', [dir]), 'deploy.prototxt', /weight shard path "\.\.\/\.\.\/secret_filter\.bin" leaves the model's directory/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
