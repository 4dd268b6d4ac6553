/**
 * The residual family as one table: ResNet 18-152 (He et al. 2015, arXiv:1512.03385, Table 1), ResNeXt
 * (Xie et al. 2016, arXiv:1611.05431, Table 1), Wide ResNet-50/101-2 (torchvision's bottleneck form of
 * Zagoruyko & Komodakis, arXiv:1605.07146), pre-activation ResNet v2 (He et al. 2016, arXiv:1603.05027) and
 * SE-ResNet / SE-ResNeXt / SENet-154 (Hu et al. 2017, arXiv:1709.01507, Table 1 and Appendix).
 *
 * Each row says which block, depths, cardinality, width, SE, pre-activation, stem and stride placement
 * it uses, and whose module paths name its layers (`layout`): torchvision's `models/resnet.py`, timm's
 * `resnet.py`, timm's legacy `senet.py` (Cadene's port of the Caffe SENets) or timm's `resnetv2.py`. One
 * builder interprets the rows; the layer names are the reference's module paths, so every checkpoint of
 * the reference maps by name.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, ModelSpec } from './types.js';
import {
  activation, adaptiveAvgPool, add, batchNorm, conv2d, featuresOnly, flatten, globalPool, input, linear, maxPool,
  multiply, relu, type Sym,
} from './ops.js';

/** Whose module paths name the layers. */
export type ResNetLayout = 'torchvision' | 'timm' | 'senet' | 'resnetv2';

/** One architecture: a row of the table. */
export interface ResNetRow {
  /** Residual unit: two 3x3 convs (basic) or 1x1-3x3-1x1 (bottleneck, expansion 4). */
  block: 'basic' | 'bottleneck';
  /** Units per stage (conv2_x .. conv5_x of Table 1). */
  depths: readonly [number, number, number, number];
  /** Cardinality of the 3x3 conv (ResNeXt C); 1 = plain ResNet. */
  groups: number;
  /** Channels per group at the first stage: the 3x3 width is floor(planes * widthPerGroup / 64) * groups. */
  widthPerGroup: number;
  /** Squeeze-and-excitation reduction ratio r (SENet), or null without SE. */
  seReduction: number | null;
  /** Pre-activation units (BN-ReLU before each conv, identity shortcuts). */
  preact: boolean;
  /** Stem: one 7x7/2 conv, or three 3x3 convs (SENet-154), `stemWidth` channels out. */
  stem: '7x7' | '3x3x3';
  stemWidth: number;
  /** Which conv of a bottleneck strides: the 3x3 (torchvision "v1.5") or the first 1x1 (Caffe SE-ResNet). */
  strideAt: 'conv1' | 'conv2';
  /** Kernel of the projection shortcut in stages 2-4 (SENet-154: 3 with padding 1). */
  downsampleKernel: 1 | 3;
  /** Width of the first 1x1 conv relative to the 3x3 width (SENet-154: 1/2). */
  conv1Ratio: number;
  /** Basic units apply ReLU after their second BN too, before SE and the add (legacy `SEResNetBlock`). */
  basicReluBeforeAdd: boolean;
  layout: ResNetLayout;
}

const PLANES = [64, 128, 256, 512] as const;

const BASE: ResNetRow = {
  block: 'bottleneck', depths: [3, 4, 6, 3], groups: 1, widthPerGroup: 64, seReduction: null, preact: false,
  stem: '7x7', stemWidth: 64, strideAt: 'conv2', downsampleKernel: 1, conv1Ratio: 1, basicReluBeforeAdd: false,
  layout: 'torchvision',
};
const row = (r: Partial<ResNetRow>): ResNetRow => ({ ...BASE, ...r });
const D18 = [2, 2, 2, 2] as const, D34 = [3, 4, 6, 3] as const, D101 = [3, 4, 23, 3] as const, D152 = [3, 8, 36, 3] as const;
/** Hu et al.'s SE-ResNets as ported to PyTorch (timm legacy `senet.py`). */
const legacySE = (r: Partial<ResNetRow>): ResNetRow => row({ seReduction: 16, basicReluBeforeAdd: true, layout: 'senet', ...r });

