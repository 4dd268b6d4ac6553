/**
 * DarkNet classifiers in two reference forms:
 * - `darknet53`: DarkNet-53 (Redmon & Farhadi 2018, "YOLOv3: An Incremental Improvement", arXiv:1804.02767,
 *   Table 1) as timm builds it (timm/models/cspnet.py, `darknet53`: `CspModelCfg` with 'dark' stages and
 *   blocks): a stride-1 3x3 stem, then five stages of a stride-2 3x3 `conv_down` and residual `DarkBlock`s
 *   (1x1 to half width, 3x3 back), every conv followed by BN (eps 1e-5) and LeakyReLU(0.01).
 * - The Darknet project's own ImageNet classifiers, exactly as its .cfg files lay them out (pjreddie/darknet
 *   cfg/darknet.cfg, tiny.cfg, darknet19.cfg, darknet53.cfg): `[convolutional]` = conv (padding size/2) + BN +
 *   leaky (slope 0.1), `[maxpool]` 2x2/2 (Darknet pads right/bottom, i.e. ceil mode), `[shortcut] from=-3`,
 *   `[avgpool]` global, and a 1x1 conv classifier with bias. Layers are named `layers.{i}` after the cfg's
 *   section index (as Darknet numbers them), so a `.weights` file maps in order. The final `[softmax]` is
 *   left out: the models output logits.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, ModelSpec } from './types.js';
import { adaptiveAvgPool, add, batchNorm, conv2d, featuresOnly, flatten, globalPool, input, linear, maxPool, type Sym } from './ops.js';

/** A stage of Table 1: residual blocks `depth`, output channels `out` (the stage halves the resolution). */
interface DarkStage {
  depth: number;
  out: number;
}

interface DarkNetRow {
  stem: number;
  stages: readonly DarkStage[];
  /** Bottleneck width of a `DarkBlock` relative to its output. */
  bottleRatio: number;
}

/** Table 1 of arXiv:1804.02767 (timm `model_cfgs['darknet53']`). */
const DARKNETS = {
  darknet53: {
    stem: 32,
    stages: [{ depth: 1, out: 64 }, { depth: 2, out: 128 }, { depth: 8, out: 256 }, { depth: 8, out: 512 }, { depth: 4, out: 1024 }],
    bottleRatio: 0.5,
  },
} as const satisfies Record<string, DarkNetRow>;

/** timm's default activation for CspNet configs: 'leaky_relu' = `nn.LeakyReLU()` (slope 0.01). */
const LEAKY_SLOPE = 0.01;

/** timm `ConvNormAct`: conv (no bias, padding (k-1)/2 rounded like timm's `get_padding`), BN, LeakyReLU. */
function convNormAct(x: Sym, name: string, filters: number, kernel: number, stride = 1): Sym {
  const padding = Math.floor((stride - 1 + (kernel - 1)) / 2);
  const y = batchNorm(conv2d(x, `${name}.conv`, { filters, kernel, stride, padding, bias: false }), `${name}.bn`);
  return tf.layers.leakyReLU({ name: `${name}.bn.act`, alpha: LEAKY_SLOPE }).apply(y) as Sym;
}

/** `DarkBlock`: 1x1 conv to `out * bottleRatio`, 3x3 conv back to `out`, plus the identity. */
function darkBlock(x: Sym, name: string, out: number, bottleRatio: number): Sym {
  const mid = Math.round(out * bottleRatio);
  const y = convNormAct(convNormAct(x, `${name}.conv1`, mid, 1), `${name}.conv2`, out, 3);
  return add([y, x], `${name}.add`);
}

function timmBuilder(name: keyof typeof DARKNETS) {
  const row: DarkNetRow = DARKNETS[name];
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    let x = convNormAct(inp, 'stem.conv1', row.stem, 3);
    row.stages.forEach((st, s) => {
      x = convNormAct(x, `stages.${s}.conv_down`, st.out, 3, 2);
      for (let b = 0; b < st.depth; b++) x = darkBlock(x, `stages.${s}.blocks.${b}`, st.out, row.bottleRatio);
    });
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx, 'head.global_pool'), name });
    x = linear(globalPool(x, 'head.global_pool'), 'head.fc', ctx.numClasses);
    return tf.model({ inputs: inp, outputs: x, name });
  };
}


