/**
 * Parity at input sizes other than the default: every torchvision architecture of the registry at 160x160 and at
 * 128x192 (non-square), fixtures made by tools/fixtures/make-fixtures.py (PyTorch 1.13 / torchvision 0.14) and
 * committed under test/fixtures/parity-sizes/. These pin adaptive pools that up- or down-sample, ceil-mode pools
 * and paddings at odd map sizes, and the flatten order of non-square maps.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parityCases } from './helpers/parity.js';
import { ROOT } from './helpers/shared.js';

export const SIZES_DIR = join(ROOT, 'test', 'fixtures', 'parity-sizes');
/** `<fixture>-<H>x<W>`, in name order. */
export const SIZE_FIXTURES = readdirSync(SIZES_DIR).filter((f) => f.endsWith('.json.gz')).map((f) => f.slice(0, -'.json.gz'.length)).sort();
export const sizeFixturePath = (file: string): string => join(SIZES_DIR, `${file}.json.gz`);

describe('parity at other input sizes (wasm)', () => {
  it('has a 160x160 and a 128x192 fixture for each architecture', () => {
    const names = new Set(SIZE_FIXTURES.map((f) => f.replace(/-\d+x\d+$/, '')));
    for (const name of names) {
      expect(SIZE_FIXTURES, name).to.include.members([`${name}-160x160`, `${name}-128x192`]);
    }
    expect(names.size).to.be.greaterThan(0);
  });
  parityCases(SIZE_FIXTURES, 'wasm', sizeFixturePath);
});
