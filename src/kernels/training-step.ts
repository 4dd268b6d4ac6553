/**
 * What the gradient kernels may assume while cnn-zoo runs a training step (`inTrainingStep(filters, f)`, from
 * src/train/step.ts):
 *
 * - **Unread input gradients.** tfjs-core's fused convolutions (what tfjs-layers' Conv2D and DepthwiseConv2D, and
 *   cnn-zoo's FusedConv2D, run in training with a linear activation) compute dx and dw together in one customGrad,
 *   so dx is computed even where the convolution's input depends on no trained weight: the network's first
 *   convolution (ResNet-18's 7x7 stem: 108 ms of dx per 8 images on wasm, into 3 channels nobody reads) and the first
 *   of the layers being fine-tuned. PyTorch's autograd skips those; here the backprop-input kernels return zeros for
 *   a convolution whose filter is one of `filters`.
 * - **Filters derived once per step.** dx convolves dy with the flipped, in/out-swapped filter: a new tensor, which
 *   tfjs-backend-wasm transposes and XNNPACK packs again on every call (3x3x512x512: 57 ms against 28 with a packed
 *   filter). Within a step the weights do not change, so a step whose batch runs as micro-batches (gradients summed,
 *   src/train/step.ts) derives each filter once; everything derived is freed when the step ends.
 *
 * `f` must be synchronous (`optimizer.minimize`, `tf.variableGrads`). The filters are variables whose data is read
 * when `f` starts (an optimizer's update gives a variable new data). Outside a step nothing is assumed or kept.
 */
import type * as tf from '@tensorflow/tfjs';
import type { KernelScope } from './kernel-scope.js';

/** Data of the filters whose convolution's dx is unread, with how many open steps named each. */
const unread = new Map<object, number>();
/** Open steps (nested calls share the outermost one's derived filters). */
let depth = 0;
/** Per filter's data, per derivation: the derived filter and the backend that holds it. */
const derived = new Map<object, Map<string, { info: tf.TensorInfo; backend: tf.KernelBackend }>>();

export function inTrainingStep<T>(filters: readonly tf.Variable[], f: () => T): T {
  const ids = filters.map((v) => v.dataId as object);
  for (const id of ids) unread.set(id, (unread.get(id) ?? 0) + 1);
  depth++;
  try {
    return f();
  } finally {
    depth--;
    for (const id of ids) {
      const n = unread.get(id)! - 1;
      if (n > 0) unread.set(id, n);
      else unread.delete(id);
    }
    if (depth === 0) {
      for (const byKey of derived.values()) for (const { info, backend } of byKey.values()) backend.disposeData(info.dataId);
      derived.clear();
    }
  }
}

/** Whether the input gradient of a convolution with this filter is unread in the running step. */
export function inputGradientUnread(filter: tf.TensorInfo): boolean {
  return unread.size > 0 && unread.has(filter.dataId as object);
}

/**
 * `make()`, a filter derived from `filter` (named `key` among its derivations), made once per training step and kept
 * until the step ends; outside a step made every time and freed with the scope's other intermediates.
 */
export function derivedFilter(scope: KernelScope, filter: tf.TensorInfo, key: string, make: () => tf.TensorInfo): tf.TensorInfo {
  if (depth === 0) return make();
  key = `${filter.shape} ${key}`; // reshapes share their input's data
  const byKey = derived.get(filter.dataId as object) ?? new Map();
  const hit = byKey.get(key);
  if (hit && hit.backend === scope.backend) return hit.info;
  const info = make();
  if (info.dataId === filter.dataId || !scope.detach(info)) return info;
  if (hit) hit.backend.disposeData(hit.info.dataId);
  byKey.set(key, { info, backend: scope.backend });
  derived.set(filter.dataId as object, byKey);
  return info;
}
