/**
 * cnn-zoo in a module Web Worker (where apps run models off the main thread): no `document`, images as bytes, an
 * `ImageBitmap`, a URL or a Blob. Debian's Chromium (headless) runs a worker bundled with esbuild against the package's
 * browser build; the shipped MobileNet v2 on wasm classifies Grace Hopper as Node does, in a plain page and in a
 * cross-origin isolated one with 2 threads (tfjs's pthread workers started from inside the worker).
 */
import { expect } from 'chai';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { load, useBackend, type ClassPrediction } from '../src/index.js';
import { ROOT } from './helpers/shared.js';
import { bundleApp } from './helpers/bundle-app.js';
import { serve, type Site } from './helpers/serve.js';
import { launchChromium, pageResult } from './helpers/page-result.js';

const WORK = join(ROOT, 'test-artifacts', 'worker-browser');
const PHOTO = join(ROOT, 'examples', 'images', 'grace_hopper.jpg');
const require = createRequire(import.meta.url);
const TFJS_WASM = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

interface Result { error?: string; hasDocument: boolean; detail: string; runtime: string; bytes: ClassPrediction[]; bitmap: ClassPrediction[]; url: ClassPrediction[]; blob: ClassPrediction[]; embedding: number; leaked: number }

describe('cnn-zoo in a Web Worker (Chromium)', function () {
  this.timeout(240_000);
  let browser: Browser | undefined;
  const sites: Site[] = [];
  let node: ClassPrediction[] = [];

  before(async () => {
    expect(existsSync(join(ROOT, 'dist', 'browser', 'cnn-zoo.js')), 'the browser build (npm run build)').to.equal(true);
    const worker = await bundleApp(WORK, `import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { load, useBackend } from 'cnn-zoo';
self.onmessage = async (e) => {
  try {
    setWasmPaths('/wasm/');
    const detail = await useBackend('wasm', e.data.threads ? { wasmThreads: e.data.threads } : {});
    const model = await load('tf_mobilenet_v2_100', { weights: '/models/tf_mobilenet_v2_100/' });
    const tensors = tf.memory().numTensors;
    const bytes = new Uint8Array(await (await fetch('/photo.jpg')).arrayBuffer());
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
    const result = {
      hasDocument: typeof document !== 'undefined', detail, runtime: model.runtime,
      bytes: await model.classify(bytes), bitmap: await model.classify(bitmap), url: await model.classify('/photo.jpg'),
      blob: await model.classify(new Blob([bytes], { type: 'image/jpeg' })),
      embedding: (await model.embed(bytes))[0].length,
    };
    result.leaked = tf.memory().numTensors - tensors;
    model.dispose();
    self.postMessage(result);
  } catch (err) { self.postMessage({ error: String((err && err.stack) || err) }); }
};
`);
    writeFileSync(join(WORK, 'out', 'index.html'), `<!doctype html><script type="module">
const worker = new Worker('/worker.js', { type: 'module' });
worker.onmessage = (e) => { window.__result = e.data; };
worker.onerror = (e) => { window.__result = { error: 'worker: ' + e.message }; };
worker.postMessage({ threads: Number(new URLSearchParams(location.search).get('threads') || 0) });
</script>`);
    const routes = { '/': join(WORK, 'out', 'index.html'), '/worker.js': worker, '/wasm/': TFJS_WASM, '/models/': join(ROOT, 'models'), '/photo.jpg': PHOTO };
    sites.push(await serve(routes), await serve(routes, ISOLATED));
    browser = await launchChromium();
    await useBackend('wasm');
    const model = await load('tf_mobilenet_v2_100');
    try { node = await model.classify(PHOTO); } finally { model.dispose(); }
  });
  after(async () => {
    await browser?.close();
    for (const s of sites) await s.close();
  });

  const check = (r: Result | undefined, errors: string[], detail: string): void => {
    expect(errors, 'page errors').to.deep.equal([]);
    expect(r, 'the worker answered').to.not.equal(undefined);
    expect(r!.error).to.equal(undefined);
    expect(r!.hasDocument).to.equal(false);
    expect(r!.detail).to.equal(detail);
    expect(r!.runtime).to.equal('tfjs');
    for (const shown of [r!.bytes, r!.bitmap, r!.url, r!.blob]) {
      expect(shown.map((p) => p.index)).to.deep.equal(node.map((p) => p.index));
      const worst = Math.max(...shown.map((p, i) => Math.abs(p.probability - node[i]!.probability)));
      expect(worst).to.be.below(1e-4);
    }
    expect(r!.embedding).to.equal(1280);
    expect(r!.leaked).to.equal(0);
  };

  it('classifies bytes, an ImageBitmap, a URL and a Blob as Node does, on wasm in the worker, leaving no tensor', async () => {
    const { result: r, errors } = await pageResult<Result>(browser!, `${sites[0]!.url}/`);
    check(r, errors, 'wasm SIMD, 1 thread');
    console.log(`      ${r!.bytes.slice(0, 3).map((p) => `${p.label} ${(100 * p.probability).toFixed(2)}%`).join(', ')}`);
  });

  it('runs wasm on 2 threads from the worker of a cross-origin isolated page', async () => {
    const { result: r, errors } = await pageResult<Result>(browser!, `${sites[1]!.url}/?threads=2`);
    check(r, errors, 'wasm SIMD, 2 threads');
  });
});
