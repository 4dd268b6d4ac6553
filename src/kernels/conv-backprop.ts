/**
 * Convolution gradients (NHWC) written as forward convolutions, so that they run on the backend's fast
 * Conv2D / DepthwiseConv2dNative kernels (XNNPACK on wasm) instead of per-element loops.
 *
 * Forward, per spatial axis: y[o] = sum_i x[o*s + i*d - p0] w[i]  (stride s, dilation d, leading pad p0,
 * effective kernel E = (k-1)*d + 1).
 *
 * - dx: dx[h] = sum_i dyS[h + p0 - i*d] w[i], where dyS is dy with s-1 zeros after each element. That is a
 *   stride-1 convolution (dilation d) of dyS with the spatially flipped, in/out-swapped filter, padded by
 *   E-1-p0 before and (H + p0 - len(dyS)) after (a negative pad crops).
 * - dw: dw[i] = sum_{n,o} x[n, o*s + i*d - p0] dy[n, o]: a convolution whose batch is the input channels
 *   (x -> [Cin, H, W, N]) and whose filter is dy (-> [Ho, Wo, N, Cout]), with stride d and dilation s,
 *   padded by p0 before and by whatever makes its output exactly k long after.
 * - depthwise dw: per filter tap, a batched dot product over (n, oh, ow) per channel: x -> [C, N, H, W]
 *   once, then one slice and one BatchMatMul (batch = channels) per tap; strided convolutions cut their taps
 *   from NHWC stride blocks with contiguous Slices instead (see stridedDepthwiseBackpropFilter).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelScope } from './kernel-scope.js';

type Info = tf.TensorInfo;
type Pad = tf.Conv2DBackpropFilterAttrs['pad'];
type Rounding = tf.Conv2DBackpropFilterAttrs['dimRoundingMode'];

/** One convolution's geometry, NHWC. */
export interface ConvGeometry {
  n: number; inH: number; inW: number; inC: number;
  outH: number; outW: number;
  kh: number; kw: number;
  sh: number; sw: number;
  dh: number; dw: number;
  /** Leading padding (top, left); the trailing padding follows from the sizes. */
  top: number; left: number;
}

export function geometry(xShape: readonly number[], filterShape: readonly number[], strides: number | [number, number],
  dilations: number | [number, number], pad: Pad, dimRoundingMode: Rounding, depthwise: boolean): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number],
    filterShape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, depthwise, 'channelsLast');
  return {
    n: info.batchSize, inH: info.inHeight, inW: info.inWidth, inC: info.inChannels,
    outH: info.outHeight, outW: info.outWidth,
    kh: info.filterHeight, kw: info.filterWidth,
    sh: info.strideHeight, sw: info.strideWidth,
    dh: info.dilationHeight, dw: info.dilationWidth,
    top: info.padInfo.top, left: info.padInfo.left,
  };
}

/**
 * Spatial padding [before, after] per axis (H, W) of `t` (NHWC); negative amounts crop. Returns the cropped
 * tensor and the non-negative padding left for the convolution to apply.
 */
function cropForConv(scope: KernelScope, t: Info, pads: [[number, number], [number, number]]): { x: Info; pad: tf.backend_util.ExplicitPadding } {
  const [n, h, w, c] = t.shape as [number, number, number, number];
  const [[ht, hb], [wl, wr]] = pads;
  const begin = [0, Math.max(0, -ht), Math.max(0, -wl), 0];
  const size = [n, h - begin[1]! - Math.max(0, -hb), w - begin[2]! - Math.max(0, -wr), c];
  return {
    x: scope.slice(t, begin, size),
    pad: [[0, 0], [Math.max(0, ht), Math.max(0, hb)], [Math.max(0, wl), Math.max(0, wr)], [0, 0]],
  };
}

/** dy [N, Ho, Wo, C] with s-1 zeros after each element along H and W: [N, Ho*sh, Wo*sw, C]. */
function strideDilate(scope: KernelScope, dy: Info, sh: number, sw: number): Info {
  if (sh === 1 && sw === 1) return dy;
  const [n, ho, wo, c] = dy.shape as [number, number, number, number];
  const r = scope.reshape(dy, [n, ho, 1, wo, 1, c]);
  const p = scope.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return scope.reshape(p, [n, ho * sh, wo * sw, c]);
}

/** The input padding of dx's convolution (see the file comment), per axis. */
function backpropInputPads(g: ConvGeometry, dyS: Info): [[number, number], [number, number]] {
  const eh = (g.kh - 1) * g.dh + 1, ew = (g.kw - 1) * g.dw + 1;
  return [
    [eh - 1 - g.top, g.inH + g.top - dyS.shape[1]!],
    [ew - 1 - g.left, g.inW + g.left - dyS.shape[2]!],
  ];
}

