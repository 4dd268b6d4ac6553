/**
 * MobileNet v1 (Howard et al. 2017, arXiv:1704.04861) and MobileNet v2 (Sandler et al. 2018,
 * arXiv:1801.04381): one table and one builder per architecture. The checkpoint convention is a parameter
 * of the builder; it fixes padding, batch-norm epsilon, the head and the layer names:
 *
 * | convention | padding | BN eps | head | reference |
 * |---|---|---|---|---|
 * | `torch` | PyTorch symmetric (k // 2) | 1e-5 | global average pool, `nn.Linear` | timm (v1), torchvision (v2) |
 * | `tf` | TensorFlow "SAME" (the extra row/column at the bottom/right) | 1e-3 | pool, 1x1 conv with bias, squeeze; 1001 classes, background at 0 | TF-slim / TFLite |
 * | `keras` (v1) | `ZeroPadding2D(((0, 1), (0, 1)))` before each stride-2 conv | 1e-3 | pool, reshape, dropout 1e-3, 1x1 conv, reshape | keras.applications |
 *
 * Every activation is ReLU6. Convolutions have no bias (batch norm follows), except the 1x1 classifier convs.
 *
 * Layer names (weights map by name; `k` = 1..13 counts v1's depthwise-separable layers, `b` = 1..17 v2's
 * inverted-residual blocks, `i.j` = timm's stage.block):
 * - v1 `torch` (timm's own paths): `conv_stem`, `bn1`, `blocks.i.j.conv_dw`, `blocks.i.j.bn1`, `blocks.i.j.conv_pw`,
 *   `blocks.i.j.bn2`, `classifier`.
 * - v1 `tf` (TF-slim variable scopes with `/` written `.`): `MobilenetV1.Conv2d_0`, `MobilenetV1.Conv2d_0.BatchNorm`,
 *   `MobilenetV1.Conv2d_k_depthwise`, `MobilenetV1.Conv2d_k_depthwise.BatchNorm`, `MobilenetV1.Conv2d_k_pointwise`,
 *   `MobilenetV1.Conv2d_k_pointwise.BatchNorm`, `MobilenetV1.Logits.Conv2d_1c_1x1` (conv with bias).
 * - v1 `keras` (keras.applications): `conv1`, `conv1_bn`, `conv_dw_k`, `conv_dw_k_bn`, `conv_pw_k`, `conv_pw_k_bn`,
 *   `conv_preds`, with the weightless `conv1_pad`, `conv1_relu`, `conv_pad_k`, `conv_dw_k_relu`, `conv_pw_k_relu`,
 *   `global_average_pooling2d`, `reshape_1`, `dropout`, `reshape_2` (no softmax: the model returns logits).
 * - v2 `torch` (torchvision): `features.0.0|1`, `features.b.conv.*`, `features.18.0|1`, `classifier.1`; timm
 *   checkpoints (`conv_stem`, `blocks.i.j.conv_pw|conv_dw|conv_pwl`, ...) load through the `timm` layout.
 * - v2 `tf` (TF-slim scopes): `MobilenetV2.Conv`, `MobilenetV2.expanded_conv` (b = 1) and `MobilenetV2.expanded_conv_{b-1}`
 *   with sub-layers `expand`, `depthwise`, `project`, each followed by `<that>.BatchNorm`; `MobilenetV2.Conv_1`,
 *   `MobilenetV2.Conv_1.BatchNorm`, `MobilenetV2.Logits.Conv2d_1c_1x1` (conv with bias).
 * Weightless helpers are `<layer>.Relu6` / `<layer>.pad` (tf), `<bn>.act` (timm), torchvision's indices (`features.0.2`).
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, FixedPoolHead, KeyRule, ModelMeta, ModelSpec } from './types.js';
import { fixedHeadError } from './fixed-head.js';
import {
  activation, add, avgPool, batchNorm, channels, conv2d, dropout, featuresOnly, globalPool, input, linear, type Sym,
} from './ops.js';

export type MobileNetConvention = 'torch' | 'tf' | 'keras';

/** `_make_divisible` of TF-slim, torchvision and timm: the nearest multiple of 8, never below 90% of `v`. */
export function makeDivisible(v: number, divisor = 8): number {
  let r = Math.max(divisor, Math.floor(Math.floor(v + divisor / 2) / divisor) * divisor);
  if (r < 0.9 * v) r += divisor;
  return r;
}

