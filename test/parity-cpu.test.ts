/**
 * Parity on tfjs's `cpu` backend (pure JavaScript, about 30x slower than wasm here): every torchvision architecture
 * at its smallest fixture size (128x192, test/fixtures/parity-sizes/), so the cpu kernels (convs, pools, adaptive
 * pools, grouped convs) are pinned for every family without running all fixtures on cpu (docs/PARITY.md has the
 * cost and the per-backend errors). Same tolerances as on wasm.
 */
import { parityCases } from './helpers/parity.js';
import { SIZE_FIXTURES, SMALLEST, sizeFixturePath } from './helpers/size-fixtures.js';

describe(`parity on cpu: every architecture at ${SMALLEST}`, () => {
  parityCases(SIZE_FIXTURES.filter((f) => f.endsWith(`-${SMALLEST}`)), 'cpu', { pathOf: sizeFixturePath, onnx: false }); // the ONNX export is checked on wasm
});
