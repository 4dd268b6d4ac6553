/**
 * NASNet-A (Zoph et al. 2018, "Learning Transferable Architectures for Scalable Image Recognition",
 * arXiv:1707.07012; Fig. 4: the normal and reduction cells; Table 2: NASNet-A (4 @ 1056) Mobile and
 * (6 @ 4032) Large) in two reference forms that share one module layout:
 * - `nasnetamobile`: Cadene pretrained-models.pytorch `nasnet_mobile.NASNetAMobile`, whose stride-2 ops after
 *   the first stem cell emulate TensorFlow's 'SAME' padding by zero-padding one row/column on top/left and
 *   cropping it off again (`name='specific'`, `MaxPoolPad`, `AvgPoolPad`, `BranchSeparablesReduction`).
 * - `nasnetalarge`: timm `nasnet.NASNetALarge` with `pad_type='same'`: TF 'SAME' padding computed from the
 *   input size at every stride-2 op (timm `Conv2dSame`, `MaxPool2dSame`, and `AvgPool2dSame`, which counts the
 *   zero padding in its average).
 * Both: BN eps 1e-3, 3x3 avg pools at stride 1 exclude padding, and the factorized reduction of the
 * previous-previous input ("path_1": 1x1 at stride 2; "path_2": the same map shifted by one pixel).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import type { BuildContext, Family, FixedPoolHead, ModelSpec } from './types.js';
import { add, avgPool, batchNorm, concat, conv2d, dropout, featuresOnly, globalPool, input, linear, maxPool, relu, type Sym } from './ops.js';
import { fixedHeadError } from './fixed-head.js';

const BN_EPS = 1e-3;

// ---------------------------------------------------------------------------------------------------------
// Cells as data (Fig. 4 of the paper, in the reference's module names)
// ---------------------------------------------------------------------------------------------------------

/** Where a branch reads: the cell's two adapted inputs, or the output of an earlier combination. */
type Source = 'cur' | 'prev' | 'iter0' | 'iter1';
/** A branch op: separable conv branch, 3x3 pool, or identity. */
type BranchOp = { sep: 3 | 5 | 7; stride: 1 | 2 } | { pool: 'max' | 'avg'; stride: 1 | 2 } | 'identity';
/** A branch with its module role (`comb_iter_{i}_{role}`); identities have no module. */
interface Branch { role?: 'left' | 'right'; op: BranchOp; from: Source }
interface CellDef {
  /** Five pairwise combinations `comb_iter_{i} = a + b`. */
  combs: readonly (readonly [Branch, Branch])[];
  /** Concatenated (channels) into the cell output, in order. */
  out: readonly (Source | 'iter2' | 'iter3' | 'iter4')[];
}

const sep = (k: 3 | 5 | 7, stride: 1 | 2 = 1): BranchOp => ({ sep: k, stride });
const avg = (stride: 1 | 2 = 1): BranchOp => ({ pool: 'avg', stride });
const max = (stride: 1 | 2 = 1): BranchOp => ({ pool: 'max', stride });

/** NASNet-A normal cell (Fig. 4 left): `cur` is the cell input h_i, `prev` the adapted h_{i-1}. */
const NORMAL: CellDef = {
  combs: [
    [{ role: 'left', op: sep(5), from: 'cur' }, { role: 'right', op: sep(3), from: 'prev' }],
    [{ role: 'left', op: sep(5), from: 'prev' }, { role: 'right', op: sep(3), from: 'prev' }],
    [{ role: 'left', op: avg(), from: 'cur' }, { op: 'identity', from: 'prev' }],
    [{ role: 'left', op: avg(), from: 'prev' }, { role: 'right', op: avg(), from: 'prev' }],
    [{ role: 'left', op: sep(3), from: 'cur' }, { op: 'identity', from: 'cur' }],
  ],
  out: ['prev', 'iter0', 'iter1', 'iter2', 'iter3', 'iter4'],
};