/** Padding, epsilon and head of each convention (see the file header). */
interface ConventionRules {
  padding: 'symmetric' | 'tf-same' | 'keras';
  bnEps: number;
  head: 'linear' | 'conv';
  dropout: number;
}
const RULES: Record<MobileNetConvention, ConventionRules> = {
  torch: { padding: 'symmetric', bnEps: 1e-5, head: 'linear', dropout: 0 },
  tf: { padding: 'tf-same', bnEps: 1e-3, head: 'conv', dropout: 1e-3 },
  keras: { padding: 'keras', bnEps: 1e-3, head: 'conv', dropout: 1e-3 },
};

/** TensorFlow "SAME" padding of one axis: output ceil(n / s), the odd pixel of padding at the end. */
export function tfSamePadding(n: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(n / stride);
  const total = Math.max((out - 1) * stride + kernel - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Names of one conv + BN (+ activation) unit. `pad` names Keras' explicit ZeroPadding2D. */
interface UnitNames { conv: string; bn: string; act?: string; pad?: string }

interface UnitSpec { filters: number; kernel: number; stride: number; depthwise: boolean; act: boolean }

/** conv (no bias) -> BN -> ReLU6 with the convention's padding. */
function unit(x: Sym, names: UnitNames, u: UnitSpec, rules: ConventionRules): Sym {
  const h = x.shape[1] as number, w = x.shape[2] as number, k = u.kernel;
  const groups = u.depthwise ? channels(x) : 1;
  const filters = u.depthwise ? channels(x) : u.filters;
  let y = x;
  let padding: [[number, number], [number, number]] = [[(k - 1) / 2, (k - 1) / 2], [(k - 1) / 2, (k - 1) / 2]];
  if (rules.padding === 'tf-same') padding = [tfSamePadding(h, k, u.stride), tfSamePadding(w, k, u.stride)];
  if (rules.padding === 'keras' && u.stride > 1) {
    y = tf.layers.zeroPadding2d({ name: names.pad ?? `${names.conv}.pad`, padding: [[0, 1], [0, 1]] }).apply(y) as Sym;
    padding = [[0, 0], [0, 0]];
  }
  y = conv2d(y, names.conv, { filters, kernel: k, stride: u.stride, padding, groups, bias: false });
  y = batchNorm(y, names.bn, rules.bnEps);
  return u.act ? activation(y, names.act ?? `${names.bn}.act`, 'relu6') : y;
}

interface HeadNames { pool: string; keepDims?: string; dropout?: string; classifier: string; squeeze?: string }

/**
 * TF-slim's mobilenet_v1 head (global_pool=False, its default): `avg_pool2d` with a kernel of min(map, 7) per side,
 * stride 2, VALID, then the 1x1 logits conv and `squeeze([1, 2])`. It is the global average up to a 7 px map (224
 * px, every published size); an 8 px side (225-256 px) averages only the first 7 rows/columns; from 9 px on the
 * pool yields two cells and the squeeze fails.
 */
const SLIM_V1_WINDOW = 7;
export const SLIM_V1_HEAD: FixedPoolHead = {
  head: 'avg_pool2d(kernel min(map, 7), stride 2, VALID) -> Conv2d_1c_1x1 -> squeeze (TF-slim, global_pool=False)',
  accepts: `up to ${32 * (SLIM_V1_WINDOW + 1)} px per side (a final map of at most ${SLIM_V1_WINDOW + 1} px; at 225-256 px the window is its top-left 7)`,
};

/** The classifier: `nn.Linear` after global pooling, or a 1x1 conv with bias on the pooled 1x1 map (TF, Keras). */
function head(x: Sym, names: HeadNames, ctx: BuildContext, rules: ConventionRules, slimWindow?: { model: string }): Sym {
  const c = channels(x);
  const map = [x.shape[1] as number, x.shape[2] as number] as const;
  if (slimWindow && !ctx.globalPool && map.some((m) => m > SLIM_V1_WINDOW + 1)) throw fixedHeadError(slimWindow.model, SLIM_V1_HEAD, ctx, map);
  if (slimWindow && !ctx.globalPool && map.some((m) => m > SLIM_V1_WINDOW)) {
    // Only an 8 px side differs from the global average: pool the reference's window there.
    const kernel = [Math.min(map[0], SLIM_V1_WINDOW), Math.min(map[1], SLIM_V1_WINDOW)] as const;
    const y = avgPool(x, names.pool, { kernel, stride: 2 });
    return tf.layers.reshape({ name: names.squeeze ?? `${names.classifier}.squeeze`, targetShape: [ctx.numClasses] })
      .apply(conv2d(y, names.classifier, { filters: ctx.numClasses, kernel: 1, bias: true })) as Sym;
  }
  let y = globalPool(x, names.pool);
  if (rules.head === 'linear') {
    if (rules.dropout > 0 && names.dropout) y = dropout(y, names.dropout, rules.dropout);
    return linear(y, names.classifier, ctx.numClasses);
  }
  y = tf.layers.reshape({ name: names.keepDims ?? `${names.pool}.keepdims`, targetShape: [1, 1, c] }).apply(y) as Sym;
  if (rules.dropout > 0 && names.dropout) y = dropout(y, names.dropout, rules.dropout);
  y = conv2d(y, names.classifier, { filters: ctx.numClasses, kernel: 1, bias: true });
  return tf.layers.reshape({ name: names.squeeze ?? `${names.classifier}.squeeze`, targetShape: [ctx.numClasses] }).apply(y) as Sym;
}

// ---------------------------------------------------------------------------------------------------------
// MobileNet v1

/**
 * Table 1 of arXiv:1704.04861: the 13 depthwise-separable layers as (pointwise channels c, repeats n, stride s
 * of the first depthwise conv), grouped as timm's five stages. (Table 1 prints s2 for the last depthwise conv;
 * every implementation, the paper's 7x7 output included, uses stride 1.) Stem: 3x3/2 conv, 32 channels.
 */
export const MOBILENET_V1_STAGES = [
  { c: 64, n: 1, s: 1 }, { c: 128, n: 2, s: 2 }, { c: 256, n: 2, s: 2 }, { c: 512, n: 6, s: 2 }, { c: 1024, n: 2, s: 2 },
] as const;

interface V1Naming {
  stem: UnitNames;
  /** Depthwise / pointwise names of separable layer `k` (1-based), which is block `j` of timm stage `i`. */
  dw(k: number, i: number, j: number): UnitNames;
  pw(k: number, i: number, j: number): UnitNames;
  head: HeadNames;
}

const slim1 = (scope: string): UnitNames => ({ conv: `MobilenetV1.${scope}`, bn: `MobilenetV1.${scope}.BatchNorm`, act: `MobilenetV1.${scope}.Relu6` });
const V1_NAMING: Record<MobileNetConvention, V1Naming> = {
  torch: {
    stem: { conv: 'conv_stem', bn: 'bn1' },
    dw: (_k, i, j) => ({ conv: `blocks.${i}.${j}.conv_dw`, bn: `blocks.${i}.${j}.bn1` }),
    pw: (_k, i, j) => ({ conv: `blocks.${i}.${j}.conv_pw`, bn: `blocks.${i}.${j}.bn2` }),
    head: { pool: 'global_pool', classifier: 'classifier' },
  },
  tf: {
    stem: slim1('Conv2d_0'),
    dw: (k) => slim1(`Conv2d_${k}_depthwise`),
    pw: (k) => slim1(`Conv2d_${k}_pointwise`),
    head: {
      pool: 'MobilenetV1.Logits.AvgPool_1a', keepDims: 'MobilenetV1.Logits.AvgPool_1a.keepdims',
      dropout: 'MobilenetV1.Logits.Dropout_1b', classifier: 'MobilenetV1.Logits.Conv2d_1c_1x1', squeeze: 'MobilenetV1.Logits.SpatialSqueeze',
    },
  },
  keras: {
    stem: { pad: 'conv1_pad', conv: 'conv1', bn: 'conv1_bn', act: 'conv1_relu' },
    dw: (k) => ({ pad: `conv_pad_${k}`, conv: `conv_dw_${k}`, bn: `conv_dw_${k}_bn`, act: `conv_dw_${k}_relu` }),
    pw: (k) => ({ conv: `conv_pw_${k}`, bn: `conv_pw_${k}_bn`, act: `conv_pw_${k}_relu` }),
    head: { pool: 'global_average_pooling2d', keepDims: 'reshape_1', dropout: 'dropout', classifier: 'conv_preds', squeeze: 'reshape_2' },
  },
};

function buildV1(name: string, alpha: number, convention: MobileNetConvention) {
  return (ctx: BuildContext): tf.LayersModel => {
    const rules = RULES[convention], naming = V1_NAMING[convention];
    const inp = input(ctx);
    let x = unit(inp, naming.stem, { filters: makeDivisible(32 * alpha), kernel: 3, stride: 2, depthwise: false, act: true }, rules);
    let k = 0;
    MOBILENET_V1_STAGES.forEach((stage, i) => {
      for (let j = 0; j < stage.n; j++) {
        k++;
        x = unit(x, naming.dw(k, i, j), { filters: 0, kernel: 3, stride: j === 0 ? stage.s : 1, depthwise: true, act: true }, rules);
        x = unit(x, naming.pw(k, i, j), { filters: makeDivisible(stage.c * alpha), kernel: 1, stride: 1, depthwise: false, act: true }, rules);
      }
    });
    const slimWindow = convention === 'tf' ? { model: name } : undefined;
    const out = ctx.includeTop ? head(x, naming.head, ctx, rules, slimWindow) : featuresOnly(x, ctx);
    return tf.model({ inputs: inp, outputs: out, name });
  };
}

// ---------------------------------------------------------------------------------------------------------
// MobileNet v2

/**
 * Table 2 of arXiv:1801.04381: inverted-residual stages as expansion t, output channels c, repeats n and stride
 * s of the first block. Stem 3x3/2 conv with 32 channels; head 1x1 conv with 1280 channels.
 */
export const MOBILENET_V2_STAGES = [
  { t: 1, c: 16, n: 1, s: 1 }, { t: 6, c: 24, n: 2, s: 2 }, { t: 6, c: 32, n: 3, s: 2 }, { t: 6, c: 64, n: 4, s: 2 },
  { t: 6, c: 96, n: 3, s: 1 }, { t: 6, c: 160, n: 3, s: 2 }, { t: 6, c: 320, n: 1, s: 1 },
] as const;

interface V2BlockNames { expand?: UnitNames; depthwise: UnitNames; project: UnitNames; add: string }
interface V2Naming {
  stem: UnitNames;
  /** Names of inverted-residual block `b` (1-based), with or without an expansion conv. */
  block(b: number, expands: boolean): V2BlockNames;
  last: UnitNames;
  head: HeadNames;
}

const tv = (prefix: string): UnitNames => ({ conv: `${prefix}.0`, bn: `${prefix}.1`, act: `${prefix}.2` });
const slim2 = (scope: string): UnitNames => ({ conv: `MobilenetV2.${scope}`, bn: `MobilenetV2.${scope}.BatchNorm`, act: `MobilenetV2.${scope}.Relu6` });
const V2_NAMING: Record<'torch' | 'tf', V2Naming> = {
  torch: {
    stem: tv('features.0'),
    block: (b, expands) => {
      const p = `features.${b}.conv`;
      return expands
        ? { expand: tv(`${p}.0`), depthwise: tv(`${p}.1`), project: { conv: `${p}.2`, bn: `${p}.3` }, add: `features.${b}.add` }
        : { depthwise: tv(`${p}.0`), project: { conv: `${p}.1`, bn: `${p}.2` }, add: `features.${b}.add` };
    },
    last: tv(`features.${MOBILENET_V2_STAGES.reduce((a, s) => a + s.n, 1)}`),
    head: { pool: 'pool', dropout: 'classifier.0', classifier: 'classifier.1' },
  },
  tf: {
    stem: slim2('Conv'),
    block: (b) => {
      const scope = b === 1 ? 'expanded_conv' : `expanded_conv_${b - 1}`;
      return { expand: slim2(`${scope}.expand`), depthwise: slim2(`${scope}.depthwise`), project: slim2(`${scope}.project`), add: `MobilenetV2.${scope}.add` };
    },
    last: slim2('Conv_1'),
    head: {
      pool: 'MobilenetV2.Logits.AvgPool', keepDims: 'MobilenetV2.Logits.AvgPool.keepdims', dropout: 'MobilenetV2.Logits.Dropout',
      classifier: 'MobilenetV2.Logits.Conv2d_1c_1x1', squeeze: 'MobilenetV2.Logits.Squeeze',
    },
  },
};

/** Torchvision's dropout before the classifier (TF's 1e-3 comes from the convention rules). */
const V2_RULES: Record<'torch' | 'tf', ConventionRules> = { torch: { ...RULES.torch, dropout: 0.2 }, tf: RULES.tf };

function buildV2(name: string, alpha: number, convention: 'torch' | 'tf') {
  return (ctx: BuildContext): tf.LayersModel => {
    const rules = V2_RULES[convention], naming = V2_NAMING[convention];
    const inp = input(ctx);
    let x = unit(inp, naming.stem, { filters: makeDivisible(32 * alpha), kernel: 3, stride: 2, depthwise: false, act: true }, rules);
    let b = 0;
    for (const stage of MOBILENET_V2_STAGES) {
      const out = makeDivisible(stage.c * alpha);
      for (let j = 0; j < stage.n; j++) {
        b++;
        const names = naming.block(b, stage.t !== 1);
        const stride = j === 0 ? stage.s : 1, inC = channels(x);
        let y = x;
        if (stage.t !== 1) y = unit(y, names.expand!, { filters: Math.round(inC * stage.t), kernel: 1, stride: 1, depthwise: false, act: true }, rules);
        y = unit(y, names.depthwise, { filters: 0, kernel: 3, stride, depthwise: true, act: true }, rules);
        y = unit(y, names.project, { filters: out, kernel: 1, stride: 1, depthwise: false, act: false }, rules);
        x = stride === 1 && inC === out ? add([x, y], names.add) : y;
      }
    }
    // The 1280-channel head conv only widens (alpha > 1), as in torchvision, timm and TF-slim's published models.
    x = unit(x, naming.last, { filters: makeDivisible(1280 * Math.max(1, alpha)), kernel: 1, stride: 1, depthwise: false, act: true }, rules);
    const out = ctx.includeTop ? head(x, naming.head, ctx, rules) : featuresOnly(x, ctx);
    return tf.model({ inputs: inp, outputs: out, name });
  };
}

/**
 * timm's MobileNet v2 keys -> torchvision's: `conv_stem`/`bn1` -> `features.0.0|1`; stage i block j ->
 * `features.(1 + blocks before stage i + j)`, its `conv_pw|bn1|conv_dw|bn2|conv_pwl|bn3` -> `conv.0.0|0.1|1.0|1.1|2|3`
 * (the expansion-free first block: `conv_dw|bn1|conv_pw|bn2` -> `conv.0.0|0.1|1|2`); `conv_head`/`bn2` ->
 * `features.18.0|1`; `classifier` -> `classifier.1`.
 */
const STAGE_START = MOBILENET_V2_STAGES.map((_, i) => 1 + MOBILENET_V2_STAGES.slice(0, i).reduce((a, s) => a + s.n, 0));
const LAST_FEATURE = STAGE_START[STAGE_START.length - 1]! + MOBILENET_V2_STAGES[MOBILENET_V2_STAGES.length - 1]!.n;
const TIMM_V2_BLOCK: Record<string, string> = { conv_pw: 'conv.0.0', bn1: 'conv.0.1', conv_dw: 'conv.1.0', bn2: 'conv.1.1', conv_pwl: 'conv.2', bn3: 'conv.3' };
const TIMM_V2_FIRST: Record<string, string> = { conv_dw: 'conv.0.0', bn1: 'conv.0.1', conv_pw: 'conv.1', bn2: 'conv.2' };
export const timmMobileNetV2Keys: KeyRule = (key) => {
  const block = /^blocks\.(\d+)\.(\d+)\.([a-z_0-9]+)\.(.+)$/.exec(key);
  if (block) {
    const [, i, j, module, suffix] = block;
    const start = STAGE_START[Number(i)];
    const table = MOBILENET_V2_STAGES[Number(i)]?.t === 1 ? TIMM_V2_FIRST : TIMM_V2_BLOCK;
    const ours = table[module!];
    return start === undefined || ours === undefined ? key : `features.${start + Number(j)}.${ours}.${suffix}`;
  }
  const top: [RegExp, string][] = [[/^conv_stem\./, 'features.0.0.'], [/^bn1\./, 'features.0.1.'], [/^conv_head\./, `features.${LAST_FEATURE}.0.`],
    [/^bn2\./, `features.${LAST_FEATURE}.1.`], [/^classifier\./, 'classifier.1.']];
  for (const [re, to] of top) if (re.test(key)) return key.replace(re, to);
  return key;
};

// ---------------------------------------------------------------------------------------------------------
// The registry rows

const PAPER_V1 = 'arXiv:1704.04861';
const PAPER_V2 = 'arXiv:1801.04381';
const SLIM_V1 = 'TF-slim mobilenet_v1.md (float checkpoints, 224 px)';
const SLIM_V2 = 'TF-slim mobilenet/README.md (mobilenet_v2 checkpoints, 224 px)';

/** Width id, alpha, params and FLOPs at 224 px (counted on the built models; `torch` equal the fixtures'), published accuracy. */
interface V1Row {
  id: '025' | '050' | '075' | '100';
  alpha: number;
  torch: { params: number; flops: number };
  /** 1001 classes; Keras (1000 classes, conv classifier) counts as `torch`. */
  tf: { params: number; flops: number };
  /** MobileNet paper Table 6 (Top-1 only), TF-slim table (Top-1 / Top-5). */
  paperTop1: number;
  slim: [number, number];
}
const V1_ROWS: readonly V1Row[] = [
  { id: '025', alpha: 0.25, torch: { params: 470072, flops: 82060544 }, tf: { params: 470329, flops: 82061056 }, paperTop1: 50.6, slim: [49.8, 74.2] },
  { id: '050', alpha: 0.5, torch: { params: 1331592, flops: 298994176 }, tf: { params: 1332105, flops: 298995200 }, paperTop1: 63.7, slim: [63.3, 84.9] },
  { id: '075', alpha: 0.75, torch: { params: 2585560, flops: 650800896 }, tf: { params: 2586329, flops: 650802432 }, paperTop1: 68.4, slim: [68.4, 88.2] },
  { id: '100', alpha: 1.0, torch: { params: 4231976, flops: 1137480704 }, tf: { params: 4233001, flops: 1137482752 }, paperTop1: 70.6, slim: [70.9, 89.9] },
];

interface V2Row {
  id: '035' | '050' | '075' | '100' | '140';
  alpha: number;
  torch: { params: number; flops: number };
  tf: { params: number; flops: number };
  slim: [number, number];
}
const V2_ROWS: readonly V2Row[] = [
  { id: '035', alpha: 0.35, torch: { params: 1677128, flops: 118571616 }, tf: { params: 1678409, flops: 118574176 }, slim: [60.3, 82.9] },
  { id: '050', alpha: 0.5, torch: { params: 1968680, flops: 194263680 }, tf: { params: 1969961, flops: 194266240 }, slim: [65.4, 86.4] },
  { id: '075', alpha: 0.75, torch: { params: 2636424, flops: 418139584 }, tf: { params: 2637705, flops: 418142144 }, slim: [69.8, 89.6] },
  { id: '100', alpha: 1.0, torch: { params: 3504872, flops: 601548544 }, tf: { params: 3506153, flops: 601551104 }, slim: [71.8, 91.0] },
  { id: '140', alpha: 1.4, torch: { params: 6108776, flops: 1164391648 }, tf: { params: 6110569, flops: 1164395232 }, slim: [75.0, 92.5] },
];

/** Keras pads (0, 1) before each of its five stride-2 convs, which needs 32 px; the others run down to 1 px. */
const card = (name: string, variant: ModelSpec['variant'], numClasses: number, meta: ModelMeta) => ({
  name, family: 'mobilenet', variant, inputSize: 224, minInputSize: variant['convention'] === 'keras' ? 32 : 1, numClasses, meta,
});

const v1Specs = (r: V1Row): ModelSpec[] => [
  {
    ...card(`mobilenet_v1_${r.id}`, { version: 1, alpha: r.alpha, convention: 'torch' }, 1000, {
      ...r.torch, top1: r.paperTop1, accuracySource: 'MobileNet paper Table 6 (TF-trained, 224 px)', paper: PAPER_V1,
      reference: `timm efficientnet._gen_mobilenet_v1(channel_multiplier=${r.alpha}) (timm mobilenetv1_${r.id})`,
    }),
    fixtures: [{ name: `timm_mobilenetv1_${r.id}` }],
    aliases: [`mobilenetv1_${r.id}`],
    build: buildV1(`mobilenet_v1_${r.id}`, r.alpha, 'torch'),
  },
  {
    ...card(`tf_mobilenet_v1_${r.id}`, { version: 1, alpha: r.alpha, convention: 'tf' }, 1001, {
      ...r.tf, top1: r.slim[0], top5: r.slim[1], accuracySource: SLIM_V1, paper: PAPER_V1,
      reference: `TF-slim nets/mobilenet_v1.py mobilenet_v1(depth_multiplier=${r.alpha}) / TFLite mobilenet_v1_${r.alpha}_*`,
    }),
    fixtures: [],
    fixedPoolHead: SLIM_V1_HEAD,
    build: buildV1(`tf_mobilenet_v1_${r.id}`, r.alpha, 'tf'),
  },
  {
    ...card(`keras_mobilenet_v1_${r.id}`, { version: 1, alpha: r.alpha, convention: 'keras' }, 1000, {
      ...r.torch, top1: r.slim[0], top5: r.slim[1], accuracySource: `${SLIM_V1}; Keras' weights are converted from these checkpoints`, paper: PAPER_V1,
      reference: `keras.applications.MobileNet(alpha=${r.alpha})`,
    }),
    fixtures: [],
    build: buildV1(`keras_mobilenet_v1_${r.id}`, r.alpha, 'keras'),
  },
];

const TORCHVISION_V2 = { top1: 71.878, top5: 90.286, accuracySource: 'torchvision MobileNet_V2_Weights.IMAGENET1K_V1' };
const v2Specs = (r: V2Row): ModelSpec[] => {
  const torchName = r.id === '100' ? 'mobilenet_v2' : `mobilenet_v2_${r.id}`;
  return [
    {
      ...card(torchName, { version: 2, alpha: r.alpha, convention: 'torch' }, 1000, {
        ...r.torch, ...(r.id === '100' ? TORCHVISION_V2 : {}), paper: PAPER_V2,
        reference: r.id === '100' ? 'torchvision.models.mobilenet_v2' : `torchvision.models.mobilenet_v2(width_mult=${r.alpha}) = timm mobilenetv2_${r.id}`,
      }),
      fixtures: [...(r.id === '100' ? [{ name: 'mobilenet_v2' }] : []), { name: `timm_mobilenetv2_${r.id}`, layout: 'timm' }],
      aliases: r.id === '100' ? ['mobilenet_v2_100', 'mobilenetv2_100'] : [`mobilenetv2_${r.id}`],
      keyRules: { timm: timmMobileNetV2Keys },
      build: buildV2(torchName, r.alpha, 'torch'),
    },
    {
      ...card(`tf_mobilenet_v2_${r.id}`, { version: 2, alpha: r.alpha, convention: 'tf' }, 1001, {
        ...r.tf, top1: r.slim[0], top5: r.slim[1], accuracySource: SLIM_V2, paper: PAPER_V2,
        reference: `TF-slim nets/mobilenet/mobilenet_v2.py mobilenet(depth_multiplier=${r.alpha}${r.alpha < 1 ? ', finegrain_classification_mode=True' : ''}) / TFLite mobilenet_v2_${r.alpha}_*`,
      }),
      fixtures: [],
      build: buildV2(`tf_mobilenet_v2_${r.id}`, r.alpha, 'tf'),
    },
  ];
};

export const family: Family = {
  name: 'mobilenet',
  models: [...V1_ROWS.flatMap(v1Specs), ...V2_ROWS.flatMap(v2Specs)],
};
