import { parityCases } from './helpers/parity.js';

describe('parity: Xception, legacy and aligned (wasm and cpu)', () => {
  parityCases(['timm_legacy_xception', 'timm_xception41', 'timm_xception65']);
});
