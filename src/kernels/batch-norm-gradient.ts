/**
 * The gradient of FusedBatchNorm (batch norm in training mode) in three passes over the activation. tfjs-core's
 * multiplies dy by `tile(rsqrt(variance + eps), [N, H, W, 1])` (a full-size copy of a per-channel vector for every
 * batch norm in every step: 52 Tile calls and 25% of the kernel time of a MobileNet v2 step on wasm) and then takes
 * the four other gradients with nine full-size products (Multiply was 7% of a ResNet-50 step after the Tile was
 * gone). Here every per-channel factor is folded first: dx = dy * (scale * rsqrt); the gradients of the mean and of
 * the offset are multiples of sum(dy), those of the variance and of the scale multiples of sum(dy * (x - mean)), so
 * one subtraction and two products of full size remain. The same sums in another order: the gradients agree with
 * tfjs-core's to float32 rounding (test/train-wasm-gradients.test.ts against the cpu backend and float64, and the
 * PyTorch fixture).
 *
 * Gradients are looked up by kernel name for every backend, so this replaces tfjs-core's gradient globally once
 * registered (`registerWasmGradients()`, called by `useBackend('wasm')`).
 */
import * as tf from '@tensorflow/tfjs';

const batchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const dyT = dy as tf.Tensor;
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const scaleValue = scale == null ? tf.scalar(1) : scale;
    const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    // [1, ..., 1, C]: the per-channel vector broadcast over x (tfjs-core tiles it to [N, H, W, C]).
    const channels = mean.rank === 1 ? [...x.shape.slice(0, -1).map(() => 1), mean.shape[0]!] : null;
    const reduce = (t: tf.Tensor): tf.Tensor => tf.reshape(mean.rank === 1 ? tf.sum(t, reductionAxes) : t, mean.shape);
    const rsqrt = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const scaledRsqrt = tf.mul(rsqrt, scaleValue);
    // The two per-channel sums every gradient but x's is a multiple of: sum(dy) and sum(dy * (x - mean)).
    const sumDy = reduce(dyT);
    const sumDyXm = tf.tidy(() => reduce(tf.mul(dyT, tf.sub(x, mean))));
    return {
      x: () => tf.reshape(tf.mul(dyT, channels ? tf.reshape(scaledRsqrt, channels) : scaledRsqrt), x.shape),
      mean: () => tf.mul(tf.neg(scaledRsqrt), sumDy),
      variance: () => tf.mul(tf.mul(tf.mul(tf.mul(rsqrt, rsqrt), rsqrt), tf.scalar(-0.5)), tf.mul(scaleValue, sumDyXm)),
      scale: () => tf.mul(rsqrt, sumDyXm),
      offset: () => tf.reshape(sumDy, mean.shape),
    };
  },
};

let registered = false;

/** Replace tfjs-core's FusedBatchNorm gradient with the broadcasting one (idempotent). */
export function registerBatchNormGradient(): void {
  if (registered) return;
  tf.registerGradient(batchNormGradient);
  registered = true;
}
