/**
 * The gradient of ClipByValue (tfjs-layers' ReLU with `maxValue`: MobileNet v2's ReLU6) in one pass. tfjs-core's is
 * `where(logicalAnd(greaterEqual(x, min), lessEqual(x, max)), dy, zerosLike(dy))`: five kernels, and wasm's
 * comparisons and Select run a generic broadcasting loop per element (229 ms for a [8, 112, 112, 96] activation on
 * two threads; 21% of a MobileNet v2 training step's kernel time). Here a backend with the kernel
 * `CnnZooClipByValueGrad` (wasm: one loop over views of its heap, 17 ms there) computes the same values, dy where
 * min <= x <= max and 0 elsewhere (NaN too); other backends keep tfjs-core's composition.
 *
 * Gradients are looked up by kernel name for every backend, so this replaces tfjs-core's gradient globally once
 * registered (`registerWasmGradients()`, called by `useBackend('wasm')`).
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmHeapBackend } from './wasm-copy.js';

export const CLIP_GRAD_KERNEL = 'CnnZooClipByValueGrad';

interface ClipAttrs { clipValueMin: number; clipValueMax: number }

/**
 * dy where min <= x <= max, else +0: x, dy and dx of one size. Selected by bit masks on the float32 words, without a
 * branch per element (activations after batch norm fall on either side at random: a branch mispredicts; 17 against
 * 46 ms for 9.6M values in Node).
 */
export function clipGradient(x: Float32Array, dy: Float32Array, min: number, max: number, dx: Float32Array): void {
  const dyBits = new Int32Array(dy.buffer, dy.byteOffset, dy.length), dxBits = new Int32Array(dx.buffer, dx.byteOffset, dx.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    dxBits[i] = dyBits[i]! & -(+(v >= min) & +(v <= max));
  }
}

/** `CnnZooClipByValueGrad` for wasm: inputs {dy, x} (float32, one shape), attrs as ClipByValue's. */
export const wasmClipGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x } = inputs as unknown as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const { clipValueMin, clipValueMax } = attrs as unknown as ClipAttrs;
  const b = backend as unknown as WasmHeapBackend;
  const dx = b.makeOutput([...x.shape], 'float32');
  const f32 = (t: tf.TensorInfo) => b.typedArrayFromHeap(t) as Float32Array; // views taken after the output is allocated
  clipGradient(f32(x), f32(dy), clipValueMin, clipValueMax, f32(dx));
  return dx;
};

const clipByValueGradient: tf.GradConfig = {
  kernelName: 'ClipByValue',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const dyT = dy as tf.Tensor;
    const { clipValueMin, clipValueMax } = attrs as unknown as ClipAttrs;
    const fast = x.dtype === 'float32' && dyT.dtype === 'float32' && tf.util.arraysEqual(x.shape, dyT.shape) &&
      tf.getKernel(CLIP_GRAD_KERNEL, tf.getBackend()) !== undefined;
    return {
      x: () => fast
        ? tf.engine().runKernel(CLIP_GRAD_KERNEL, { dy: dyT, x }, { clipValueMin, clipValueMax }) as tf.Tensor
        : tf.where(tf.logicalAnd(tf.greaterEqual(x, clipValueMin), tf.lessEqual(x, clipValueMax)), dyT, tf.zerosLike(dyT)),
    };
  },
};

let registered = false;

/** Replace tfjs-core's ClipByValue gradient with the one-pass one where the backend has the kernel (idempotent). */
export function registerClipGradient(): void {
  if (registered) return;
  tf.registerGradient(clipByValueGradient);
  registered = true;
}
