/**
 * GoogLeNet / Inception v1 (Szegedy et al. 2014, arXiv:1409.4842) in two forms that share the paper's
 * Table 1 of inception modules:
 * - `googlenet`: torchvision's port (torchvision/models/googlenet.py): conv + BatchNorm(eps 1e-3) + ReLU
 *   units, a 3x3 conv where the paper's "5x5" branch is (a known quirk of that port, kept for weight
 *   compatibility), a 2x2 pool before 5a, built with `transform_input=False` and no auxiliary heads.
 * - `bvlc_googlenet`: the original BVLC Caffe model (models/bvlc_googlenet/deploy.prototxt): biased convs
 *   without BN, Caffe LRN after pool1 and conv2, Caffe's ceil-mode pools, a 7x7 average pool. Layers carry
 *   the Caffe layer names with '/' made '.' (`conv1.7x7_s2`, `inception_3a.1x1`, `loss3.classifier`), so a
 *   Caffe checkpoint read into `<layer>.weight` / `<layer>.bias` (OIHW) maps by name.
 */
import * as tf from '@tensorflow/tfjs';
import { LRN } from '../layers/lrn.js';
import type { BuildContext, Family, FixedPoolHead, ModelSpec } from './types.js';
import { fixedHeadError } from './fixed-head.js';
import {
  adaptiveAvgPool, avgPool, batchNorm, concat, conv2d, dropout, featuresOnly, flatten, input, linear, maxPool, relu,
  type ConvOptions, type Sym,
} from './ops.js';

/** One inception module of Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj. */
interface InceptionRow {
  name: string;
  c1x1: number;
  c3x3red: number;
  c3x3: number;
  c5x5red: number;
  c5x5: number;
  poolProj: number;
}
/** The body after the stem: inception modules and the stride-2 max pools between them ('pool'). */
type Stage = InceptionRow | 'pool';

const row = (name: string, c1x1: number, c3x3red: number, c3x3: number, c5x5red: number, c5x5: number, poolProj: number): InceptionRow =>
  ({ name, c1x1, c3x3red, c3x3, c5x5red, c5x5, poolProj });

/** Table 1 of arXiv:1409.4842, from inception (3a) to inception (5b). */
const BODY: readonly Stage[] = [
  row('3a', 64, 96, 128, 16, 32, 32),
  row('3b', 128, 128, 192, 32, 96, 64),
  'pool',
  row('4a', 192, 96, 208, 16, 48, 64),
  row('4b', 160, 112, 224, 24, 64, 64),
  row('4c', 128, 128, 256, 24, 64, 64),
  row('4d', 112, 144, 288, 32, 64, 64),
  row('4e', 256, 160, 320, 32, 128, 128),
  'pool',
  row('5a', 256, 160, 320, 32, 128, 128),
  row('5b', 384, 192, 384, 48, 128, 128),
];

// ---------------------------------------------------------------------------------------------------------
// torchvision

/** torchvision `BasicConv2d`: conv (no bias) + BatchNorm2d(eps=0.001) + ReLU. */
function basicConv(x: Sym, name: string, o: Omit<ConvOptions, 'bias'>): Sym {
  const y = conv2d(x, `${name}.conv`, { ...o, bias: false });
  return relu(batchNorm(y, `${name}.bn`, 1e-3), `${name}.act`);
}

function torchvisionInception(x: Sym, r: InceptionRow): Sym {
  const m = `inception${r.name}`;
  const b1 = basicConv(x, `${m}.branch1`, { filters: r.c1x1, kernel: 1 });
  const b2 = basicConv(basicConv(x, `${m}.branch2.0`, { filters: r.c3x3red, kernel: 1 }), `${m}.branch2.1`, { filters: r.c3x3, kernel: 3, padding: 1 });
  // torchvision's "5x5" branch is a 3x3 conv (pytorch/vision#906).
  const b3 = basicConv(basicConv(x, `${m}.branch3.0`, { filters: r.c5x5red, kernel: 1 }), `${m}.branch3.1`, { filters: r.c5x5, kernel: 3, padding: 1 });
  const pooled = maxPool(x, `${m}.branch4.0`, { kernel: 3, stride: 1, padding: 1, ceil: true });
  const b4 = basicConv(pooled, `${m}.branch4.1`, { filters: r.poolProj, kernel: 1 });
  return concat([b1, b2, b3, b4], `${m}.concat`);
}

