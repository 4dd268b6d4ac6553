/**
 * `useBackend('wasm', { wasmThreads })` in Debian's Chromium (headless) on an app bundled with esbuild against the
 * package's browser build. tfjs-backend-wasm sizes its pthread pool to half of `navigator.hardwareConcurrency`
 * whatever `setThreadsCount` asks (1 thread on a 2-core machine); cnn-zoo reports 2 x threads cores while the
 * backend starts, so a cross-origin isolated page gets the threads it asked for, and computes what `cpu` computes.
 * A page that is not isolated cannot run threads: it runs on 1 and the backend's description says what to serve.
 * One thread takes the single-threaded build (no pthread workers). The same app bundled by Vite with its default
 * minifier, which breaks the code tfjs hands to its workers, starts on 1 thread and says why and what to change;
 * with the minifier that advice names, it gets its 2 threads.
 */
import { expect } from 'chai';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ROOT } from './helpers/shared.js';
import { bundleApp, bundleAppWithVite } from './helpers/bundle-app.js';
import { serve, type Site } from './helpers/serve.js';
import { launchChromium, pageResult } from './helpers/page-result.js';

const WORK = join(ROOT, 'test-artifacts', 'wasm-threads-browser');
const require = createRequire(import.meta.url);
const TFJS_WASM = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
/** The app: wasm with `?threads=N` threads (default 2), a convolution on it and on cpu, what ran. */
const APP = `import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { useBackend } from 'cnn-zoo';
setWasmPaths('/wasm/');
const cores = navigator.hardwareConcurrency;
const detail = await useBackend('wasm', { wasmThreads: Number(new URLSearchParams(location.search).get('threads') ?? 2) });
const conv = () => tf.tidy(() => {
  const x = tf.range(0, 1 * 28 * 28 * 16).reshape([1, 28, 28, 16]).sin();
  const w = tf.range(0, 3 * 3 * 16 * 32).reshape([3, 3, 16, 32]).cos().div(12);
  return tf.conv2d(x, w, 1, 'same');
});
const y = await conv().data();
await useBackend('cpu');
const ref = await conv().data();
window.__result = {
  isolated: crossOriginIsolated, cores, coresAfter: navigator.hardwareConcurrency,
  ownProperty: Object.getOwnPropertyDescriptor(navigator, 'hardwareConcurrency') !== undefined,
  detail, threads: getThreadsCount(),
  maxErr: Math.max(...y.map((v, i) => Math.abs(v - ref[i]))), scale: Math.max(...ref.map(Math.abs)),
  binaries: performance.getEntriesByType('resource').map((e) => e.name.split('/').pop()).filter((n) => n.endsWith('.wasm')),
};
`;
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

interface Result {
  isolated: boolean; cores: number; coresAfter: number; ownProperty: boolean; detail: string; threads: number; maxErr: number; scale: number;
  /** The wasm binaries the page fetched, in order. */
  binaries: string[];
}

