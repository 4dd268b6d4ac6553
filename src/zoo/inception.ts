/**
 * Inception v3 (Szegedy et al. 2015, arXiv:1512.00567, Table 1 and Figures 5-7 and 10) as torchvision
 * defines it (torchvision/models/inception.py, built with `transform_input=False` and no auxiliary head), and
 * Inception v4 and Inception-ResNet-v2 (Szegedy et al. 2016, arXiv:1602.07261, Figures 3-9 and 15-18) as
 * timm defines them (timm/models/inception_v4.py, inception_resnet_v2.py).
 *
 * Each network is data: a list of stages (stem convs and pools, then inception modules), each module a list
 * of branches, each branch a chain of `BasicConv2d` units (conv without bias + BatchNorm(eps 1e-3) + ReLU in
 * all three references) and pools, with the reference's module names. One builder interprets them.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, ModelSpec } from './types.js';
import {
  add, adaptiveAvgPool, avgPool, batchNorm, concat, conv2d, dropout, featuresOnly, flatten, input, linear, maxPool, relu,
  type Padding2D, type Sym,
} from './ops.js';

/** A `BasicConv2d` named `name` (its layers: `${name}.conv`, `${name}.bn`). */
interface ConvUnit { conv: string; c: number; k: number | readonly [number, number]; s?: number; p?: Padding2D }
/** A max or average pool named `name`; average pools state whether padded cells count. */
interface PoolUnit { pool: 'max' | 'avg'; name: string; k: number; s: number; p?: number; countIncludePad?: boolean }
/** Two convs applied to the same input, both outputs joining the module's concatenation (1x3 and 3x1). */
interface ForkUnit { fork: readonly [ConvUnit, ConvUnit] }
type Unit = ConvUnit | PoolUnit | ForkUnit;
type Branch = readonly Unit[];

/** Inception-ResNet: concat -> 1x1 conv `${module}.conv2d` (bias, no BN) -> * scale -> + input -> ReLU (optional). */
interface Residual { channels: number; scale: number; relu: boolean }
/** An inception module: its branches, concatenated in order, optionally as a scaled residual. */
interface Module { module: string; branches: readonly Branch[]; residual?: Residual }
type Stage = ConvUnit | PoolUnit | Module;

interface InceptionArch {
  stages: readonly Stage[];
  /** Names of the global average pool and the classifier, and the dropout rate before it (identity at inference). */
  pool: string;
  classifier: string;
  dropout: number;
}

const conv = (name: string, c: number, k: ConvUnit['k'], s = 1, p: Padding2D = 0): ConvUnit => ({ conv: name, c, k, s, p });
/** The factorised 1xn / nx1 convs with "same" padding. */
const conv1xn = (name: string, c: number, n: number): ConvUnit => conv(name, c, [1, n], 1, [0, (n - 1) / 2]);
const convnx1 = (name: string, c: number, n: number): ConvUnit => conv(name, c, [n, 1], 1, [(n - 1) / 2, 0]);
const maxPool3s2 = (name: string): PoolUnit => ({ pool: 'max', name, k: 3, s: 2 });
/** 3x3 / 1 average pool with padding 1: torchvision counts padded cells (F.avg_pool2d default), timm does not. */
const avgPool3 = (name: string, countIncludePad: boolean): PoolUnit => ({ pool: 'avg', name, k: 3, s: 1, p: 1, countIncludePad });

// ---------------------------------------------------------------------------------------------------------
// Inception v3 (torchvision): InceptionA..E are the modules of Figures 5, 6, 7 and 10 of arXiv:1512.00567.

