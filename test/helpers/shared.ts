/** Paths into ../shared (tests may read it; the package never does). */
import { existsSync } from 'node:fs';
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
