import { parityCases } from './helpers/parity.js';

// The ResNet family's lighter half (up to ~28M parameters); the deep/wide ones are in parity-resnet-big.test.ts.
describe('parity: ResNet, ResNeXt, Wide ResNet, ResNet v2, SE-ResNet (wasm and cpu, up to 50 layers)', () => {
  parityCases([
    'resnet18', 'resnet34', 'resnet50', 'resnext50_32x4d', 'wide_resnet50_2', 'timm_resnetv2_50', 'timm_seresnet50',
    'timm_legacy_seresnet18', 'timm_legacy_seresnet34', 'timm_legacy_seresnet50', 'timm_legacy_seresnext26_32x4d',
    'timm_legacy_seresnext50_32x4d',
  ]);
});
