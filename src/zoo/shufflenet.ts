/**
 * ShuffleNet v1 (Zhang et al. 2017, arXiv:1707.01083) as megvii-model/ShuffleNet-Series defines it
 * (`ShuffleNetV1/network.py`, `blocks.py`), and ShuffleNet v2 (Ma et al. 2018, arXiv:1807.11164) as torchvision
 * defines it (`torchvision/models/shufflenetv2.py`). One table and one builder per architecture; layer names
 * are the references' module paths.
 *
 * v1 unit (`features.k`): 1x1 conv (grouped, except the very first unit) -> BN -> ReLU -> 3x3 depthwise conv
 * (stride 1 or 2) -> BN -> channel shuffle -> grouped 1x1 conv -> BN; then ReLU(x + shortcut), or at stride 2
 * concat(3x3/2 average pool of x (count_include_pad), ReLU(...)). megvii's shuffle reshapes to (n, c/g, g, h, w),
 * the inverse of the paper's (n, g, c/g, h, w): a `ChannelShuffle` with c/g groups. Its head is `AvgPool2d(7)`
 * (stride 7) -> `view(-1, C)` -> Linear: one 7x7 window at the top left of the final map (ceil(side / 32) px), the
 * whole map only at 193-224 px. We reproduce it, so at 256 px (an 8x8 map) the last row and column are left out
 * as megvii leaves them out. Below 193 px the pool has no window and megvii fails; above 416 px it yields several
 * windows, which `view(-1, C)` turns into extra batch rows (a wrong output): both are refused. `globalPool: true`
 * averages the whole map instead, at any size.
 *
 * v2 unit (`stageS.k`): stride 1 splits the channels in halves (`x.chunk(2, 1)`) and transforms the second
 * (`branch2`: 1x1 -> BN -> ReLU -> 3x3 depthwise -> BN -> 1x1 -> BN -> ReLU); stride 2 feeds x to both
 * `branch1` (3x3/2 depthwise -> BN -> 1x1 -> BN -> ReLU) and `branch2`. The halves are concatenated and
 * shuffled with 2 groups.
 */
import * as tf from '@tensorflow/tfjs';
import { ChannelShuffle } from '../layers/channel-shuffle.js';
import { ChannelSlice } from '../layers/channel-slice.js';
import type { BuildContext, Family, FixedPoolHead, ModelSpec } from './types.js';
import {
  add, avgPool, batchNorm, channels, concat, conv2d, featuresOnly, flatten, globalPool, input, linear, maxPool, relu, type Sym,
} from './ops.js';
import { fixedHeadError } from './fixed-head.js';

const shuffle = (x: Sym, name: string, groups: number): Sym => new ChannelShuffle({ name, groups }).apply(x) as Sym;
const slice = (x: Sym, name: string, start: number, size: number): Sym => new ChannelSlice({ name, start, size }).apply(x) as Sym;

/** conv (no bias) -> BN, optionally ReLU, named `${prefix}.${i}`, `.${i+1}`, `.${i+2}` as in an `nn.Sequential`. */
function convBn(x: Sym, prefix: string, i: number, o: { filters: number; kernel: number; stride?: number; groups?: number; relu: boolean }): Sym {
  const k = o.kernel;
  let y = conv2d(x, `${prefix}.${i}`, { filters: o.filters, kernel: k, stride: o.stride ?? 1, padding: (k - 1) / 2, groups: o.groups ?? 1, bias: false });
  y = batchNorm(y, `${prefix}.${i + 1}`);
  return o.relu ? relu(y, `${prefix}.${i + 2}`) : y;
}

/** Stem shared by both: 3x3/2 conv -> BN -> ReLU, then a 3x3/2 max pool (padding 1). */
function stem(x: Sym, prefix: string, filters: number, poolName: string): Sym {
  const y = convBn(x, prefix, 0, { filters, kernel: 3, stride: 2, relu: true });
  return maxPool(y, poolName, { kernel: 3, stride: 2, padding: 1 });
}

// ---------------------------------------------------------------------------------------------------------
// ShuffleNet v1

/** Units per stage (Table 1 of arXiv:1707.01083: stages 2-4), the first of each with stride 2. */
const V1_REPEATS = [4, 8, 4] as const;
type V1Size = '0_5x' | '1_0x' | '1_5x' | '2_0x';
/**
 * Output channels [stem, stage 2, stage 3, stage 4] per groups and size: Table 1 of the paper (g = 3: 240,
 * 480, 960; g = 8: 384, 768, 1536) scaled by s, with megvii's stem widths (`stage_out_channels`).
 */