const v3A = (m: string, poolFeatures: number): Module => ({
  module: m, branches: [
    [conv('branch1x1', 64, 1)],
    [conv('branch5x5_1', 48, 1), conv('branch5x5_2', 64, 5, 1, 2)],
    [conv('branch3x3dbl_1', 64, 1), conv('branch3x3dbl_2', 96, 3, 1, 1), conv('branch3x3dbl_3', 96, 3, 1, 1)],
    [avgPool3('pool', true), conv('branch_pool', poolFeatures, 1)],
  ],
});
const v3B = (m: string): Module => ({
  module: m, branches: [
    [conv('branch3x3', 384, 3, 2)],
    [conv('branch3x3dbl_1', 64, 1), conv('branch3x3dbl_2', 96, 3, 1, 1), conv('branch3x3dbl_3', 96, 3, 2)],
    [maxPool3s2('pool')],
  ],
});
const v3C = (m: string, c7: number): Module => ({
  module: m, branches: [
    [conv('branch1x1', 192, 1)],
    [conv('branch7x7_1', c7, 1), conv1xn('branch7x7_2', c7, 7), convnx1('branch7x7_3', 192, 7)],
    [conv('branch7x7dbl_1', c7, 1), convnx1('branch7x7dbl_2', c7, 7), conv1xn('branch7x7dbl_3', c7, 7),
      convnx1('branch7x7dbl_4', c7, 7), conv1xn('branch7x7dbl_5', 192, 7)],
    [avgPool3('pool', true), conv('branch_pool', 192, 1)],
  ],
});
const v3D = (m: string): Module => ({
  module: m, branches: [
    [conv('branch3x3_1', 192, 1), conv('branch3x3_2', 320, 3, 2)],
    [conv('branch7x7x3_1', 192, 1), conv1xn('branch7x7x3_2', 192, 7), convnx1('branch7x7x3_3', 192, 7), conv('branch7x7x3_4', 192, 3, 2)],
    [maxPool3s2('pool')],
  ],
});
const v3E = (m: string): Module => ({
  module: m, branches: [
    [conv('branch1x1', 320, 1)],
    [conv('branch3x3_1', 384, 1), { fork: [conv1xn('branch3x3_2a', 384, 3), convnx1('branch3x3_2b', 384, 3)] }],
    [conv('branch3x3dbl_1', 448, 1), conv('branch3x3dbl_2', 384, 3, 1, 1),
      { fork: [conv1xn('branch3x3dbl_3a', 384, 3), convnx1('branch3x3dbl_3b', 384, 3)] }],
    [avgPool3('pool', true), conv('branch_pool', 192, 1)],
  ],
});

const INCEPTION_V3: InceptionArch = {
  stages: [
    conv('Conv2d_1a_3x3', 32, 3, 2), conv('Conv2d_2a_3x3', 32, 3), conv('Conv2d_2b_3x3', 64, 3, 1, 1), maxPool3s2('maxpool1'),
    conv('Conv2d_3b_1x1', 80, 1), conv('Conv2d_4a_3x3', 192, 3), maxPool3s2('maxpool2'),
    v3A('Mixed_5b', 32), v3A('Mixed_5c', 64), v3A('Mixed_5d', 64),
    v3B('Mixed_6a'),
    v3C('Mixed_6b', 128), v3C('Mixed_6c', 160), v3C('Mixed_6d', 160), v3C('Mixed_6e', 192),
    v3D('Mixed_7a'),
    v3E('Mixed_7b'), v3E('Mixed_7c'),
  ],
  pool: 'avgpool',
  classifier: 'fc',
  dropout: 0.5,
};

// ---------------------------------------------------------------------------------------------------------
// Inception v4 (timm): stem of Figure 3, Inception-A/B/C of Figures 4, 5, 6, Reduction-A/B of Figures 7, 8.

