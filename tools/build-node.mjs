#!/usr/bin/env node
/**
 * Post-processes tsc's Node build (`dist/`, not the browser bundle): the compiled modules load the CommonJS tfjs
 * packages through `require()` instead of an ESM `import`.
 *
 * Why: when ESM imports a CommonJS module, Node (20) first lexes its source for export names, following its
 * re-exports: for `@tensorflow/tfjs` that is tfjs-core, -layers, -converter, -data and the cpu and webgl backends,
 * about 6 MB of JavaScript, 150-200 ms on every start of a Node process that imports cnn-zoo (`cnn-zoo list` 0.6 s,
 * of which the lexing is a quarter). `require()` loads the same files without lexing them, and the module it returns
 * is the one an app's own `import * as tf from '@tensorflow/tfjs'` gets (Node loads a CommonJS file once, whichever
 * way it is asked for), so app and models share one tfjs.
 *
 * How: for each package of CJS_PACKAGES this writes an ES module `dist/require/<name>.js` whose default export is
 * `createRequire(import.meta.url)(PKG)` (a form Node bundlers keep, or resolve as a require: esbuild leaves the call
 * to run from the bundle's folder, webpack follows it), and rewrites the two forms tsc emits for those packages:
 *   import * as tf from 'PKG';   ->  import tf from '<relative>/require/<name>.js';
 *   import('PKG')                ->  import('<relative>/require/<name>.js').then((m) => m.default)
 * Any other import of those packages left in `dist/` fails the build. The sources, the type declarations and the
 * browser bundle (tools/build-browser.mjs, from the sources) keep the plain imports.
 * Usage: node tools/build-node.mjs [--dist DIR]
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The CommonJS packages the Node build requires rather than imports. */
export const CJS_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const shimName = (pkg) => `${pkg.replace(/^@/, '').replace(/\//g, '-')}.js`;

function* jsFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'browser' && e.name !== 'require') yield* jsFiles(p); }
    else if (e.name.endsWith('.js')) yield p;
  }
}

/** Rewrite `dist`'s modules; returns how many imports were rewritten. */
export function buildNode({ dist = join(ROOT, 'dist') } = {}) {
  const shims = join(dist, 'require');
  mkdirSync(shims, { recursive: true });
  for (const pkg of CJS_PACKAGES) {
    writeFileSync(join(shims, shimName(pkg)), `// Written by tools/build-node.mjs: ${pkg} through require() (see there why).\n` +
      `import { createRequire } from 'node:module';\nexport default createRequire(import.meta.url)(${JSON.stringify(pkg)});\n`);
  }
  let rewritten = 0;
  const left = [];
  for (const file of jsFiles(dist)) {
    const source = readFileSync(file, 'utf8');
    let out = source;
    for (const pkg of CJS_PACKAGES) {
      let rel = relative(dirname(file), join(shims, shimName(pkg))).split(sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      const q = `['"]${escape(pkg)}['"]`;
      out = out
        .replace(new RegExp(`^import \\* as (\\w+) from ${q};$`, 'gm'), (_, name) => (rewritten++, `import ${name} from '${rel}';`))
        .replace(new RegExp(`\\bimport\\(${q}\\)`, 'g'), () => (rewritten++, `import('${rel}').then((m) => m.default)`));
      const rest = out.match(new RegExp(`(\\bfrom\\s*|\\bimport\\s*\\(\\s*|^import\\s*)${q}`, 'm'));
      if (rest) left.push(`${relative(dist, file)}: ${rest[0]}`);
    }
    if (out !== source) writeFileSync(file, out);
  }
  if (left.length) {
    throw new Error(`tools/build-node.mjs: imports of ${CJS_PACKAGES.join(', ')} in a form it does not rewrite: ${left.join('; ')}. ` +
      "Write them as `import * as name from 'PKG';` or `await import('PKG')`.");
  }
  return rewritten;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--dist');
  const n = buildNode(i > 0 ? { dist: resolve(process.argv[i + 1]) } : {});
  console.log(`node build: ${n} imports of ${CJS_PACKAGES.length} CommonJS packages load through require()`);
}
