/**
 * Parity on tfjs's `cpu` backend (pure JavaScript, about 30x slower than wasm here): every torchvision architecture
 * at its smallest fixture size (128x192, test/fixtures/parity-sizes/), and for the families that have no torchvision
 * architecture (or whose timm/Cadene/megvii models use other layers: MobileNet v1, ShuffleNet v1, SE blocks, DPN,
 * BN-Inception, NASNet-A) the cheapest default-size fixture of each, so the cpu kernels (convs,
 * pools, adaptive and PyTorch-exact pools, grouped and separable convs, channel shuffle) are pinned for 12 of the 14
 * families (Xception and DarkNet-53: below) without running all fixtures on cpu (docs/PARITY.md has the cost and the per-backend errors). Same tolerances as on
 * wasm.
 */
import { parityCases } from './helpers/parity.js';
import { SIZE_FIXTURES, SMALLEST, sizeFixturePath } from './helpers/size-fixtures.js';

describe(`parity on cpu: every architecture at ${SMALLEST}`, () => {
  parityCases(SIZE_FIXTURES.filter((f) => f.endsWith(`-${SMALLEST}`)), 'cpu', { pathOf: sizeFixturePath, onnx: false }); // the ONNX export is checked on wasm
});

/**
 * The families beyond torchvision's, one default-size fixture each (the ones the WebGL test runs), seconds on cpu
 * at a load of ~3: 1.0, 3.0, 12.8, 49.2, 27.5, 16.7. Xception (106 s) and DarkNet-53 (135 s) are left to wasm, WebGL
 * and WebGPU: their layers (separable convs as in NASNet-A and MobileNet, plain conv + BN + LeakyReLU, residual adds)
 * run on cpu here in the other families, and both passed on cpu once (docs/PARITY.md).
 */
export const CPU_FAMILY_FIXTURES = ['timm_mobilenetv1_025', 'shufflenet_v1_g3_0_5x', 'timm_legacy_seresnet18', 'timm_dpn68',
  'bninception', 'nasnetamobile'] as const;

describe('parity on cpu: a fixture of the families beyond torchvision\'s', () => {
  parityCases(CPU_FAMILY_FIXTURES, 'cpu', { onnx: false });
});
