/**
 * Dual Path Networks (Chen et al. 2017, arXiv:1707.01629; Table 1 gives DPN-92 and DPN-98, the authors'
 * MXNet code github.com/cypw/DPNs adds DPN-68/107/131) as timm defines them (timm/models/dpn.py,
 * timm 1.0.29): pre-activation BN-ReLU-conv units, a grouped 3x3 conv in every block, and two paths
 * through the network: a residual path (`bw` channels, summed) and a densely connected path (grows by
 * `inc` channels per block, concatenated). BatchNorm epsilon is 1e-3 throughout and the classifier is a 1x1
 * conv on the pooled map. timm's `DPN(fc_act_layer='elu')` asks for an ELU after the last BN, but
 * `get_norm_act_layer` keeps the ReLU already bound into the norm layer it is given, so timm runs a ReLU
 * there; the fixtures confirm it (ELU: 0.65 relative error on timm_dpn68, ReLU: 1.3e-6), and so do we.
 *
 * Layer names are timm's module paths (`features.conv2_1.c1x1_a.bn`, `.conv`, `.bn.act`); the weightless
 * helpers take timm's variable names: `x_in` (input concatenation), `x_s1`/`x_s2` (projection split),
 * `out1`/`out2` (output split), `resid` (sum) and `dense` (concatenation).
 */
import * as tf from '@tensorflow/tfjs';
import { ChannelSlice } from '../layers/channel-slice.js';
import type { BuildContext, Family, ModelSpec } from './types.js';
import { adaptiveAvgPool, add, batchNorm, concat, conv2d, featuresOnly, flatten, input, maxPool, relu, type Sym } from './ops.js';

/** timm `DPN(...)` arguments: stem, bottleneck width factor k_r, groups, blocks and dense increments per stage. */
export interface DpnRow {
  /** DPN-68: 3x3 stem conv and base widths 64/128/256/512 instead of 4x those. */
  small: boolean;
  numInitFeatures: number;
  /** Bottleneck width of a block = kR * bw / 64 (bw: the stage's residual width). */
  kR: number;
  groups: number;
  /** "b" variant: the last 1x1 conv of a block is two convs (residual part, dense part) after a shared BN. */
  b: boolean;
  /** Blocks per stage (conv2..conv5). */
  kSec: readonly [number, number, number, number];
  /** Channels each block adds to the dense path, per stage. */
  incSec: readonly [number, number, number, number];
}

const DPNS = {
  dpn68: { small: true, numInitFeatures: 10, kR: 128, groups: 32, b: false, kSec: [3, 4, 12, 3], incSec: [16, 32, 32, 64] },
  dpn68b: { small: true, numInitFeatures: 10, kR: 128, groups: 32, b: true, kSec: [3, 4, 12, 3], incSec: [16, 32, 32, 64] },
  dpn92: { small: false, numInitFeatures: 64, kR: 96, groups: 32, b: false, kSec: [3, 4, 20, 3], incSec: [16, 32, 24, 128] },
  dpn98: { small: false, numInitFeatures: 96, kR: 160, groups: 40, b: false, kSec: [3, 6, 20, 3], incSec: [16, 32, 32, 128] },
  dpn107: { small: false, numInitFeatures: 128, kR: 200, groups: 50, b: false, kSec: [4, 8, 20, 3], incSec: [20, 64, 64, 128] },
  dpn131: { small: false, numInitFeatures: 128, kR: 160, groups: 40, b: false, kSec: [4, 8, 28, 3], incSec: [16, 32, 32, 128] },
} as const satisfies Record<string, DpnRow>;
type DpnName = keyof typeof DPNS;

const BN_EPS = 1e-3;

/** timm `BatchNormAct2d` (eps 1e-3): `${name}` is the BN, `${name}.act` its activation. */
function bnAct(x: Sym, name: string): Sym {
  return relu(batchNorm(x, name, BN_EPS), `${name}.act`);
}

/** timm `BnActConv2d`: BN-ReLU, then a bias-free conv with timm's symmetric padding ((s - 1) + (k - 1)) / 2. */
function bnActConv(x: Sym, name: string, filters: number, kernel: number, stride = 1, groups = 1): Sym {
  const y = bnAct(x, `${name}.bn`);
  const padding = Math.floor((stride - 1 + kernel - 1) / 2);
  return conv2d(y, `${name}.conv`, { filters, kernel, stride, padding, groups, bias: false });
}

const slice = (x: Sym, name: string, start: number, size: number): Sym =>
  new ChannelSlice({ name, start, size }).apply(x) as Sym;

/** The two paths between blocks: the residual sum and the dense concatenation. */
interface Paths { resid: Sym; dense: Sym }

interface BlockCfg { r: number; bw: number; inc: number; groups: number; type: 'proj' | 'down' | 'normal'; b: boolean }