/** The architectures (depths: ResNet Table 1; cardinality x width: ResNeXt Table 1; SE: SENet Table 1). */
export const RESNETS = {
  resnet18: row({ block: 'basic', depths: D18 }),
  resnet34: row({ block: 'basic', depths: D34 }),
  resnet50: row({}),
  resnet101: row({ depths: D101 }),
  resnet152: row({ depths: D152 }),
  resnext50_32x4d: row({ groups: 32, widthPerGroup: 4 }),
  resnext101_32x8d: row({ depths: D101, groups: 32, widthPerGroup: 8 }),
  resnext101_64x4d: row({ depths: D101, groups: 64, widthPerGroup: 4 }),
  resnext101_32x4d: row({ depths: D101, groups: 32, widthPerGroup: 4, layout: 'timm' }),
  wide_resnet50_2: row({ widthPerGroup: 128 }),
  wide_resnet101_2: row({ depths: D101, widthPerGroup: 128 }),
  resnetv2_50: row({ preact: true, layout: 'resnetv2' }),
  resnetv2_101: row({ depths: D101, preact: true, layout: 'resnetv2' }),
  legacy_seresnet18: legacySE({ block: 'basic', depths: D18 }),
  legacy_seresnet34: legacySE({ block: 'basic', depths: D34 }),
  legacy_seresnet50: legacySE({ strideAt: 'conv1' }),
  legacy_seresnet101: legacySE({ depths: D101, strideAt: 'conv1' }),
  legacy_seresnet152: legacySE({ depths: D152, strideAt: 'conv1' }),
  legacy_seresnext26_32x4d: legacySE({ depths: D18, groups: 32, widthPerGroup: 4 }),
  legacy_seresnext50_32x4d: legacySE({ groups: 32, widthPerGroup: 4 }),
  legacy_seresnext101_32x4d: legacySE({ depths: D101, groups: 32, widthPerGroup: 4 }),
  legacy_senet154: legacySE({ depths: D152, groups: 64, widthPerGroup: 4, stem: '3x3x3', stemWidth: 128, downsampleKernel: 3, conv1Ratio: 0.5 }),
  seresnet50: row({ seReduction: 16, layout: 'timm' }),
} as const satisfies Record<string, ResNetRow>;

export type ResNetName = keyof typeof RESNETS;

/** Module paths of one reference implementation. */
interface Naming {
  /** Stem conv/bn/act names (one per conv), the stem pool. */
  stemConv: (i: number) => string;
  stemNorm: (i: number) => string;
  stemAct: (i: number) => string;
  stemPool: string;
  block: (stage: number, unit: number) => string;
  /** Names of norm i, and of the activation after norm i (i = 3 also: after the residual add). */
  norm: (b: string, i: number) => string;
  act: (b: string, i: number) => string;
  downsampleConv: (b: string) => string;
  downsampleNorm: (b: string) => string;
  se: (b: string) => string;
  seAct: string;
  seGate: string;
  pool: string;
  fc: string;
}

const torchvisionNames: Naming = {
  stemConv: () => 'conv1', stemNorm: () => 'bn1', stemAct: () => 'relu', stemPool: 'maxpool',
  block: (s, u) => `layer${s + 1}.${u}`,
  norm: (b, i) => `${b}.bn${i}`, act: (b, i) => `${b}.relu${i}`,
  downsampleConv: (b) => `${b}.downsample.0`, downsampleNorm: (b) => `${b}.downsample.1`,
  se: (b) => `${b}.se`, seAct: 'act', seGate: 'gate',
  pool: 'avgpool', fc: 'fc',
};

