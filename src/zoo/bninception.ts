/**
 * BN-Inception (Ioffe & Szegedy 2015, arXiv:1502.03167, the Inception network of its Figure 5) as
 * Cadene/pretrained-models.pytorch defines it (pretrainedmodels/models/bninception.py, a port of the Caffe
 * model): every conv has a bias and is followed by BatchNorm2d (eps 1e-5) and ReLU; module names are flat
 * (`inception_3a_double_3x3_1`, `inception_3a_double_3x3_1_bn`), and so are our layer names.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import type { BuildContext, Family, FixedPoolHead, ModelSpec } from './types.js';
import { avgPool, batchNorm, concat, conv2d, featuresOnly, flatten, globalPool, input, linear, maxPool, relu, type ConvOptions, type Sym } from './ops.js';
import { fixedHeadError } from './fixed-head.js';

/**
 * One inception module of Figure 5: #1x1 (0: none), #3x3 reduce, #3x3, double #3x3 reduce, double #3x3,
 * the pool branch (average or max, then a 1x1 projection of `poolProj` channels, or passed through), and
 * the stride of the 3x3 convs and the pool (2 in the grid-reducing modules 3c and 4e).
 */
interface ModuleRow {
  name: string;
  c1x1: number;
  c3x3red: number;
  c3x3: number;
  d3x3red: number;
  d3x3: number;
  pool: 'avg' | 'max';
  poolProj: number | 'pass';
  stride: 1 | 2;
}

const row = (name: string, c1x1: number, c3x3red: number, c3x3: number, d3x3red: number, d3x3: number,
  pool: 'avg' | 'max', poolProj: number | 'pass', stride: 1 | 2 = 1): ModuleRow =>
  ({ name, c1x1, c3x3red, c3x3, d3x3red, d3x3, pool, poolProj, stride });

/** Figure 5 of arXiv:1502.03167. */
const MODULES: readonly ModuleRow[] = [
  row('3a', 64, 64, 64, 64, 96, 'avg', 32),
  row('3b', 64, 64, 96, 64, 96, 'avg', 64),
  row('3c', 0, 128, 160, 64, 96, 'max', 'pass', 2),
  row('4a', 224, 64, 96, 96, 128, 'avg', 128),
  row('4b', 192, 96, 128, 96, 128, 'avg', 128),
  row('4c', 160, 128, 160, 128, 160, 'avg', 128),
  row('4d', 96, 128, 192, 160, 192, 'avg', 128),
  row('4e', 0, 128, 192, 192, 256, 'max', 'pass', 2),
  row('5a', 352, 192, 320, 160, 224, 'avg', 128),
  row('5b', 352, 192, 320, 192, 224, 'max', 128),
];

/** conv (with bias) `name` + BatchNorm2d `${name}_bn` + ReLU. */
function convBnRelu(x: Sym, name: string, o: ConvOptions): Sym {
  return relu(batchNorm(conv2d(x, name, o), `${name}_bn`), `${name}.act`);
}

