import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { det, fnv1a32 } from '../src/parity/det.js';
import { SHARED } from './helpers/shared.js';

describe('det() weight stream', () => {
  const raw = JSON.parse(readFileSync(join(SHARED, 'fixtures', 'vectors.json'), 'utf8')) as Record<string, unknown>;
  const vectors = Object.fromEntries(Object.entries(raw).filter(([, v]) => Array.isArray(v))) as Record<string, number[]>;

  it('reproduces every vector of vectors.json bit for bit', () => {
    expect(Object.keys(vectors).length).to.be.greaterThan(3);
    for (const [key, expected] of Object.entries(vectors)) {
      const m = /^scaled:(.*):([0-9.e-]+)$/.exec(key);
      const got = m ? det(m[1]!, expected.length, Number(m[2])) : det(key, expected.length, 1);
      expect(Array.from(got), key).to.deep.equal(expected.map((v) => Math.fround(v)));
    }
  });

  it('hashes the empty string to the FNV-1a offset basis', () => {
    expect(fnv1a32('')).to.equal(0x811c9dc5);
  });
});
