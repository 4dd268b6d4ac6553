/**
 * Weights as plain arrays: a checkpoint is named arrays in PyTorch layout (conv OIHW, linear [out, in]) in the
 * source's key order, and the layout transforms between PyTorch and tfjs (row-major data). Below every module that
 * reads, writes or maps weights (checkpoints, artifacts, convert).
 */
export interface NamedArray {
  shape: readonly number[];
  data: Float32Array;
  /**
   * A linear weight [out, in] whose inputs are a feature map flattened in H, W, C order (tfjs's, as an NHWC graph
   * flattens: cnn-zoo's own ONNX export), not PyTorch's C, H, W: its columns need no reordering for a Dense.
   */
  flattenedHWC?: boolean;
}
export type StateDict = Map<string, NamedArray>;

/** Transpose a row-major array of `shape` by `perm` (out axis i = in axis perm[i]), by runs or tiles (`copyTranspose`). */
export function transpose(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  copyTranspose(data, shape, perm, out);
  return out;
}

/** conv weight [O, I, kH, kW] -> [kH, kW, I, O] (also grouped [O, I/g, kH, kW], and depthwise [C*m, 1, kH, kW] -> [kH, kW, C, m]). */
export function oihwToHwio(data: Float32Array, shape: readonly number[]): Float32Array {
  return transpose(data, shape, [2, 3, 1, 0]);
}

/** linear weight [out, in] -> [in, out]; with `chw`, `in` is a flattened C x H x W map whose rows become H x W x C. */
export function linearToDense(data: Float32Array, shape: readonly number[], chw?: readonly [number, number, number]): Float32Array {
  const [out, inp] = [shape[0]!, shape[1]!];
  if (!chw || chw[1] * chw[2] === 1) return transpose(data, [out, inp], [1, 0]);
  return transpose(data, [out, chw[0], chw[1] * chw[2]], [2, 1, 0]); // [out, C, H*W] -> [H*W, C, out]
}

/*
 * Transposing a flat buffer (any rank, any permutation) by tiles: what the weight layouts above use, what the cpu
 * Transpose kernel (src/kernels) does instead of tfjs's per-element index arithmetic, and the wasm one where wasm's
 * own loop has no locality (an output innermost axis that is long and strided in the input: 118 ms for a
 * [100352, 96] matrix, 19 ms for the [3, 3, 512, 512] -> [3, 3, 512, 512] in/out swap of a filter; 42 and 9 ms
 * here; VGG-16's first classifier weight [4096, 25088] to tfjs's layout took 1.2-2.4 s one element at a time, 0.35 s
 * by tiles, into memory the process already held).
 *
 * The shape is first reduced: size-1 axes dropped, and axes that stay adjacent and in order under the permutation
 * merged. Then either the input's innermost axis stays innermost, and the copy goes by runs of it, or the output's
 * innermost axis A is strided in the input and the input's innermost axis B is strided in the output, and the
 * copy goes by TRANSPOSE_TILE x TRANSPOSE_TILE tiles of A x B (reads along B, writes along A, both within a few cache lines), with an
 * odometer over the other axes. A copy, so the result is bit-identical to any other transpose.
 */
type Flat = Float32Array | Int32Array | Uint8Array;

const TRANSPOSE_TILE = 16;

/** A permutation of a shape with size-1 axes dropped and axes that stay adjacent and in order merged. */
export interface ReducedTranspose {
  shape: number[];
  perm: number[];
}

export function reduceTranspose(shape: readonly number[], perm: readonly number[]): ReducedTranspose {
  const keep = perm.filter((p) => shape[p] !== 1);
  const kept = [...keep].sort((a, b) => a - b);
  const index = new Map(kept.map((a, i) => [a, i]));
  const p = keep.map((a) => index.get(a)!);
  const s = kept.map((a) => shape[a]!);
  const groups: number[][] = [];
  for (const a of p) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1]! + 1 === a) last.push(a);
    else groups.push([a]);
  }
  const order = groups.map((g) => g[0]!).sort((a, b) => a - b);
  const merged = new Map(order.map((a, i) => [a, i]));
  const outShape = new Array<number>(groups.length);
  for (const g of groups) outShape[merged.get(g[0]!)!] = g.reduce((n, a) => n * s[a]!, 1);
  return { shape: outShape, perm: groups.map((g) => merged.get(g[0]!)!) };
}

