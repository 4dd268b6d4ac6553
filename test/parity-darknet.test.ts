import { parityCases } from './helpers/parity.js';

describe('parity: DarkNet-53 (wasm and cpu)', () => {
  parityCases(['timm_darknet53']);
});
