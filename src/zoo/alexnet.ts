/**
 * AlexNet (Krizhevsky et al. 2012, "One weird trick" single-tower variant) as torchvision defines it:
 * torchvision/models/alexnet.py, with AdaptiveAvgPool2d((6, 6)) before the classifier.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, ModelSpec } from './types.js';
import { adaptiveAvgPool, conv2d, dropout, featuresOnly, flatten, input, linear, maxPool, relu } from './ops.js';

/** features.{index}: [out channels, kernel, stride, padding, then max-pool?] */
const FEATURES = [
  { i: 0, c: 64, k: 11, s: 4, p: 2, pool: true },
  { i: 3, c: 192, k: 5, s: 1, p: 2, pool: true },
  { i: 6, c: 384, k: 3, s: 1, p: 1, pool: false },
  { i: 8, c: 256, k: 3, s: 1, p: 1, pool: false },
  { i: 10, c: 256, k: 3, s: 1, p: 1, pool: true },
] as const;

function buildAlexNet(ctx: BuildContext): tf.LayersModel {
  const inp = input(ctx);
  let x = inp;
  for (const f of FEATURES) {
    x = conv2d(x, `features.${f.i}`, { filters: f.c, kernel: f.k, stride: f.s, padding: f.p });
    x = relu(x, `features.${f.i + 1}`);
    if (f.pool) x = maxPool(x, `features.${f.i + 2}`, { kernel: 3, stride: 2 });
  }
  if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name: 'alexnet' });
  x = adaptiveAvgPool(x, 'avgpool', 6);
  x = flatten(x, 'flatten');
  x = dropout(x, 'classifier.0', 0.5);
  x = relu(linear(x, 'classifier.1', 4096), 'classifier.2');
  x = dropout(x, 'classifier.3', 0.5);
  x = relu(linear(x, 'classifier.4', 4096), 'classifier.5');
  x = linear(x, 'classifier.6', ctx.numClasses);
  return tf.model({ inputs: inp, outputs: x, name: 'alexnet' });
}

const alexnet: ModelSpec = {
  name: 'alexnet',
  family: 'alexnet',
  variant: {},
  inputSize: 224,
  minInputSize: 63,
  numClasses: 1000,
  meta: {
    params: 61100840,
    flops: 1428376960,
    top1: 56.522,
    top5: 79.066,
    accuracySource: 'torchvision AlexNet_Weights.IMAGENET1K_V1',
    paper: 'arXiv:1404.5997',
    reference: 'torchvision.models.alexnet',
  },
  fixtures: [{ name: 'alexnet' }],
  build: buildAlexNet,
};

export const family: Family = { name: 'alexnet', models: [alexnet] };
