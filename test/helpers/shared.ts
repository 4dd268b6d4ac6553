/** Paths into ../shared (tests may read it; the package never does). */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = process.env.CNN_ZOO_SHARED ?? resolve(ROOT, '..', 'shared');
if (!existsSync(SHARED)) throw new Error(`Tests need the shared data folder at ${SHARED} (set CNN_ZOO_SHARED).`);
/**
 * The one wall-clock limit in tests, for child processes, browser pages and servers: a guard against a hang,
 * never a speed check, so a loaded machine does not reach it (tests otherwise keep mocha's 900 s, .mocharc.cjs).
 */
export const HANG_MS = 600_000;
export const fixturePath = (name: string): string => join(SHARED, 'fixtures', 'parity', `${name}.json.gz`);

/** The newest modification time (ms) of the .ts files under `dir`. */
function newestSource(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newestSource(join(dir, e.name))
    : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0)));
}

/**
 * `node` arguments that start the CLI (`spawnSync(process.execPath, [...CLI, 'classify', ...])`): the built
 * dist/cli/main.js, what users run, where it is newer than every source file (`npm test` builds first), else
 * src/cli/main.ts through tsx (a test run without a build). tsx compiles the sources at each start: 0.9 s of the
 * 1.5 s a `cnn-zoo list` took, in a suite that starts the CLI over a hundred times.
 */
export const CLI: readonly string[] = (() => {
  const built = join(ROOT, 'dist', 'cli', 'main.js');
  return existsSync(built) && statSync(built).mtimeMs >= newestSource(join(ROOT, 'src')) ? [built] : ['--import', import.meta.resolve('tsx'), join(ROOT, 'src', 'cli', 'main.ts')];
})();
