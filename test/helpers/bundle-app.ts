/**
 * Browser tests' apps: `source` written as `app.js` in a fresh scratch folder whose `node_modules/cnn-zoo` links to
 * this checkout (so `import ... from 'cnn-zoo'` resolves as in a user's app: the package's browser build), bundled
 * with esbuild into `out/app.js` as an app's bundler would (`bundleApp`, returns the bundle's path), or built by Vite
 * as a site with an `index.html` (`bundleAppWithVite`, returns the site's folder).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from './shared.js';

/** A fresh folder that imports `cnn-zoo` as an installed package (node_modules/cnn-zoo -> this checkout). */
export function linkPackage(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'cnn-zoo'), 'dir');
}

export async function bundleApp(work: string, source: string): Promise<string> {
  linkPackage(work);
  writeFileSync(join(work, 'app.js'), source);
  const out = join(work, 'out', 'app.js');
  await build({ entryPoints: [join(work, 'app.js')], outfile: out, bundle: true, format: 'esm', platform: 'browser',
    target: 'es2022', logLevel: 'error', nodePaths: [join(ROOT, 'node_modules')] });
  return out;
}

/** `source` as a Vite production build (`vite build`, minified by Vite's default minifier or by `minify`) in `work/out`. */
export function bundleAppWithVite(work: string, source: string, minify?: 'esbuild' | 'terser'): string {
  linkPackage(work);
  writeFileSync(join(work, 'app.js'), source);
  writeFileSync(join(work, 'index.html'), '<!doctype html><script type="module" src="./app.js"></script>');
  const out = join(work, 'out');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', work, '--outDir', out, '--emptyOutDir',
    '--target', 'es2022', '--logLevel', 'error', ...(minify ? ['--minify', minify] : [])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}