describe('wasm threads in Chromium', function () {
  this.timeout(240_000);
  let browser: Browser | undefined;
  const sites: Site[] = [];

  before(async () => {
    expect(existsSync(join(ROOT, 'dist', 'browser', 'cnn-zoo.js')), 'the browser build (npm run build)').to.equal(true);
    const app = await bundleApp(join(WORK, 'esbuild'), APP);
    writeFileSync(join(WORK, 'esbuild', 'out', 'index.html'), '<!doctype html><script type="module" src="/app.js"></script>');
    const routes = { '/': join(WORK, 'esbuild', 'out', 'index.html'), '/app.js': app, '/wasm/': TFJS_WASM };
    sites.push(await serve(routes, ISOLATED), await serve(routes));
    for (const minify of ['default', 'esbuild'] as const) {
      const out = bundleAppWithVite(join(WORK, `vite-${minify}`), APP, minify === 'default' ? undefined : minify);
      sites.push(await serve({ '/': join(out, 'index.html'), '/assets/': join(out, 'assets'), '/wasm/': TFJS_WASM }, ISOLATED));
    }
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const s of sites) await s.close();
  });

  it('a cross-origin isolated page gets the 2 threads it asks for, whatever its cores, and the conv equals cpu\'s', async () => {
    const { result: r, errors } = await pageResult<Result>(browser!, `${sites[0]!.url}/`);
    expect(errors, 'page errors').to.deep.equal([]);
    expect(r, 'the app finished').to.not.equal(undefined);
    console.log(`      ${r!.cores} cores reported by Chromium; ${r!.detail}`);
    expect(r!.isolated).to.equal(true);
    expect(r!.threads).to.equal(2);
    expect(r!.detail).to.equal('wasm SIMD, 2 threads');
    // The page's navigator reads its own value again once the backend has started.
    expect(r!.coresAfter).to.equal(r!.cores);
    expect(r!.ownProperty).to.equal(false);
    expect(r!.maxErr / r!.scale).to.be.below(1e-5);
    expect(r!.binaries).to.deep.equal(['tfjs-backend-wasm-threaded-simd.wasm']);
  });

  it('one thread in an isolated page takes the single-threaded build (no pthread workers)', async () => {
    const { result: r, errors } = await pageResult<Result>(browser!, `${sites[0]!.url}/?threads=1`);
    expect(errors, 'page errors').to.deep.equal([]);
    expect(r, 'the app finished').to.not.equal(undefined);
    expect(r!.isolated).to.equal(true);
    expect(r!.detail).to.equal('wasm SIMD, 1 thread');
    expect(r!.binaries).to.deep.equal(['tfjs-backend-wasm-simd.wasm']);
    expect(r!.maxErr / r!.scale).to.be.below(1e-5);
  });

  it('a page that is not isolated runs on 1 thread and the backend description says which headers to serve', async () => {
    const { result: r, errors } = await pageResult<Result>(browser!, `${sites[1]!.url}/`);
    expect(errors, 'page errors').to.deep.equal([]);
    expect(r, 'the app finished').to.not.equal(undefined);
    expect(r!.isolated).to.equal(false);
    expect(r!.threads).to.equal(1);
    expect(r!.detail).to.match(/^wasm SIMD, 1 thread \(wasmThreads 2 asked: threads need a cross-origin isolated page/)
      .and.include('Cross-Origin-Opener-Policy: same-origin').and.include('Cross-Origin-Embedder-Policy: require-corp');
    expect(r!.coresAfter).to.equal(r!.cores);
    expect(r!.maxErr / r!.scale).to.be.below(1e-5);
  });

  it('bundled by Vite with its default minifier, the threaded build\'s workers fail: wasm starts on 1 thread and says why and what to change', async () => {
    const { result: r, errors } = await pageResult<Result>(browser!, `${sites[2]!.url}/`);
    expect(r, 'the app finished (tfjs alone waits for the failed workers forever)').to.not.equal(undefined);
    console.log(`      ${r!.detail}`);
    expect(r!.isolated).to.equal(true);
    expect(r!.threads).to.equal(1);
    expect(r!.detail).to.match(/^wasm SIMD, 1 thread \(the threaded build's workers failed to start: ReferenceError: \w+ is not defined\. /)
      .and.include("build.minify: 'esbuild'").and.include('typeofs: false');
    expect(r!.binaries).to.deep.equal(['tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm-simd.wasm']);
    expect(r!.maxErr / r!.scale).to.be.below(1e-5);
    // The page errors are the workers' own (emscripten rethrows them in the page); nothing else failed.
    expect(errors.length).to.be.above(0);
    for (const e of errors) expect(e).to.match(/is not defined|ErrorEvent/);
  });

  it('bundled by Vite with `build.minify: \'esbuild\'` (the advice), the isolated page gets its 2 threads', async () => {
    const { result: r, errors } = await pageResult<Result>(browser!, `${sites[3]!.url}/`);
    expect(errors, 'page errors').to.deep.equal([]);
    expect(r, 'the app finished').to.not.equal(undefined);
    expect(r!.detail).to.equal('wasm SIMD, 2 threads');
    expect(r!.binaries).to.deep.equal(['tfjs-backend-wasm-threaded-simd.wasm']);
    expect(r!.maxErr / r!.scale).to.be.below(1e-5);
  });
});