/**
 * The lengths of the two axes a tiled transpose crosses (A: the output's innermost, B: the input's innermost), or
 * null when the input's innermost axis stays innermost (a copy by runs) or nothing moves.
 */
export function crossedAxes(r: ReducedTranspose): [number, number] | null {
  const last = r.shape.length - 1;
  if (last < 1 || r.perm[last] === last) return null;
  return [r.shape[r.perm[last]!]!, r.shape[last]!];
}

/** Write `xs` (shape `shape`) transposed by `perm` into `os` (the same length); `reduced` if the caller has it. */
export function copyTranspose(xs: Flat, shape: readonly number[], perm: readonly number[], os: Flat,
  reduced: ReducedTranspose = reduceTranspose(shape, perm)): void {
  const total = os.length;
  if (total === 0) return;
  const { shape: s, perm: p } = reduced;
  const r = s.length;
  if (r <= 1) { os.set(xs.subarray(0, total)); return; }
  const inStrides = new Array<number>(r);
  for (let d = r - 1, st = 1; d >= 0; d--) { inStrides[d] = st; st *= s[d]!; }
  const outStrides = new Array<number>(r); // the output stride of each input axis
  for (let d = r - 1, st = 1; d >= 0; d--) { outStrides[p[d]!] = st; st *= s[p[d]!]!; }
  const odometer = (axes: number[], fn: (inOffset: number, outOffset: number) => void) =>
    forEachIndex(axes.map((a) => s[a]!), axes.map((a) => inStrides[a]!), axes.map((a) => outStrides[a]!), fn);

  if (p[r - 1] === r - 1) { // the innermost axis stays innermost: copy runs of it
    const run = s[r - 1]!;
    odometer(p.slice(0, r - 1), (from, o) => {
      if (run < 16) for (let k = 0; k < run; k++) os[o + k] = xs[from + k]!;
      else os.set(xs.subarray(from, from + run), o);
    });
    return;
  }
  const a = p[r - 1]!, b = r - 1;
  const na = s[a]!, nb = s[b]!, sa = inStrides[a]!, sb = outStrides[b]!;
  odometer(p.slice(0, r - 1).filter((d) => d !== b), (inBase, outBase) => {
    for (let a0 = 0; a0 < na; a0 += TRANSPOSE_TILE) {
      const a1 = Math.min(na, a0 + TRANSPOSE_TILE);
      for (let b0 = 0; b0 < nb; b0 += TRANSPOSE_TILE) {
        const b1 = Math.min(nb, b0 + TRANSPOSE_TILE);
        for (let i = a0; i < a1; i++) {
          const from = inBase + i * sa;
          for (let j = b0, o = outBase + b0 * sb + i; j < b1; j++, o += sb) os[o] = xs[from + j]!;
        }
      }
    }
  });
}

/** Calls `fn(inOffset, outOffset)` for every index of `sizes` (the last axis fastest). */
function forEachIndex(sizes: number[], inStrides: number[], outStrides: number[], fn: (inOffset: number, outOffset: number) => void): void {
  const r = sizes.length;
  if (sizes.some((n) => n === 0)) return;
  const at = new Array<number>(r).fill(0);
  let i = 0, o = 0;
  for (;;) {
    fn(i, o);
    let d = r - 1;
    for (; d >= 0; d--) {
      i += inStrides[d]!; o += outStrides[d]!;
      if (++at[d]! < sizes[d]!) break;
      i -= at[d]! * inStrides[d]!; o -= at[d]! * outStrides[d]!;
      at[d] = 0;
    }
    if (d < 0) return;
  }
}
