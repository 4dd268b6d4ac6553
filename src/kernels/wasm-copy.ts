/**
 * Slice, SplitV, Concat and Transpose for tfjs-backend-wasm, copying through views of the wasm heap.
 *
 * Slice and SplitV without a copy of their whole input. wasm's own Slice starts with `readSync(x)`, which
 * copies all of `x` out of the wasm heap (`HEAPU8.slice`) before it copies the slice: every call costs a pass over
 * its whole input and a fresh JavaScript buffer of that size. The gradient kernels slice large tensors many times
 * (a max pool's window taps out of its padded input, dy crops and filter taps in the convolution gradients), and
 * inference slices too (channel splits). This one reads the input through a view of the heap, taken after the
 * output is allocated (allocating may grow the heap, which replaces its buffer), and copies the same rows
 * (slice-runs.ts). wasm's SplitV calls that Slice once per part, so it copied its whole input once per part:
 * a grouped convolution's channel split into 32 groups (DPN, ResNeXt, ShuffleNet v1) made 32 full copies.
 *
 * Also `heapTensor`: a tensor made and filled in the heap (loaded weights dequantized or read from their shards),
 * `heapZeros` (the zeros weights start from, fresh memory left untouched), and `heapBytes`: a tensor's bytes read in
 * place (hashing weights).
 *
 * Transpose by tiles (`copyTranspose`, src/arrays.ts) where wasm's own loop has no locality: both axes the transpose crosses at
 * least TILED_MIN long (a [K, C] matrix of a 1x1 convolution's filter gradient, a filter's in/out swap in dx);
 * wasm's own, a C++ loop, is faster for the rest (a short axis, or runs of the innermost axis).
 */
import * as tf from '@tensorflow/tfjs';
import { copySlice, splitBySlices } from './slice-runs.js';
import { copyTranspose, crossedAxes, reduceTranspose } from '../arrays.js';

/** The parts of tfjs-backend-wasm's backend the kernels that read and write its heap use. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * A float32 tensor of `shape` made in wasm's heap and filled there by `fill` (given a view of its elements), when the
 * backend is wasm; undefined on any other. `tf.tensor(values)` would fill a JavaScript array first, then copy it in.
 */
export function heapTensor(shape: readonly number[], fill: (out: Float32Array) => void): tf.Tensor | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const info = backend.makeOutput([...shape], 'float32');
  fill(backend.typedArrayFromHeap(info) as Float32Array); // after makeOutput: allocating may grow the heap
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** Bytes `heapZeros` wrote (for tests: the part of its allocations the heap held before it grew for them). */
export const heapZeroFills = { bytes: 0 };

/**
 * A float32 tensor of zeros of `shape` made in wasm's heap, when the backend is wasm; undefined on any other. Memory
 * the heap grows by is zero already (WebAssembly's `memory.grow`) and the OS maps its pages only when touched, so
 * only the part of the allocation that lies in the heap as it was before is written: the zeros a model to be filled
 * starts from (`withoutInitialisation`) are mostly fresh memory, never touched (VGG-16's classifier kernels: 494 MB).
 */
export function heapZeros(shape: readonly number[]): tf.Tensor | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as WasmHeapBackend & { wasm: { HEAPU8: Uint8Array } };
  const heapBefore = backend.wasm.HEAPU8.buffer.byteLength;
  const info = backend.makeOutput([...shape], 'float32');
  const out = backend.typedArrayFromHeap(info) as Float32Array;
  const used = Math.min(out.length, Math.max(0, Math.ceil((heapBefore - out.byteOffset) / 4)));
  out.fill(0, 0, used);
  heapZeroFills.bytes += used * 4;
  return tf.engine().makeTensorFromTensorInfo(info);
}

/**
 * The bytes of tensor `t` as a view of wasm's heap, when its data is there; undefined otherwise. Read it before anything
 * else runs on the backend (allocating may grow the heap, which replaces its buffer). `t.data()` copies them out into
 * fresh memory (a ResNet-50's 98 MB of weights took 270 ms, most of it the first touch of the new pages).
 */
