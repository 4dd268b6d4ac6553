/**
 * FD-MobileNet, Fast-Downsampling MobileNet (Qin et al. 2018, arXiv:1802.03750): MobileNet's
 * depthwise-separable layers with a 32x downsampling inside the first 12 layers (Table 1), at the widths
 * the paper tabulates (1x, 0.5x, 0.25x: Table 2). Built from the paper; the layer names are the module
 * paths of the authors' PyTorch code (qinzheng93/FD-MobileNet `pyvision/models/ImageNet/MobileNet.py`), so
 * its checkpoints map by name: `features.conv_0`, `features.norm_0`, `features.{dw,pw}_{conv,norm}_i`
 * (i = 0..10), `classifier`. Every conv is followed by batch norm (eps 1e-5) and ReLU; PyTorch padding.
 * The authors' head `AvgPool2d(7)` is global on the 7x7 map of a 224 px input; we pool globally at any size.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, Family, ModelSpec } from './types.js';
import { batchNorm, conv2d, featuresOnly, globalPool, input, linear, relu, type Sym } from './ops.js';

/**
 * Table 1 of arXiv:1802.03750 (1x): a 3x3/2 conv with 32 channels, then 11 depthwise-separable layers as
 * (stride of the 3x3 depthwise conv, pointwise output channels): 112 -> 56 -> 28 -> 14 -> 7 px within the
 * first five, then five more at 7x7 (4 x 512, 1 x 1024).
 */
export const FD_MOBILENET_LAYERS = [
  [2, 64], [2, 128], [1, 128], [2, 256], [1, 256], [2, 512], [1, 512], [1, 512], [1, 512], [1, 512], [1, 1024],
] as const;
const STEM = 32;

function convBnRelu(x: Sym, i: string, kind: '' | 'dw_' | 'pw_', o: { filters: number; kernel: number; stride: number; depthwise: boolean }): Sym {
  const groups = o.depthwise ? (x.shape[3] as number) : 1;
  let y = conv2d(x, `features.${kind}conv_${i}`, { filters: o.filters, kernel: o.kernel, stride: o.stride, padding: (o.kernel - 1) / 2, groups, bias: false });
  y = batchNorm(y, `features.${kind}norm_${i}`);
  return relu(y, `features.${kind}relu_${i}`);
}

function builder(name: string, width: number) {
  return (ctx: BuildContext): tf.LayersModel => {
    const inp = input(ctx);
    // The authors' widths: int(c * width_mul).
    let x = convBnRelu(inp, '0', '', { filters: Math.floor(STEM * width), kernel: 3, stride: 2, depthwise: false });
    FD_MOBILENET_LAYERS.forEach(([stride, out], i) => {
      x = convBnRelu(x, String(i), 'dw_', { filters: x.shape[3] as number, kernel: 3, stride, depthwise: true });
      x = convBnRelu(x, String(i), 'pw_', { filters: Math.floor(out * width), kernel: 1, stride: 1, depthwise: false });
    });
    if (!ctx.includeTop) return tf.model({ inputs: inp, outputs: featuresOnly(x, ctx), name });
    x = linear(globalPool(x, 'pool'), 'classifier', ctx.numClasses);
    return tf.model({ inputs: inp, outputs: x, name });
  };
}

/** width id, width multiplier, params and FLOPs at 224 px (counted on the built models), authors' Top-1. */
const ROWS = [
  ['1_0x', 1, 2901288, 288979456, 65.3],
  ['0_5x', 0.5, 993928, 80264448, 56.3],
  ['0_25x', 0.25, 383160, 24075904, 45.1],
] as const;

export const family: Family = {
  name: 'fd-mobilenet',
  models: ROWS.map(([id, width, params, flops, top1]): ModelSpec => ({
    name: `fd_mobilenet_${id}`, family: 'fd-mobilenet', variant: { width }, inputSize: 224, minInputSize: 1, numClasses: 1000,
    meta: {
      params, flops, top1, accuracySource: 'qinzheng93/FD-MobileNet README (the authors\' ImageNet training, 120 epochs)',
      paper: 'arXiv:1802.03750',
      reference: `built from the paper (Table 1); names of the authors' fast_downsampling_mobilenet(width_mul=${width})`,
    },
    fixtures: [],
    build: builder(`fd_mobilenet_${id}`, width),
  })),
};