/** Conv2DBackpropInput: dy [N, Ho, Wo, Cout], filter [kh, kw, Cin, Cout] -> dx [N, H, W, Cin]. */
export function conv2dBackpropInput(scope: KernelScope, dy: Info, filter: Info, g: ConvGeometry): Info {
  const dyS = strideDilate(scope, dy, g.sh, g.sw);
  const { x, pad } = cropForConv(scope, dyS, backpropInputPads(g, dyS));
  const flipped = g.kh * g.kw > 1 ? scope.run('Reverse', { x: filter }, { dims: [0, 1] }) : filter;
  const w = scope.transpose(flipped, [0, 1, 3, 2]);
  const dx = scope.run('Conv2D', { x, filter: w }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [g.dh, g.dw] });
  return checkShape(dx, [g.n, g.inH, g.inW, g.inC], 'Conv2DBackpropInput');
}

/** Conv2DBackpropFilter: x [N, H, W, Cin], dy [N, Ho, Wo, Cout] -> dw [kh, kw, Cin, Cout]. */
export function conv2dBackpropFilter(scope: KernelScope, x: Info, dy: Info, g: ConvGeometry): Info {
  const xT = scope.transpose(x, [3, 1, 2, 0]); // [Cin, H, W, N]
  const dyT = scope.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Cout]
  const needH = (g.kh - 1) * g.dh + (g.outH - 1) * g.sh + 1, needW = (g.kw - 1) * g.dw + (g.outW - 1) * g.sw + 1;
  const { x: xc, pad } = cropForConv(scope, xT, [[g.top, needH - g.top - g.inH], [g.left, needW - g.left - g.inW]]);
  const out = scope.run('Conv2D', { x: xc, filter: dyT }, { strides: [g.dh, g.dw], pad, dataFormat: 'NHWC', dilations: [g.sh, g.sw] });
  checkShape(out, [g.inC, g.kh, g.kw, dy.shape[3]!], 'Conv2DBackpropFilter');
  return scope.transpose(out, [1, 2, 0, 3]);
}

/** DepthwiseConv2dNativeBackpropInput: dy [N, Ho, Wo, C*M], filter [kh, kw, C, M] -> dx [N, H, W, C]. */
export function depthwiseBackpropInput(scope: KernelScope, dy: Info, filter: Info, g: ConvGeometry): Info {
  const [kh, kw, c, m] = filter.shape as [number, number, number, number];
  const dyS = strideDilate(scope, dy, g.sh, g.sw);
  const { x, pad } = cropForConv(scope, dyS, backpropInputPads(g, dyS));
  const flipped = kh * kw > 1 ? scope.run('Reverse', { x: filter }, { dims: [0, 1] }) : filter;
  const w = scope.reshape(flipped, [kh, kw, c * m, 1]);
  const dx = scope.run('DepthwiseConv2dNative', { x, filter: w }, { strides: [1, 1], pad, dilations: [g.dh, g.dw] });
  if (m === 1) return checkShape(dx, [g.n, g.inH, g.inW, c], 'DepthwiseConv2dNativeBackpropInput');
  const per = scope.reshape(dx, [g.n, g.inH, g.inW, c, m]);
  return checkShape(scope.run('Sum', { x: per }, { axis: [4], keepDims: false }), [g.n, g.inH, g.inW, c], 'DepthwiseConv2dNativeBackpropInput');
}

