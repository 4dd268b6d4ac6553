/**
 * Input gradients that a training step never reads. tfjs-core's fused convolutions (what tfjs-layers' Conv2D and
 * DepthwiseConv2D, and cnn-zoo's FusedConv2D, run in training with a linear activation) compute dx and dw together in
 * one customGrad, so dx is computed even where the convolution's input depends on no trained weight: the network's
 * first convolution (ResNet-18's 7x7 stem: 108 ms of dx per 8 images on wasm, into 3 channels nobody reads) and the
 * first of the layers being fine-tuned. PyTorch's autograd skips those; inside `withoutInputGradients(filters, f)` the
 * wasm backprop-input kernels do too, returning zeros for a convolution whose filter is one of `filters`.
 *
 * The filters are variables, read when `f` starts (an optimizer's update gives a variable new data, so the set is
 * taken per step); `f` must be synchronous (`optimizer.minimize`, `tf.variableGrads`). Nothing outside `f` changes.
 */
import type * as tf from '@tensorflow/tfjs';

/** Data of the filters whose convolution's dx is unread, with how many open scopes named each. */
const unread = new Map<object, number>();

export function withoutInputGradients<T>(filters: readonly tf.Variable[], f: () => T): T {
  const ids = filters.map((v) => v.dataId as object);
  for (const id of ids) unread.set(id, (unread.get(id) ?? 0) + 1);
  try {
    return f();
  } finally {
    for (const id of ids) {
      const n = unread.get(id)! - 1;
      if (n > 0) unread.set(id, n);
      else unread.delete(id);
    }
  }
}

/** Whether the input gradient of a convolution with this filter is unread in the running step. */
export function inputGradientUnread(filter: tf.TensorInfo): boolean {
  return unread.size > 0 && unread.has(filter.dataId as object);
}