function buildTorchvision(ctx: BuildContext): tf.LayersModel {
  const inp = input(ctx);
  let x = basicConv(inp, 'conv1', { filters: 64, kernel: 7, stride: 2, padding: 3 });
  x = maxPool(x, 'maxpool1', { kernel: 3, stride: 2, ceil: true });
  x = basicConv(x, 'conv2', { filters: 64, kernel: 1 });
  x = basicConv(x, 'conv3', { filters: 192, kernel: 3, padding: 1 });
  x = maxPool(x, 'maxpool2', { kernel: 3, stride: 2, ceil: true });
  let pools = 2;
  for (const st of BODY) {
    if (st !== 'pool') {
      x = torchvisionInception(x, st);
      continue;
    }
    pools++;
    // maxpool3 is 3x3 / 2; maxpool4 is 2x2 / 2 (both ceil mode).
    x = maxPool(x, `maxpool${pools}`, pools === 3 ? { kernel: 3, stride: 2, ceil: true } : { kernel: 2, stride: 2, ceil: true });
  }
  if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name: 'googlenet' });
  x = flatten(adaptiveAvgPool(x, 'avgpool', 1), 'flatten');
  x = dropout(x, 'dropout', 0.2);
  x = linear(x, 'fc', ctx.numClasses);
  return tf.model({ inputs: inp, outputs: x, name: 'googlenet' });
}

// ---------------------------------------------------------------------------------------------------------
// BVLC Caffe

/** Caffe `Convolution` + in-place `ReLU`, named `<group>.<conv>` and `<group>.relu_<conv>`. */
function caffeConv(x: Sym, group: string, conv: string, o: ConvOptions, reluName = `relu_${conv}`): Sym {
  return relu(conv2d(x, `${group}.${conv}`, o), `${group}.${reluName}`);
}

/** Caffe `LRN` as in deploy.prototxt: local_size 5, alpha 1e-4, beta 0.75 (k 1). */
const caffeLrn = (x: Sym, name: string): Sym => new LRN({ name, size: 5, alpha: 1e-4, beta: 0.75, k: 1 }).apply(x) as Sym;

function caffeInception(x: Sym, r: InceptionRow): Sym {
  const m = `inception_${r.name}`;
  const b1 = caffeConv(x, m, '1x1', { filters: r.c1x1, kernel: 1 });
  const b2 = caffeConv(caffeConv(x, m, '3x3_reduce', { filters: r.c3x3red, kernel: 1 }), m, '3x3', { filters: r.c3x3, kernel: 3, padding: 1 });
  const b3 = caffeConv(caffeConv(x, m, '5x5_reduce', { filters: r.c5x5red, kernel: 1 }), m, '5x5', { filters: r.c5x5, kernel: 5, padding: 2 });
  const pooled = maxPool(x, `${m}.pool`, { kernel: 3, stride: 1, padding: 1, ceil: true });
  const b4 = caffeConv(pooled, m, 'pool_proj', { filters: r.poolProj, kernel: 1 });
  return concat([b1, b2, b3, b4], `${m}.output`);
}

/** The side of the map before pool5: conv1 (7x7 / 2, pad 3), then four 3x3 / 2 ceil-mode pools. */
function bvlcPool5Side(n: number): number {
  let s = Math.floor((n - 1) / 2) + 1;
  for (let i = 0; i < 4; i++) s = Math.ceil((s - 3) / 2) + 1;
  return s;
}

