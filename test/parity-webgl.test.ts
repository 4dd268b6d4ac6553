/**
 * Parity on WebGL, the browsers' default backend: one fixture per family (the cheapest; a second kind where a family
 * holds architectures with other kernels) through the browser bundle (dist/browser/cnn-zoo.js, `npm run build`) in
 * headless Chromium on SwiftShader (software WebGL: `--use-angle=swiftshader --enable-unsafe-swiftshader`). Node
 * builds each fixture's model with its weights (src/parity `fixtureModel`) and serves the tfjs artifacts and the
 * input on 127.0.0.1; the page imports the bundle (which registers cnn-zoo's layers), switches to webgl, loads the
 * model with `tf.loadLayersModel`, predicts and disposes. Each result must meet the fixture's own tolerance and
 * top-5: the same bound as on wasm and cpu (docs/PARITY.md), never widened for WebGL. One browser, one page, models
 * in sequence; the page must hold no more tensors after a model than before it.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadFixture, type Fixture } from '../src/parity/fixture.js';
import { fixtureModel, maxRelError, nchwToNhwc, top5Agree } from '../src/parity/run.js';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../src/parity/runtimes.js';
import { FAMILIES } from '../src/zoo/families.js';
import { findByFixture } from '../src/parity/run.js';
import { fixturePath, HANG_MS, ROOT } from './helpers/shared.js';
import { sizeFixturePath } from './helpers/size-fixtures.js';

/**
 * family -> fixture file (`<name>` in ../shared/fixtures/parity, `<name>-HxW` in test/fixtures/parity-sizes). CI runs
 * them all: a fixture of every family. The comment is the forward pass in the page on SwiftShader, shader compiles
 * and weight upload included, on the 2-core dev machine when quiet (load ~1; 4 min 44 s for the file) and, in
 * brackets, under load (~14; 13 min 42 s). `WEBGL_ONLY=name,name` runs a few. Speeds are never asserted.
 */
export const WEBGL_FIXTURES: readonly (readonly [family: string, fixture: string])[] = [
  ['alexnet', 'alexnet-128x192'], // 7.6 s (26.0)
  ['squeezenet', 'squeezenet1_1-128x192'], // 4.5 s (7.8)
  ['vgg', 'vgg11_bn-128x192'], // 22.9 s (97.5)
  ['mobilenet', 'timm_mobilenetv1_025'], // 3.9 s (7.4)
  ['mobilenet', 'mobilenet_v2_035-128x192'], // 5.3 s (10.8)
  ['shufflenet', 'shufflenet_v1_g3_0_5x'], // 6.2 s (13.3)
  ['shufflenet', 'shufflenet_v2_x0_5-128x192'], // 3.0 s (6.1)
  ['resnet', 'resnet18-128x192'], // 5.7 s (12.0)
  ['resnet', 'resnext50_32x4d-128x192'], // 15.0 s (30.2)
  ['resnet', 'timm_legacy_seresnet18'], // 10.4 s (18.5)
  ['densenet', 'densenet121-128x192'], // 16.9 s (31.7)
  ['dpn', 'timm_dpn68'], // 20.9 s (60.3)
  ['googlenet', 'googlenet-128x192'], // 11.5 s (31.4)
  ['bninception', 'bninception'], // 14.1 s (38.8)
  ['inception', 'inception_v3-128x192'], // 12.6 s (34.7)
  ['xception', 'timm_legacy_xception'], // 20.2 s (54.8)
  ['nasnet', 'nasnetamobile'], // 14.5 s (36.4)
  ['darknet', 'timm_darknet53'], // 30.2 s (134.3)
];
const only = process.env.WEBGL_ONLY?.split(',');
/** tfjs WebGL flags for the page (`useBackend('webgl', { flags })`); CNN_ZOO_WEBGL_FLAGS='{"NAME": value}' overrides. */
const WEBGL_FLAGS: Record<string, boolean | number> = JSON.parse(process.env.CNN_ZOO_WEBGL_FLAGS ?? '{}') as Record<string, boolean | number>;
const pathOf = (name: string): string => (/-\d+x\d+$/.test(name) ? sizeFixturePath(name) : fixturePath(name));
const ARTIFACTS = join(ROOT, 'test-artifacts', 'webgl-parity');
const BUNDLE = join(ROOT, 'dist', 'browser', 'cnn-zoo.js');

/** What the server hands the page: the current model's files. */
const served = new Map<string, Uint8Array | string>();

async function artifactsOf(model: tf.LayersModel): Promise<{ json: string; weights: Uint8Array }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const data = saved!.weightData!;
  const weights = Array.isArray(data) ? new Uint8Array(await new Blob(data).arrayBuffer()) : new Uint8Array(data as ArrayBuffer);
  return { json: JSON.stringify({ modelTopology: saved!.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: saved!.weightSpecs }], format: 'layers-model' }), weights };
}

