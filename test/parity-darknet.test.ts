import { parityCases } from './helpers/parity.js';

describe('parity: DarkNet-53 (wasm)', () => {
  parityCases(['timm_darknet53']);
});
