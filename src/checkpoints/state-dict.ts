/** A checkpoint as named arrays, in PyTorch layout (conv OIHW, linear [out, in]), in the source's key order. */
export interface NamedArray {
  shape: readonly number[];
  data: Float32Array;
}
export type StateDict = Map<string, NamedArray>;