export function heapBytes(t: tf.Tensor): Uint8Array | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as WasmHeapBackend & { dataIdMap?: { has(id: object): boolean } };
  if (!backend.dataIdMap?.has(t.dataId)) return undefined;
  const v = backend.typedArrayFromHeap(t);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** `x[begin : begin + size]` (already parsed) into a new wasm tensor. */
function sliceOf(backend: WasmHeapBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  copySlice(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

/** `x[begin : begin + size]`, any rank; `fallback` (wasm's own kernel) for strings. */
export function wasmSlice(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  if (x.dtype === 'string') return fallback(args) as tf.TensorInfo;
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  return sliceOf(args.backend as unknown as WasmHeapBackend, x, b, s);
}

/** SplitV as slices of the heap; `fallback` (wasm's own kernel) for strings. */
export function wasmSplitV(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo[] {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  if (x.dtype === 'string') return fallback(args) as tf.TensorInfo[];
  return splitBySlices(x, args.attrs as unknown as tf.SplitVAttrs, (begin, size) => sliceOf(args.backend as unknown as WasmHeapBackend, x, begin, size));
}

/**
 * Concat through the wasm heap: each input's runs copied with `copyWithin` on one view of the heap. wasm's own takes
 * a `subarray` and a `set` per run, one run per input per position for the channel axis of an NHWC tensor (a
 * SqueezeNet fire module's 55 x 55 positions, DenseNet's growing concatenations): the view objects cost more than the
 * copies. `fallback` (wasm's own kernel) for strings and complex numbers, and where at most one input has elements.
 */
export function wasmConcat(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo {
  const xs = args.inputs as unknown as tf.TensorInfo[];
  const dtype = xs[0]!.dtype;
  const live = xs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (dtype === 'string' || dtype === 'complex64' || live.length < 2) return fallback(args) as tf.TensorInfo;
  const axis = tf.util.parseAxisParam((args.attrs as unknown as tf.ConcatAttrs).axis, xs[0]!.shape)[0]!;
  tf.backend_util.assertParamsConsistent(xs.map((t) => t.shape), axis);
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput(tf.backend_util.computeOutShape(xs.map((t) => t.shape), axis), dtype);
  const outView = backend.typedArrayFromHeap(out); // after makeOutput: allocating may grow the heap
  const heap = new (outView.constructor as Float32ArrayConstructor)(outView.buffer);
  const at = (v: ArrayBufferView) => v.byteOffset / outView.BYTES_PER_ELEMENT;
  const runs = live.map((t) => tf.util.sizeFromShape(t.shape.slice(axis)));
  const starts = live.map((t) => at(backend.typedArrayFromHeap(t)));
  const outer = tf.util.sizeFromShape(live[0]!.shape.slice(0, axis));
  let o = at(outView);
  for (let b = 0; b < outer; b++) {
    for (let i = 0; i < live.length; i++) {
      const n = runs[i]!, from = starts[i]! + b * n;
      heap.copyWithin(o, from, from + n);
      o += n;
    }
  }
  return out;
}

/** Both crossed axes at least this long: the tiled copy (measured faster from 64 on; wasm's own below). */
const TILED_MIN = 64;

/** `x` transposed by `perm`: tiled where wasm's own loop has no locality, else `fallback` (wasm's own kernel). */
export function wasmTranspose(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  if (x.dtype === 'string' || x.dtype === 'complex64') return fallback(args) as tf.TensorInfo;
  const reduced = reduceTranspose(x.shape, perm), crossed = crossedAxes(reduced);
  if (!crossed || Math.min(...crossed) < TILED_MIN) return fallback(args) as tf.TensorInfo;
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput(perm.map((p) => x.shape[p]!), x.dtype);
  copyTranspose(backend.typedArrayFromHeap(x), x.shape, perm, backend.typedArrayFromHeap(out), reduced);
  return out;
}