/** timm `DualPathBlock`. */
function dualPathBlock(x: Sym | Paths, name: string, c: BlockCfg): Paths {
  const xIn = 'resid' in x ? concat([x.resid, x.dense], `${name}.x_in`) : x;
  let xS1: Sym, xS2: Sym;
  if (c.type === 'normal') {
    if (!('resid' in x)) throw new Error(`${name}: a normal dual path block needs both paths`);
    xS1 = x.resid;
    xS2 = x.dense;
  } else {
    const stride = c.type === 'down' ? 2 : 1;
    const xS = bnActConv(xIn, `${name}.c1x1_w_s${stride}`, c.bw + 2 * c.inc, 1, stride);
    xS1 = slice(xS, `${name}.x_s1`, 0, c.bw);
    xS2 = slice(xS, `${name}.x_s2`, c.bw, 2 * c.inc);
  }
  let y = bnActConv(xIn, `${name}.c1x1_a`, c.r, 1);
  y = bnActConv(y, `${name}.c3x3_b`, c.r, 3, c.type === 'down' ? 2 : 1, c.groups);
  let out1: Sym, out2: Sym;
  if (c.b) {
    y = bnAct(y, `${name}.c1x1_c.bn`);
    out1 = conv2d(y, `${name}.c1x1_c1`, { filters: c.bw, kernel: 1, bias: false });
    out2 = conv2d(y, `${name}.c1x1_c2`, { filters: c.inc, kernel: 1, bias: false });
  } else {
    y = bnActConv(y, `${name}.c1x1_c`, c.bw + c.inc, 1);
    out1 = slice(y, `${name}.out1`, 0, c.bw);
    out2 = slice(y, `${name}.out2`, c.bw, c.inc);
  }
  return { resid: add([xS1, out1], `${name}.resid`), dense: concat([xS2, out2], `${name}.dense`) };
}

function builder(name: DpnName) {
  const row: DpnRow = DPNS[name];
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    const k = row.small ? 3 : 7;
    let x: Sym | Paths = conv2d(inp, 'features.conv1_1.conv', { filters: row.numInitFeatures, kernel: k, stride: 2, padding: (k - 1) / 2, bias: false });
    x = maxPool(bnAct(x, 'features.conv1_1.bn'), 'features.conv1_pool', { kernel: 3, stride: 2, padding: 1 });
    const bwFactor = row.small ? 1 : 4;
    for (let s = 0; s < 4; s++) {
      const bw = 64 * 2 ** s * bwFactor;
      const r = Math.floor((row.kR * bw) / (64 * bwFactor));
      for (let i = 1; i <= row.kSec[s]!; i++) {
        const type = i > 1 ? 'normal' : s === 0 ? 'proj' : 'down';
        x = dualPathBlock(x, `features.conv${s + 2}_${i}`, { r, bw, inc: row.incSec[s]!, groups: row.groups, type, b: row.b });
      }
    }
    const last = x as Paths;
    let y = bnAct(concat([last.resid, last.dense], 'features.conv5_bn_ac.x_in'), 'features.conv5_bn_ac.bn');
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(y, ctx, 'global_pool'), name });
    y = adaptiveAvgPool(y, 'global_pool', 1);
    y = conv2d(y, 'classifier', { filters: ctx.numClasses, kernel: 1 });
    return tf.model({ inputs: inp, outputs: flatten(y, 'flatten'), name });
  };
}

/** name, params, conv+linear FLOPs at 224, timm results-imagenet.csv Top-1/Top-5 and the weights it rates. */
const TABLE: readonly (readonly [DpnName, number, number, number, number, string])[] = [
  ['dpn68', 12611602, 4652326912, 76.346, 93.008, 'dpn68.mx_in1k, 224 px'],
  ['dpn68b', 12611602, 4652326912, 79.362, 94.438, 'dpn68b.ra_in1k, 288 px crop 1.0'],
  ['dpn92', 37668392, 13003368448, 80.038, 94.86, 'dpn92.mx_in1k, 224 px'],
  ['dpn98', 61570728, 23342434304, 79.67, 94.654, 'dpn98.mx_in1k, 224 px'],
  ['dpn107', 86917800, 36597528576, 80.168, 94.942, 'dpn107.mx_in1k, 224 px'],
  ['dpn131', 79254504, 32027297792, 79.814, 94.7, 'dpn131.mx_in1k, 224 px'],
];

export const family: Family = {
  name: 'dpn',
  models: TABLE.map(([name, params, flops, top1, top5, weights]): ModelSpec => {
    const row = DPNS[name];
    return {
      name, family: 'dpn',
      variant: { small: row.small, numInitFeatures: row.numInitFeatures, kR: row.kR, groups: row.groups, b: row.b, kSec: row.kSec, incSec: row.incSec },
      inputSize: 224,
      // Every stride-2 stage (stem conv, max pool, conv3_1..conv5_1) maps n to ceil(n / 2): any size works.
      minInputSize: 1,
      numClasses: 1000,
      meta: {
        params, flops, top1, top5,
        accuracySource: `timm results-imagenet.csv (${weights})`,
        paper: 'arXiv:1707.01629',
        reference: `timm.models.dpn.${name} (timm 1.0.29)`,
      },
      fixtures: [{ name: `timm_${name}` }],
      build: builder(name),
    };
  }),
};