const V1_CHANNELS: Record<3 | 8, Record<V1Size, readonly [number, number, number, number]>> = {
  3: { '0_5x': [12, 120, 240, 480], '1_0x': [24, 240, 480, 960], '1_5x': [24, 360, 720, 1440], '2_0x': [48, 480, 960, 1920] },
  8: { '0_5x': [16, 192, 384, 768], '1_0x': [24, 384, 768, 1536], '1_5x': [24, 576, 1152, 2304], '2_0x': [48, 768, 1536, 3072] },
};

function v1Unit(x: Sym, name: string, out: number, groups: number, firstUnit: boolean, stride: number): Sym {
  const inp = channels(x), mid = out / 4;
  const branchOut = stride === 2 ? out - inp : out;
  let y = convBn(x, `${name}.branch_main_1`, 0, { filters: mid, kernel: 1, groups: firstUnit ? 1 : groups, relu: true });
  y = convBn(y, `${name}.branch_main_1`, 3, { filters: mid, kernel: 3, stride, groups: mid, relu: false });
  if (groups > 1) y = shuffle(y, `${name}.shuffle`, mid / groups);
  y = convBn(y, `${name}.branch_main_2`, 0, { filters: branchOut, kernel: 1, groups, relu: false });
  if (stride === 1) return relu(add([y, x], `${name}.add`), `${name}.relu`);
  const proj = avgPool(x, `${name}.branch_proj`, { kernel: 3, stride: 2, padding: 1 });
  return concat([proj, relu(y, `${name}.relu`)], `${name}.cat`);
}

/** megvii's head: the 7x7 window (stride 7) fits a final map of 7 to 13 px, i.e. ceil(side / 32) in 7..13. */
const V1_WINDOW = 7;
export const V1_HEAD: FixedPoolHead = {
  head: 'AvgPool2d(7) (stride 7) -> view(-1, C) -> Linear',
  accepts: `${32 * (V1_WINDOW - 1) + 1} to ${32 * (2 * V1_WINDOW - 1)} px per side (a ${V1_WINDOW} to ${2 * V1_WINDOW - 1} px final map, one window)`,
};

function buildV1(name: string, groups: 3 | 8, size: V1Size) {
  return (ctx: BuildContext): tf.LayersModel => {
    const [stemOut, ...stageOut] = V1_CHANNELS[groups][size];
    const inp = input(ctx);
    let x = stem(inp, 'first_conv', stemOut, 'maxpool');
    let k = 0;
    V1_REPEATS.forEach((n, s) => {
      for (let i = 0; i < n; i++, k++) x = v1Unit(x, `features.${k}`, stageOut[s]!, groups, s === 0 && i === 0, i === 0 ? 2 : 1);
    });
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name });
    if (ctx.globalPool) {
      x = globalPool(x, 'globalpool');
    } else {
      const map = [x.shape[1] as number, x.shape[2] as number] as const;
      if (map.some((m) => m < V1_WINDOW || m >= 2 * V1_WINDOW)) throw fixedHeadError(name, V1_HEAD, ctx, map);
      x = flatten(avgPool(x, 'globalpool', { kernel: V1_WINDOW, stride: V1_WINDOW }), 'flatten');
    }
    x = linear(x, 'classifier.0', ctx.numClasses, false);
    return tf.model({ inputs: inp, outputs: x, name });
  };
}

// ---------------------------------------------------------------------------------------------------------
// ShuffleNet v2

/** Units per stage (Table 5 of arXiv:1807.11164: stages 2-4), the first of each with stride 2. */
const V2_REPEATS = [4, 8, 4] as const;
type V2Width = 'x0_5' | 'x1_0' | 'x1_5' | 'x2_0';
/** Output channels [conv1, stage2, stage3, stage4, conv5] per width: Table 5 of arXiv:1807.11164. */
const V2_CHANNELS: Record<V2Width, readonly [number, number, number, number, number]> = {
  x0_5: [24, 48, 96, 192, 1024],
  x1_0: [24, 116, 232, 464, 1024],
  x1_5: [24, 176, 352, 704, 1024],
  x2_0: [24, 244, 488, 976, 2048],
};

