/**
 * Vite config of the web app (`npx vite examples/web` to develop, `npx vite build examples/web` to build).
 * - `cnn-zoo` is the package's browser bundle (`dist/browser/cnn-zoo.js`), rebuilt from src/ at start;
 * - the package's shipped weights (`models/<name>/`) and tfjs's wasm binaries (`wasm/*.wasm`) are served in
 *   development and copied into the build.
 */
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBrowserBundle, DEFAULT_OUTDIR } from '../../tools/build-browser.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const WASM_DIR = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');

/** URL path in the app -> file on disk, for every asset the app fetches at run time. */
function assetFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const models = join(ROOT, 'models');
  for (const name of readdirSync(models)) {
    if (!statSync(join(models, name)).isDirectory()) continue;
    for (const f of readdirSync(join(models, name))) files.set(`models/${name}/${f}`, join(models, name, f));
  }
  for (const f of readdirSync(WASM_DIR)) if (f.endsWith('.wasm')) files.set(`wasm/${f}`, join(WASM_DIR, f));
  return files;
}

const TYPES: Record<string, string> = { '.json': 'application/json', '.bin': 'application/octet-stream', '.wasm': 'application/wasm' };

function zooAssets(): Plugin {
  const files = assetFiles();
  return {
    name: 'cnn-zoo-assets',
    async buildStart() {
      await buildBrowserBundle({ quiet: true });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]!.replace(/^\//, ''));
        const file = files.get(path);
        if (!file) return next();
        res.setHeader('Content-Type', TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream');
        createReadStream(file).pipe(res);
      });
    },
    generateBundle() {
      for (const [fileName, file] of files) this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
    },
  };
}

export default defineConfig({
  root: HERE,
  base: './',
  plugins: [zooAssets()],
  resolve: { alias: { 'cnn-zoo': join(DEFAULT_OUTDIR as string, 'cnn-zoo.js') } },
  // esbuild's minifier, not Vite's default: that one rewrites `typeof x !== "undefined"` checks in the code that
  // tfjs-backend-wasm's threaded build hands to its workers, which then fail in a cross-origin isolated page (cnn-zoo
  // falls back to 1 thread and says so; tfjs's README, "JS Minification", asks the same of terser: typeofs: false).
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, minify: 'esbuild' },
});