/** NASNet-A reduction cell (Fig. 4 right); the stem cells are reduction cells too. */
const REDUCTION: CellDef = {
  combs: [
    [{ role: 'left', op: sep(5, 2), from: 'cur' }, { role: 'right', op: sep(7, 2), from: 'prev' }],
    [{ role: 'left', op: max(2), from: 'cur' }, { role: 'right', op: sep(7, 2), from: 'prev' }],
    [{ role: 'left', op: avg(2), from: 'cur' }, { role: 'right', op: sep(5, 2), from: 'prev' }],
    [{ role: 'right', op: avg(), from: 'iter0' }, { op: 'identity', from: 'iter1' }],
    [{ role: 'left', op: sep(3), from: 'iter0' }, { role: 'right', op: max(2), from: 'cur' }],
  ],
  out: ['iter1', 'iter2', 'iter3', 'iter4'],
};

/**
 * How a cell adapts the previous-previous output h_{i-1} into `prev`: used as is (`CellStem0`, where it is
 * the stem conv's output), by the factorized reduction (`CellStem1`, `FirstCell`: after a resolution change),
 * or by a ReLU-1x1 conv-BN (`conv_prev_1x1`).
 */
type PrevAdapter = 'raw' | 'factorized' | 'conv';

/** The kinds of cell in the network: which cell definition each runs and how it adapts h_{i-1}. */
type CellRole = 'stem0' | 'stem1' | 'first' | 'normal' | 'reduction';
const ROLES: Readonly<Record<CellRole, { def: CellDef; prev: PrevAdapter }>> = {
  stem0: { def: REDUCTION, prev: 'raw' },
  stem1: { def: REDUCTION, prev: 'factorized' },
  first: { def: NORMAL, prev: 'factorized' },
  normal: { def: NORMAL, prev: 'conv' },
  reduction: { def: REDUCTION, prev: 'conv' },
};

interface CellPlan { name: string; role: CellRole; filters: number }

/**
 * How a cell pads: 'torch' symmetric (k-1)/2; 'shifted' Cadene's pad-top-left-then-crop (stride-2 pools: in
 * effect [0, 1]; separable branches computed literally, see `shiftedSeparable`); 'same' TF SAME from the
 * input size at stride 2 (timm pad_type='same').
 */
type StridedPadding = 'torch' | 'shifted' | 'same';

/** A row of Table 2: N normal cells per stage, penultimate filters, stem width, and the reference's padding. */
interface NasNetRow {
  normalCells: number;
  penultimateFilters: number;
  stemFilters: number;
  /** `cell_{i}` index of each stage's first cell (the references number them 0, 6, 12 for both sizes). */
  stageOffsets: readonly [number, number, number];
  /** Padding of `cell_stem_0` and of the later reduction cells (normal cells pad (k-1)/2 at stride 1). */
  padding: { stem0: StridedPadding; reductions: StridedPadding };
  dropRate: number;
  /**
   * TF's `skip_reduction_layer_input` hparam: the first cell after a reduction cell takes as its h_{i-1} the
   * reduction cell's own h_{i-1} (true: Large, `cell_6(x_reduction_cell_0, x_cell_4)`) instead of the
   * reduction cell's input (false: Mobile, `cell_6(x_reduction_cell_0, x_cell_3)`).
   */
  skipReductionLayerInput: boolean;
  /** The final map side a fixed-window head needs (Cadene's mobile `AvgPool2d(7, stride=1)`); absent: global pool. */
  headWindow?: number;
}

/**
 * Cadene's NASNet-A-Mobile head: `AvgPool2d(7, stride=1)` -> `view(N, -1)` -> `Linear(1056)`, which fits only a
 * 7x7 final map (the map side is k for inputs of 32k-1 .. 32k+2 px): 223 to 226 px. Elsewhere the flattened
 * features are not 1056 wide and the reference's Linear fails.
 */
export const CADENE_MOBILE_HEAD: FixedPoolHead = {
  head: 'AvgPool2d(7, stride=1) -> view(N, -1) -> Linear(1056) (Cadene)',
  accepts: '223 to 226 px per side (a 7x7 final map)',
};

const NASNETS = {
  nasnetamobile: {
    normalCells: 4, penultimateFilters: 1056, stemFilters: 32, stageOffsets: [0, 6, 12],
    padding: { stem0: 'torch', reductions: 'shifted' }, dropRate: 0.5, skipReductionLayerInput: false, headWindow: 7,
  },
  nasnetalarge: {
    normalCells: 6, penultimateFilters: 4032, stemFilters: 96, stageOffsets: [0, 6, 12],
    padding: { stem0: 'same', reductions: 'same' }, dropRate: 0, skipReductionLayerInput: true,
  },
} as const satisfies Record<string, NasNetRow>;

