/**
 * VGG 11/13/16/19 with and without batch norm (Simonyan & Zisserman 2014, arXiv:1409.1556, Table 1
 * configurations A, B, D, E) as torchvision defines them (torchvision/models/vgg.py).
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, ModelSpec } from './types.js';
import { adaptiveAvgPool, batchNorm, conv2d, dropout, featuresOnly, flatten, input, linear, maxPool, relu } from './ops.js';

/** Table 1 of the paper: conv widths, 'M' = 2x2 max pool. */
const CFGS = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const satisfies Record<string, readonly (number | 'M')[]>;

function builder(name: string, cfg: keyof typeof CFGS, bn: boolean) {
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    let x = inp;
    let i = 0;
    for (const v of CFGS[cfg]) {
      if (v === 'M') {
        x = maxPool(x, `features.${i++}`, { kernel: 2, stride: 2 });
        continue;
      }
      x = conv2d(x, `features.${i++}`, { filters: v, kernel: 3, padding: 1 });
      if (bn) x = batchNorm(x, `features.${i++}`);
      x = relu(x, `features.${i++}`);
    }
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name });
    x = flatten(adaptiveAvgPool(x, 'avgpool', 7), 'flatten');
    x = dropout(relu(linear(x, 'classifier.0', 4096), 'classifier.1'), 'classifier.2', 0.5);
    x = dropout(relu(linear(x, 'classifier.3', 4096), 'classifier.4'), 'classifier.5', 0.5);
    x = linear(x, 'classifier.6', ctx.numClasses);
    return tf.model({ inputs: inp, outputs: x, name });
  };
}

/** name, configuration, batch norm, params, FLOPs at 224, torchvision IMAGENET1K_V1 Top-1/Top-5. */
const TABLE = [
  ['vgg11', 'A', false, 132863336, 15218180096, 69.02, 88.628],
  ['vgg13', 'B', false, 133047848, 22616932352, 69.928, 89.246],
  ['vgg16', 'D', false, 138357544, 30940528640, 71.592, 90.382],
  ['vgg19', 'E', false, 143667240, 39264124928, 72.376, 90.876],
  ['vgg11_bn', 'A', true, 132868840, 15218180096, 70.37, 89.81],
  ['vgg13_bn', 'B', true, 133053736, 22616932352, 71.586, 90.374],
  ['vgg16_bn', 'D', true, 138365992, 30940528640, 73.36, 91.516],
  ['vgg19_bn', 'E', true, 143678248, 39264124928, 74.218, 91.842],
] as const;

export const family: Family = {
  name: 'vgg',
  models: TABLE.map(([name, cfg, bn, params, flops, top1, top5]): ModelSpec => ({
    name, family: 'vgg', variant: { cfg, batchNorm: bn }, inputSize: 224, minInputSize: 32, numClasses: 1000,
    meta: { params, flops, top1, top5, accuracySource: `torchvision ${name.toUpperCase().replace('_BN', '_BN')}_Weights.IMAGENET1K_V1`, paper: 'arXiv:1409.1556', reference: `torchvision.models.${name}` },
    fixtures: [{ name }],
    build: builder(name, cfg, bn),
  })),
};