const NAMING: Record<ResNetLayout, Naming> = {
  torchvision: torchvisionNames,
  timm: { ...torchvisionNames, stemAct: () => 'act1', act: (b, i) => `${b}.act${i}`, pool: 'global_pool' },
  senet: {
    ...torchvisionNames,
    stemConv: (i) => `layer0.conv${i}`, stemNorm: (i) => `layer0.bn${i}`, stemAct: (i) => `layer0.relu${i}`, stemPool: 'pool0',
    se: (b) => `${b}.se_module`, seAct: 'relu', seGate: 'sigmoid', pool: 'global_pool', fc: 'last_linear',
  },
  resnetv2: {
    ...torchvisionNames,
    stemConv: () => 'stem.conv', stemNorm: () => 'stem.norm', stemAct: () => 'stem.norm.act', stemPool: 'stem.pool',
    block: (s, u) => `stages.${s}.blocks.${u}`,
    norm: (b, i) => `${b}.norm${i}`, act: (b, i) => `${b}.norm${i}.act`,
    downsampleConv: (b) => `${b}.downsample.conv`, downsampleNorm: (b) => `${b}.downsample.norm`,
    pool: 'head.global_pool', fc: 'head.fc',
  },
};

/** SE bottleneck width: Caffe/legacy `C // r`; timm rounds C / r to a multiple of 8 (`make_divisible`). */
function seWidth(channels: number, r: number, layout: ResNetLayout): number {
  if (layout !== 'timm') return Math.floor(channels / r);
  const v = channels / r;
  return Math.max(8, Math.floor((v + 4) / 8) * 8);
}

/** Squeeze (global mean) and excitation (1x1 conv, ReLU, 1x1 conv, sigmoid), then rescale `x`. */
function squeezeExcite(x: Sym, name: string, reduced: number, naming: Naming): Sym {
  const c = x.shape[3] as number;
  let s = adaptiveAvgPool(x, `${name}.pool`, 1);
  s = relu(conv2d(s, `${name}.fc1`, { filters: reduced, kernel: 1 }), `${name}.${naming.seAct}`);
  s = activation(conv2d(s, `${name}.fc2`, { filters: c, kernel: 1 }), `${name}.${naming.seGate}`, 'sigmoid');
  return multiply([x, s], `${name}.scale`);
}

interface Unit {
  name: string;
  planes: number;
  stride: number;
  /** Projection shortcut kernel, or 0 for identity. */
  projection: number;
}

/** A post-activation unit (ResNet v1.5, ResNeXt, Wide ResNet, SE variants). */
function postActUnit(x: Sym, u: Unit, r: ResNetRow, n: Naming): Sym {
  const b = u.name;
  const expansion = r.block === 'bottleneck' ? 4 : 1;
  const out = u.planes * expansion;
  let y: Sym;
  if (r.block === 'basic') {
    y = relu(batchNorm(conv2d(x, `${b}.conv1`, { filters: u.planes, kernel: 3, stride: u.stride, padding: 1, bias: false }), n.norm(b, 1)), n.act(b, 1));
    y = batchNorm(conv2d(y, `${b}.conv2`, { filters: u.planes, kernel: 3, padding: 1, bias: false }), n.norm(b, 2));
    if (r.basicReluBeforeAdd) y = relu(y, n.act(b, 2));
  } else {
    const width = Math.floor((u.planes * r.widthPerGroup) / 64) * r.groups;
    const s1 = r.strideAt === 'conv1' ? u.stride : 1, s2 = r.strideAt === 'conv2' ? u.stride : 1;
    y = relu(batchNorm(conv2d(x, `${b}.conv1`, { filters: width * r.conv1Ratio, kernel: 1, stride: s1, bias: false }), n.norm(b, 1)), n.act(b, 1));
    y = relu(batchNorm(conv2d(y, `${b}.conv2`, { filters: width, kernel: 3, stride: s2, padding: 1, groups: r.groups, bias: false }), n.norm(b, 2)), n.act(b, 2));
    y = batchNorm(conv2d(y, `${b}.conv3`, { filters: out, kernel: 1, bias: false }), n.norm(b, 3));
  }
  if (r.seReduction !== null) y = squeezeExcite(y, n.se(b), seWidth(out, r.seReduction, r.layout), n);
  let shortcut = x;
  if (u.projection > 0) {
    const k = u.projection;
    shortcut = batchNorm(conv2d(x, n.downsampleConv(b), { filters: out, kernel: k, stride: u.stride, padding: (k - 1) / 2, bias: false }), n.downsampleNorm(b));
  }
  const last = r.block === 'basic' && !r.basicReluBeforeAdd ? 2 : 3;
  return relu(add([y, shortcut], `${b}.add`), n.act(b, last));
}

