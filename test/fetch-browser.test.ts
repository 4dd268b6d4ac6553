/**
 * Published weights in a browser (Debian's Chromium, headless, through playwright-core): a page built from
 * src/browser.ts loads squeezenet1_1 with `weights: 'imagenet'` through a loopback mirror serving the fixture
 * checkpoint: fetch with progress, WebCrypto sha256 check, in-page conversion with the readers, IndexedDB cache.
 * The page's logits reproduce the fixture; a second load in the same page makes no request; a wrong sha256 is
 * refused.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { loadFixture } from '../src/parity/fixture.js';
import { maxRelError, top5Agree } from '../src/parity/run.js';
import { resolveCheckpoint } from '../src/pretrained/index.js';
import { fixturePath, ROOT, SHARED } from './helpers/shared.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WORK = join(ROOT, 'test-artifacts', 'fetch-browser');

/** The page: load through the hub, run the fixture input (det() in the page), report logits and progress. */
const ENTRY = `
import * as tf from '@tensorflow/tfjs';
import { load } from ${JSON.stringify(join(ROOT, 'src', 'browser.ts'))};
import { det } from ${JSON.stringify(join(ROOT, 'src', 'parity', 'det.ts'))};
window.runFetch = async (hub, input) => {
  await tf.setBackend('cpu');
  const progress = [];
  const zoo = await load('squeezenet1_1', { weights: 'imagenet', inference: false, hub: { ...hub, onProgress: (p) => progress.push(p.received) } });
  const x = tf.tidy(() => tf.tensor4d(det(input.seed, input.n, input.scale), input.shape).transpose([0, 2, 3, 1]));
  const y = zoo.model.predict(x);
  const logits = Array.from(await y.data());
  tf.dispose([x, y]);
  zoo.dispose();
  return { logits, progress: progress.length, models: Object.keys(await tf.io.listModels()) };
};
`;

describe('published weights in a browser (Chromium, IndexedDB cache)', function () {
  let browser: Browser | undefined;
  let server: Server | undefined;
  const hits: string[] = [];
  const c = resolveCheckpoint('squeezenet1_1');
  const bytes = readFileSync(join(SHARED, 'fixtures', 'checkpoints', 'squeezenet1_1.pth'));
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  before(async () => {
    expect(existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (CI installs it: apt-get install -y chromium)`).to.equal(true);
    mkdirSync(WORK, { recursive: true });
    writeFileSync(join(WORK, 'entry.js'), ENTRY);
    await build({
      entryPoints: [join(WORK, 'entry.js')], outfile: join(WORK, 'page.js'), bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'error',
      plugins: [{
        name: 'node-only',
        setup(b) {
          b.onResolve({ filter: /^(node:|sharp$|webgpu$|h5wasm\/node$)/ }, (a) => ({ path: a.path, namespace: 'node-only' }));
          b.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({ contents: 'throw new Error("Node-only");', loader: 'js' }));
          b.onResolve({ filter: /\/image\/decode\.js$/ }, () => ({ path: join(ROOT, 'src', 'image', 'browser-decode.ts') }));
        },
      }],
    });
    const page = readFileSync(join(WORK, 'page.js'));
    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      hits.push(path);
      if (path === '/') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>');
      else if (path === '/page.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(page);
      else if (path === `/mirror/${c.file}`) res.writeHead(200, { 'Content-Length': bytes.length }).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  after(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  });

  it('downloads, verifies with WebCrypto, converts in the page, caches in IndexedDB, reproduces the fixture, then reuses the cache', async () => {
    const fx = await loadFixture(fixturePath('squeezenet1_1'));
    const origin = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
    const page = await (await browser!.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'runFetch' in window);
    const raw = JSON.parse(gunzipSync(readFileSync(fixturePath('squeezenet1_1'))).toString('utf8')) as { input: { seed: string; scale: number } };
    const input = { seed: raw.input.seed, scale: raw.input.scale, n: fx.input.length, shape: fx.inputShape };
    const hub = { mirror: `${origin}/mirror/`, sha256 };
    type Result = { logits: number[]; progress: number; models: string[] };
    const run = (h: object) => page.evaluate(([h2, i]) => (window as unknown as { runFetch: (a: unknown, b: unknown) => Promise<Result> }).runFetch(h2, i), [h, input] as const);
    const first = await run(hub);
    const ours = new Float32Array(first.logits);
    const err = maxRelError(ours, fx.logits);
    console.log(`      browser: max_rel_err ${err.toExponential(3)} (tolerance ${fx.tolerance}), ${first.progress} progress events, cached as ${first.models.join(', ')}`);
    expect(err).to.be.below(fx.tolerance);
    expect(top5Agree(ours, fx.logits, fx.logitsShape[1])).to.equal(true);
    expect(first.models).to.deep.equal(['indexeddb://cnn-zoo/squeezenet1_1/torchvision-IMAGENET1K_V1-float32']);
    expect(hits.filter((h) => h.startsWith('/mirror/'))).to.have.length(1);
    const second = await run(hub);
    expect(hits.filter((h) => h.startsWith('/mirror/')), 'no second download').to.have.length(1);
    expect(maxRelError(new Float32Array(second.logits), ours)).to.equal(0);
    const wrong = await page.evaluate(([h, i]) => (window as unknown as { runFetch: (a: unknown, b: unknown) => Promise<unknown> }).runFetch(h, i).then(() => 'loaded', (e: Error) => e.message),
      [{ mirror: `${origin}/mirror/`, sha256: '0'.repeat(64), dtype: 'float16' }, input] as const);
    expect(wrong).to.include('failed verification');
    expect(errors).to.deep.equal([]);
  });
});
