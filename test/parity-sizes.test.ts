/**
 * Parity at input sizes other than the default: every torchvision architecture of the registry at 128x192
 * (non-square) and, except the deepest variants (`ONE_SIZE` in the script), at 160x160; fixtures made by
 * tools/fixtures/make-fixtures.py (PyTorch 1.13 / torchvision 0.14) and committed under test/fixtures/parity-sizes/.
 * They pin adaptive pools that up- or down-sample, ceil-mode pools and paddings at odd map sizes, and the flatten
 * order of non-square maps. Each runs on wasm (and exported to ONNX) and on cpu.
 */
import { expect } from 'chai';
import { parityCases } from './helpers/parity.js';
import { SIZE_FIXTURES, SMALLEST, sizeFixturePath } from './helpers/size-fixtures.js';
import { getSpec, listSpecs } from '../src/zoo/registry.js';

describe('parity at other input sizes (wasm and cpu)', () => {
  it(`covers every torchvision architecture of the registry at ${SMALLEST}, and one variant per family also at 160x160`, () => {
    const torchvision = listSpecs().filter((s) => s.meta.reference.startsWith('torchvision'));
    expect(torchvision.length).to.be.greaterThan(30);
    for (const s of torchvision) expect(SIZE_FIXTURES, s.name).to.include(`${s.name}-${SMALLEST}`);
    const square = new Set(SIZE_FIXTURES.filter((f) => f.endsWith('-160x160')).map((f) => getSpec(f.replace(/-160x160$/, '')).family));
    expect([...new Set(torchvision.map((s) => s.family))].filter((f) => !square.has(f))).to.deep.equal([]);
  });
  parityCases(SIZE_FIXTURES, { pathOf: sizeFixturePath });
});
