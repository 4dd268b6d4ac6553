/**
 * The source tree's import graph goes one way: every module imports only from its own home or homes below it
 * (docs/DEVELOPING.md, "The tree"). An upward import (a layer importing the converter, artifacts importing the
 * download code) fails here with the offending line.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { ROOT } from './helpers/shared.js';

/** Homes from the bottom up; a home may import homes of a lower or equal rank. */
const ORDER: readonly (readonly string[])[] = [
  ['errors', 'platform', 'arrays'], ['labels', 'image', 'backend', 'kernels'], ['layers'], ['zoo'], ['inference'], ['artifacts'],
  ['checkpoints'], ['convert'], ['onnx'], ['pretrained'], ['api'], ['train'], ['eval', 'parity'], ['cli'], ['index', 'browser'],
];
const RANK = new Map(ORDER.flatMap((homes, rank) => homes.map((h) => [h, rank] as const)));
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}
const homeOf = (file: string): string => {
  const parts = relative(SRC, file).split(sep);
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, '') : parts[0]!;
};

describe('source tree', () => {
  it('every src/ home is placed in the import order', () => {
    const homes = new Set(files(SRC).map(homeOf));
    expect([...homes].filter((h) => !RANK.has(h)), 'homes missing from ORDER in test/tree.test.ts and docs/DEVELOPING.md').to.deep.equal([]);
  });

  it('imports only go down (no module imports a home above its own)', () => {
    const upward: string[] = [];
    let imports = 0;
    for (const file of files(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        imports++;
        const target = normalize(join(dirname(file), m[1]!));
        const [a, b] = [homeOf(file), homeOf(target)];
        if (RANK.get(b)! > RANK.get(a)!) upward.push(`${relative(ROOT, file)} (${a}) imports ${m[1]} (${b})`);
      }
    }
    expect(imports).to.be.greaterThan(300);
    expect(upward).to.deep.equal([]);
  });
});
