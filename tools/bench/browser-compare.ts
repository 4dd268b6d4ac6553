/**
 * The Chromium part of the side-by-side bench (tools/bench/compare.ts): one headless Chromium page, cross-origin
 * isolated (COOP/COEP from the loopback server), wasm with 2 threads everywhere, interleaved rounds (in balanced
 * orders: `balancedOrders` in common.ts), batch 1:
 * - cnn-zoo: the browser bundle (tools/build-browser.mjs, bundled into the page as an app would), `load(weights)`,
 *   `classify(<img>)` end to end and the model alone;
 * - stock tfjs-wasm: `tf.loadLayersModel` of the same converted weights (the training form as saved, no cnn-zoo
 *   inference transform), model alone;
 * - onnxruntime-web (wasm, 2 threads) on our ONNX export (NCHW), model alone.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { build } from 'esbuild';
import { balancedOrders } from './common.js';

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.onnx': 'application/octet-stream', '.jpg': 'image/jpeg', '.html': 'text/html' };

/** The page's contenders, in the order of its `runs`. */
const VARIANTS = ['cnn-zoo classify(img)', 'cnn-zoo model alone', 'stock tfjs-wasm (loadLayersModel, training form), model alone',
  'onnxruntime-web wasm (our export), model alone'] as const;

export interface BrowserRow { contender: string; min: number; median: number }
export interface BrowserResult { rows: BrowserRow[]; info: { chromium: string; isolated: boolean; backend: string; threads: number; multithread: boolean; top5: string[]; wasmFiles?: string[] } }

/** Serves `files` (URL path prefix -> folder or file) on 127.0.0.1 with COOP/COEP, so the page is cross-origin isolated. */
function serve(routes: Record<string, string | Buffer>, served: string[]): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    served.push(path);
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };
    try {
      const prefix = Object.keys(routes).filter((p) => path === p || (p.endsWith('/') && path.startsWith(p))).sort((a, b) => b.length - a.length)[0];
      if (prefix === undefined) throw new Error('no route');
      const target = routes[prefix]!;
      const rest = normalize(path.slice(prefix.length));
      if (rest.startsWith('..')) throw new Error('outside');
      const body = typeof target === 'string' ? await readFile(prefix.endsWith('/') ? join(target, rest) : target) : target;
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(path)] ?? (prefix === '/' ? 'text/html' : 'application/octet-stream') });
      res.end(body);
    } catch {
      res.writeHead(404, headers);
      res.end();
    }
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    done({ server, url: `http://127.0.0.1:${a.port}` });
  }));
}

export async function browserCompare(o: { root: string; weightsDir: string; onnxPath: string; image: string; rounds: number; bundleDir: string }): Promise<BrowserResult> {
  const { buildBrowserBundle } = (await import(join(o.root, 'tools', 'build-browser.mjs'))) as { buildBrowserBundle(a: { outdir: string; quiet: boolean }): Promise<{ file: string }> };
  const { file } = await buildBrowserBundle({ outdir: o.bundleDir, quiet: true });
  const require = createRequire(join(o.root, 'package.json'));
  const tfjsWasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const ortDist = join(o.root, 'node_modules', 'onnxruntime-web', 'dist'); // its exports map hides package.json
  const page = `
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { load, useBackend } from ${JSON.stringify(file)};
window.bench = async ({ rounds, orders, names }) => {
  setWasmPaths(location.origin + '/wasm/');
  await useBackend('wasm', { wasmThreads: 2 });
  const img = new Image(); img.src = '/image.jpg'; await img.decode();
  const zoo = await load(location.origin + '/weights/');
  const top5 = (await zoo.classify(img)).map((p) => p.label);
  const stock = await tf.loadLayersModel(location.origin + '/weights/model.json');
  const x = await zoo.preprocess(img);
  const [, h, w, c] = x.shape;
  const nchw = new Float32Array(await tf.tidy(() => x.transpose([0, 3, 1, 2])).data());
  ort.env.wasm.wasmPaths = location.origin + '/ort/';
  ort.env.wasm.numThreads = 2;
  const session = await ort.InferenceSession.create('/model.onnx', { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', nchw, [1, c, h, w]) };
  const predict = (m) => async () => { const y = m.predict(x); await y.data(); y.dispose(); };
  const runs = [() => zoo.classify(img), predict(zoo.model), predict(stock), () => session.run(feeds)]; // as VARIANTS
  const variants = names.map((name, i) => [name, runs[i]]);
  const times = variants.map(() => []);
  for (let r = 0; r < rounds + 2; r++) {
    for (const i of orders[r % orders.length]) {
      const t = performance.now();
      await variants[i][1]();
      if (r >= 2) times[i].push(performance.now() - t);
    }
  }
  const rows = variants.map(([contender], i) => { const s = times[i].sort((a, b) => a - b); return { contender, min: s[0], median: s[Math.floor(s.length / 2)] }; });
  return { rows, info: { isolated: crossOriginIsolated, backend: tf.getBackend(), threads: getThreadsCount(), multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'), top5 } };
};`;
  const bundle = await build({ stdin: { contents: page, resolveDir: o.root, loader: 'js' }, bundle: true, write: false, format: 'iife', target: 'es2022', platform: 'browser', logLevel: 'error' });
  const html = '<!doctype html><html><head><script src="/ort/ort.wasm.min.js"></script><script src="/page.js"></script></head><body></body></html>';
  const served: string[] = [];
  const { server, url } = await serve({
    '/': Buffer.from(html), '/page.js': Buffer.from(bundle.outputFiles[0]!.text), '/wasm/': tfjsWasmDist, '/ort/': ortDist,
    '/weights/': o.weightsDir, '/model.onnx': o.onnxPath, '/image.jpg': o.image,
  }, served);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const tab = await browser.newPage();
    tab.setDefaultTimeout(600000);
    await tab.goto(`${url}/`);
    type Bench = (a: { rounds: number; orders: number[][]; names: readonly string[] }) => Promise<{ rows: BrowserRow[]; info: Omit<BrowserResult['info'], 'chromium'> }>;
    const res = await tab.evaluate((a) => (window as unknown as { bench: Bench }).bench(a),
      { rounds: o.rounds, orders: balancedOrders(VARIANTS.length), names: VARIANTS });
    return { rows: res.rows, info: { chromium: browser.version(), ...res.info, wasmFiles: served.filter((p) => /\.(wasm|mjs)$/.test(p)) } };
  } finally {
    await browser.close();
    server.close();
  }
}
