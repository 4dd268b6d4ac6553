/**
 * DarkNet-53 (Redmon & Farhadi 2018, "YOLOv3: An Incremental Improvement", arXiv:1804.02767, Table 1) as
 * timm builds it (timm/models/cspnet.py, `darknet53`: `CspModelCfg` with 'dark' stages and blocks): a
 * stride-1 3x3 stem, then five stages of a stride-2 3x3 `conv_down` and residual `DarkBlock`s
 * (1x1 to half width, 3x3 back), every conv followed by BN (eps 1e-5) and LeakyReLU(0.01).
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, ModelSpec } from './types.js';
import { add, batchNorm, conv2d, featuresOnly, globalPool, input, linear, type Sym } from './ops.js';

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

function builder(name: keyof typeof DARKNETS) {
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
      build: builder('darknet53'),
    },
  ] satisfies ModelSpec[],
};
