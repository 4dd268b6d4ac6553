/**
 * Batch-norm folding arithmetic. A batch norm after a conv/linear is the per-channel affine map
 * y = x * scale + shift with scale = gamma / sqrt(var + eps) and shift = beta - mean * scale, so
 *   kernel' = kernel * scale (per output channel), bias' = bias * scale + shift.
 * `foldKernel`/`foldBias` do it on tfjs tensors (any backend, no readback); `foldTorchPair` does it in float64
 * on PyTorch-layout arrays (output channel first), for turning a checkpoint into a folded one.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedArray } from '../arrays.js';

/** The affine map of an inference-mode batch norm, per channel. */
export interface ScaleShift {
  scale: tf.Tensor1D;
  shift: tf.Tensor1D;
}

const roleOf = (w: tf.LayerVariable): string => w.originalName.slice(w.originalName.lastIndexOf('/') + 1);

/** Weights of `layer` by role (`kernel`, `bias`, `gamma`, ...). */
export function weightsByRole(layer: tf.layers.Layer): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => out.set(roleOf(w), values[i]!));
  return out;
}

/** scale and shift of a tfjs BatchNormalization layer (channels last). Call inside `tf.tidy`. */
export function batchNormAffine(bn: tf.layers.Layer): ScaleShift {
  const cfg = bn.getConfig();
  const w = weightsByRole(bn);
  const mean = w.get('moving_mean') as tf.Tensor1D;
  const variance = w.get('moving_variance') as tf.Tensor1D;
  const eps = Number(cfg.epsilon ?? 1e-3);
  const inv = tf.div(1, tf.sqrt(tf.add(variance, eps))) as tf.Tensor1D;
  const gamma = w.get('gamma');
  const beta = w.get('beta');
  const scale = (gamma ? tf.mul(gamma, inv) : inv) as tf.Tensor1D;
  const shifted = tf.neg(tf.mul(mean, scale)) as tf.Tensor1D;
  return { scale, shift: (beta ? tf.add(shifted, beta) : shifted) as tf.Tensor1D };
}

/** Kernel layouts: output channel last ([..., out]) or depthwise [kh, kw, C, multiplier]. */
export type KernelLayout = 'out-last' | 'depthwise';

/** kernel * scale per output channel. */
export function foldKernel(kernel: tf.Tensor, scale: tf.Tensor1D, layout: KernelLayout): tf.Tensor {
  if (layout === 'depthwise') {
    const [, , c, m] = kernel.shape as [number, number, number, number];
    return tf.mul(kernel, scale.reshape([c, m]));
  }
  return tf.mul(kernel, scale);
}

/** bias * scale + shift (a missing bias is zero). */
export function foldBias(bias: tf.Tensor1D | undefined, a: ScaleShift): tf.Tensor1D {
  return (bias ? tf.add(tf.mul(bias, a.scale), a.shift) : a.shift.clone()) as tf.Tensor1D;
}

/** PyTorch batch-norm tensors (`weight`/`bias` absent when affine=False). */
export interface TorchBatchNorm {
  weight?: NamedArray;
  bias?: NamedArray;
  runningMean: NamedArray;
  runningVar: NamedArray;
  eps: number;
}

/**
 * Fold a PyTorch batch norm into the conv/linear before it, in float64 with one rounding to float32: the
 * `weight` [out, ...] and `bias` [out] a folded checkpoint (TFLite-style) stores for that layer.
 */
export function foldTorchPair(weight: NamedArray, bias: NamedArray | undefined, bn: TorchBatchNorm): { weight: NamedArray; bias: NamedArray } {
  const out = weight.shape[0]!;
  const per = weight.data.length / out;
  if (bn.runningMean.data.length !== out) {
    throw new Error(`batch norm has ${bn.runningMean.data.length} channels, the layer before it ${out} outputs.`);
  }
  const w = new Float32Array(weight.data.length);
  const b = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const gamma = bn.weight ? bn.weight.data[o]! : 1;
    const beta = bn.bias ? bn.bias.data[o]! : 0;
    const scale = gamma / Math.sqrt(bn.runningVar.data[o]! + bn.eps);
    for (let i = o * per; i < (o + 1) * per; i++) w[i] = weight.data[i]! * scale;
    b[o] = ((bias ? bias.data[o]! : 0) - bn.runningMean.data[o]!) * scale + beta;
  }
  return { weight: { shape: [...weight.shape], data: w }, bias: { shape: [out], data: b } };
}
