/**
 * Copying a slice `x[begin : begin + size]` (any rank) out of a flat buffer by runs along the last axis, with an
 * odometer over the other axes: what both the wasm and the cpu Slice and SplitV kernels here do instead of tfjs's
 * per-element index arithmetic (cpu) or whole-input copy (wasm); and the inverse for the phases of a strided
 * gradient (writePhase).
 */
import * as tf from '@tensorflow/tfjs';

type Flat = Float32Array | Int32Array | Uint8Array;

/** Innermost runs shorter than this are copied element by element (a subarray per run costs more). */
const SHORT_RUN = 16;

/**
 * The same slice with fewer axes: an axis of length 1 is dropped and a whole axis (begin 0, full size) is merged into
 * the axis before it, so that the runs copied are as long as the memory layout allows (a depthwise filter gradient's
 * tap [N, Ho, 1, Wo, 1, C] of the stride blocks [N, A, 1, B, 1, C] copies runs of Wo * C, not of C).
 */
function mergeWholeAxes(shape: readonly number[], begin: readonly number[], size: readonly number[]): { shape: number[]; begin: number[]; size: number[] } {
  const m = { shape: [] as number[], begin: [] as number[], size: [] as number[] };
  shape.forEach((n, d) => {
    const last = m.shape.length - 1;
    if (n === 1 && shape.length > 1) return;
    if (last >= 0 && begin[d] === 0 && size[d] === n) {
      m.shape[last]! *= n; m.begin[last]! *= n; m.size[last]! *= n;
    } else {
      m.shape.push(n); m.begin.push(begin[d]!); m.size.push(size[d]!);
    }
  });
  if (m.shape.length === 0) return { shape: [1], begin: [0], size: [1] };
  return m;
}

/** Write `xs` (shape `shape`) sliced at `begin` with `size` into `os` (length = product of `size`). */
export function copySlice(xs: Flat, shape: readonly number[], begin: readonly number[], size: readonly number[], os: Flat): void {
  const total = tf.util.sizeFromShape(size as number[]);
  if (total === 0) return;
  ({ shape, begin, size } = mergeWholeAxes(shape, begin, size));
  const rank = shape.length;
  if (tf.slice_util.isSliceContinous(shape as number[], begin as number[], size as number[])) {
    const offset = tf.slice_util.computeFlatOffset(begin as number[], tf.util.computeStrides(shape as number[]));
    os.set(xs.subarray(offset, offset + total));
    return;
  }
  const strides = [...tf.util.computeStrides(shape as number[]), 1];
  const run = size[rank - 1]!, at = new Array<number>(rank - 1).fill(0);
  let o = 0;
  while (o < total) {
    let from = begin[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) from += (begin[d]! + at[d]!) * strides[d]!;
    if (run < SHORT_RUN) for (let k = 0; k < run; k++) os[o + k] = xs[from + k]!;
    else os.set(xs.subarray(from, from + run), o);
    o += run;
    for (let d = rank - 2; d >= 0; d--) {
      if (++at[d]! < size[d]!) break;
      at[d] = 0;
    }
  }
}

/**
 * The inverse of a strided slice, for the phases of a strided gradient: write `ps` ([N, A, B, C]) into `os` ([N, H, W,
 * C]) at rows r, r + sh, ... and columns t, t + sw, ... (A = ceil((H - r) / sh), B = ceil((W - t) / sw)).
 */
export function writePhase(ps: Flat, [n, a, b, c]: readonly number[], os: Flat, h: number, w: number, [r, t]: readonly [number, number],
  [sh, sw]: readonly [number, number]): void {
  const run = sw === 1 ? b * c : c, runs = sw === 1 ? 1 : b, step = sw * c;
  let from = 0;
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < a; y++) {
      let to = ((i * h + r + y * sh) * w + t) * c;
      for (let x = 0; x < runs; x++, to += step, from += run) {
        if (run < SHORT_RUN) for (let k = 0; k < run; k++) os[to + k] = ps[from + k]!;
        else os.set(ps.subarray(from, from + run), to);
      }
    }
  }
}

/** SplitV as consecutive slices along its axis: `slice(begin, size)` makes each part. */
export function splitBySlices(x: tf.TensorInfo, attrs: tf.SplitVAttrs, slice: (begin: number[], size: number[]) => tf.TensorInfo): tf.TensorInfo[] {
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const begin = new Array<number>(x.shape.length).fill(0);
  return tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis).map((n) => {
    const size = [...x.shape];
    size[axis] = n;
    const part = slice([...begin], size);
    begin[axis]! += n;
    return part;
  });
}