// ---------------------------------------------------------------------------------------------------------
// The Darknet project's cfg models
// ---------------------------------------------------------------------------------------------------------

/** One section of a Darknet classification .cfg. */
type CfgLayer =
  /** `[convolutional]` with batch_normalize=1, activation=leaky, pad=1. */
  | { conv: number; size: 1 | 3; stride?: 1 | 2 }
  /** `[maxpool] size=2 stride=2`. */
  | 'maxpool'
  /** `[shortcut] from=-3 activation=linear`. */
  | 'shortcut'
  /** `[avgpool]`: global average, keeping a 1x1 map. */
  | 'avgpool'
  /** The classifier: `[convolutional] size=1 filters=<classes> activation=linear`, with bias, no BN. */
  | 'classifier';

/** Darknet's `leaky` activation. */
const DARKNET_LEAKY = 0.1;
/**
 * Darknet normalizes by sqrt(variance) + 1e-6 (normalize_cpu / normalize_kernel) rather than
 * sqrt(variance + eps): the layers use epsilon 0, and a converter stores (sqrt(var) + 1e-6)^2 as the variance.
 */
const DARKNET_BN_EPS = 0;

const c3 = (conv: number, stride: 1 | 2 = 1): CfgLayer => ({ conv, size: 3, stride });
const c1 = (conv: number): CfgLayer => ({ conv, size: 1 });

/** darknet53.cfg: Table 1 of arXiv:1804.02767 written out as Darknet sections. */
function darknet53Cfg(row: DarkNetRow): CfgLayer[] {
  const layers: CfgLayer[] = [c3(row.stem)];
  for (const st of row.stages) {
    layers.push(c3(st.out, 2));
    for (let b = 0; b < st.depth; b++) layers.push(c1(Math.round(st.out * row.bottleRatio)), c3(st.out), 'shortcut');
  }
  return [...layers, 'avgpool', 'classifier'];
}

interface CfgRow {
  /** The .cfg file of pjreddie/darknet this row transcribes. */
  cfg: string;
  layers: readonly CfgLayer[];
  /** The cfg's [net] height = width. */
  inputSize: number;
}

const CFG_MODELS = {
  /** cfg/darknet.cfg, the "Darknet Reference Model". */
  darknet_reference: {
    cfg: 'darknet.cfg', inputSize: 256,
    layers: [c3(16), 'maxpool', c3(32), 'maxpool', c3(64), 'maxpool', c3(128), 'maxpool', c3(256), 'maxpool',
      c3(512), 'maxpool', c3(1024), 'avgpool', 'classifier'],
  },
  /** cfg/tiny.cfg, "Tiny Darknet". */
  tiny_darknet: {
    cfg: 'tiny.cfg', inputSize: 224,
    layers: [c3(16), 'maxpool', c3(32), 'maxpool', c1(16), c3(128), c1(16), c3(128), 'maxpool', c1(32), c3(256), c1(32), c3(256),
      'maxpool', c1(64), c3(512), c1(64), c3(512), c1(128), 'classifier', 'avgpool'],
  },
  /** cfg/darknet19.cfg: Table 6 of YOLO9000 (arXiv:1612.08242). */
  darknet19: {
    cfg: 'darknet19.cfg', inputSize: 256,
    layers: [c3(32), 'maxpool', c3(64), 'maxpool', c3(128), c1(64), c3(128), 'maxpool', c3(256), c1(128), c3(256), 'maxpool',
      c3(512), c1(256), c3(512), c1(256), c3(512), 'maxpool', c3(1024), c1(512), c3(1024), c1(512), c3(1024), 'classifier', 'avgpool'],
  },
  /** cfg/darknet53.cfg: DarkNet-53 as Darknet itself defines it (leaky 0.1, a 1x1-conv classifier). */
  darknet53_original: { cfg: 'darknet53.cfg', inputSize: 256, layers: darknet53Cfg(DARKNETS.darknet53) },
} as const satisfies Record<string, CfgRow>;