/** DepthwiseConv2dNativeBackpropFilter: x [N, H, W, C], dy [N, Ho, Wo, C*M] -> dw [kh, kw, C, M]. */
export function depthwiseBackpropFilter(scope: KernelScope, x: Info, dy: Info, g: ConvGeometry, m: number): Info {
  const c = g.inC, p = g.n * g.outH * g.outW;
  const needH = (g.kh - 1) * g.dh + (g.outH - 1) * g.sh + 1, needW = (g.kw - 1) * g.dw + (g.outW - 1) * g.sw + 1;
  if (g.sh > 1 || g.sw > 1) return stridedDepthwiseBackpropFilter(scope, x, dy, g, m, needH, needW);
  const xT = scope.transpose(x, [3, 0, 1, 2]); // [C, N, H, W]
  const xP = scope.pad(xT, [[0, 0], [0, 0], [g.top, Math.max(0, needH - g.top - g.inH)], [g.left, Math.max(0, needW - g.left - g.inW)]]);
  if (xP !== xT) scope.free(xT);
  const dy5 = scope.reshape(dy, [g.n, g.outH, g.outW, c, m]);
  const dyT = scope.reshape(scope.transpose(dy5, [3, 0, 1, 2, 4]), [c, p, m]); // [C, N*Ho*Wo, M]
  const taps: Info[] = [];
  for (let i = 0; i < g.kh; i++) {
    for (let j = 0; j < g.kw; j++) {
      const h0 = i * g.dh, w0 = j * g.dw;
      const s = scope.run('StridedSlice', { x: xP }, {
        begin: [0, 0, h0, w0], end: [c, g.n, h0 + (g.outH - 1) * g.sh + 1, w0 + (g.outW - 1) * g.sw + 1],
        strides: [1, 1, g.sh, g.sw], beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
      });
      const a = scope.reshape(s, [c, 1, p]);
      const tap = scope.run('BatchMatMul', { a, b: dyT }, { transposeA: false, transposeB: false });
      scope.free(a);
      scope.free(s);
      taps.push(scope.reshape(tap, [1, c * m]));
    }
  }
  const all = taps.length === 1 ? taps[0]! : scope.run('Concat', taps, { axis: 0 });
  return scope.reshape(all, [g.kh, g.kw, c, m]);
}

/**
 * The strided case of depthwiseBackpropFilter. wasm's StridedSlice with a stride above 1 is a slow generic path
 * (1.1 s of a 1.15 s call for MobileNet v2's 112 -> 56 layer at batch 4), so each tap is cut from the zero-padded
 * NHWC input seen in whole stride blocks, [N, A, sh, B*sw*C]: one Slice picks the tap's rows (block and phase),
 * a second, on [N*Ho, B, sw, C], its columns, each copying whole channel rows; a 2-D Transpose then gives the
 * [C, N*Ho*Wo] rows BatchMatMul takes, as in the stride-1 path (same products, same order).
 */
function stridedDepthwiseBackpropFilter(scope: KernelScope, x: Info, dy: Info, g: ConvGeometry, m: number, needH: number, needW: number): Info {
  const c = g.inC, p = g.n * g.outH * g.outW;
  const a = Math.ceil(Math.max(g.top + g.inH, needH) / g.sh), b = Math.ceil(Math.max(g.left + g.inW, needW) / g.sw);
  const xP = scope.pad(x, [[0, 0], [g.top, a * g.sh - g.top - g.inH], [g.left, b * g.sw - g.left - g.inW], [0, 0]]);
  const rows = scope.reshape(xP, [g.n, a, g.sh, b * g.sw * c]);
  const dy5 = scope.reshape(dy, [g.n, g.outH, g.outW, c, m]);
  const dyT = scope.reshape(scope.transpose(dy5, [3, 0, 1, 2, 4]), [c, p, m]); // [C, N*Ho*Wo, M]
  const taps: Info[] = [];
  for (let i = 0; i < g.kh; i++) {
    const h0 = i * g.dh; // padded rows h0 + oh*sh: block oh + floor(h0 / sh), phase h0 % sh
    const r = scope.slice(rows, [0, Math.floor(h0 / g.sh), h0 % g.sh, 0], [g.n, g.outH, 1, b * g.sw * c]);
    const cols = scope.reshape(r, [g.n * g.outH, b, g.sw, c]);
    for (let j = 0; j < g.kw; j++) {
      const w0 = j * g.dw;
      const t = scope.slice(cols, [0, Math.floor(w0 / g.sw), w0 % g.sw, 0], [g.n * g.outH, g.outW, 1, c]);
      const t2 = scope.reshape(t, [p, c]);
      const tT = scope.transpose(t2, [1, 0]); // [C, N*Ho*Wo]
      const a3 = scope.reshape(tT, [c, 1, p]);
      const tap = scope.run('BatchMatMul', { a: a3, b: dyT }, { transposeA: false, transposeB: false });
      for (const u of [t, t2, tT, a3]) if (u !== cols) scope.free(u);
      taps.push(scope.reshape(tap, [1, c * m]));
    }
    scope.free(cols);
    if (r !== rows) scope.free(r);
  }
  const all = taps.length === 1 ? taps[0]! : scope.run('Concat', taps, { axis: 0 });
  return scope.reshape(all, [g.kh, g.kw, c, m]);
}

function checkShape(t: Info, expected: number[], what: string): Info {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`cnn-zoo ${what}: computed shape [${t.shape}] instead of [${expected}] (a geometry bug; please report it)`);
  }
  return t;
}
