import { parityCases } from './helpers/parity.js';

// The ResNet family's 101- and 152-layer models (44M-127M parameters); the lighter ones are in parity-resnet.test.ts.
describe('parity: ResNet, ResNeXt, Wide ResNet, ResNet v2, SE-ResNet, SENet-154 (wasm and cpu, 101-154 layers)', () => {
  parityCases([
    'resnet101', 'resnet152', 'resnext101_32x8d', 'resnext101_64x4d', 'timm_resnext101_32x4d', 'wide_resnet101_2',
    'timm_resnetv2_101', 'timm_legacy_seresnet101', 'timm_legacy_seresnet152', 'timm_legacy_seresnext101_32x4d',
    'timm_legacy_senet154',
  ]);
});