const v4Stem: Stage[] = [
  conv('features.0', 32, 3, 2), conv('features.1', 32, 3), conv('features.2', 64, 3, 1, 1),
  { module: 'features.3', branches: [[maxPool3s2('maxpool')], [conv('conv', 96, 3, 2)]] },
  {
    module: 'features.4', branches: [
      [conv('branch0.0', 64, 1), conv('branch0.1', 96, 3)],
      [conv('branch1.0', 64, 1), conv1xn('branch1.1', 64, 7), convnx1('branch1.2', 64, 7), conv('branch1.3', 96, 3)],
    ],
  },
  { module: 'features.5', branches: [[conv('conv', 192, 3, 2)], [maxPool3s2('maxpool')]] },
];
const v4A = (m: string): Module => ({
  module: m, branches: [
    [conv('branch0', 96, 1)],
    [conv('branch1.0', 64, 1), conv('branch1.1', 96, 3, 1, 1)],
    [conv('branch2.0', 64, 1), conv('branch2.1', 96, 3, 1, 1), conv('branch2.2', 96, 3, 1, 1)],
    [avgPool3('branch3.0', false), conv('branch3.1', 96, 1)],
  ],
});
const v4ReductionA = (m: string): Module => ({
  module: m, branches: [
    [conv('branch0', 384, 3, 2)],
    [conv('branch1.0', 192, 1), conv('branch1.1', 224, 3, 1, 1), conv('branch1.2', 256, 3, 2)],
    [maxPool3s2('branch2')],
  ],
});
const v4B = (m: string): Module => ({
  module: m, branches: [
    [conv('branch0', 384, 1)],
    [conv('branch1.0', 192, 1), conv1xn('branch1.1', 224, 7), convnx1('branch1.2', 256, 7)],
    [conv('branch2.0', 192, 1), convnx1('branch2.1', 192, 7), conv1xn('branch2.2', 224, 7), convnx1('branch2.3', 224, 7), conv1xn('branch2.4', 256, 7)],
    [avgPool3('branch3.0', false), conv('branch3.1', 128, 1)],
  ],
});
const v4ReductionB = (m: string): Module => ({
  module: m, branches: [
    [conv('branch0.0', 192, 1), conv('branch0.1', 192, 3, 2)],
    [conv('branch1.0', 256, 1), conv1xn('branch1.1', 256, 7), convnx1('branch1.2', 320, 7), conv('branch1.3', 320, 3, 2)],
    [maxPool3s2('branch2')],
  ],
});
const v4C = (m: string): Module => ({
  module: m, branches: [
    [conv('branch0', 256, 1)],
    [conv('branch1_0', 384, 1), { fork: [conv1xn('branch1_1a', 256, 3), convnx1('branch1_1b', 256, 3)] }],
    [conv('branch2_0', 384, 1), convnx1('branch2_1', 448, 3), conv1xn('branch2_2', 512, 3),
      { fork: [conv1xn('branch2_3a', 256, 3), convnx1('branch2_3b', 256, 3)] }],
    [avgPool3('branch3.0', false), conv('branch3.1', 256, 1)],
  ],
});

/** n modules named `${prefix}.${from}` .. `${prefix}.${from + n - 1}`. */
const repeated = (prefix: string, from: number, n: number, make: (m: string) => Module): Module[] =>
  Array.from({ length: n }, (_, i) => make(`${prefix}.${from + i}`));

const INCEPTION_V4: InceptionArch = {
  stages: [
    ...v4Stem,
    ...repeated('features', 6, 4, v4A), v4ReductionA('features.10'),
    ...repeated('features', 11, 7, v4B), v4ReductionB('features.18'),
    ...repeated('features', 19, 3, v4C),
  ],
  pool: 'global_pool',
  classifier: 'last_linear',
  dropout: 0,
};

// ---------------------------------------------------------------------------------------------------------
// Inception-ResNet-v2 (timm): stem as torchvision's v3 stem plus Mixed_5b, then Inception-ResNet-A x10
// (Figure 16, scale 0.17), Reduction-A (Figure 7, k=256, l=256, m=384, n=384), Inception-ResNet-B x20
// (Figure 17, scale 0.10), Reduction-B (Figure 18), Inception-ResNet-C x9 (Figure 19, scale 0.20) and one
// more without scale or ReLU, then a 1x1 conv to 1536 channels.

