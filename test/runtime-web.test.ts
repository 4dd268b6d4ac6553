/**
 * `load(name, { runtime: 'onnxruntime' })` in Debian's Chromium (headless, no GPU): an app bundled with esbuild
 * against the package's browser build, handing over its onnxruntime-web with `setOnnxRuntime(ort)`, served on
 * 127.0.0.1 with the shipped weights, tfjs's wasm binaries and onnxruntime-web's; the model runs on onnxruntime-web's
 * wasm and agrees with the same model on tfjs (wasm) in the same page. Then an app built by Vite, cross-origin
 * isolated, onnxruntime-web on 2 threads with `ort.env.wasm.wasmPaths` set (as the README says); without it, its
 * workers load the app's own code and die, onnxruntime-web waits for them for ever, and cnn-zoo's console warning
 * names the fix (a warning, not an error: some of those workers die without an event the page could catch).
 */
import { expect } from 'chai';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { HANG_MS, ROOT } from './helpers/shared.js';
import { bundleApp, bundleAppWithVite } from './helpers/bundle-app.js';
import { serve } from './helpers/serve.js';
import { launchChromium, pageResult } from './helpers/page-result.js';
import { CHROMIUM_PATH } from '../src/parity/runtimes.js';

const CHROMIUM = CHROMIUM_PATH();
const WORK = join(ROOT, 'test-artifacts', 'runtime-web');
const PHOTO = join(ROOT, 'examples', 'images', 'grace_hopper.jpg');
const require = createRequire(import.meta.url);
const TFJS_WASM = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const ORT_WASM = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist'); // its exports hide package.json