/** A pre-activation bottleneck (timm `PreActBottleneck`): BN-ReLU, then conv; the projection reads the pre-activation. */
function preActUnit(x: Sym, u: Unit, r: ResNetRow, n: Naming): Sym {
  const b = u.name;
  const width = Math.floor((u.planes * r.widthPerGroup) / 64) * r.groups;
  const out = u.planes * 4;
  const pre = relu(batchNorm(x, n.norm(b, 1)), n.act(b, 1));
  const shortcut = u.projection > 0
    ? conv2d(pre, n.downsampleConv(b), { filters: out, kernel: 1, stride: u.stride, bias: false })
    : x;
  let y = conv2d(pre, `${b}.conv1`, { filters: width, kernel: 1, bias: false });
  y = relu(batchNorm(y, n.norm(b, 2)), n.act(b, 2));
  y = conv2d(y, `${b}.conv2`, { filters: width, kernel: 3, stride: u.stride, padding: 1, groups: r.groups, bias: false });
  y = relu(batchNorm(y, n.norm(b, 3)), n.act(b, 3));
  y = conv2d(y, `${b}.conv3`, { filters: out, kernel: 1, bias: false });
  return add([y, shortcut], `${b}.add`);
}

function stem(x: Sym, r: ResNetRow, n: Naming): Sym {
  const convs = r.stem === '7x7'
    ? [{ filters: r.stemWidth, kernel: 7, stride: 2, padding: 3 }]
    : [{ filters: 64, kernel: 3, stride: 2, padding: 1 }, { filters: 64, kernel: 3, stride: 1, padding: 1 }, { filters: r.stemWidth, kernel: 3, stride: 1, padding: 1 }];
  convs.forEach((c, i) => {
    x = conv2d(x, n.stemConv(i + 1), { ...c, bias: false });
    if (!r.preact) x = relu(batchNorm(x, n.stemNorm(i + 1)), n.stemAct(i + 1));
  });
  // The Caffe SENets pool with ceil_mode and no padding; the others pad by 1.
  return r.layout === 'senet'
    ? maxPool(x, n.stemPool, { kernel: 3, stride: 2, ceil: true })
    : maxPool(x, n.stemPool, { kernel: 3, stride: 2, padding: 1 });
}

function builder(name: ResNetName) {
  const r: ResNetRow = RESNETS[name];
  const n = NAMING[r.layout];
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    let x = stem(inp, r, n);
    let channels = r.stemWidth;
    const expansion = r.block === 'bottleneck' ? 4 : 1;
    r.depths.forEach((depth, s) => {
      const planes = PLANES[s]!;
      for (let i = 0; i < depth; i++) {
        const stride = i === 0 && s > 0 ? 2 : 1;
        const needsProjection = stride !== 1 || channels !== planes * expansion;
        const unit: Unit = { name: n.block(s, i), planes, stride, projection: needsProjection ? (s > 0 ? r.downsampleKernel : 1) : 0 };
        x = r.preact ? preActUnit(x, unit, r, n) : postActUnit(x, unit, r, n);
        channels = planes * expansion;
      }
    });
    if (r.preact) x = relu(batchNorm(x, 'norm'), 'norm.act');
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name });
    if (r.layout === 'resnetv2') {
      // timm ClassifierHead(use_conv=True): pool keeping the map, a 1x1 conv classifier, then flatten.
      x = conv2d(adaptiveAvgPool(x, n.pool, 1), n.fc, { filters: ctx.numClasses, kernel: 1 });
      x = flatten(x, 'head.flatten');
    } else {
      x = linear(globalPool(x, n.pool), n.fc, ctx.numClasses);
    }
    return tf.model({ inputs: inp, outputs: x, name });
  };
}

