/**
 * One training step of a zoo model, run so that the gradient kernels may assume what holds within it
 * (src/kernels/training-step.ts): which convolutions' input gradients are never read (those whose input depends on
 * no trained variable while their own filter is trained: the first convolution of a network trained whole, the first
 * of the layers being fine-tuned), and that the weights do not change until the step ends.
 */
import * as tf from '@tensorflow/tfjs';
import { inTrainingStep } from '../kernels/training-step.js';

/** Layers whose gradient is tfjs's fused convolution (dx and dw computed together). */
const FUSED_CONVOLUTIONS = new Set(['Conv2D', 'DepthwiseConv2D', 'FusedConv2D']);

/** The filters of `model`'s convolutions whose dx is unread when only `trained` is updated. */
export function unreadInputFilters(model: tf.LayersModel, trained: readonly tf.Variable[]): tf.Variable[] {
  const updated = new Set<tf.Variable>(trained);
  const dependent = new Set<tf.layers.Layer>();
  const filters: tf.Variable[] = [];
  for (const layer of model.layers) {
    const inbound = layer.inboundNodes.flatMap((n) => n.inboundLayers);
    const inputDependent = inbound.some((l) => dependent.has(l));
    const variables = layer.weights.map((w) => w.read() as tf.Variable);
    const own = variables.some((v) => updated.has(v));
    if (own || inputDependent) dependent.add(layer);
    if (own && !inputDependent && inbound.length > 0 && FUSED_CONVOLUTIONS.has(layer.getClassName())) {
      filters.push(...variables.filter((v) => v.rank === 4 && updated.has(v)));
    }
  }
  return filters;
}

/**
 * Run `f`, one synchronous training step of `model` that updates `trained` (an optimizer's `minimize`, or the
 * gradients of its micro-batches), without the input gradients it never reads and deriving each filter once.
 */
export function trainingStep<T>(model: tf.LayersModel, trained: readonly tf.Variable[], f: () => T): T {
  return inTrainingStep(unreadInputFilters(model, trained), f);
}

/**
 * The gradients of `trained` for one update on a batch of `n` examples, run as micro-batches of at most `micro`
 * examples inside one training step: `loss(begin, size)` is the mean loss of examples [begin, begin + size), and each
 * micro-batch's gradients, weighted by size / n, are summed. So the result is the whole batch's mean-loss gradient
 * while only a micro-batch's activations are held (wasm32's heap stops at 4 GB: a ResNet-50 training step at 224 px
 * needs about 420 MB per image), exactly where no layer mixes examples (batch norm in inference mode, as `fit` trains).
 * Returns the batch's mean loss and the summed gradients (by variable name), which the caller applies and disposes.
 */
export function batchGradients(model: tf.LayersModel, trained: readonly tf.Variable[], n: number, micro: number,
  loss: (begin: number, size: number) => tf.Scalar): { loss: tf.Scalar; grads: tf.NamedTensorMap } {
  const parts = Math.max(1, Math.ceil(n / Math.max(1, micro)));
  const size = Math.ceil(n / parts); // even parts: 16 in micro-batches of 12 runs as 8 + 8
  return trainingStep(model, trained, () => {
    let total: tf.Scalar | undefined;
    let sum: tf.NamedTensorMap = {};
    for (let begin = 0; begin < n; begin += size) {
      const m = Math.min(size, n - begin);
      const { value, grads } = tf.variableGrads(() => (m === n ? loss(0, n) : tf.mul(loss(begin, m), m / n)), [...trained]);
      if (!total) { total = value; sum = grads; continue; }
      const next = tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.add(sum[k]!, g)])));
      const t = tf.add(total, value) as tf.Scalar;
      tf.dispose([total, value, ...Object.values(sum), ...Object.values(grads)]);
      total = t;
      sum = next;
    }
    return { loss: total!, grads: sum };
  });
}
