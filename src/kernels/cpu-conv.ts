/**
 * Convolution for tfjs's `cpu` backend as a blocked matrix product. tfjs-backend-cpu's Conv2D is a direct loop
 * whose innermost step reads and writes the output for every multiply-add (about 0.85 GFLOP/s here); this one
 * copies a block of output positions' receptive fields into rows (im2col; none for 1x1 convs with stride 1),
 * packs the filter into panels of 4 output channels, and computes 4 x 4 output tiles with 16 accumulators held in
 * registers (about 4.3 GFLOP/s on the same core, 5x). Accumulation is in float64 (JavaScript numbers), rounded to
 * float32 once per output, so results are at least as close to a float64 reference as tfjs's float32 sums.
 */
import * as tf from '@tensorflow/tfjs';

/** Output positions per im2col block (the block of rows is reused for every panel of output channels). */
const BLOCK = 64;
/** Rows and columns of the register tile (hand-unrolled below). */
const TILE = 4;
/** Channel runs shorter than this are copied element by element (a subarray per run costs more). */
const SHORT_RUN = 16;

/** Filter [KH, KW, C, O] (flat, O fastest) -> panels of TILE output channels: `[O/4][K][4]`, zero-padded. */
function packFilter(f: Float32Array, k: number, o: number): Float32Array {
  const panels = Math.ceil(o / TILE);
  const wp = new Float32Array(panels * k * TILE);
  for (let p = 0; p < panels; p++) {
    const width = Math.min(TILE, o - p * TILE);
    for (let kk = 0; kk < k; kk++) {
      const from = kk * o + p * TILE, to = (p * k + kk) * TILE;
      for (let j = 0; j < width; j++) wp[to + j] = f[from + j]!;
    }
  }
  return wp;
}

/** Rows `m0 .. m0 + rows` of the im2col matrix (one row per output position, K = KH * KW * C) into `patch`. */
function im2col(x: Float32Array, info: tf.backend_util.Conv2DInfo, m0: number, rows: number, patch: Float32Array): void {
  const { inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const k = kh * kw * c;
  for (let r = 0; r < rows; r++) {
    const m = m0 + r, n = Math.floor(m / (oh * ow)), rem = m - n * oh * ow;
    const oy = Math.floor(rem / ow), ox = rem - oy * ow;
    let q = r * k;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - top + ky * dh;
      for (let kx = 0; kx < kw; kx++, q += c) {
        const ix = ox * sw - left + kx * dw;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) patch.fill(0, q, q + c);
        else {
          const from = ((n * h + iy) * w + ix) * c;
          if (c < SHORT_RUN) for (let j = 0; j < c; j++) patch[q + j] = x[from + j]!;
          else patch.set(x.subarray(from, from + c), q);
        }
      }
    }
  }
}

/** Per-output-channel bias and the activations computed in the store (others are applied by the caller). */
export interface Epilogue {
  bias?: Float32Array;
  activation?: 'relu' | 'relu6';
}

/**
 * `out[m, 0..O)` for the `rows` rows of `a` (row r at `a[aOff + r * K]`) times the packed filter, written at rows
 * `m0 .. m0 + rows` of `out` (added to what `out` holds with `accumulate`). Rows past `rows` in the last tile repeat
 * the last row and are not stored.
 */
function gemmBlock(a: Float32Array, aOff: number, rows: number, k: number, wp: Float32Array, o: number,
  out: Float32Array | Float64Array, m0: number, ep: Epilogue, accumulate = false): void {
  const panels = Math.ceil(o / TILE);
  const bias = ep.bias, relu = ep.activation === 'relu', relu6 = ep.activation === 'relu6';
  const acc = new Float64Array(TILE * TILE);
  for (let p = 0; p < panels; p++) {
    const o0 = p * TILE, width = Math.min(TILE, o - o0), w0 = p * k * TILE;
    for (let r = 0; r < rows; r += TILE) {
      const a0 = aOff + r * k, a1 = aOff + Math.min(r + 1, rows - 1) * k;
      const a2 = aOff + Math.min(r + 2, rows - 1) * k, a3 = aOff + Math.min(r + 3, rows - 1) * k;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let kk = 0, wo = w0; kk < k; kk++, wo += TILE) {
        const b0 = wp[wo]!, b1 = wp[wo + 1]!, b2 = wp[wo + 2]!, b3 = wp[wo + 3]!;
        const x0 = a[a0 + kk]!, x1 = a[a1 + kk]!, x2 = a[a2 + kk]!, x3 = a[a3 + kk]!;
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
        c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
        c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
      }
      acc[0] = c00; acc[1] = c01; acc[2] = c02; acc[3] = c03; acc[4] = c10; acc[5] = c11; acc[6] = c12; acc[7] = c13;
      acc[8] = c20; acc[9] = c21; acc[10] = c22; acc[11] = c23; acc[12] = c30; acc[13] = c31; acc[14] = c32; acc[15] = c33;
      const height = Math.min(TILE, rows - r);
      for (let i = 0; i < height; i++) {
        const base = (m0 + r + i) * o + o0;
        for (let j = 0; j < width; j++) {
          let v = acc[i * TILE + j]!;
          if (bias) v += bias[o0 + j]!;
          if (relu) v = v < 0 ? 0 : v;
          else if (relu6) v = v < 0 ? 0 : v > 6 ? 6 : v;
          if (accumulate) out[base + j] += v;
          else out[base + j] = v;
        }
      }
    }
  }
}

