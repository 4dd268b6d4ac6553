/**
 * Xception (Chollet 2017, arXiv:1610.02357, Fig. 5: entry, middle and exit flows of depthwise-separable
 * convolutions with residual connections) in two reference forms:
 * - `legacy_xception`: the Keras-ported model as timm keeps it (timm/models/xception.py, from Cadene's
 *   pretrained-models): separable convs without BN between depthwise and pointwise, max pooling for
 *   the stride, BN eps 1e-5.
 * - `xception41`, `xception65`: timm's "aligned" Xception of DeepLab (Chen et al. 2018, arXiv:1802.02611,
 *   Fig. 4; timm/models/xception_aligned.py): every max pool replaced by a stride-2 separable conv, BN + ReLU
 *   after each depthwise and pointwise conv in the exit flow, BN eps 1e-3, PyTorch-style symmetric padding.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, ModelSpec } from './types.js';
import { add, batchNorm, conv2d, featuresOnly, globalPool, input, linear, maxPool, relu, type Sym } from './ops.js';

// ---------------------------------------------------------------------------------------------------------
// Legacy (Keras-ported) Xception
// ---------------------------------------------------------------------------------------------------------

/** One `Block` of timm's legacy Xception: `reps` separable convs, stride by a 3x3 max pool. */
interface LegacyBlock {
  out: number;
  reps: number;
  stride: 1 | 2;
  startWithRelu: boolean;
  /** Widen at the first separable conv (true) or at the last one (false, block12). */
  growFirst: boolean;
}

/** Fig. 5 of the paper: entry flow (block1-3), middle flow (block4-11), exit flow (block12). */
const LEGACY_BLOCKS: readonly LegacyBlock[] = [
  { out: 128, reps: 2, stride: 2, startWithRelu: false, growFirst: true },
  { out: 256, reps: 2, stride: 2, startWithRelu: true, growFirst: true },
  { out: 728, reps: 2, stride: 2, startWithRelu: true, growFirst: true },
  ...Array.from({ length: 8 }, (): LegacyBlock => ({ out: 728, reps: 3, stride: 1, startWithRelu: true, growFirst: true })),
  { out: 1024, reps: 2, stride: 2, startWithRelu: true, growFirst: false },
];

/** `SeparableConv2d` of the legacy model: depthwise `conv1` then `pointwise`, no bias, padding 1. */
function legacySeparable(x: Sym, name: string, filters: number): Sym {
  const cin = x.shape[3] as number;
  const y = conv2d(x, `${name}.conv1`, { filters: cin, kernel: 3, padding: 1, groups: cin, bias: false });
  return conv2d(y, `${name}.pointwise`, { filters, kernel: 1, bias: false });
}

/** A legacy `Block`: `rep` is a Sequential of [ReLU, SeparableConv2d, BN] x reps (+ MaxPool), indexed as in PyTorch. */
function legacyBlock(x: Sym, name: string, b: LegacyBlock): Sym {
  const cin = x.shape[3] as number;
  const rep: ({ kind: 'relu' } | { kind: 'sep'; out: number } | { kind: 'bn' } | { kind: 'pool' })[] = [];
  for (let i = 0; i < b.reps; i++) {
    const out = b.growFirst ? b.out : i < b.reps - 1 ? cin : b.out;
    rep.push({ kind: 'relu' }, { kind: 'sep', out }, { kind: 'bn' });
  }
  if (!b.startWithRelu) rep.shift();
  if (b.stride !== 1) rep.push({ kind: 'pool' });
  let y = x;
  rep.forEach((m, i) => {
    const n = `${name}.rep.${i}`;
    if (m.kind === 'relu') y = relu(y, n);
    else if (m.kind === 'sep') y = legacySeparable(y, n, m.out);
    else if (m.kind === 'bn') y = batchNorm(y, n);
    else y = maxPool(y, n, { kernel: 3, stride: b.stride, padding: 1 });
  });
  let skip = x;
  if (b.out !== cin || b.stride !== 1) {
    skip = conv2d(x, `${name}.skip`, { filters: b.out, kernel: 1, stride: b.stride, bias: false });
    skip = batchNorm(skip, `${name}.skipbn`);
  }
  return add([y, skip], `${name}.add`);
}

function buildLegacy(ctx: BuildContext): tf.LayersModel {
  const inp = input(ctx);
  let x = relu(batchNorm(conv2d(inp, 'conv1', { filters: 32, kernel: 3, stride: 2, bias: false }), 'bn1'), 'act1');
  x = relu(batchNorm(conv2d(x, 'conv2', { filters: 64, kernel: 3, bias: false }), 'bn2'), 'act2');
  LEGACY_BLOCKS.forEach((b, i) => { x = legacyBlock(x, `block${i + 1}`, b); });
  x = relu(batchNorm(legacySeparable(x, 'conv3', 1536), 'bn3'), 'act3');
  x = relu(batchNorm(legacySeparable(x, 'conv4', 2048), 'bn4'), 'act4');
  if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx, 'global_pool'), name: 'legacy_xception' });
  x = linear(globalPool(x, 'global_pool'), 'fc', ctx.numClasses);
  return tf.model({ inputs: inp, outputs: x, name: 'legacy_xception' });
}

// ---------------------------------------------------------------------------------------------------------
// Aligned Xception (timm xception41 / xception65)
// ---------------------------------------------------------------------------------------------------------

/** One `XceptionModule`: three separable convs (the third carries the stride) and a residual. */
interface AlignedBlock {
  /** Output channels of the three separable convs. */
  out: readonly [number, number, number];
  stride: 1 | 2;
  /** No residual connection (the last exit-flow block). */
  noSkip?: boolean;
  /** ReLU before each separable conv (true) or BN-ReLU after each depthwise and pointwise conv (false). */
  startWithRelu?: boolean;
}

