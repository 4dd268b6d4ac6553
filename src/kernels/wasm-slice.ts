/**
 * Slice for tfjs-backend-wasm without a copy of its whole input. wasm's own Slice starts with `readSync(x)`, which
 * copies all of `x` out of the wasm heap (`HEAPU8.slice`) before it copies the slice: every call costs a pass over
 * its whole input and a fresh JavaScript buffer of that size. The gradient kernels slice large tensors many times
 * (a max pool's window taps out of its padded input, dy crops and filter taps in the convolution gradients), and
 * inference slices too (channel splits). This one reads the input through a view of the heap, taken after the
 * output is allocated (allocating may grow the heap, which replaces its buffer), and copies the same rows.
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's backend this kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Innermost runs shorter than this are copied element by element (a subarray per run costs more). */
const SHORT_RUN = 16;

/** `x[begin : begin + size]`, any rank; `fallback` (wasm's own kernel) for strings. */
export function wasmSlice(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  if (x.dtype === 'string') return fallback(args) as tf.TensorInfo;
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput(s, x.dtype);
  const total = tf.util.sizeFromShape(s);
  if (total === 0) return out;
  const xs = backend.typedArrayFromHeap(x), os = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (tf.slice_util.isSliceContinous(x.shape, b, s)) {
    const offset = tf.slice_util.computeFlatOffset(b, tf.util.computeStrides(x.shape));
    os.set(xs.subarray(offset, offset + total));
    return out;
  }
  // Copy runs along the last axis; an odometer over the other axes.
  const strides = [...tf.util.computeStrides(x.shape), 1];
  const run = s[rank - 1]!, at = new Array<number>(rank - 1).fill(0);
  let o = 0;
  while (o < total) {
    let from = b[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) from += (b[d]! + at[d]!) * strides[d]!;
    if (run < SHORT_RUN) for (let k = 0; k < run; k++) os[o + k] = xs[from + k]!;
    else os.set(xs.subarray(from, from + run), o);
    o += run;
    for (let d = rank - 2; d >= 0; d--) {
      if (++at[d]! < s[d]!) break;
      at[d] = 0;
    }
  }
  return out;
}