describe('parity on WebGL in Chromium (SwiftShader), a fixture per family, through the browser bundle', function () {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let page: Page;
  let base = '';
  const pageErrors: string[] = [];

  before(async () => {
    expect(existsSync(CHROMIUM_PATH()), `Chromium at ${CHROMIUM_PATH()}`).to.equal(true);
    if (!existsSync(BUNDLE)) await (await import('../tools/build-browser.mjs' as string) as { buildBrowserBundle(o: { quiet: boolean }): Promise<unknown> }).buildBrowserBundle({ quiet: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    // The page imports the bundle as an app does: its bundler provides @tensorflow/tfjs (one tfjs for both).
    writeFileSync(join(ARTIFACTS, 'entry.js'), `import * as tf from '@tensorflow/tfjs';\nimport * as zoo from ${JSON.stringify(BUNDLE)};\nglobalThis.tf = tf; globalThis.zoo = zoo;\n`);
    await build({ entryPoints: [join(ARTIFACTS, 'entry.js')], outfile: join(ARTIFACTS, 'page.js'), bundle: true, format: 'esm', platform: 'browser',
      nodePaths: [join(ROOT, 'node_modules')], logLevel: 'error', external: ['node:*'] });
    const { readFile } = await import('node:fs/promises');
    const pageJs = await readFile(join(ARTIFACTS, 'page.js'));
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const body = path === '/' ? '<!doctype html><script type="module" src="/page.js"></script>' : path === '/page.js' ? pageJs : served.get(path);
      if (body === undefined) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': path === '/' ? 'text/html' : path.endsWith('.js') ? 'text/javascript' : path.endsWith('.json') ? 'application/json' : 'application/octet-stream' }).end(body);
    });
    await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH(), args: [...CHROMIUM_FLAGS, '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
    page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(base + '/');
    await page.waitForFunction(() => 'zoo' in globalThis, undefined, { timeout: HANG_MS });
    const info = await page.evaluate(async (flags) => {
      const g = globalThis as unknown as { zoo: { useBackend(n: string, o?: object): Promise<string> }; tf: typeof tf };
      const detail = await g.zoo.useBackend('webgl', { flags });
      return { detail, backend: g.tf.getBackend(), float32: g.tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'), packed: g.tf.env().getBool('WEBGL_PACK'), version: g.tf.env().getNumber('WEBGL_VERSION') };
    }, WEBGL_FLAGS);
    console.log(`      ${info.detail}; tf.getBackend() ${info.backend}, WebGL ${info.version}, float32 textures ${info.float32}, WEBGL_PACK ${info.packed}`);
    expect(info.backend).to.equal('webgl');
    expect(info.detail).to.match(/SwiftShader/i);
  });
  after(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  });

  it('the table has a fixture of every family that has fixtures, each reproduced by a model of that family', () => {
    const withFixtures = FAMILIES.filter((f) => f.models.some((m) => m.fixtures.length > 0)).map((f) => f.name);
    expect([...new Set(WEBGL_FIXTURES.map(([family]) => family))].sort()).to.deep.equal([...withFixtures].sort());
    for (const [family, name] of WEBGL_FIXTURES) {
      expect(existsSync(pathOf(name)), `${name}: fixture file`).to.equal(true);
      const spec = findByFixture(name.replace(/-\d+x\d+$/, '')).spec;
      expect(FAMILIES.find((f) => f.name === family)!.models, `${name} is reproduced by a ${family} model`).to.include(spec);
    }
  });

  for (const [family, name] of WEBGL_FIXTURES.filter(([, n]) => !only || only.includes(n))) {
    it(`${family}: ${name} reproduces its fixture on webgl`, async () => {
      const fx: Fixture = await loadFixture(pathOf(name));
      const { model } = fixtureModel(fx);
      try {
        const { json, weights } = await artifactsOf(model);
        const x = nchwToNhwc(fx.input, fx.inputShape);
        const input = (await x.data()) as Float32Array;
        x.dispose();
        served.clear();
        served.set('/m/model.json', json).set('/m/weights.bin', weights).set('/m/input.bin', new Uint8Array(input.buffer));
        const [n, , h, w] = fx.inputShape;
        const r = await page.evaluate(async ({ n, h, w }) => {
          const g = globalThis as unknown as { tf: typeof tf };
          const before = g.tf.memory().numTensors;
          const m = await g.tf.loadLayersModel('/m/model.json');
          const x = g.tf.tensor4d(new Float32Array(await (await fetch('/m/input.bin')).arrayBuffer()), [n, h, w, 3]);
          const t0 = performance.now();
          const y = m.predict(x) as tf.Tensor;
          const logits = Array.from(await y.data());
          const ms = performance.now() - t0;
          x.dispose(); y.dispose(); m.dispose();
          return { logits, ms, backend: g.tf.getBackend(), leaked: g.tf.memory().numTensors - before };
        }, { n, h, w });
        const ours = Float32Array.from(r.logits);
        const err = maxRelError(ours, fx.logits);
        console.log(`      ${name}: max_rel_err ${err.toExponential(3)} (tolerance ${fx.tolerance}), webgl ${(r.ms / 1000).toFixed(1)} s (first run: shader compiles included)`);
        expect(r.backend).to.equal('webgl');
        expect(r.leaked, 'tensors left in the page').to.equal(0);
        expect(err, 'max|ours-ref|/max|ref| on webgl').to.be.below(fx.tolerance);
        expect(top5Agree(ours, fx.logits, fx.logitsShape[1]), 'top-5 classes agree').to.equal(true);
        expect(pageErrors).to.deep.equal([]);
      } finally {
        model.dispose();
      }
    });
  }
});