/** Interpret a cfg: the features end at the first `avgpool` or `classifier` section. */
function cfgBuilder(name: keyof typeof CFG_MODELS) {
  const row: CfgRow = CFG_MODELS[name];
  const headAt = row.layers.findIndex((l) => l === 'avgpool' || l === 'classifier');
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    const outputs: Sym[] = [];
    let x = inp;
    row.layers.forEach((l, i) => {
      if (!ctx.includeTop && i >= headAt) return;
      const n = `layers.${i}`;
      if (l === 'maxpool') x = maxPool(x, n, { kernel: 2, stride: 2, ceil: true });
      else if (l === 'shortcut') x = add([x, outputs[i - 3]!], n);
      else if (l === 'avgpool') x = adaptiveAvgPool(x, n, 1);
      else if (l === 'classifier') x = conv2d(x, `${n}.conv`, { filters: ctx.numClasses, kernel: 1 });
      else {
        const y = conv2d(x, `${n}.conv`, { filters: l.conv, kernel: l.size, stride: l.stride ?? 1, padding: (l.size - 1) / 2, bias: false });
        x = tf.layers.leakyReLU({ name: `${n}.act`, alpha: DARKNET_LEAKY }).apply(batchNorm(y, `${n}.bn`, DARKNET_BN_EPS)) as Sym;
      }
      outputs[i] = x;
    });
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx, 'global_pool'), name });
    return tf.model({ inputs: inp, outputs: flatten(x, 'flatten'), name });
  };
}

/** Published accuracy of the Darknet-trained weights, and where it is stated. */
const CFG_CARDS: Record<keyof typeof CFG_MODELS, { params: number; flops: number; top1: number; top5: number; accuracySource: string; paper?: string }> = {
  darknet_reference: { params: 7319416, flops: 964640768, top1: 61.1, top5: 83.0, accuracySource: 'pjreddie.com/darknet/tiny-darknet (Darknet Reference)' },
  tiny_darknet: { params: 1042104, flops: 983048192, top1: 58.7, top5: 81.7, accuracySource: 'pjreddie.com/darknet/tiny-darknet (Tiny Darknet)' },
  darknet19: { params: 20842376, flops: 7290748928, top1: 72.9, top5: 91.2, accuracySource: 'YOLO9000 paper, Sec. 3 (Darknet-19 on ImageNet)', paper: 'arXiv:1612.08242' },
  darknet53_original: { params: 41609928, flops: 18570231808, top1: 77.2, top5: 93.8, accuracySource: 'YOLOv3 paper, Table 2 (Darknet-53, 256 px)', paper: 'arXiv:1804.02767' },
};

const cfgSpecs = (Object.keys(CFG_MODELS) as (keyof typeof CFG_MODELS)[]).map((name): ModelSpec => {
  const row: CfgRow = CFG_MODELS[name];
  const { paper, ...card } = CFG_CARDS[name];
  return {
    name, family: 'darknet', variant: { cfg: row.cfg, sections: row.layers.length }, inputSize: row.inputSize, minInputSize: 1, numClasses: 1000,
    meta: { ...card, ...(paper ? { paper } : {}), reference: `pjreddie/darknet cfg/${row.cfg} (Debian darknet 0.0.0+git20180914.61c9d02e)` },
    fixtures: [],
    build: cfgBuilder(name),
  };
});

export const family: Family = {
  name: 'darknet',
  models: [
    {
      name: 'darknet53', family: 'darknet', variant: { depths: DARKNETS.darknet53.stages.map((s) => s.depth), widths: DARKNETS.darknet53.stages.map((s) => s.out) },
      inputSize: 256, minInputSize: 1, numClasses: 1000,
      meta: {
        params: 41609928, flops: 18570231808, top1: 80.536, top5: 95.434,
        accuracySource: 'timm results-imagenet.csv, darknet53.c2ns_in1k (evaluated at its test size 288 px, crop 1.0)',
        paper: 'arXiv:1804.02767', reference: "timm 1.0.29 create_model('darknet53')",
      },
      fixtures: [{ name: 'timm_darknet53' }],
      build: timmBuilder('darknet53'),
    },
    ...cfgSpecs,
  ] satisfies ModelSpec[],
};