function inceptionModule(x: Sym, r: ModuleRow, ctx: BuildContext): Sym {
  const m = `inception_${r.name}`;
  const s = r.stride;
  const [h, w] = [x.shape[1] as number, x.shape[2] as number];
  if (s === 2 && (h % 2 !== 0 || w % 2 !== 0)) {
    // floor((n - 1) / 2) + 1 (conv) equals ceil((n - 3) / 2) + 1 (ceil-mode pool) only for even n.
    throw new CnnZooError(`bninception: a ${ctx.inputHeight}x${ctx.inputWidth} input gives a ${h}x${w} map at ${m}, where ` +
      'the stride-2 convs (rounding down) and the ceil-mode pool (rounding up) would disagree for an odd side; the ' +
      'reference fails there too. Use an input whose map is even there, e.g. a multiple of 32 px (224 is the default).', 'BAD_INPUT_SIZE');
  }
  const branches: Sym[] = [];
  if (r.c1x1 > 0) branches.push(convBnRelu(x, `${m}_1x1`, { filters: r.c1x1, kernel: 1 }));
  const b3 = convBnRelu(x, `${m}_3x3_reduce`, { filters: r.c3x3red, kernel: 1 });
  branches.push(convBnRelu(b3, `${m}_3x3`, { filters: r.c3x3, kernel: 3, stride: s, padding: 1 }));
  let d = convBnRelu(x, `${m}_double_3x3_reduce`, { filters: r.d3x3red, kernel: 1 });
  d = convBnRelu(d, `${m}_double_3x3_1`, { filters: r.d3x3, kernel: 3, padding: 1 });
  branches.push(convBnRelu(d, `${m}_double_3x3_2`, { filters: r.d3x3, kernel: 3, stride: s, padding: 1 }));
  // Cadene: AvgPool2d(3, 1, 1, ceil_mode=True, count_include_pad=True), MaxPool2d(3, 1, 1, ceil) in 5b,
  // MaxPool2d(3, 2, ceil) without padding in the stride-2 modules.
  const p = r.pool === 'avg'
    ? avgPool(x, `${m}_pool`, { kernel: 3, stride: 1, padding: 1, ceil: true, countIncludePad: true })
    : maxPool(x, `${m}_pool`, { kernel: 3, stride: s, padding: s === 1 ? 1 : 0, ceil: true });
  branches.push(r.poolProj === 'pass' ? p : convBnRelu(p, `${m}_pool_proj`, { filters: r.poolProj, kernel: 1 }));
  return concat(branches, `${m}_output`);
}

/**
 * Cadene's head pools an (H x H) window with stride H over the (H x W) final map, then `view(N, -1)` ->
 * `Linear(1024)`: global for square inputs; for W in (H, 2H) only the left H columns; otherwise the pool fails
 * (W < H) or yields several windows that the Linear cannot take (W >= 2H).
 */
export const CADENE_BNINCEPTION_HEAD: FixedPoolHead = {
  head: 'F.avg_pool2d(kernel_size = map height) -> view(N, -1) -> Linear(1024) (Cadene)',
  accepts: 'a final map at least as wide as it is high and less than twice as wide (square inputs always; wider ones pool the left square)',
};

function buildBnInception(ctx: BuildContext): tf.LayersModel {
  const inp = input(ctx);
  let x = convBnRelu(inp, 'conv1_7x7_s2', { filters: 64, kernel: 7, stride: 2, padding: 3 });
  x = maxPool(x, 'pool1_3x3_s2', { kernel: 3, stride: 2, ceil: true });
  x = convBnRelu(x, 'conv2_3x3_reduce', { filters: 64, kernel: 1 });
  x = convBnRelu(x, 'conv2_3x3', { filters: 192, kernel: 3, padding: 1 });
  x = maxPool(x, 'pool2_3x3_s2', { kernel: 3, stride: 2, ceil: true });
  for (const r of MODULES) x = inceptionModule(x, r, ctx);
  if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name: 'bninception' });
  // Cadene's logits(): F.avg_pool2d(x, kernel_size=x.shape[2]) (a square window of the map's height).
  const [h, w] = [x.shape[1] as number, x.shape[2] as number];
  if (ctx.globalPool) x = globalPool(x, 'global_pool');
  else if (w < h || w >= 2 * h) throw fixedHeadError('bninception', CADENE_BNINCEPTION_HEAD, ctx, [h, w]);
  else x = flatten(avgPool(x, 'global_pool', { kernel: h, stride: h }), 'flatten');
  x = linear(x, 'last_linear', ctx.numClasses);
  return tf.model({ inputs: inp, outputs: x, name: 'bninception' });
}

const bninception: ModelSpec = {
  name: 'bninception',
  family: 'bninception',
  variant: {},
  inputSize: 224,
  minInputSize: 31,
  numClasses: 1000,
  fixedPoolHead: CADENE_BNINCEPTION_HEAD,
  meta: {
    params: 11295240,
    flops: 4065200128,
    top1: 73.524,
    top5: 91.562,
    accuracySource: 'Cadene/pretrained-models.pytorch README (bninception, imagenet; BGR 0-255 input minus mean [104, 117, 128])',
    paper: 'arXiv:1502.03167',
    reference: 'Cadene/pretrained-models.pytorch pretrainedmodels.models.bninception.BNInception',
  },
  fixtures: [{ name: 'bninception' }],
  aliases: ['bn_inception'],
  build: buildBnInception,
};

export const family: Family = { name: 'bninception', models: [bninception] };
