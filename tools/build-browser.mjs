#!/usr/bin/env node
/**
 * Builds the browser bundle `dist/browser/cnn-zoo.js` (ESM) from `src/browser.ts` with esbuild:
 * - npm packages stay imports (`@tensorflow/tfjs` above all: the app's bundler provides it, so app and models
 *   share one tfjs; the others are cnn-zoo's dependencies, installed with it);
 * - Node-only modules (`node:*`, sharp, the `webgpu` Dawn package, h5wasm's Node build) are replaced by stubs
 *   that throw when used (the library only reaches them in Node), and so are cnn-zoo's own Node-only modules
 *   (NODE_ONLY_SOURCES: the HDF5 worker thread, whose `new URL('./h5-worker.js', import.meta.url)` bundlers would
 *   try to resolve);
 * - `src/image/decode.ts` (sharp) is replaced by `src/image/browser-decode.ts` (the browser's own decoders).
 * Writes `dist/browser/meta.json` (esbuild's metafile: which source files went in) next to the bundle.
 * Usage: node tools/build-browser.mjs [--outdir DIR]
 */
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the bundle goes by default (the package's `browser` export). */
export const DEFAULT_OUTDIR = join(ROOT, 'dist', 'browser');

/** Modules the bundle must never contain (checked after the build). */
export const NODE_ONLY = /^(node:|sharp$|webgpu$|h5wasm\/node$)/;
/** cnn-zoo's own Node-only modules (reached through a lazy import on the Node path), replaced by the same stub. */
export const NODE_ONLY_SOURCES = /(^|\/)h5-thread\.js$/;

const browserOnly = {
  name: 'cnn-zoo-browser',
  setup(b) {
    b.onResolve({ filter: NODE_ONLY }, (a) => ({ path: a.path, namespace: 'node-only' }));
    b.onResolve({ filter: NODE_ONLY_SOURCES }, (a) => ({ path: a.path, namespace: 'node-only' }));
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, (a) => ({
      contents: `throw new Error(${JSON.stringify(`cnn-zoo: "${a.path}" is Node-only and not available in browsers.`)});`,
      loader: 'js',
    }));
    b.onResolve({ filter: /\/image\/decode\.js$/ }, () => ({ path: join(ROOT, 'src', 'image', 'browser-decode.ts') }));
  },
};

/** Build the bundle into `outdir`; returns the bundle's path, size and the source files that went in. */
export async function buildBrowserBundle({ outdir = DEFAULT_OUTDIR, quiet = false } = {}) {
  const started = Date.now();
  const result = await build({
    entryPoints: [join(ROOT, 'src', 'browser.ts')],
    outfile: join(outdir, 'cnn-zoo.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    metafile: true,
    packages: 'external',
    plugins: [browserOnly],
    logLevel: 'warning',
  });
  const eager = Object.entries(result.metafile.inputs).flatMap(([file, input]) => input.imports
    .filter((i) => i.path.startsWith('node-only:') && i.kind !== 'dynamic-import').map((i) => `${file} imports ${i.path.slice(10)}`));
  if (eager.length) {
    throw new Error(`The browser bundle would load Node-only modules at start: ${eager.join('; ')}. ` +
      'Import them lazily (`await import(...)` on the Node path), or keep the module out of src/browser.ts\'s imports.');
  }
  // onnxruntime-web/-node (optional peers) are never imported by name: an app without them must still bundle (an
  // unresolved import fails Vite's build); browsers get onnxruntime-web from the app: setOnnxRuntime(ort).
  const ort = Object.entries(result.metafile.inputs).flatMap(([file, input]) => input.imports
    .filter((i) => /^onnxruntime-(web|node)/.test(i.path))
    .map((i) => `${file}: ${i.kind} ${i.path}`));
  if (ort.length) throw new Error(`The browser bundle must not import onnxruntime by name (setOnnxRuntime(ort) hands it over): ${ort.join('; ')}.`);
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  const file = join(outdir, 'cnn-zoo.js');
  const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
  const inputs = Object.keys(result.metafile.inputs);
  if (!quiet) console.log(`browser bundle: ${file} (${(bytes / 1024).toFixed(0)} KiB, ${inputs.length} inputs, ${Date.now() - started} ms)`);
  return { file, bytes, inputs };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outdir');
  await buildBrowserBundle({ outdir: at >= 0 ? resolve(args[at + 1]) : DEFAULT_OUTDIR });
}