const flat = (c: number): readonly [number, number, number] => [c, c, c];
/** timm's block_cfg: entry flow, `middle` x 728 middle flow, exit flow. */
function alignedBlocks(middle: number): AlignedBlock[] {
  return [
    { out: flat(128), stride: 2 },
    { out: flat(256), stride: 2 },
    { out: flat(728), stride: 2 },
    ...Array.from({ length: middle }, (): AlignedBlock => ({ out: flat(728), stride: 1 })),
    { out: [728, 1024, 1024], stride: 2 },
    { out: [1536, 1536, 2048], stride: 1, noSkip: true, startWithRelu: false },
  ];
}

const ALIGNED_BN_EPS = 1e-3;

/** `ConvNormAct`: conv (no bias, symmetric padding (k-1)/2) + BN eps 1e-3, optionally with ReLU (`bn.act`). */
function convNormAct(x: Sym, name: string, filters: number, kernel: number, stride: number, act: boolean): Sym {
  const padding = Math.floor((stride - 1 + (kernel - 1)) / 2);
  const y = batchNorm(conv2d(x, `${name}.conv`, { filters, kernel, stride, padding, bias: false }), `${name}.bn`, ALIGNED_BN_EPS);
  return act ? relu(y, `${name}.bn.act`) : y;
}

/** timm `SeparableConv2d` (aligned): conv_dw, bn_dw, [act_dw], conv_pw, bn_pw, [act_pw]. */
function alignedSeparable(x: Sym, name: string, filters: number, stride: number, act: boolean): Sym {
  const cin = x.shape[3] as number;
  let y = conv2d(x, `${name}.conv_dw`, { filters: cin, kernel: 3, stride, padding: 1, groups: cin, bias: false });
  y = batchNorm(y, `${name}.bn_dw`, ALIGNED_BN_EPS);
  if (act) y = relu(y, `${name}.act_dw`);
  y = batchNorm(conv2d(y, `${name}.conv_pw`, { filters, kernel: 1, bias: false }), `${name}.bn_pw`, ALIGNED_BN_EPS);
  if (act) y = relu(y, `${name}.act_pw`);
  return y;
}

function alignedBlock(x: Sym, name: string, b: AlignedBlock): Sym {
  const cin = x.shape[3] as number;
  const startWithRelu = b.startWithRelu ?? true;
  let y = x;
  for (let i = 0; i < 3; i++) {
    if (startWithRelu) y = relu(y, `${name}.stack.act${i + 1}`);
    y = alignedSeparable(y, `${name}.stack.conv${i + 1}`, b.out[i]!, i === 2 ? b.stride : 1, !startWithRelu);
  }
  if (b.noSkip) return y;
  const skip = b.out[2] !== cin || b.stride !== 1 ? convNormAct(x, `${name}.shortcut`, b.out[2], 1, b.stride, false) : x;
  return add([y, skip], `${name}.add`);
}

function alignedBuilder(name: string, middle: number) {
  const blocks = alignedBlocks(middle);
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    let x = convNormAct(inp, 'stem.0', 32, 3, 2, true);
    x = convNormAct(x, 'stem.1', 64, 3, 1, true);
    blocks.forEach((b, i) => { x = alignedBlock(x, `blocks.${i}`, b); });
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx, 'head.global_pool'), name });
    x = linear(globalPool(x, 'head.global_pool'), 'head.fc', ctx.numClasses);
    return tf.model({ inputs: inp, outputs: x, name });
  };
}

// ---------------------------------------------------------------------------------------------------------
// The family table
// ---------------------------------------------------------------------------------------------------------

const common = { family: 'xception', inputSize: 299, numClasses: 1000 } as const;

export const family: Family = {
  name: 'xception',
  models: [
    {
      ...common, name: 'legacy_xception', variant: { form: 'keras', middleBlocks: 8 }, minInputSize: 7,
      meta: {
        params: 22855952, flops: 16714806992, top1: 79.04, top5: 94.382,
        accuracySource: 'timm results-imagenet.csv, legacy_xception.tf_in1k (299 px, crop 0.897)',
        paper: 'arXiv:1610.02357', reference: "timm 1.0.29 create_model('legacy_xception')",
      },
      fixtures: [{ name: 'timm_legacy_xception' }],
      aliases: ['xception'],
      build: buildLegacy,
    },
    {
      ...common, name: 'xception41', variant: { form: 'aligned', middleBlocks: 8 }, minInputSize: 1,
      meta: {
        params: 26969560, flops: 18408268624, top1: 78.504, top5: 94.276,
        accuracySource: 'timm results-imagenet.csv, xception41.tf_in1k (299 px, crop 0.903)',
        paper: 'arXiv:1802.02611', reference: "timm 1.0.29 create_model('xception41')",
      },
      fixtures: [{ name: 'timm_xception41' }],
      build: alignedBuilder('xception41', 8),
    },
    {
      ...common, name: 'xception65', variant: { form: 'aligned', middleBlocks: 16 }, minInputSize: 1,
      meta: {
        params: 39916312, flops: 27705364432, top1: 83.182, top5: 96.592,
        accuracySource: 'timm results-imagenet.csv, xception65.ra3_in1k (299 px, crop 0.94)',
        paper: 'arXiv:1802.02611', reference: "timm 1.0.29 create_model('xception65')",
      },
      fixtures: [{ name: 'timm_xception65' }],
      build: alignedBuilder('xception65', 16),
    },
  ] satisfies ModelSpec[],
};