describe('runtime: onnxruntime-web in Chromium', function () {
  this.timeout(240_000);
  let browser: Browser | undefined;
  let site: Awaited<ReturnType<typeof serve>> | undefined;

  before(async () => {
    expect(existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`).to.equal(true);
    expect(existsSync(join(ROOT, 'dist', 'browser', 'cnn-zoo.js')), 'the browser build (npm run build)').to.equal(true);
    const app = await bundleApp(WORK, `import * as ort from 'onnxruntime-web';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { load, setOnnxRuntime, useBackend } from 'cnn-zoo';
setWasmPaths('/wasm/');
await useBackend('wasm');
const img = document.querySelector('img');
const weights = '/models/tf_mobilenet_v2_100/';
let missing = '';
try { await load('tf_mobilenet_v2_100', { weights, runtime: 'onnxruntime' }); } catch (e) { missing = e.message; }
ort.env.wasm.wasmPaths = '/ort/';
setOnnxRuntime(ort);
const onnx = await load('tf_mobilenet_v2_100', { weights, runtime: 'onnxruntime' });
const tfjs = await load('tf_mobilenet_v2_100', { weights, runtime: 'tfjs' });
const tensors = tf.memory().numTensors;
const top5 = await onnx.classify(img);
const ref = await tfjs.classify(img);
const [e] = await onnx.embed(img);
const [eRef] = await tfjs.embed(img);
const embedErr = Math.max(...e.map((v, i) => Math.abs(v - eRef[i]))) / Math.max(...eRef.map(Math.abs));
window.__result = { runtime: onnx.runtime, ref: tfjs.runtime, top5, refTop5: ref, embedErr, leaked: tf.memory().numTensors - tensors, missing };
onnx.dispose();
tfjs.dispose();
`);
    writeFileSync(join(WORK, 'out', 'index.html'),
      '<!doctype html><img src="/grace_hopper.jpg" onload="import(\'/app.js\')" onerror="window.__result = { error: \'photo\' }">');
    site = await serve({ '/': join(WORK, 'out', 'index.html'), '/app.js': app, '/grace_hopper.jpg': PHOTO,
      '/models/': join(ROOT, 'models'), '/wasm/': TFJS_WASM, '/ort/': ORT_WASM });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise((ok) => (site ? site.server.close(ok) : ok(undefined)));
  });

  it('classifies and embeds on onnxruntime-web (wasm) as tfjs does, leaving no tfjs tensor; without setOnnxRuntime it says how', async () => {
    const { result: r, errors } = await pageResult<{
      runtime: string; ref: string; top5: { index: number; label: string; probability: number }[]; refTop5: { index: number; probability: number }[];
      embedErr: number; leaked: number; missing: string;
    }>(browser!, `${site!.url}/`);
    expect(errors, 'page errors').to.deep.equal([]);
    expect(r, 'the app finished').to.not.equal(undefined);
    console.log(`      ${r!.runtime} vs ${r!.ref}: ${r!.top5.map((p) => `${p.label} ${(100 * p.probability).toFixed(2)}%`).join(', ')}; embedding max rel err ${r!.embedErr.toExponential(2)}`);
    // Before the app hands its module over, cnn-zoo does not find it (it never imports it by name) and says how.
    expect(r!.missing).to.include('setOnnxRuntime(ort)').and.include('npm install onnxruntime-web');
    expect(r!.runtime).to.equal('onnxruntime-web');
    expect(r!.ref).to.equal('tfjs');
    expect(r!.top5.map((p) => p.index)).to.deep.equal(r!.refTop5.map((p) => p.index));
    r!.top5.forEach((p, i) => expect(p.probability).to.be.closeTo(r!.refTop5[i]!.probability, 1e-4));
    expect(r!.embedErr).to.be.below(1e-4);
    expect(r!.leaked, 'tfjs tensors left').to.equal(0);
  });
});

describe('runtime: onnxruntime-web on threads in a Vite-built app (Chromium)', function () {
  this.timeout(240_000);
  let browser: Browser | undefined;
  let site: Awaited<ReturnType<typeof serve>> | undefined;

  before(async () => {
    const out = bundleAppWithVite(join(WORK, 'vite'), `import * as ort from 'onnxruntime-web';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { load, setOnnxRuntime, useBackend } from 'cnn-zoo';
setWasmPaths('/wasm/');
try {
  await useBackend('wasm');
  ort.env.wasm.numThreads = 2;
  if (!new URLSearchParams(location.search).has('noWasmPaths')) ort.env.wasm.wasmPaths = '/ort/';
  setOnnxRuntime(ort);
  const bytes = new Uint8Array(await (await fetch('/grace_hopper.jpg')).arrayBuffer());
  const onnx = await load('tf_mobilenet_v2_100', { weights: '/models/tf_mobilenet_v2_100/', runtime: 'onnxruntime' });
  const tfjs = await load('tf_mobilenet_v2_100', { weights: '/models/tf_mobilenet_v2_100/', runtime: 'tfjs' });
  window.__result = { runtime: onnx.runtime, threads: ort.env.wasm.numThreads, top5: await onnx.classify(bytes), refTop5: await tfjs.classify(bytes) };
} catch (e) {
  window.__result = { error: e.message, name: e.name };
}
`);
    site = await serve({ '/': join(out, 'index.html'), '/assets/': join(out, 'assets'), '/grace_hopper.jpg': PHOTO, '/models/': join(ROOT, 'models'),
      '/wasm/': TFJS_WASM, '/ort/': ORT_WASM }, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  interface Shown { index: number; probability: number }
  it('with ort.env.wasm.wasmPaths set, onnxruntime-web runs on 2 threads and classifies as tfjs does', async () => {
    const { result: r } = await pageResult<{ error?: string; runtime: string; threads: number; top5: Shown[]; refTop5: Shown[] }>(browser!, `${site!.url}/`);
    expect(r, 'the app finished').to.not.equal(undefined);
    expect(r!.error).to.equal(undefined);
    expect([r!.runtime, r!.threads]).to.deep.equal(['onnxruntime-web', 2]);
    expect(r!.top5.map((p) => p.index)).to.deep.equal(r!.refTop5.map((p) => p.index));
    r!.top5.forEach((p, i) => expect(p.probability).to.be.closeTo(r!.refTop5[i]!.probability, 1e-4));
  });

  it('without it, the app waits for ever (onnxruntime-web\'s workers died) and the console says why and what to set', async () => {
    const page = await browser!.newPage();
    try {
      const warned = page.waitForEvent('console', { predicate: (m) => m.type() === 'warning' && m.text().startsWith('cnn-zoo:'), timeout: HANG_MS });
      await page.goto(`${site!.url}/?noWasmPaths`);
      const text = (await warned).text();
      console.log(`      ${text}`);
      expect(text).to.match(/^cnn-zoo: onnxruntime-web has not opened the model's session after \d+ s, on 2 threads with ort\.env\.wasm\.wasmPaths unset\./)
        .and.include('set ort.env.wasm.wasmPaths to where you serve node_modules/onnxruntime-web/dist/').and.include('ort.env.wasm.numThreads = 1');
      expect(await page.evaluate(() => (window as unknown as { __result?: unknown }).__result), 'the app is still waiting').to.equal(undefined);
    } finally {
      await page.close();
    }
  });
});