const TORCHVISION = 'torchvision.models';
const PAPERS = {
  resnet: 'arXiv:1512.03385',
  resnext: 'arXiv:1611.05431',
  wide: 'arXiv:1605.07146',
  preact: 'arXiv:1603.05027',
  senet: 'arXiv:1709.01507',
} as const;

/** name, fixture, paper, params, FLOPs at 224, Top-1, Top-5, accuracy source, reference implementation. */
const CARDS: readonly (readonly [ResNetName, string, keyof typeof PAPERS, number, number, number, number, string, string])[] = [
  ['resnet18', 'resnet18', 'resnet', 11689512, 3628146688, 69.758, 89.078, 'torchvision ResNet18_Weights.IMAGENET1K_V1', `${TORCHVISION}.resnet18`],
  ['resnet34', 'resnet34', 'resnet', 21797672, 7327522816, 73.314, 91.42, 'torchvision ResNet34_Weights.IMAGENET1K_V1', `${TORCHVISION}.resnet34`],
  ['resnet50', 'resnet50', 'resnet', 25557032, 8178368512, 76.13, 92.862, 'torchvision ResNet50_Weights.IMAGENET1K_V1', `${TORCHVISION}.resnet50`],
  ['resnet101', 'resnet101', 'resnet', 44549160, 15602810880, 77.374, 93.546, 'torchvision ResNet101_Weights.IMAGENET1K_V1', `${TORCHVISION}.resnet101`],
  ['resnet152', 'resnet152', 'resnet', 60192808, 23027253248, 78.312, 94.046, 'torchvision ResNet152_Weights.IMAGENET1K_V1', `${TORCHVISION}.resnet152`],
  ['resnext50_32x4d', 'resnext50_32x4d', 'resnext', 25028904, 8460959744, 77.618, 93.698, 'torchvision ResNeXt50_32X4D_Weights.IMAGENET1K_V1', `${TORCHVISION}.resnext50_32x4d`],
  ['resnext101_32x8d', 'resnext101_32x8d', 'resnext', 88791336, 32828030976, 79.312, 94.526, 'torchvision ResNeXt101_32X8D_Weights.IMAGENET1K_V1', `${TORCHVISION}.resnext101_32x8d`],
  ['resnext101_64x4d', 'resnext101_64x4d', 'resnext', 83455272, 30920540160, 83.246, 96.454, 'torchvision ResNeXt101_64X4D_Weights.IMAGENET1K_V1', `${TORCHVISION}.resnext101_64x4d`],
  ['resnext101_32x4d', 'timm_resnext101_32x4d', 'resnext', 44177704, 15939993600, 80.924, 95.734, 'timm results-imagenet.csv resnext101_32x4d.fb_ssl_yfcc100m_ft_in1k (224 px)', "timm.create_model('resnext101_32x4d')"],
  ['wide_resnet50_2', 'wide_resnet50_2', 'wide', 68883240, 22796042240, 78.468, 94.086, 'torchvision Wide_ResNet50_2_Weights.IMAGENET1K_V1', `${TORCHVISION}.wide_resnet50_2`],
  ['wide_resnet101_2', 'wide_resnet101_2', 'wide', 126886696, 45506101248, 78.848, 94.284, 'torchvision Wide_ResNet101_2_Weights.IMAGENET1K_V1', `${TORCHVISION}.wide_resnet101_2`],
  ['resnetv2_50', 'timm_resnetv2_50', 'preact', 25549352, 8178368512, 81.398, 95.726, 'timm results-imagenet.csv resnetv2_50.a1h_in1k (288 px test size)', "timm.create_model('resnetv2_50')"],
  ['resnetv2_101', 'timm_resnetv2_101', 'preact', 44541480, 15602810880, 83.002, 96.454, 'timm results-imagenet.csv resnetv2_101.a1h_in1k (288 px test size)', "timm.create_model('resnetv2_101')"],
  ['legacy_seresnet18', 'timm_legacy_seresnet18', 'senet', 11778592, 3628320768, 71.766, 90.332, 'timm results-imagenet.csv legacy_seresnet18.in1k (224 px)', "timm.create_model('legacy_seresnet18')"],
  ['legacy_seresnet34', 'timm_legacy_seresnet34', 'senet', 21958868, 7327837184, 74.808, 92.126, 'timm results-imagenet.csv legacy_seresnet34.in1k (224 px)', "timm.create_model('legacy_seresnet34')"],
  ['legacy_seresnet50', 'timm_legacy_seresnet50', 'senet', 28088024, 7720976384, 77.644, 93.758, 'timm results-imagenet.csv legacy_seresnet50.in1k (224 px)', "timm.create_model('legacy_seresnet50')"],
  ['legacy_seresnet101', 'timm_legacy_seresnet101', 'senet', 49326872, 15149875200, 78.386, 94.262, 'timm results-imagenet.csv legacy_seresnet101.in1k (224 px)', "timm.create_model('legacy_seresnet101')"],
  ['legacy_seresnet152', 'timm_legacy_seresnet152', 'senet', 66821848, 22577987584, 78.66, 94.37, 'timm results-imagenet.csv legacy_seresnet152.in1k (224 px)', "timm.create_model('legacy_seresnet152')"],
  ['legacy_seresnext26_32x4d', 'timm_legacy_seresnext26_32x4d', 'senet', 16790280, 4944199680, 77.108, 93.314, 'timm results-imagenet.csv legacy_seresnext26_32x4d.in1k (224 px)', "timm.create_model('legacy_seresnext26_32x4d')"],
  ['legacy_seresnext50_32x4d', 'timm_legacy_seresnext50_32x4d', 'senet', 27559896, 8465989632, 79.076, 94.432, 'timm results-imagenet.csv legacy_seresnext50_32x4d.in1k (224 px)', "timm.create_model('legacy_seresnext50_32x4d')"],
  ['legacy_seresnext101_32x4d', 'timm_legacy_seresnext101_32x4d', 'senet', 48955416, 15949479936, 80.23, 95.026, 'timm results-imagenet.csv legacy_seresnext101_32x4d.in1k (224 px)', "timm.create_model('legacy_seresnext101_32x4d')"],
  ['legacy_senet154', 'timm_legacy_senet154', 'senet', 115088984, 41376727040, 81.308, 95.492, 'timm results-imagenet.csv legacy_senet154.in1k (224 px)', "timm.create_model('legacy_senet154')"],
  ['seresnet50', 'timm_seresnet50', 'senet', 28088024, 8183398400, 81.102, 95.12, 'timm results-imagenet.csv seresnet50.a1_in1k (288 px test size)', "timm.create_model('seresnet50')"],
];

/** Smallest input side: every stride-2 stage pads, except the Caffe SENets' unpadded 3x3 max pool. */
const minInputSize = (r: ResNetRow): number => (r.layout === 'senet' ? 5 : 1);

export const family: Family = {
  name: 'resnet',
  models: CARDS.map(([name, fixture, paper, params, flops, top1, top5, accuracySource, reference]): ModelSpec => {
    const r: ResNetRow = RESNETS[name];
    return {
      name, family: 'resnet', variant: { ...r }, inputSize: 224, minInputSize: minInputSize(r), numClasses: 1000,
      meta: { params, flops, top1, top5, accuracySource, paper: PAPERS[paper], reference },
      fixtures: [{ name: fixture }],
      build: builder(name),
    };
  }),
};
