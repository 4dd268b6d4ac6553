/**
 * Which convolutions' input gradients a training step never reads, for src/kernels/unread-gradients.ts: those whose
 * input depends on no trained variable while their own filter is trained (the first convolution of a network trained
 * whole, the first of the layers being fine-tuned).
 */
import * as tf from '@tensorflow/tfjs';
import { withoutInputGradients } from '../kernels/unread-gradients.js';

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

/** Run one synchronous training step `f` of `model` updating `trained`, without the input gradients it never reads. */
export function trainingStep<T>(model: tf.LayersModel, trained: readonly tf.Variable[], f: () => T): T {
  return withoutInputGradients(unreadInputFilters(model, trained), f);
}
