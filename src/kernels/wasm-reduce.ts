/**
 * Per-channel Sum and Mean of an NHWC tensor on wasm (reducing N, H and W: batch norm's statistics in training mode
 * and its gradient, a conv bias's gradient). wasm's own reduces only innermost axes, so it first transposes the
 * whole tensor to put N, H, W last (one pass on one thread), then sums each channel's values one after another:
 * 23 ms for [8, 112, 112, 64], with an error of 8e-6..1.5e-5 of the largest sum against float64. Here XNNPACK's
 * average pooling (every thread) takes each image's mean over H x W, and the N means are summed: 0.6-2.1 ms for the
 * same tensor, error 1e-6. Other reductions go to wasm's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelScope } from './kernel-scope.js';

/** Whether `Sum`/`Mean` with these inputs and attributes reduces a float32 NHWC tensor over N, H and W. */
export function isChannelReduce(x: tf.TensorInfo, axis: number | number[]): boolean {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || tf.util.sizeFromShape(x.shape) === 0) return false;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  return axes.length === 3 && axes[0] === 0 && axes[1] === 1 && axes[2] === 2;
}

/** Per-channel sum (`mean` false) or mean of NHWC `x` over N, H, W: shape [C], or [1, 1, 1, C] with `keepDims`. */
export function channelReduce(scope: KernelScope, x: tf.TensorInfo, mean: boolean, keepDims: boolean): tf.TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const perImage = scope.reshape(scope.run('AvgPool', { x }, { filterSize: [h, w], strides: [h, w], pad: 'valid' }), [n, c]);
  const total = n > 1 ? scope.run('Sum', { x: perImage }, { axis: [0], keepDims: false }) : scope.reshape(perImage, [c]);
  const scaled = scope.run('Multiply', { a: total, b: scope.scalar(mean ? 1 / n : h * w) });
  return scope.reshape(scaled, keepDims ? [1, 1, 1, c] : [c]);
}
