/**
 * EffNet (Freeman, Roese-Koerner & Kummert 2018, arXiv:1801.06434), built from the paper: there is no
 * reference implementation and no ImageNet model; the paper trains on Cifar-10, SVHN and GTSRB.
 *
 * EffNet block (Fig. 1), for c_out output channels: a 1x1 conv to c_out / 2 channels, a 1x3 depthwise
 * conv, "separable pooling" (a 2x1 max pool, stride 2 along the rows only), a 3x1 depthwise conv, and a 2x1
 * conv to c_out channels with stride 2 along the columns (which replaces the 1x1 pointwise conv at the same
 * cost). It also replaces the network's first, ordinary conv layer ("replacing the first layer with our EffNet
 * block saves ~30% of the computations for the respective layer").
 *
 * The model is the Cifar-10 network: EffNet blocks 32 -> 64, 64 -> 128, 128 -> 256 on 32x32 inputs (each block
 * in place of a 3x3 conv + 2x2 max pool of the baseline), flattened into a fully connected classifier.
 * Where the paper is silent we follow the public Keras re-implementation the paper's description matches
 * (arthurdouillard/keras-effnet): every conv without bias, followed by LeakyReLU (alpha 0.3) and then batch
 * norm; TF "SAME" padding (the 2x1 conv pads one row at the bottom); TF batch-norm epsilon 1e-3.
 *
 * Layer names: `block{b}.pointwise`, `block{b}.depthwise_1x3`, `block{b}.depthwise_3x1`, `block{b}.strided_2x1`,
 * each with `.act` and `.bn`; `block{b}.pool_2x1`, `flatten`, `classifier`.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family } from './types.js';
import { batchNorm, conv2d, featuresOnly, flatten, input, linear, maxPool, type Padding2D, type Sym } from './ops.js';

/** The Cifar-10 network: output channels of each EffNet block (the 1x1 conv of each uses half). */
export const EFFNET_BLOCKS = [64, 128, 256] as const;

interface ConvUnit { filters: number; kernel: readonly [number, number]; stride?: readonly [number, number]; padding: Padding2D; depthwise?: boolean }

/** conv (no bias) -> LeakyReLU -> BN. */
function unit(x: Sym, name: string, u: ConvUnit): Sym {
  const groups = u.depthwise ? (x.shape[3] as number) : 1;
  let y = conv2d(x, name, { filters: u.filters, kernel: u.kernel, stride: u.stride ?? 1, padding: u.padding, groups, bias: false });
  y = tf.layers.leakyReLU({ name: `${name}.act`, alpha: 0.3 }).apply(y) as Sym;
  return batchNorm(y, `${name}.bn`, 1e-3);
}

function effnetBlock(x: Sym, name: string, out: number): Sym {
  const mid = out / 2;
  let y = unit(x, `${name}.pointwise`, { filters: mid, kernel: [1, 1], padding: 0 });
  y = unit(y, `${name}.depthwise_1x3`, { filters: mid, kernel: [1, 3], padding: [0, 1], depthwise: true });
  y = maxPool(y, `${name}.pool_2x1`, { kernel: [2, 1], stride: [2, 1] });
  y = unit(y, `${name}.depthwise_3x1`, { filters: mid, kernel: [3, 1], padding: [1, 0], depthwise: true });
  return unit(y, `${name}.strided_2x1`, { filters: out, kernel: [2, 1], stride: [1, 2], padding: [[0, 1], [0, 0]] });
}

function build(ctx: BuildContext): tf.LayersModel {
  const inp = input(ctx);
  let x = inp;
  EFFNET_BLOCKS.forEach((out, i) => { x = effnetBlock(x, `block${i + 1}`, out); });
  if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name: 'effnet' });
  x = linear(flatten(x, 'flatten'), 'classifier', ctx.numClasses);
  return tf.model({ inputs: inp, outputs: x, name: 'effnet' });
}

export const family: Family = {
  name: 'effnet',
  models: [{
    name: 'effnet', family: 'effnet', variant: { blocks: EFFNET_BLOCKS }, inputSize: 32, minInputSize: 8, numClasses: 10,
    meta: {
      params: 151146, flops: 11280384, paper: 'arXiv:1801.06434',
      reference: 'built from the paper (Cifar-10 network, EffNet block of Fig. 1); no reference implementation exists',
    },
    fixtures: [],
    build,
  }],
};
