/**
 * Parity on tfjs's `cpu` backend (pure JavaScript, about 30x slower than wasm here), a fixture of every layer
 * configuration of every family: the torchvision architectures at their smallest fixture size (128x192,
 * test/fixtures/parity-sizes/), less the deeper or wider copies of blocks a cheaper architecture of the same family
 * already runs (VGG-13/16/19 after VGG-11, with and without batch norm; ResNeXt-101 after ResNeXt-50; the wide ResNets
 * after ResNet-50; DenseNet-161 after DenseNet-121), and for the families beyond torchvision's the cheapest
 * default-size fixture (MobileNet v1: TF-SAME padding; ShuffleNet v1: grouped 1x1 convs, channel shuffle; SE blocks;
 * DPN; BN-Inception; NASNet-A: separable convs, PyTorch-exact pools). Same tolerances as on wasm, where every fixture
 * runs at every size. `CNN_ZOO_CPU=all` adds the rest (about 18 more minutes of cpu here: docs/PARITY.md).
 */
import { expect } from 'chai';
import { findByFixture } from '../src/parity/run.js';
import { FAMILIES } from '../src/zoo/families.js';
import { parityCases } from './helpers/parity.js';
import { SIZE_FIXTURES, SMALLEST, sizeFixturePath } from './helpers/size-fixtures.js';

const all = process.env.CNN_ZOO_CPU === 'all';

/** Size fixture -> the cheaper one of its family that runs the same layers on cpu in CI (seconds on cpu in CI). */
export const SAME_LAYERS_AS: Readonly<Record<string, string>> = {
  'vgg13-128x192': 'vgg11-128x192', // 48.7 s
  'vgg16-128x192': 'vgg11-128x192', // 55.1 s
  'vgg19-128x192': 'vgg11-128x192', // 86.5 s
  'vgg13_bn-128x192': 'vgg11_bn-128x192', // 42.8 s
  'vgg16_bn-128x192': 'vgg11_bn-128x192', // 74.9 s
  'vgg19_bn-128x192': 'vgg11_bn-128x192', // 76.9 s
  'resnext101_32x8d-128x192': 'resnext50_32x4d-128x192', // 82.3 s
  'resnext101_64x4d-128x192': 'resnext50_32x4d-128x192', // 105.8 s
  'wide_resnet50_2-128x192': 'resnet50-128x192', // 42.7 s
  'wide_resnet101_2-128x192': 'resnet50-128x192', // 76.8 s
  'densenet161-128x192': 'densenet121-128x192', // 40.6 s
};

/** The families beyond torchvision's, one default-size fixture each (the ones the WebGL test runs). */
export const CPU_FAMILY_FIXTURES = ['timm_mobilenetv1_025', 'shufflenet_v1_g3_0_5x', 'timm_legacy_seresnet18', 'timm_dpn68',
  'bninception', 'nasnetamobile'] as const;
/**
 * Xception (106 s on cpu) and DarkNet-53 (135 s): their layers (separable convs as in NASNet-A and MobileNet, conv +
 * batch norm + LeakyReLU, residual adds) run on cpu above; both pass with CNN_ZOO_CPU=all.
 */
const CPU_FAMILY_HEAVY = ['timm_legacy_xception', 'timm_darknet53'] as const;

const familyOf = (sizeFixture: string): string | undefined => {
  const spec = findByFixture(sizeFixture.replace(/-\d+x\d+$/, '')).spec;
  return FAMILIES.find((f) => f.models.includes(spec))?.name;
};
const smallest = SIZE_FIXTURES.filter((f) => f.endsWith(`-${SMALLEST}`));

describe(`parity on cpu: the torchvision architectures at ${SMALLEST}`, () => {
  it('leaves out only architectures whose layers a cheaper one of the same family runs here', () => {
    for (const [name, kept] of Object.entries(SAME_LAYERS_AS)) {
      expect(smallest, name).to.include(name);
      expect(smallest.filter((f) => !(f in SAME_LAYERS_AS)), `${name} -> ${kept}`).to.include(kept);
      expect(familyOf(name), `${name} -> ${kept}: same family`).to.equal(familyOf(kept));
    }
  });
  parityCases(smallest.filter((f) => all || !(f in SAME_LAYERS_AS)), 'cpu', { pathOf: sizeFixturePath, onnx: false }); // the ONNX export is checked on wasm
});

describe('parity on cpu: a fixture of the families beyond torchvision\'s', () => {
  parityCases(all ? [...CPU_FAMILY_FIXTURES, ...CPU_FAMILY_HEAVY] : CPU_FAMILY_FIXTURES, 'cpu', { onnx: false });
});