/** The cells in order, with their filter counts (`filters = penultimate / 24`, doubling at each reduction). */
function cellPlan(row: NasNetRow): CellPlan[] {
  const f = row.penultimateFilters / 24;
  const plan: CellPlan[] = [
    { name: 'cell_stem_0', role: 'stem0', filters: f / 4 },
    { name: 'cell_stem_1', role: 'stem1', filters: f / 2 },
  ];
  for (let stage = 0; stage < 3; stage++) {
    const width = f * 2 ** stage;
    if (stage > 0) plan.push({ name: `reduction_cell_${stage - 1}`, role: 'reduction', filters: width });
    for (let i = 0; i < row.normalCells; i++) {
      plan.push({ name: `cell_${row.stageOffsets[stage] + i}`, role: i === 0 ? 'first' : 'normal', filters: width });
    }
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------------------
// Ops
// ---------------------------------------------------------------------------------------------------------

type Pad = [number, number];

/** Padding [before, after] of a k-window at `stride` over `n` cells. */
function padFor(mode: StridedPadding, n: number, k: number, stride: number): Pad {
  const p = (k - 1) / 2;
  if (stride === 1 || mode === 'torch') return [p, p];
  if (mode === 'shifted') return [p - 1, p];
  const total = Math.max((Math.ceil(n / stride) - 1) * stride + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

const hw = (x: Sym): [number, number] => [x.shape[1] as number, x.shape[2] as number];

/** Cell-local context: the padding mode and one ReLU per tensor (a ReLU feeding several branches is shared). */
class CellOps {
  private readonly relus = new Map<Sym, Sym>();
  constructor(readonly padding: StridedPadding) {}

  relu(x: Sym, owner: string): Sym {
    let y = this.relus.get(x);
    if (!y) {
      y = relu(x, `${owner}.act`);
      this.relus.set(x, y);
    }
    return y;
  }

  padding2d(x: Sym, k: number, stride: number): [Pad, Pad] {
    const [h, w] = hw(x);
    return [padFor(this.padding, h, k, stride), padFor(this.padding, w, k, stride)];
  }

  /** `SeparableConv2d`: depthwise k x k (stride, padding) then pointwise 1x1, no bias. */
  separable(x: Sym, name: string, filters: number, k: number, stride: number): Sym {
    const cin = x.shape[3] as number;
    const y = conv2d(x, `${name}.depthwise_conv2d`, { filters: cin, kernel: k, stride, padding: this.padding2d(x, k, stride), groups: cin, bias: false });
    return conv2d(y, `${name}.pointwise_conv2d`, { filters, kernel: 1, bias: false });
  }

  /**
   * Cadene's shifted `separable_1` (`name='specific'`, `BranchSeparablesReduction`), as the reference computes
   * it: ZeroPad2d((1, 0, 1, 0)), the separable conv with padding (k-1)/2, then [1:, 1:]. Its FLOPs include the
   * cropped row and column, as the reference's count does.
   */
  shiftedSeparable(x: Sym, name: string, filters: number, k: number, stride: number): Sym {
    const cin = x.shape[3] as number, p = (k - 1) / 2;
    const padding: [Pad, Pad] = [[p + 1, p], [p + 1, p]];
    let y = conv2d(x, `${name}.depthwise_conv2d`, { filters: cin, kernel: k, stride, padding, groups: cin, bias: false });
    y = conv2d(y, `${name}.pointwise_conv2d`, { filters, kernel: 1, bias: false });
    return tf.layers.cropping2D({ name: `${name}.crop`, cropping: [[1, 0], [1, 0]] }).apply(y) as Sym;
  }

  /** `BranchSeparables`: ReLU, sep(stride), BN, ReLU, sep, BN; the middle width is `filters` (= input width except in stem branches). */
  branchSeparables(x: Sym, name: string, filters: number, k: number, stride: number): Sym {
    const first = this.padding === 'shifted' ? this.shiftedSeparable.bind(this) : this.separable.bind(this);
    let y = first(this.relu(x, name), `${name}.separable_1`, filters, k, stride);
    y = relu(batchNorm(y, `${name}.bn_sep_1`, BN_EPS), `${name}.act_2`);
    return batchNorm(this.separable(y, `${name}.separable_2`, filters, k, 1), `${name}.bn_sep_2`, BN_EPS);
  }

  /** 3x3 pools. Stride 1: padding 1, averages exclude it. Stride 2: the model's padding; averages exclude it,
   * except timm's SAME average pool, which pads zeros explicitly and counts them. */
  pool(x: Sym, name: string, mode: 'max' | 'avg', stride: number): Sym {
    const padding = this.padding2d(x, 3, stride);
    if (mode === 'max') return maxPool(x, name, { kernel: 3, stride, padding });
    return avgPool(x, name, { kernel: 3, stride, padding, countIncludePad: stride === 2 && this.padding === 'same' });
  }

  /** `ActConvBn` / `conv_1x1` Sequential: ReLU, 1x1 conv, BN. */
  actConvBn(x: Sym, name: string, filters: number): Sym {
    return batchNorm(conv2d(this.relu(x, name), `${name}.conv`, { filters, kernel: 1, bias: false }), `${name}.bn`, BN_EPS);
  }

  /**
   * The factorized reduction: ReLU, then path_1 = AvgPool(1, stride 2) + 1x1 conv (one strided 1x1 conv) and
   * path_2 = the same on the map shifted up-left by one pixel (ZeroPad2d((0,1,0,1)) then [1:, 1:]), concatenated,
   * then `final_path_bn`.
   */
  factorizedReduction(x: Sym, cell: string, filters: number): Sym {
    const r = this.relu(x, cell);
    const p1 = conv2d(r, `${cell}.path_1.conv`, { filters: filters / 2, kernel: 1, stride: 2, bias: false });
    let shifted = tf.layers.zeroPadding2d({ name: `${cell}.path_2.pad`, padding: [[0, 1], [0, 1]] }).apply(r) as Sym;
    shifted = tf.layers.cropping2D({ name: `${cell}.path_2.crop`, cropping: [[1, 0], [1, 0]] }).apply(shifted) as Sym;
    const p2 = conv2d(shifted, `${cell}.path_2.conv`, { filters: filters / 2, kernel: 1, stride: 2, bias: false });
    return batchNorm(concat([p1, p2], `${cell}.path_cat`), `${cell}.final_path_bn`, BN_EPS);
  }
}

/** One cell: adapt the inputs, run the five combinations, concatenate. */
function cell(x: Sym, xPrev: Sym, plan: CellPlan, padding: StridedPadding): Sym {
  const ops = new CellOps(padding);
  const { name, filters } = plan;
  const { def, prev } = ROLES[plan.role];
  const values = new Map<string, Sym>();
  values.set('cur', ops.actConvBn(x, `${name}.conv_1x1`, filters));
  values.set('prev', prev === 'raw' ? xPrev
    : prev === 'factorized' ? ops.factorizedReduction(xPrev, name, filters)
    : ops.actConvBn(xPrev, `${name}.conv_prev_1x1`, filters));
  def.combs.forEach((pair, i) => {
    const [a, b] = pair.map((br) => {
      const src = values.get(br.from)!;
      if (br.op === 'identity') return src;
      const module = `${name}.comb_iter_${i}_${br.role}`;
      if ('sep' in br.op) return ops.branchSeparables(src, module, filters, br.op.sep, br.op.stride);
      return ops.pool(src, module, br.op.pool, br.op.stride);
    }) as [Sym, Sym];
    values.set(`iter${i}`, add([a, b], `${name}.comb_iter_${i}`));
  });
  return concat(def.out.map((s) => values.get(s)!), `${name}.cat`);
}

/**
 * With Cadene's shifted padding, stride-2 ops map n cells to floor(n/2) but the factorized reduction to
 * ceil(n/2), so the maps a cell adds agree only when the stem output b = ceil(conv0 / 2) is a positive
 * multiple of 8 (b, b/2 and b/4 even): input sides 32k-1 .. 32k+2 (224 included). The reference fails on
 * other sizes as well; we say so up front.
 */
function shiftedSizeOk(n: number): boolean {
  const b = Math.ceil((Math.floor((n - 3) / 2) + 1) / 2);
  return b >= 8 && b % 8 === 0;
}

function checkShiftedSize(name: string, ctx: BuildContext): void {
  for (const n of [ctx.inputHeight, ctx.inputWidth]) {
    if (shiftedSizeOk(n)) continue;
    let lo = n, hi = n;
    while (lo > 0 && !shiftedSizeOk(lo)) lo--;
    while (!shiftedSizeOk(hi)) hi++;
    const near = [lo, hi].filter((v) => v > 0).join(' or ');
    throw new CnnZooError(`${name}: input side ${n} px gives feature maps whose cell branches disagree in size ` +
      `(the reference model fails there too); sides of 32k-1 .. 32k+2 px work. Use ${near} (default 224).`, 'BAD_INPUT_SIZE');
  }
}

function builder(name: keyof typeof NASNETS) {
  const row: NasNetRow = NASNETS[name];
  const plan = cellPlan(row);
  return (ctx: BuildContext): tf.LayersModel => {
    if (row.padding.reductions === 'shifted') checkShiftedSize(name, ctx);
    const inp = input(ctx);
    const conv0 = batchNorm(conv2d(inp, 'conv0.conv', { filters: row.stemFilters, kernel: 3, stride: 2, bias: false }), 'conv0.bn', BN_EPS);
    let [prev, x] = [conv0, conv0];
    for (const p of plan) {
      const padding = p.role === 'stem0' ? row.padding.stem0 : ROLES[p.role].def === REDUCTION ? row.padding.reductions : 'torch';
      const y = cell(x, prev, p, padding);
      const skip = row.skipReductionLayerInput && p.role === 'reduction';
      [prev, x] = [skip ? prev : x, y];
    }
    x = relu(x, 'act');
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx, 'global_pool'), name });
    // Cadene's mobile model pools with AvgPool2d(7) (= global on the 7x7 map it needs), timm's large one globally.
    const map = [x.shape[1] as number, x.shape[2] as number] as const;
    if (row.headWindow !== undefined && !ctx.globalPool && map.some((m) => m !== row.headWindow)) throw fixedHeadError(name, CADENE_MOBILE_HEAD, ctx, map);
    x = globalPool(x, 'global_pool');
    if (row.dropRate > 0) x = dropout(x, 'dropout', row.dropRate);
    x = linear(x, 'last_linear', ctx.numClasses);
    return tf.model({ inputs: inp, outputs: x, name });
  };
}

// ---------------------------------------------------------------------------------------------------------
// The family table
// ---------------------------------------------------------------------------------------------------------

export const family: Family = {
  name: 'nasnet',
  models: [
    {
      name: 'nasnetamobile', family: 'nasnet', variant: { normalCells: 4, penultimateFilters: 1056, padding: 'shifted' },
      inputSize: 224, minInputSize: 31, numClasses: 1000, fixedPoolHead: CADENE_MOBILE_HEAD,
      meta: {
        params: 5289978, flops: 1136469716, top1: 74.08, top5: 91.74,
        accuracySource: 'Cadene pretrained-models.pytorch README, nasnetamobile imagenet weights (224 px)',
        paper: 'arXiv:1707.07012', reference: 'Cadene/pretrained-models.pytorch@8aae3d8 nasnet_mobile.NASNetAMobile',
      },
      fixtures: [{ name: 'nasnetamobile' }],
      build: builder('nasnetamobile'),
    },
    {
      name: 'nasnetalarge', family: 'nasnet', variant: { normalCells: 6, penultimateFilters: 4032, padding: 'same' },
      inputSize: 331, minInputSize: 3, numClasses: 1000,
      meta: {
        params: 88753150, flops: 47566829316, top1: 82.626, top5: 96.042,
        accuracySource: 'timm results-imagenet.csv, nasnetalarge.tf_in1k (331 px, crop 0.911)',
        paper: 'arXiv:1707.07012', reference: "timm 1.0.29 create_model('nasnetalarge')",
      },
      fixtures: [{ name: 'timm_nasnetalarge' }],
      build: builder('nasnetalarge'),
    },
  ] satisfies ModelSpec[],
};