const block35 = (m: string): Module => ({
  module: m, residual: { channels: 320, scale: 0.17, relu: true }, branches: [
    [conv('branch0', 32, 1)],
    [conv('branch1.0', 32, 1), conv('branch1.1', 32, 3, 1, 1)],
    [conv('branch2.0', 32, 1), conv('branch2.1', 48, 3, 1, 1), conv('branch2.2', 64, 3, 1, 1)],
  ],
});
const block17 = (m: string): Module => ({
  module: m, residual: { channels: 1088, scale: 0.1, relu: true }, branches: [
    [conv('branch0', 192, 1)],
    [conv('branch1.0', 128, 1), conv1xn('branch1.1', 160, 7), convnx1('branch1.2', 192, 7)],
  ],
});
const block8 = (m: string, scale = 0.2, relu = true): Module => ({
  module: m, residual: { channels: 2080, scale, relu }, branches: [
    [conv('branch0', 192, 1)],
    [conv('branch1.0', 192, 1), conv1xn('branch1.1', 224, 3), convnx1('branch1.2', 256, 3)],
  ],
});

const INCEPTION_RESNET_V2: InceptionArch = {
  stages: [
    conv('conv2d_1a', 32, 3, 2), conv('conv2d_2a', 32, 3), conv('conv2d_2b', 64, 3, 1, 1), maxPool3s2('maxpool_3a'),
    conv('conv2d_3b', 80, 1), conv('conv2d_4a', 192, 3), maxPool3s2('maxpool_5a'),
    {
      module: 'mixed_5b', branches: [
        [conv('branch0', 96, 1)],
        [conv('branch1.0', 48, 1), conv('branch1.1', 64, 5, 1, 2)],
        [conv('branch2.0', 64, 1), conv('branch2.1', 96, 3, 1, 1), conv('branch2.2', 96, 3, 1, 1)],
        [avgPool3('branch3.0', false), conv('branch3.1', 64, 1)],
      ],
    },
    ...repeated('repeat', 0, 10, block35),
    {
      module: 'mixed_6a', branches: [
        [conv('branch0', 384, 3, 2)],
        [conv('branch1.0', 256, 1), conv('branch1.1', 256, 3, 1, 1), conv('branch1.2', 384, 3, 2)],
        [maxPool3s2('branch2')],
      ],
    },
    ...repeated('repeat_1', 0, 20, block17),
    {
      module: 'mixed_7a', branches: [
        [conv('branch0.0', 256, 1), conv('branch0.1', 384, 3, 2)],
        [conv('branch1.0', 256, 1), conv('branch1.1', 288, 3, 2)],
        [conv('branch2.0', 256, 1), conv('branch2.1', 288, 3, 1, 1), conv('branch2.2', 320, 3, 2)],
        [maxPool3s2('branch3')],
      ],
    },
    ...repeated('repeat_2', 0, 9, (m) => block8(m)),
    block8('block8', 1, false),
    conv('conv2d_7b', 1536, 1),
  ],
  pool: 'global_pool',
  classifier: 'classif',
  dropout: 0,
};

// ---------------------------------------------------------------------------------------------------------
// The builder

const at = (prefix: string, name: string): string => (prefix ? `${prefix}.${name}` : name);

/** `BasicConv2d`: conv (no bias) + BatchNorm2d(eps=0.001) + ReLU, the unit of all three references. */
function basicConv(x: Sym, prefix: string, u: ConvUnit): Sym {
  const name = at(prefix, u.conv);
  const y = conv2d(x, `${name}.conv`, { filters: u.c, kernel: u.k, stride: u.s ?? 1, padding: u.p ?? 0, bias: false });
  return relu(batchNorm(y, `${name}.bn`, 1e-3), `${name}.act`);
}

