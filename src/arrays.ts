/**
 * Weights as plain arrays: a checkpoint is named arrays in PyTorch layout (conv OIHW, linear [out, in]) in the
 * source's key order, and the layout transforms between PyTorch and tfjs (row-major data). Below every module that
 * reads, writes or maps weights (checkpoints, artifacts, convert).
 */
export interface NamedArray {
  shape: readonly number[];
  data: Float32Array;
}
export type StateDict = Map<string, NamedArray>;

/** Transpose a row-major array of `shape` by `perm` (out axis i = in axis perm[i]). */
export function transpose(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  if (shape.length === 4 && perm.join() === '2,3,1,0') return oihwToHwio(data, shape);
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) { inStrides[i] = acc; acc *= shape[i]!; }
  const stride = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src]!;
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]!++;
      src += stride[a]!;
      if (idx[a]! < outShape[a]!) break;
      src -= stride[a]! * outShape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/** conv weight [O, I, kH, kW] -> [kH, kW, I, O] (also grouped [O, I/g, kH, kW], and depthwise [C*m, 1, kH, kW] -> [kH, kW, C, m]). */
export function oihwToHwio(data: Float32Array, shape: readonly number[]): Float32Array {
  const [o, i, kh, kw] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  const khw = kh * kw, ikhw = i * khw;
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      const src = a * ikhw + b * khw;
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = data[src + y * kw + x]!;
      }
    }
  }
  return out;
}

/** linear weight [out, in] -> [in, out]; with `chw`, `in` is a flattened C x H x W map whose rows become H x W x C. */
export function linearToDense(data: Float32Array, shape: readonly number[], chw?: readonly [number, number, number]): Float32Array {
  const [out, inp] = [shape[0]!, shape[1]!];
  if (!chw || chw[1] * chw[2] === 1) {
    const t = new Float32Array(data.length);
    for (let r = 0; r < out; r++) for (let c = 0; c < inp; c++) t[c * out + r] = data[r * inp + c]!;
    return t;
  }
  // [out, C, H*W] -> [H*W, C, out]
  const [c, h, w] = chw;
  const hw = h * w;
  const t = new Float32Array(data.length);
  for (let r = 0; r < out; r++) {
    for (let ch = 0; ch < c; ch++) {
      const src = r * inp + ch * hw;
      for (let p = 0; p < hw; p++) t[(p * c + ch) * out + r] = data[src + p]!;
    }
  }
  return t;
}