function v2Unit(x: Sym, name: string, out: number, stride: number): Sym {
  const half = out / 2;
  let left: Sym, right: Sym;
  if (stride === 1) {
    const c = channels(x);
    left = slice(x, `${name}.chunk0`, 0, c / 2);
    right = slice(x, `${name}.chunk1`, c / 2, c / 2);
  } else {
    left = convBn(x, `${name}.branch1`, 0, { filters: channels(x), kernel: 3, stride, groups: channels(x), relu: false });
    left = convBn(left, `${name}.branch1`, 2, { filters: half, kernel: 1, relu: true });
    right = x;
  }
  right = convBn(right, `${name}.branch2`, 0, { filters: half, kernel: 1, relu: true });
  right = convBn(right, `${name}.branch2`, 3, { filters: half, kernel: 3, stride, groups: half, relu: false });
  right = convBn(right, `${name}.branch2`, 5, { filters: half, kernel: 1, relu: true });
  return shuffle(concat([left, right], `${name}.cat`), `${name}.shuffle`, 2);
}

function buildV2(name: string, width: V2Width) {
  return (ctx: BuildContext): tf.LayersModel => {
    const [stemOut, s2, s3, s4, lastOut] = V2_CHANNELS[width];
    const inp = input(ctx);
    let x = stem(inp, 'conv1', stemOut, 'maxpool');
    [s2, s3, s4].forEach((out, s) => {
      for (let i = 0; i < V2_REPEATS[s]!; i++) x = v2Unit(x, `stage${s + 2}.${i}`, out, i === 0 ? 2 : 1);
    });
    x = convBn(x, 'conv5', 0, { filters: lastOut, kernel: 1, relu: true });
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name });
    x = globalPool(x, 'mean');
    x = linear(x, 'fc', ctx.numClasses);
    return tf.model({ inputs: inp, outputs: x, name });
  };
}

// ---------------------------------------------------------------------------------------------------------
// The registry rows

/** v1: groups, size, params and FLOPs at 224 px (equal to the fixtures'), megvii's Top-1 / Top-5 (100 - error). */
const V1_ROWS: readonly (readonly [3 | 8, V1Size, number, number, number, number])[] = [
  [3, '0_5x', 717324, 75179712, 57.3, 80.0],
  [3, '1_0x', 1864728, 274921344, 67.8, 87.7],
  [3, '1_5x', 3441168, 584887104, 71.6, 90.2],
  [3, '2_0x', 5449776, 1048090368, 74.1, 91.4],
  [8, '0_5x', 1010448, 80939520, 58.8, 81.0],
  [8, '1_0x', 2433768, 276731904, 68.0, 86.4],
  [8, '1_5x', 4268952, 580377600, 71.0, 89.6],
  [8, '2_0x', 6521232, 1043884032, 72.9, 90.8],
];

/** v2: width, params and FLOPs at 224 px (equal to the fixtures'), torchvision IMAGENET1K_V1 Top-1 / Top-5. */
const V2_ROWS: readonly (readonly [V2Width, number, number, number, number])[] = [
  ['x0_5', 1366792, 80952896, 60.552, 81.746],
  ['x1_0', 2278604, 289815984, 69.362, 88.316],
  ['x1_5', 3503624, 591518784, 72.996, 91.086],
  ['x2_0', 7393996, 1166506928, 76.23, 93.006],
];

export const family: Family = {
  name: 'shufflenet',
  models: [
    ...V1_ROWS.map(([groups, size, params, flops, top1, top5]): ModelSpec => {
      const name = `shufflenet_v1_g${groups}_${size}`;
      return {
        name, family: 'shufflenet', variant: { version: 1, groups, size: size.replace('_', '.') }, inputSize: 224, minInputSize: 1, numClasses: 1000,
        fixedPoolHead: V1_HEAD,
        meta: {
          params, flops, top1, top5, accuracySource: 'megvii-model/ShuffleNet-Series ShuffleNetV1/README.md', paper: 'arXiv:1707.01083',
          reference: `megvii-model/ShuffleNet-Series ShuffleNetV1(model_size='${size.replace('_', '.')}', group=${groups})`,
        },
        fixtures: [{ name }],
        build: buildV1(name, groups, size),
      };
    }),
    ...V2_ROWS.map(([width, params, flops, top1, top5]): ModelSpec => {
      const name = `shufflenet_v2_${width}`;
      return {
        name, family: 'shufflenet', variant: { version: 2, width: Number(width.slice(1).replace('_', '.')) }, inputSize: 224, minInputSize: 1, numClasses: 1000,
        meta: {
          params, flops, top1, top5, accuracySource: `torchvision ShuffleNet_V2_${width.toUpperCase()}_Weights.IMAGENET1K_V1`, paper: 'arXiv:1807.11164',
          reference: `torchvision.models.shufflenet_v2_${width}`,
        },
        fixtures: [{ name }],
        build: buildV2(name, width),
      };
    }),
  ],
};