function poolUnit(x: Sym, prefix: string, u: PoolUnit): Sym {
  const o = { kernel: u.k, stride: u.s, padding: u.p ?? 0, countIncludePad: u.countIncludePad ?? true };
  return u.pool === 'max' ? maxPool(x, at(prefix, u.name), o) : avgPool(x, at(prefix, u.name), o);
}

/** A branch's outputs: one tensor, or two when it ends in a fork. */
function branchOutputs(x: Sym, prefix: string, branch: Branch): Sym[] {
  let y = x;
  for (const u of branch) {
    if ('fork' in u) return u.fork.map((f) => basicConv(y, prefix, f));
    y = 'conv' in u ? basicConv(y, prefix, u) : poolUnit(y, prefix, u);
  }
  return [y];
}

function moduleOutput(x: Sym, m: Module): Sym {
  const y = concat(m.branches.flatMap((b) => branchOutputs(x, m.module, b)), `${m.module}.concat`);
  if (!m.residual) return y;
  const r = m.residual;
  let up = conv2d(y, `${m.module}.conv2d`, { filters: r.channels, kernel: 1 });
  if (r.scale !== 1) up = tf.layers.rescaling({ name: `${m.module}.scale`, scale: r.scale }).apply(up) as Sym;
  const sum = add([up, x], `${m.module}.add`);
  return r.relu ? relu(sum, `${m.module}.act`) : sum;
}

function builder(name: string, arch: InceptionArch) {
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    let x = inp;
    for (const st of arch.stages) {
      if ('module' in st) x = moduleOutput(x, st);
      else if ('conv' in st) x = basicConv(x, '', st);
      else x = poolUnit(x, '', st);
    }
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name });
    x = flatten(adaptiveAvgPool(x, arch.pool, 1), 'flatten');
    if (arch.dropout > 0) x = dropout(x, 'dropout', arch.dropout);
    x = linear(x, arch.classifier, ctx.numClasses);
    return tf.model({ inputs: inp, outputs: x, name });
  };
}

export const family: Family = {
  name: 'inception',
  models: [
    {
      name: 'inception_v3', family: 'inception', variant: { version: 3, transformInput: false, auxLogits: false },
      inputSize: 299, minInputSize: 75, numClasses: 1000,
      meta: {
        params: 23834568, flops: 11426432192, top1: 77.294, top5: 93.45,
        accuracySource: 'torchvision Inception_V3_Weights.IMAGENET1K_V1 (with transform_input=True)',
        paper: 'arXiv:1512.00567', reference: 'torchvision.models.inception_v3(aux_logits=False, transform_input=False)',
      },
      fixtures: [{ name: 'inception_v3' }],
      build: builder('inception_v3', INCEPTION_V3),
    },
    {
      name: 'inception_v4', family: 'inception', variant: { version: 4 },
      inputSize: 299, minInputSize: 75, numClasses: 1000,
      meta: {
        params: 42679816, flops: 24507949248, top1: 80.156, top5: 94.968,
        accuracySource: 'timm results-imagenet.csv (inception_v4.tf_in1k, 299 px, crop 0.875)',
        paper: 'arXiv:1602.07261', reference: "timm.create_model('inception_v4')",
      },
      fixtures: [{ name: 'timm_inception_v4' }],
      build: builder('inception_v4', INCEPTION_V4),
    },
    {
      name: 'inception_resnet_v2', family: 'inception', variant: { version: 'resnet_v2' },
      inputSize: 299, minInputSize: 75, numClasses: 1000,
      meta: {
        params: 55843464, flops: 26311588032, top1: 80.462, top5: 95.308,
        accuracySource: 'timm results-imagenet.csv (inception_resnet_v2.tf_in1k, 299 px, crop 0.8975)',
        paper: 'arXiv:1602.07261', reference: "timm.create_model('inception_resnet_v2')",
      },
      fixtures: [{ name: 'timm_inception_resnet_v2' }],
      build: builder('inception_resnet_v2', INCEPTION_RESNET_V2),
    },
  ] satisfies ModelSpec[],
};