/** Caffe's pool5 averages a fixed 7x7 window (stride 1), so loss3/classifier (1024 inputs) needs a 7x7 map there. */
export const BVLC_HEAD: FixedPoolHead = {
  head: 'pool5/7x7_s1 (AVE, kernel 7, stride 1) -> loss3/classifier (InnerProduct, 1024 inputs) (Caffe)',
  accepts: '223 to 254 px per side (a 7x7 map at pool5)',
};

function buildBvlc(ctx: BuildContext): tf.LayersModel {
  const [mh, mw] = [bvlcPool5Side(ctx.inputHeight), bvlcPool5Side(ctx.inputWidth)];
  if (ctx.includeTop && !ctx.globalPool && (mh !== 7 || mw !== 7)) throw fixedHeadError('bvlc_googlenet', BVLC_HEAD, ctx, [mh, mw]);
  const inp = input(ctx, 'data');
  // Caffe pools always round up (ceil mode).
  let x = caffeConv(inp, 'conv1', '7x7_s2', { filters: 64, kernel: 7, stride: 2, padding: 3 }, 'relu_7x7');
  x = maxPool(x, 'pool1.3x3_s2', { kernel: 3, stride: 2, ceil: true });
  x = caffeLrn(x, 'pool1.norm1');
  x = caffeConv(x, 'conv2', '3x3_reduce', { filters: 64, kernel: 1 });
  x = caffeConv(x, 'conv2', '3x3', { filters: 192, kernel: 3, padding: 1 });
  x = caffeLrn(x, 'conv2.norm2');
  x = maxPool(x, 'pool2.3x3_s2', { kernel: 3, stride: 2, ceil: true });
  let pools = 2;
  for (const st of BODY) {
    if (st === 'pool') x = maxPool(x, `pool${++pools}.3x3_s2`, { kernel: 3, stride: 2, ceil: true });
    else x = caffeInception(x, st);
  }
  if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name: 'bvlc_googlenet' });
  x = ctx.globalPool ? adaptiveAvgPool(x, 'pool5.7x7_s1', 1) : avgPool(x, 'pool5.7x7_s1', { kernel: 7, stride: 1 });
  x = dropout(x, 'pool5.drop_7x7_s1', 0.4);
  x = flatten(x, 'loss3.classifier.flatten');
  x = linear(x, 'loss3.classifier', ctx.numClasses);
  return tf.model({ inputs: inp, outputs: x, name: 'bvlc_googlenet' });
}

const paper = 'arXiv:1409.4842';

export const family: Family = {
  name: 'googlenet',
  models: [
    {
      name: 'googlenet', family: 'googlenet', variant: { form: 'torchvision', batchNorm: true, transformInput: false, auxLogits: false },
      inputSize: 224, minInputSize: 15, numClasses: 1000,
      meta: {
        params: 6624904, flops: 2996752384, top1: 69.778, top5: 89.53,
        accuracySource: 'torchvision GoogLeNet_Weights.IMAGENET1K_V1 (with transform_input=True)', paper,
        reference: "torchvision.models.googlenet(aux_logits=False, transform_input=False)",
      },
      fixtures: [{ name: 'googlenet' }],
      aliases: ['inception_v1'],
      build: buildTorchvision,
    },
    {
      name: 'bvlc_googlenet', family: 'googlenet', variant: { form: 'caffe', batchNorm: false, lrn: true },
      inputSize: 224, minInputSize: 223, numClasses: 1000, fixedPoolHead: BVLC_HEAD,
      meta: {
        params: 6998552, flops: 3165343744, top1: 68.7, top5: 88.9,
        accuracySource: 'BVLC Caffe model zoo, models/bvlc_googlenet (single center crop)', paper,
        reference: 'BVLC Caffe models/bvlc_googlenet/deploy.prototxt',
      },
      fixtures: [],
      build: buildBvlc,
    },
  ] satisfies ModelSpec[],
};
