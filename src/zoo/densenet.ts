/**
 * DenseNet-121/161/169/201 (Huang et al. 2017, arXiv:1608.06993, Table 1) as torchvision defines them
 * (torchvision/models/densenet.py): BN-ReLU-Conv(1x1)-BN-ReLU-Conv(3x3) dense layers, transitions that halve
 * the channels and average-pool by 2, BN + ReLU + global average pool before the classifier.
 *
 * Memory: a dense block is expressed as a chain `x_i = concat(x_{i-1}, y_i)` (`denselayer{i}.cat`), not as
 * torchvision's `torch.cat([x_0, y_1, .., y_{i-1}])` per layer. In `predict()` tfjs disposes each tensor after
 * its last reader, so the chain keeps one block-wide tensor alive (plus the layer being computed); the
 * list form keeps every y_i alive until the block ends in addition to the concatenation of each layer.
 * Measured on wasm for densenet121 at batch 1 (see test/parity-densenet.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, ModelSpec } from './types.js';
import { avgPool, batchNorm, concat, conv2d, featuresOnly, globalPool, input, linear, maxPool, relu, type Sym } from './ops.js';

/** A row of Table 1: growth rate k, dense layers per block, stem width; bottleneck width = bnSize * k. */
export interface DenseNetRow {
  growthRate: number;
  blockConfig: readonly [number, number, number, number];
  numInitFeatures: number;
  bnSize: number;
}

const DENSENETS = {
  densenet121: { growthRate: 32, blockConfig: [6, 12, 24, 16], numInitFeatures: 64, bnSize: 4 },
  densenet161: { growthRate: 48, blockConfig: [6, 12, 36, 24], numInitFeatures: 96, bnSize: 4 },
  densenet169: { growthRate: 32, blockConfig: [6, 12, 32, 32], numInitFeatures: 64, bnSize: 4 },
  densenet201: { growthRate: 32, blockConfig: [6, 12, 48, 32], numInitFeatures: 64, bnSize: 4 },
} as const satisfies Record<string, DenseNetRow>;
type DenseNetName = keyof typeof DENSENETS;

/** `_DenseLayer`: BN-ReLU-conv1x1(bnSize*k)-BN-ReLU-conv3x3(k); returns the k new channels. */
function denseLayer(x: Sym, name: string, row: DenseNetRow): Sym {
  let y = relu(batchNorm(x, `${name}.norm1`), `${name}.relu1`);
  y = conv2d(y, `${name}.conv1`, { filters: row.bnSize * row.growthRate, kernel: 1, bias: false });
  y = relu(batchNorm(y, `${name}.norm2`), `${name}.relu2`);
  return conv2d(y, `${name}.conv2`, { filters: row.growthRate, kernel: 3, padding: 1, bias: false });
}

/** `_DenseBlock`: each layer reads every earlier feature map; the running concatenation is a chain. */
function denseBlock(x: Sym, name: string, layers: number, row: DenseNetRow): Sym {
  for (let i = 1; i <= layers; i++) {
    const layerName = `${name}.denselayer${i}`;
    x = concat([x, denseLayer(x, layerName, row)], `${layerName}.cat`);
  }
  return x;
}

/** `_Transition`: BN-ReLU-conv1x1(channels / 2)-avgpool(2). */
function transition(x: Sym, name: string, filters: number): Sym {
  const y = relu(batchNorm(x, `${name}.norm`), `${name}.relu`);
  return avgPool(conv2d(y, `${name}.conv`, { filters, kernel: 1, bias: false }), `${name}.pool`, { kernel: 2, stride: 2 });
}

function builder(name: DenseNetName) {
  const row: DenseNetRow = DENSENETS[name];
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    let x = conv2d(inp, 'features.conv0', { filters: row.numInitFeatures, kernel: 7, stride: 2, padding: 3, bias: false });
    x = relu(batchNorm(x, 'features.norm0'), 'features.relu0');
    x = maxPool(x, 'features.pool0', { kernel: 3, stride: 2, padding: 1 });
    let channels = row.numInitFeatures;
    row.blockConfig.forEach((layers, b) => {
      x = denseBlock(x, `features.denseblock${b + 1}`, layers, row);
      channels += layers * row.growthRate;
      if (b < row.blockConfig.length - 1) {
        channels = Math.floor(channels / 2);
        x = transition(x, `features.transition${b + 1}`, channels);
      }
    });
    // torchvision: features end with norm5; forward() applies F.relu before pooling.
    x = relu(batchNorm(x, 'features.norm5'), 'features.norm5.act');
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name });
    x = linear(globalPool(x, 'avgpool'), 'classifier', ctx.numClasses);
    return tf.model({ inputs: inp, outputs: x, name });
  };
}

/** name, params, conv+linear FLOPs at 224, torchvision IMAGENET1K_V1 Top-1/Top-5. */
const TABLE: readonly (readonly [DenseNetName, number, number, number, number])[] = [
  ['densenet121', 7978856, 5668323328, 74.434, 91.972],
  ['densenet161', 28681000, 15455814144, 77.138, 93.56],
  ['densenet169', 14149480, 6719686656, 75.6, 92.806],
  ['densenet201', 20013928, 8582731776, 76.896, 93.37],
];

export const family: Family = {
  name: 'densenet',
  models: TABLE.map(([name, params, flops, top1, top5]): ModelSpec => {
    const row = DENSENETS[name];
    return {
      name, family: 'densenet',
      variant: { growthRate: row.growthRate, blockConfig: row.blockConfig, numInitFeatures: row.numInitFeatures, bnSize: row.bnSize },
      inputSize: 224,
      // conv0 /2, pool0 /2, three transitions /2 (floor): 29 px is the smallest input that leaves a 1x1 map.
      minInputSize: 29,
      numClasses: 1000,
      meta: {
        params, flops, top1, top5,
        accuracySource: `torchvision ${name.replace('densenet', 'DenseNet')}_Weights.IMAGENET1K_V1`,
        paper: 'arXiv:1608.06993',
        reference: `torchvision.models.${name}`,
      },
      fixtures: [{ name }],
      build: builder(name),
    };
  }),
};
