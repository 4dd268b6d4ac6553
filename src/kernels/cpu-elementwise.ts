/**
 * Element-wise loops for the cpu kernels (cpu-kernels.ts). tfjs-backend-cpu computes binary ops with broadcasting
 * by converting every output index to coordinates and back (a SENet-154 pass spent 2.8 s multiplying by its
 * squeeze-and-excitation gates), and its unary ops call a closure per element. These walk the output row by row
 * (rows along the last axis, an odometer over the others) with each input's offset advanced by its strides.
 * Values are those of tfjs's own: each result is computed in float64 and rounded to float32 once.
 */
import * as tf from '@tensorflow/tfjs';

export type BinaryOp = 'add' | 'mul';

/** `a op b` with numpy broadcasting, float32; `shape` is the broadcast shape. */
export function broadcastBinary(op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array,
  bShape: readonly number[], shape: readonly number[]): Float32Array {
  const out = new Float32Array(tf.util.sizeFromShape(shape as number[]));
  if (out.length === 0) return out;
  const rank = shape.length;
  const stridesOf = (s: readonly number[]) => {
    const padded = [...new Array<number>(rank - s.length).fill(1), ...s];
    const strides = new Array<number>(rank);
    let st = 1;
    for (let d = rank - 1; d >= 0; d--) { strides[d] = padded[d] === 1 ? 0 : st; st *= padded[d]!; }
    return strides;
  };
  const as = stridesOf(aShape), bs = stridesOf(bShape);
  const run = rank === 0 ? 1 : shape[rank - 1]!, rows = out.length / run;
  const aStep = rank === 0 ? 0 : as[rank - 1]!, bStep = rank === 0 ? 0 : bs[rank - 1]!;
  const at = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let ao = 0, bo = 0;
  for (let r = 0, o = 0; r < rows; r++, o += run) {
    if (op === 'add') {
      if (aStep && bStep) for (let i = 0; i < run; i++) out[o + i] = a[ao + i]! + b[bo + i]!;
      else if (aStep) { const v = b[bo]!; for (let i = 0; i < run; i++) out[o + i] = a[ao + i]! + v; }
      else if (bStep) { const v = a[ao]!; for (let i = 0; i < run; i++) out[o + i] = v + b[bo + i]!; }
      else out.fill(a[ao]! + b[bo]!, o, o + run);
    } else {
      if (aStep && bStep) for (let i = 0; i < run; i++) out[o + i] = a[ao + i]! * b[bo + i]!;
      else if (aStep) { const v = b[bo]!; for (let i = 0; i < run; i++) out[o + i] = a[ao + i]! * v; }
      else if (bStep) { const v = a[ao]!; for (let i = 0; i < run; i++) out[o + i] = v * b[bo + i]!; }
      else out.fill(a[ao]! * b[bo]!, o, o + run);
    }
    for (let d = rank - 2; d >= 0; d--) {
      ao += as[d]!; bo += bs[d]!;
      if (++at[d]! < shape[d]!) break;
      ao -= as[d]! * shape[d]!; bo -= bs[d]! * shape[d]!;
      at[d] = 0;
    }
  }
  return out;
}

/** max(0, x). */
export function relu(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(0, x[i]!);
  return out;
}

/**
 * Batch norm over the last axis (`channels` per row), exactly as tfjs computes it per element:
 * offset + (x - mean) * scale / sqrt(variance + epsilon); offset 0 and scale 1 where absent.
 */
export function batchNormLastAxis(x: Float32Array, channels: number, mean: Float32Array, variance: Float32Array,
  offset: Float32Array | undefined, scale: Float32Array | undefined, epsilon: number): Float32Array {
  const out = new Float32Array(x.length);
  const off = new Float64Array(channels), mul = new Float64Array(channels), root = new Float64Array(channels), mu = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    off[c] = offset ? offset[c]! : 0;
    mul[c] = scale ? scale[c]! : 1;
    root[c] = Math.sqrt(variance[c]! + epsilon);
    mu[c] = mean[c]!;
  }
  for (let o = 0; o < x.length; o += channels) {
    for (let c = 0; c < channels; c++) out[o + c] = off[c]! + (x[o + c]! - mu[c]!) * mul[c]! / root[c]!;
  }
  return out;
}
