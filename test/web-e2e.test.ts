/**
 * The web app end to end in Debian's Chromium (headless, through playwright-core): build the browser bundle and
 * the app with Vite, serve it from 127.0.0.1, classify Grace Hopper on wasm through the page's file input
 * ("military uniform" in the top 5), then reload and check that the weights now come from IndexedDB (no second
 * download). The page's probabilities must equal Node's (same model, wasm in both) to 1e-4, which checks the
 * browser bundle's decoding and preprocessing. Chromium's fake camera drives the camera path. "Teach it your own
 * classes": images per class from files and a camera frame, train in the page, classify with the new class names.
 * Screenshots go to test-artifacts/web-e2e.png and web-teach.png.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { load, useBackend, type ClassPrediction } from '../src/index.js';
import { ROOT, SHARED, HANG_MS } from './helpers/shared.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const APP = join(ARTIFACTS, 'web-dist');
const GRACE = join(SHARED, 'images', 'grace_hopper.bmp');
const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.map': 'application/json',
};

/** A static file server over `dir` on 127.0.0.1 that counts requests per path; `headers` go with every response. */
function serve(dir: string, headers: Record<string, string> = {}): Promise<{ server: Server; url: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, hits })));
}

describe('web app in Chromium (end to end)', function () {
  let browser: Browser | undefined;
  let site: Awaited<ReturnType<typeof serve>> | undefined;
  const pageErrors: string[] = [];

  before(async () => {
    expect(existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (CI installs it: apt-get install -y chromium)`).to.equal(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', join(ROOT, 'examples', 'web'), '--outDir', APP, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    site = await serve(resolve(APP));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
        '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
    });
  });
  after(async () => {
    await browser?.close();
    await new Promise((ok) => (site ? site.server.close(ok) : ok(undefined)));
  });

  /** Open the app on wasm and wait until the model is loaded. */
  async function open(page: Page): Promise<void> {
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${site!.url}?backend=wasm`);
    await page.waitForSelector('#status[data-state=ready], #status[data-state=error]', { timeout: HANG_MS });
    expect(await page.textContent('#status')).to.match(/tf_mobilenet_v2_100 ready on wasm/);
  }

  interface Shown { label: string; index: number; probability: number }
  async function classifyGrace(page: Page, backend = 'wasm'): Promise<Shown[]> {
    await page.evaluate(() => { document.getElementById('results')!.replaceChildren(); });
    await page.setInputFiles('#file', GRACE);
    await page.waitForSelector('#results li:nth-child(5), #status[data-state=error]', { timeout: HANG_MS });
    expect(await page.textContent('#status')).to.equal(`Classified grace_hopper.bmp with tf_mobilenet_v2_100 on ${backend}.`);
    return page.$$eval('#results li', (els) => els.map((e) => ({
      label: e.querySelector('.name')!.textContent ?? '', index: Number((e as HTMLElement).dataset.index), probability: Number((e as HTMLElement).dataset.probability),
    })));
  }

  it('classifies Grace Hopper on wasm with "military uniform" in the top 5, then loads the weights from IndexedDB', async () => {
    const context = await browser!.newContext({ viewport: { width: 1100, height: 760 } });
    try {
      const page = await context.newPage();
      await open(page);
      expect(await page.getAttribute('#model-info', 'data-weights-from')).to.match(/^network/);
      const top5 = await classifyGrace(page);
      console.log(`      top 5: ${top5.map((p) => `${p.label} ${(100 * p.probability).toFixed(1)}%`).join(', ')}; ${await page.textContent('#latency')}`);
      expect(top5).to.have.length(5);
      expect(top5.map((p) => p.label)).to.include('military uniform');
      expect(await page.textContent('#latency')).to.match(/Latency: \d+ ms to classify .*model alone \d+ ms/);
      await page.screenshot({ path: join(ARTIFACTS, 'web-e2e.png'), fullPage: true });

      const shard = '/models/tf_mobilenet_v2_100/group1-shard1of1.bin';
      expect(site!.hits.get(shard)).to.equal(1);
      expect(site!.hits.get('/wasm/tfjs-backend-wasm-simd.wasm'), 'the SIMD wasm binary served').to.be.at.least(1);
      await page.reload();
      await page.waitForSelector('#status[data-state=ready], #status[data-state=error]', { timeout: HANG_MS });
      expect(await page.getAttribute('#model-info', 'data-weights-from')).to.equal('IndexedDB cache');
      expect(site!.hits.get(shard), 'weights downloaded again despite the cache').to.equal(1);
      expect(await classifyGrace(page)).to.deep.equal(top5);
      expect(pageErrors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  /** Node's top 5 for Grace Hopper (the same shipped model, on wasm). */
  let nodeTop5: Promise<ClassPrediction[]> | undefined;
  const reference = (): Promise<ClassPrediction[]> => (nodeTop5 ??= (async () => {
    await useBackend('wasm');
    const model = await load('tf_mobilenet_v2_100');
    try { return await model.classify(GRACE, { topK: 5 }); } finally { model.dispose(); }
  })());

  it('shows the same top 5 as Node (same model on wasm) to 1e-4', async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      await open(page);
      const shown = await classifyGrace(page);
      const node = await reference();
      expect(shown.map((p) => p.index)).to.deep.equal(node.map((p) => p.index));
      const worst = Math.max(...shown.map((p, i) => Math.abs(p.probability - node[i]!.probability)));
      console.log(`      largest probability difference browser vs Node: ${worst.toExponential(2)}`);
      expect(worst).to.be.below(1e-4);
    } finally {
      await context.close();
    }
  });

  it('served cross-origin isolated (COOP/COEP, as its README says) on 4 cores: wasm runs on 2 threads, same top 5 as Node', async () => {
    // The app is minified with esbuild (vite.config.ts): Vite's default minifier breaks tfjs-backend-wasm's threads.
    const isolated = await serve(resolve(APP), { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    const context = await browser!.newContext();
    try {
      // A script's text, not a function: tsx's transform would wrap the getter in a `__name` helper the page lacks.
      await context.addInitScript({ content: "Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => 4 });" });
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${isolated.url}?backend=auto`);
      await page.waitForSelector('#status[data-state=ready], #status[data-state=error]', { timeout: HANG_MS });
      expect(await page.textContent('#status')).to.match(/^tf_mobilenet_v2_100 ready on wasm \(wasm SIMD, 2 threads\)\./);
      await page.setInputFiles('#file', GRACE);
      await page.waitForSelector('#results li:nth-child(5), #status[data-state=error]', { timeout: HANG_MS });
      const shown = await page.$$eval('#results li', (els) => els.map((e) => ({ index: Number((e as HTMLElement).dataset.index), probability: Number((e as HTMLElement).dataset.probability) })));
      const node = await reference();
      expect(shown.map((p) => p.index)).to.deep.equal(node.map((p) => p.index));
      const worst = Math.max(...shown.map((p, i) => Math.abs(p.probability - node[i]!.probability)));
      console.log(`      2 threads (${await page.textContent('#latency')}): largest probability difference to Node ${worst.toExponential(2)}`);
      expect(worst).to.be.below(1e-4);
      expect(pageErrors).to.deep.equal([]);
    } finally {
      await context.close();
      await new Promise((ok) => isolated.server.close(ok));
    }
  });

  it('switches backends from the page: webgl gives the same top 5, webgpu is reported when missing, wasm again', async () => {
    const context = await browser!.newContext();
    const ready = (page: Page) => page.waitForSelector('#status[data-state=ready], #status[data-state=error]', { timeout: HANG_MS });
    try {
      const page = await context.newPage();
      await open(page);
      await page.selectOption('#backend', 'webgl');
      await ready(page);
      expect(await page.textContent('#status')).to.equal('tf_mobilenet_v2_100 ready on webgl. Drop an image or choose a file.');
      const shown = await classifyGrace(page, 'webgl');
      const node = await reference();
      expect(shown.map((p) => p.index)).to.deep.equal(node.map((p) => p.index));
      const worst = Math.max(...shown.map((p, i) => Math.abs(p.probability - node[i]!.probability)));
      console.log(`      webgl (${await page.textContent('#latency')}): largest probability difference to wasm ${worst.toExponential(2)}`);
      expect(worst).to.be.below(1e-3);

      await page.selectOption('#backend', 'webgpu');
      await ready(page);
      const status = (await page.textContent('#status'))!;
      // Headless Chromium with --disable-gpu has no WebGPU adapter; where one exists the model must load on it.
      if ((await page.getAttribute('#status', 'data-state')) === 'error') expect(status).to.match(/^Backend "webgpu" cannot run here: .*adapter/);
      else expect(status).to.match(/ready on webgpu/);

      await page.selectOption('#backend', 'wasm');
      await ready(page);
      expect(await page.textContent('#status')).to.match(/ready on wasm/);
      expect(await page.getAttribute('#model-info', 'data-weights-from')).to.equal('IndexedDB cache');
      expect(await page.$$eval('#teach-classes .teach-class', (els) => els.length), 'class rows after three backend changes').to.equal(2);
    } finally {
      await context.close();
    }
  });

  it('"auto" never takes a software WebGL renderer: without a GPU (SwiftShader) it runs on wasm', async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${site!.url}?backend=auto`);
      await page.waitForSelector('#status[data-state=ready], #status[data-state=error]', { timeout: 120_000 });
      expect(await page.textContent('#status')).to.match(/^tf_mobilenet_v2_100 ready on wasm \(wasm/);
    } finally {
      await context.close();
    }
  });

  it('classifies frames from the camera (Chromium\'s fake camera)', async () => {
    const context = await browser!.newContext({ permissions: ['camera'] });
    try {
      const page = await context.newPage();
      await open(page);
      await page.click('#camera-button');
      await page.waitForSelector('#status:has-text("Classified camera frame"), #status[data-state=error]', { timeout: HANG_MS });
      expect(await page.textContent('#status')).to.match(/^Classified camera frame with tf_mobilenet_v2_100 on wasm/);
      expect(await page.$$('#results li')).to.have.length(5);
      await page.click('#camera-button');
      expect(await page.isHidden('#camera')).to.equal(true);
      expect(pageErrors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('teaches it your own classes: images per class from files and the camera, train with progress, classify with the new classes', async () => {
    const context = await browser!.newContext({ permissions: ['camera'] });
    const sample = (f: string) => join(SHARED, 'imagenet', 'one-per-class', `${f}.JPEG`);
    try {
      const page = await context.newPage();
      await open(page);
      await page.fill('#teach-name-0', 'beetle');
      await page.setInputFiles('#teach-files-0', ['n02165105_tiger_beetle', 'n02165456_ladybug', 'n02167151_ground_beetle'].map(sample));
      await page.fill('#teach-name-1', 'dog');
      await page.setInputFiles('#teach-files-1', ['n02085620_Chihuahua', 'n02085782_Japanese_spaniel', 'n02085936_Maltese_dog'].map(sample));
      await page.click('#teach-camera-1'); // starts Chromium's fake camera and adds its frame to "dog"
      await page.waitForSelector('#teach-classes .teach-class:nth-child(2) .count:text-is("4 images")', { timeout: HANG_MS });
      await page.click('#camera-button');
      expect(await page.textContent('#teach-classes .teach-class:nth-child(1) .count')).to.equal('3 images');
      // Every line the training status shows, in order.
      await page.evaluate(() => {
        const el = document.getElementById('teach-status')!;
        const log: string[] = ((window as unknown as { teachLog: string[] }).teachLog = []);
        new MutationObserver(() => log.push(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
      });
      await page.click('#teach-train');
      await page.waitForSelector('#teach-status[data-state=done], #teach-status[data-state=error]', { timeout: HANG_MS });
      const status = (await page.textContent('#teach-status'))!;
      console.log(`      ${status}`);
      expect(status).to.match(/^Taught beetle, dog \(7 images\) in [\d.]+ s on wasm: training accuracy \d+%/);
      const log = await page.evaluate(() => (window as unknown as { teachLog: string[] }).teachLog);
      expect(log.some((l) => /^Features of the images: 21 \/ 21$/.test(l)), 'feature progress shown').to.equal(true);
      expect(log.some((l) => /^Training the new head: epoch 20 \/ 20, loss/.test(l)), 'epoch progress shown').to.equal(true);
      expect(await page.$eval('#teach-progress', (e) => (e as HTMLProgressElement).value)).to.equal(1);

      expect(status).to.match(/ Kept in this browser for your next visit\.$/);
      const classifyPekinese = async () => {
        await page.evaluate(() => { document.getElementById('results')!.replaceChildren(); });
        await page.setInputFiles('#file', sample('n02086079_Pekinese'));
        await page.waitForSelector('#results li:nth-child(2), #status[data-state=error]', { timeout: HANG_MS });
        expect(await page.textContent('#status')).to.equal('Classified n02086079_Pekinese.JPEG with your classes (taught on tf_mobilenet_v2_100) on wasm.');
        expect(await page.$$eval('#results li .name', (els) => els.map((e) => e.textContent))).to.deep.equal(['dog', 'beetle']);
      };
      await classifyPekinese();
      await page.screenshot({ path: join(ARTIFACTS, 'web-teach.png'), fullPage: true });

      // A later visit: the classifier kept in IndexedDB comes back without teaching it again.
      await page.reload();
      await page.waitForSelector('#status[data-state=ready], #status[data-state=error]', { timeout: HANG_MS });
      await page.waitForSelector('#teach-restore:not([disabled])', { timeout: HANG_MS });
      await page.click('#teach-restore');
      await page.waitForSelector('#teach-status[data-state=done], #teach-status[data-state=error]', { timeout: HANG_MS });
      expect(await page.textContent('#teach-status')).to.equal('Using the classes taught last time (beetle, dog), on tf_mobilenet_v2_100. ' +
        'Choose an image (or the camera) to classify with them.');
      await classifyPekinese();

      await page.click('#teach-forget');
      await page.waitForSelector('#teach-status:text-is("Back to the ImageNet classes.")', { timeout: HANG_MS });
      expect(await page.isDisabled('#teach-restore'), 'nothing kept after "back to ImageNet classes"').to.equal(true);
      expect((await classifyGrace(page)).map((p) => p.label)).to.include('military uniform');
      expect(pageErrors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('bundles the library for browsers: no sharp decoder, Node-only modules only behind lazy imports, dependencies left to the app', () => {
    type Meta = {
      inputs: Record<string, { imports: { path: string; kind: string }[] }>;
      outputs: Record<string, { entryPoint?: string; imports: { path: string; kind: string; external?: boolean }[] }>;
    };
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'browser', 'meta.json'), 'utf8')) as Meta;
    const inputs = Object.keys(meta.inputs);
    expect(inputs).to.include('src/image/browser-decode.ts');
    expect(inputs).to.not.include('src/image/decode.ts');
    expect(inputs.filter((p) => !p.startsWith('src/') && !p.startsWith('node-only:')), 'third-party code inside the bundle').to.deep.equal([]);
    const eager = Object.values(meta.inputs).flatMap((i) => i.imports).filter((i) => i.path.startsWith('node-only:') && i.kind !== 'dynamic-import');
    expect(eager).to.deep.equal([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const bundle = Object.values(meta.outputs).find((o) => o.entryPoint)!;
    const packageOf = (path: string): string => path.split('/').slice(0, path.startsWith('@') ? 2 : 1).join('/');
    const external = [...new Set(bundle.imports.filter((i) => i.external).map((i) => packageOf(i.path)))];
    expect(external).to.include('@tensorflow/tfjs');
    for (const dep of external) expect(Object.keys(pkg.dependencies).filter((d) => d !== 'sharp'), dep).to.include(dep);
  });

  it('package exports: bundlers get the browser build, Node the main build, and npm pack ships both', async () => {
    const entry = join(ARTIFACTS, 'exports-entry.js');
    writeFileSync(entry, "import { list } from 'cnn-zoo'; console.log(list().length);\n");
    // How a bundler resolves `cnn-zoo` (the package's self-reference): through its `exports` conditions.
    const bundled = async (platform: 'browser' | 'node') => Object.keys((await build({
      entryPoints: [entry], bundle: true, write: false, format: 'esm', platform, metafile: true, logLevel: 'silent',
      external: ['@tensorflow/*', 'sharp', 'fflate', 'flatbuffers', 'h5wasm', 'protobufjs', 'protobufjs/*'],
    })).metafile.inputs).filter((p) => p.startsWith('dist/'));
    expect(await bundled('browser')).to.deep.equal(['dist/browser/cnn-zoo.js']);
    expect(await bundled('node')).to.include('dist/index.js');
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const files = (JSON.parse(out.slice(out.indexOf('['))) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['dist/browser/cnn-zoo.js', 'dist/browser.d.ts', 'dist/index.js', 'models/tf_mobilenet_v2_100/model.json']) expect(files, f).to.include(f);
  });
});
