/**
 * The gradient of FusedBatchNorm (batch norm in training mode) without tfjs-core's Tile. tfjs-core's gradient
 * multiplies dy by `tile(rsqrt(variance + eps), [N, H, W, 1])`: a full-size copy of a per-channel vector for every
 * batch norm in every step (52 Tile calls and 25% of the kernel time of a MobileNet v2 step on wasm, 11% of a
 * ResNet-18 step: `npx tsx tools/bench/train.ts --profile`). Broadcasting the same vector multiplies the same
 * float32 numbers in the same order, so every gradient is bit-identical to tfjs-core's on every backend (checked by
 * test/train-wasm-gradients.test.ts against the cpu backend and a PyTorch fixture); the other four gradients are
 * tfjs-core's, op for op.
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
    const xMinusMean = tf.sub(x, mean);
    const dyTimesScaleValue = tf.mul(dyT, scaleValue);
    const oneOverSqrtVariance = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const minusHalfRCube = tf.mul(tf.mul(tf.mul(oneOverSqrtVariance, oneOverSqrtVariance), oneOverSqrtVariance), tf.scalar(-0.5));
    const reduce = (t: tf.Tensor): tf.Tensor => tf.reshape(mean.rank === 1 ? tf.sum(t, reductionAxes) : t, mean.shape);
    return {
      x: () => tf.reshape(tf.mul(tf.mul(dyT, channels ? tf.reshape(oneOverSqrtVariance, channels) : oneOverSqrtVariance), scaleValue), x.shape),
      mean: () => reduce(tf.mul(tf.mul(oneOverSqrtVariance, tf.scalar(-1)), dyTimesScaleValue)),
      variance: () => reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScaleValue)),
      scale: () => reduce(tf.mul(dyT, tf.mul(xMinusMean, oneOverSqrtVariance))),
      offset: () => reduce(dyT),
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
