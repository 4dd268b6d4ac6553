/**
 * SqueezeNet 1.0 and 1.1 (Iandola et al. 2016, arXiv:1602.07360) as torchvision defines them
 * (torchvision/models/squeezenet.py): Fire modules, ceil-mode max pooling, a conv classifier.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, KeyRule, ModelSpec } from './types.js';
import { adaptiveAvgPool, concat, conv2d, dropout, featuresOnly, flatten, input, maxPool, relu, type Sym } from './ops.js';

/** One entry of `features`: a stem conv, a ceil-mode max pool, or a Fire(squeeze, expand1x1, expand3x3). */
type Stage = { conv: number; k: number } | 'pool' | { fire: readonly [number, number, number] };

const STAGES: Record<'1_0' | '1_1', readonly Stage[]> = {
  '1_0': [{ conv: 96, k: 7 }, 'pool', { fire: [16, 64, 64] }, { fire: [16, 64, 64] }, { fire: [32, 128, 128] }, 'pool',
    { fire: [32, 128, 128] }, { fire: [48, 192, 192] }, { fire: [48, 192, 192] }, { fire: [64, 256, 256] }, 'pool',
    { fire: [64, 256, 256] }],
  '1_1': [{ conv: 64, k: 3 }, 'pool', { fire: [16, 64, 64] }, { fire: [16, 64, 64] }, 'pool', { fire: [32, 128, 128] },
    { fire: [32, 128, 128] }, 'pool', { fire: [48, 192, 192] }, { fire: [48, 192, 192] }, { fire: [64, 256, 256] },
    { fire: [64, 256, 256] }],
};

function fire(x: Sym, name: string, [squeeze, e1, e3]: readonly [number, number, number]): Sym {
  const s = relu(conv2d(x, `${name}.squeeze`, { filters: squeeze, kernel: 1 }), `${name}.squeeze_activation`);
  const a = relu(conv2d(s, `${name}.expand1x1`, { filters: e1, kernel: 1 }), `${name}.expand1x1_activation`);
  const b = relu(conv2d(s, `${name}.expand3x3`, { filters: e3, kernel: 3, padding: 1 }), `${name}.expand3x3_activation`);
  return concat([a, b], `${name}.cat`);
}

/** TensorFlow "SAME" padding of one axis: output ceil(n / s), the odd pixel at the end. */
function tfSame(n: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * `padding: 'tf'` is TensorFlow's port (the hosted TFLite SqueezeNet 1.0): the stem conv pads "SAME" and
 * the max pools are "VALID" (floor) instead of ceil-mode; everything else is torchvision's.
 */
function builder(version: '1_0' | '1_1', padding: 'torch' | 'tf' = 'torch') {
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    let x = inp;
    let i = 0;
    for (const st of STAGES[version]) {
      const name = `features.${i}`;
      if (st === 'pool') {
        x = maxPool(x, name, { kernel: 3, stride: 2, ceil: padding === 'torch' });
      } else if ('conv' in st) {
        const pad = padding === 'tf' ? [tfSame(x.shape[1] as number, st.k, 2), tfSame(x.shape[2] as number, st.k, 2)] as const : 0;
        x = relu(conv2d(x, name, { filters: st.conv, kernel: st.k, stride: 2, padding: pad }), `features.${i + 1}`);
        i++;
      } else {
        x = fire(x, name, st.fire);
      }
      i++;
    }
    const modelName = `${padding === 'tf' ? 'tf_' : ''}squeezenet${version}`;
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name: modelName });
    x = dropout(x, 'classifier.0', 0.5);
    x = relu(conv2d(x, 'classifier.1', { filters: ctx.numClasses, kernel: 1 }), 'classifier.2');
    x = adaptiveAvgPool(x, 'classifier.3', 1);
    x = flatten(x, 'flatten');
    return tf.model({ inputs: inp, outputs: x, name: modelName });
  };
}

/** TF SqueezeNet 1.0 tensor names (`conv1`, `fire2_squeeze`, `fire2_e1x1`, `fire2_e3x3`, ..., `conv10`) -> ours. */
const TF_FIRE_INDEX: Readonly<Record<string, number>> = { 2: 3, 3: 4, 4: 5, 5: 7, 6: 8, 7: 9, 8: 10, 9: 12 };
const TF_FIRE_PART: Readonly<Record<string, string>> = { squeeze: 'squeeze', e1x1: 'expand1x1', e3x3: 'expand3x3' };
const tfliteSqueezeNet10Keys: KeyRule = (key) => {
  const m = /^(?:conv1|conv10|fire(\d)_(squeeze|e1x1|e3x3))\.(weight|bias)$/.exec(key);
  if (!m) return key;
  if (key.startsWith('conv1.')) return `features.0.${m[3]}`;
  if (key.startsWith('conv10.')) return `classifier.1.${m[3]}`;
  return `features.${TF_FIRE_INDEX[m[1]!]}.${TF_FIRE_PART[m[2]!]}.${m[3]}`;
};

const common = { family: 'squeezenet', inputSize: 224, numClasses: 1000, paper: 'arXiv:1602.07360' } as const;

export const family: Family = {
  name: 'squeezenet',
  models: [
    {
      ...common, name: 'squeezenet1_0', variant: { version: '1.0' }, minInputSize: 35,
      meta: { params: 1248424, flops: 1637849152, top1: 58.092, top5: 80.42, accuracySource: 'torchvision SqueezeNet1_0_Weights.IMAGENET1K_V1', paper: common.paper, reference: 'torchvision.models.squeezenet1_0' },
      fixtures: [{ name: 'squeezenet1_0' }],
      build: builder('1_0'),
    },
    {
      ...common, name: 'squeezenet1_1', variant: { version: '1.1' }, minInputSize: 17,
      meta: { params: 1235496, flops: 698303872, top1: 58.178, top5: 80.624, accuracySource: 'torchvision SqueezeNet1_1_Weights.IMAGENET1K_V1', paper: common.paper, reference: 'torchvision.models.squeezenet1_1' },
      fixtures: [{ name: 'squeezenet1_1' }],
      build: builder('1_1'),
    },
    {
      ...common, name: 'tf_squeezenet1_0', variant: { version: '1.0', padding: 'tf' }, numClasses: 1001, minInputSize: 35,
      meta: { params: 1248937, flops: 1671802880, top1: 49.0, top5: 72.9, accuracySource: 'TF hosted models (squeezenet_2018_04_27)', paper: common.paper, reference: 'TF hosted TFLite SqueezeNet 1.0 (stem conv "SAME", floor max pools, 1001 classes)' },
      fixtures: [],
      keyRules: { tflite: tfliteSqueezeNet10Keys },
      build: builder('1_0', 'tf'),
    },
  ] satisfies ModelSpec[],
};
