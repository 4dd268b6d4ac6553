/** The parity fixtures at other input sizes (test/fixtures/parity-sizes/<name>-<H>x<W>.json.gz, tools/fixtures/make-fixtures.py). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './shared.js';

export const SIZES_DIR = join(ROOT, 'test', 'fixtures', 'parity-sizes');
/** `<fixture>-<H>x<W>`, in name order. */
export const SIZE_FIXTURES: readonly string[] = readdirSync(SIZES_DIR).filter((f) => f.endsWith('.json.gz')).map((f) => f.slice(0, -'.json.gz'.length)).sort();
export const sizeFixturePath = (file: string): string => join(SIZES_DIR, `${file}.json.gz`);
/** The smallest size every architecture has: 128x192 (24 576 px, non-square). */
export const SMALLEST = '128x192';