/** NHWC convolution of `x` with filter `f` ([KH, KW, C, O]) as `info` describes; bias and relu/relu6 fused. */
export function convNhwc(x: Float32Array, f: Float32Array, info: tf.backend_util.Conv2DInfo, ep: Epilogue = {}): Float32Array {
  const { batchSize, outHeight, outWidth, outChannels: o, filterHeight: kh, filterWidth: kw, inChannels: c } = info;
  const k = kh * kw * c, m = batchSize * outHeight * outWidth;
  const wp = packFilter(f, k, o);
  const out = new Float32Array(m * o);
  const direct = kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 && outHeight === info.inHeight && outWidth === info.inWidth;
  const patch = direct ? x : new Float32Array(BLOCK * k);
  for (let m0 = 0; m0 < m; m0 += BLOCK) {
    const rows = Math.min(BLOCK, m - m0);
    if (direct) gemmBlock(x, m0 * k, rows, k, wp, o, out, m0, ep);
    else {
      im2col(x, info, m0, rows, patch);
      gemmBlock(patch, 0, rows, k, wp, o, out, m0, ep);
    }
  }
  return out;
}

/** Output positions per block of the filter gradient (each block adds its product into the float64 sum once). */
const FILTER_BLOCK = 256;

/**
 * The filter gradient of an NHWC convolution (Conv2DBackpropFilter): dW[k, o] = sum over output positions m of
 * im2col(x)[m, k] * dy[m, o], by blocks of positions: the block's im2col rows, transposed, times dy's rows packed
 * as panels, added into a float64 sum (tfjs's own loops over the filter, reading x at every tap: 80 of the 83 s
 * of a ResNet-18 training step at 96 px, batch 2).
 */
export function convFilterGradNhwc(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const { batchSize, outHeight, outWidth, outChannels: o, filterHeight: kh, filterWidth: kw, inChannels: c } = info;
  const k = kh * kw * c, m = batchSize * outHeight * outWidth;
  const sum = new Float64Array(k * o);
  const patch = new Float32Array(FILTER_BLOCK * k), patchT = new Float32Array(FILTER_BLOCK * k);
  for (let m0 = 0; m0 < m; m0 += FILTER_BLOCK) {
    const rows = Math.min(FILTER_BLOCK, m - m0);
    im2col(x, info, m0, rows, patch);
    for (let r = 0; r < rows; r++) for (let kk = 0; kk < k; kk++) patchT[kk * rows + r] = patch[r * k + kk]!;
    gemmBlock(patchT, 0, k, rows, packFilter(dy.subarray(m0 * o, (m0 + rows) * o), rows, o), o, sum, 0, {}, true);
  }
  return Float32Array.from(sum);
}

/**
 * NHWC depthwise convolution with a channel multiplier of 1 (filter [KH, KW, C, 1]): the input is copied into a
 * zero-padded buffer once, so no tap needs a bounds check, and four neighbouring outputs of a channel are summed
 * in registers over the taps (3-4x tfjs's direct loop, which reads and writes the output for every tap).
 */
export function depthwiseNhwc(x: Float32Array, f: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const hp = Math.max(h + top, (oh - 1) * sh + (kh - 1) * dh + 1), wp = Math.max(w + left, (ow - 1) * sw + (kw - 1) * dw + 1);
  const xp = new Float32Array(nb * hp * wp * c);
  for (let n = 0; n < nb; n++) {
    for (let y = 0; y < h; y++) xp.set(x.subarray((n * h + y) * w * c, (n * h + y + 1) * w * c), ((n * hp + y + top) * wp + left) * c);
  }
  const taps = kh * kw, offsets = new Int32Array(taps);
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) offsets[ky * kw + kx] = (ky * dh * wp + kx * dw) * c;
  const out = new Float32Array(nb * oh * ow * c);
  const step = sw * c;
  for (let n = 0; n < nb; n++) {
    for (let oy = 0; oy < oh; oy++) {
      const row = (n * hp + oy * sh) * wp * c, outRow = (n * oh + oy) * ow * c;
      let ox = 0;
      for (; ox + TILE <= ow; ox += TILE) {
        const from = row + ox * step, to = outRow + ox * c;
        for (let ch = 0; ch < c; ch++) {
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (let t = 0, fo = ch; t < taps; t++, fo += c) {
            const v = f[fo]!, q = from + ch + offsets[t]!;
            a0 += xp[q]! * v; a1 += xp[q + step]! * v; a2 += xp[q + 2 * step]! * v; a3 += xp[q + 3 * step]! * v;
          }
          out[to + ch] = a0; out[to + c + ch] = a1; out[to + 2 * c + ch] = a2; out[to + 3 * c + ch] = a3;
        }
      }
      for (; ox < ow; ox++) {
        const from = row + ox * step, to = outRow + ox * c;
        for (let ch = 0; ch < c; ch++) {
          let a = 0;
          for (let t = 0, fo = ch; t < taps; t++, fo += c) a += xp[from + ch + offsets[t]!]! * f[fo]!;
          out[to + ch] = a;
        }
      }
    }
  }
  return out;
}
