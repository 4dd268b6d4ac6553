/**
 * Convolution gradients (NHWC) written as forward convolutions, so that they run on the backend's fast
 * Conv2D / DepthwiseConv2dNative kernels (XNNPACK on wasm) instead of per-element loops.
 *
 * Forward, per spatial axis: y[o] = sum_i x[o*s + i*d - p0] w[i]  (stride s, dilation d, leading pad p0,
 * effective kernel E = (k-1)*d + 1).
 *
 * - dx: dx[h] = sum_i dyS[h + p0 - i*d] w[i], where dyS is dy with s-1 zeros after each element. That is a
 *   stride-1 convolution (dilation d) of dyS with the spatially flipped, in/out-swapped filter, padded by
 *   E-1-p0 before and (H + p0 - len(dyS)) after (a negative pad crops). With stride > 1 and dilation 1 it runs
 *   by output phases instead (phasedBackpropInput: no multiply-adds with the inserted zeros).
 * - dw: dw[i] = sum_{n,o} x[n, o*s + i*d - p0] dy[n, o]: a convolution whose batch is the input channels
 *   (x -> [Cin, H, W, N]) and whose filter is dy (-> [Ho, Wo, N, Cout]), with stride d and dilation s,
 *   padded by p0 before and by whatever makes its output exactly k long after; for a 1x1 filter, one matrix
 *   product of the pixels read and dy.
 * - depthwise dw: per filter tap, the pixels it reads times dy, summed per channel (see depthwiseBackpropFilter).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelScope } from './kernel-scope.js';
import { derivedFilter } from './training-step.js';
import { channelReduce } from './wasm-reduce.js';

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

/**
 * The filter [kh, kw, Cin, Cout] at taps rows x cols (in that order, e.g. reversed to flip it): one contiguous Slice
 * per tap and Concats. wasm's Reverse, StridedSlice with a stride and Slice above rank 4 are slow generic paths
 * (34, 58 and 340 ms for a 3x3x256x512 filter, against 0.3 ms for a tap).
 */
function filterTaps(scope: KernelScope, filter: Info, rows: readonly number[], cols: readonly number[]): Info {
  const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
  if (rows.length === kh && cols.length === kw && rows.every((r, i) => r === i) && cols.every((c, i) => c === i)) return filter;
  const row = (r: number): Info => {
    const taps = cols.map((c) => scope.slice(filter, [r, c, 0, 0], [1, 1, cin, cout]));
    return taps.length > 1 ? scope.run('Concat', taps, { axis: 1 }) : taps[0]!;
  };
  const out = rows.map(row);
  return out.length > 1 ? scope.run('Concat', out, { axis: 0 }) : out[0]!;
}

const range = (first: number, count: number, step: number): number[] => Array.from({ length: count }, (_, i) => first + i * step);

/** The input padding of dx's convolution (see the file comment), per axis. */
function backpropInputPads(g: ConvGeometry, dyS: Info): [[number, number], [number, number]] {
  const eh = (g.kh - 1) * g.dh + 1, ew = (g.kw - 1) * g.dw + 1;
  return [
    [eh - 1 - g.top, g.inH + g.top - dyS.shape[1]!],
    [ew - 1 - g.left, g.inW + g.left - dyS.shape[2]!],
  ];
}

/**
 * One axis of a strided dx by phases: the outputs h = s*q + r (phase r) take only the taps i = s*m + t with
 * t = (r + p0) mod s, from dy[q + c - m] with c = floor((r + p0) / s). So each phase is a stride-1 convolution of dy
 * (not of the zero-dilated dyS) with the sub-filter of those taps, flipped: `taps` of them from `first`, leading
 * pad `k - 1 - c` and trailing pad making `len` outputs (negative pads crop).
 */
interface Phase { first: number; taps: number; len: number; pads: [number, number] }

function phases(size: number, outSize: number, k: number, s: number, p0: number): Phase[] {
  return Array.from({ length: s }, (_, r) => {
    const first = (r + p0) % s, c = Math.floor((r + p0) / s);
    const taps = Math.max(0, Math.ceil((k - first) / s)), len = Math.max(0, Math.ceil((size - r) / s));
    const before = taps - 1 - c;
    return { first, taps, len, pads: [before, len + taps - 1 - before - outSize] };
  });
}

/**
 * Strided dx (dilation 1) as sh*sw stride-1 convolutions, one per output phase, interleaved: s^2 fewer
 * multiply-adds than the convolution of the zero-dilated dy (ResNets' stride-2 3x3 and 1x1 convolutions, the
 * MobileNets' stride-2 depthwise ones). `conv` is the stride-1 convolution of dy with a phase's flipped taps.
 */
function phasedBackpropInput(scope: KernelScope, dy: Info, filter: Info, g: ConvGeometry,
  conv: (x: Info, pad: tf.backend_util.ExplicitPadding, flipped: FlippedTaps) => Info): Info {
  const ph = phases(g.inH, g.outH, g.kh, g.sh, g.top), pw = phases(g.inW, g.outW, g.kw, g.sw, g.left);
  const grid = ph.map((a) => pw.map((b) => {
    if (a.taps === 0 || b.taps === 0 || a.len === 0 || b.len === 0) return null;
    // The phase's taps, flipped: first + s*(taps-1) down to first.
    const flipped = taps(scope, filter, range(a.first + (a.taps - 1) * g.sh, a.taps, -g.sh), range(b.first + (b.taps - 1) * g.sw, b.taps, -g.sw));
    const { x, pad } = cropForConv(scope, dy, [a.pads, b.pads]);
    return checkShape(conv(x, pad, flipped), [g.n, a.len, b.len, g.inC], 'backprop input phase');
  }));
  return scope.interleave(grid, [g.n, g.inH, g.inW, g.inC]);
}

/**
 * Some taps of a filter, in a given order (flipped), made on demand: `key` names the selection among the filter's
 * derivations (training-step.ts keeps a derived filter for the rest of a training step).
 */
interface FlippedTaps { rows: number; cols: number; key: string; make(): Info }

function taps(scope: KernelScope, filter: Info, rows: readonly number[], cols: readonly number[]): FlippedTaps {
  return { rows: rows.length, cols: cols.length, key: `${rows}|${cols}`, make: () => filterTaps(scope, filter, rows, cols) };
}

type StrideOneConv = (x: Info, pad: tf.backend_util.ExplicitPadding, flipped: FlippedTaps, dilations: [number, number]) => Info;

/**
 * dx of either convolution kind, given `conv`, its stride-1 convolution of (a crop of) dy with flipped taps: by output
 * phases for a stride above 1 without dilation, else of the zero-dilated dy with the whole flipped filter.
 */
function backpropInput(scope: KernelScope, dy: Info, filter: Info, g: ConvGeometry, conv: StrideOneConv): Info {
  if ((g.sh > 1 || g.sw > 1) && g.dh === 1 && g.dw === 1) return phasedBackpropInput(scope, dy, filter, g, (x, pad, f) => conv(x, pad, f, [1, 1]));
  const dyS = strideDilate(scope, dy, g.sh, g.sw);
  const { x, pad } = cropForConv(scope, dyS, backpropInputPads(g, dyS));
  return conv(x, pad, taps(scope, filter, range(g.kh - 1, g.kh, -1), range(g.kw - 1, g.kw, -1)), [g.dh, g.dw]);
}

/** Conv2DBackpropInput: dy [N, Ho, Wo, Cout], filter [kh, kw, Cin, Cout] -> dx [N, H, W, Cin]. */
export function conv2dBackpropInput(scope: KernelScope, dy: Info, filter: Info, g: ConvGeometry): Info {
  const dx = backpropInput(scope, dy, filter, g, (x, pad, flipped, dilations) => {
    const f = derivedFilter(scope, filter, `conv ${flipped.key}`, () => scope.transpose(flipped.make(), [0, 1, 3, 2]));
    return scope.run('Conv2D', { x, filter: f }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations });
  });
  return checkShape(dx, [g.n, g.inH, g.inW, g.inC], 'Conv2DBackpropInput');
}

/**
 * dw of a 1x1 convolution: one matrix product of the pixels its taps read, [N*Ho*Wo, Cin], and dy, [N*Ho*Wo, Cout]
 * (XNNPACK's GEMM). As the convolution below (dy as the filter: Ho*Wo taps of N channels each) it ran 2-13x slower
 * (MobileNet v2's 16 -> 96 at 112 px, batch 8: 194 -> 14 ms). The operand with fewer channels is the one transposed.
 */
function pointwiseBackpropFilter(scope: KernelScope, x: Info, dy: Info, g: ConvGeometry): Info {
  const cout = dy.shape[3]!, k = g.n * g.outH * g.outW;
  // The rows -top, -top + sh, ... (and columns) the taps read: cropped or zero-padded to Ho*sh x Wo*sw, then every sh-th.
  const { x: xc, pad } = cropForConv(scope, x, [[g.top, g.outH * g.sh - g.top - g.inH], [g.left, g.outW * g.sw - g.left - g.inW]]);
  let xs = pad.some(([a, b]) => a > 0 || b > 0) ? scope.pad(xc, pad) : xc;
  if (g.sh > 1 || g.sw > 1) {
    const blocks = scope.reshape(xs, [g.n, g.outH, g.sh, g.outW, g.sw, g.inC]);
    xs = scope.slice(blocks, [0, 0, 0, 0, 0, 0], [g.n, g.outH, 1, g.outW, 1, g.inC]);
  }
  const x2 = scope.reshape(xs, [1, k, g.inC]), dy2 = scope.reshape(dy, [1, k, cout]);
  const matMul = (a: Info, b: Info) => scope.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  const dw = g.inC <= cout ? matMul(scope.transpose(x2, [0, 2, 1]), dy2) // [1, Cin, Cout]
    : scope.transpose(matMul(scope.transpose(dy2, [0, 2, 1]), x2), [0, 2, 1]);
  return scope.reshape(dw, [1, 1, g.inC, cout]);
}

/** Conv2DBackpropFilter: x [N, H, W, Cin], dy [N, Ho, Wo, Cout] -> dw [kh, kw, Cin, Cout]. */
export function conv2dBackpropFilter(scope: KernelScope, x: Info, dy: Info, g: ConvGeometry): Info {
  if (g.kh === 1 && g.kw === 1) return checkShape(pointwiseBackpropFilter(scope, x, dy, g), [1, 1, g.inC, dy.shape[3]!], 'Conv2DBackpropFilter');
  const xT = scope.transpose(x, [3, 1, 2, 0]); // [Cin, H, W, N]
  const dyT = scope.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Cout]
  const needH = (g.kh - 1) * g.dh + (g.outH - 1) * g.sh + 1, needW = (g.kw - 1) * g.dw + (g.outW - 1) * g.sw + 1;
  const { x: xc, pad } = cropForConv(scope, xT, [[g.top, needH - g.top - g.inH], [g.left, needW - g.left - g.inW]]);
  const out = scope.run('Conv2D', { x: xc, filter: dyT }, { strides: [g.dh, g.dw], pad, dataFormat: 'NHWC', dilations: [g.sh, g.sw] });
  checkShape(out, [g.inC, g.kh, g.kw, dy.shape[3]!], 'Conv2DBackpropFilter');
  return scope.transpose(out, [1, 2, 0, 3]);
}

/**
 * The depthwise kernel sizes (taps) XNNPACK in tfjs-backend-wasm has kernels for; other sizes take a generic path
 * 5-30x slower (measured at [8, 28, 28, 96]: 1x2 3.7 ms, 1x3 0.34 ms, 2x2 0.18 ms, 3x2 3.8 ms, 3x3 0.49 ms). A
 * stride-2 3x3 depthwise dx has 2x1 and 1x2 phases, a stride-2 5x5 one 3x2 and 2x3 phases.
 */
const FAST_DEPTHWISE_TAPS = [1, 3, 4, 9, 25];

/** The smallest kernel of a fast size that holds rows x cols (zero taps added after), or null if it is fast already or none does. */
export function fastDepthwiseKernel(rows: number, cols: number): [number, number] | null {
  if (FAST_DEPTHWISE_TAPS.includes(rows * cols)) return null;
  let best: [number, number] | null = null;
  for (const taps of FAST_DEPTHWISE_TAPS) {
    for (let h = rows; h <= taps; h++) {
      if (taps % h !== 0 || taps / h < cols) continue;
      if (!best || taps < best[0] * best[1]) best = [h, taps / h];
    }
  }
  return best;
}

/**
 * DepthwiseConv2dNativeBackpropInput: dy [N, Ho, Wo, C*M], filter [kh, kw, C, M] -> dx [N, H, W, C]. A flipped
 * kernel of a slow size (fastDepthwiseKernel) gets zero taps after its last row and column, and the convolution as
 * much more trailing padding: the same sums, plus exact zeros (2x1 -> 3x1: 13.3 -> 0.6 ms at [8, 56, 56, 96]).
 */
export function depthwiseBackpropInput(scope: KernelScope, dy: Info, filter: Info, g: ConvGeometry): Info {
  const [, , c, m] = filter.shape as [number, number, number, number];
  // Each channel's M outputs convolved with its flipped taps, summed over M.
  const dx = backpropInput(scope, dy, filter, g, (x, pad, flipped, dilations) => {
    const grow = dilations[0] === 1 && dilations[1] === 1 ? fastDepthwiseKernel(flipped.rows, flipped.cols) : null;
    const [rows, cols] = grow ?? [flipped.rows, flipped.cols];
    const f = derivedFilter(scope, filter, `depthwise ${flipped.key} ${rows}x${cols}`, () => {
      const taps = scope.reshape(flipped.make(), [flipped.rows, flipped.cols, c * m, 1]);
      return grow ? scope.pad(taps, [[0, rows - flipped.rows], [0, cols - flipped.cols], [0, 0], [0, 0]]) : taps;
    });
    const padded: tf.backend_util.ExplicitPadding = [[0, 0], [pad[1][0], pad[1][1] + rows - flipped.rows], [pad[2][0], pad[2][1] + cols - flipped.cols], [0, 0]];
    const out = scope.run('DepthwiseConv2dNative', { x, filter: f }, { strides: [1, 1], pad: padded, dilations });
    if (m === 1) return out;
    const [n, h, w] = out.shape as [number, number, number];
    return scope.run('Sum', { x: scope.reshape(out, [n, h, w, c, m]) }, { axis: [4], keepDims: false });
  });
  return checkShape(dx, [g.n, g.inH, g.inW, c], 'DepthwiseConv2dNativeBackpropInput');
}

/**
 * DepthwiseConv2dNativeBackpropFilter: x [N, H, W, C], dy [N, Ho, Wo, C*M] -> dw [kh, kw, C, M]. Per filter tap, the
 * input pixels the tap reads (one Slice of the zero-padded input seen in whole stride blocks, [N, A, sh, B, sw, C],
 * which picks each tap's block and phase per axis), times dy (broadcast over the multiplier), summed per channel over
 * N, H, W (XNNPACK's average pooling, wasm-reduce.ts). Until 2026-12-05 each tap was a BatchMatMul with the channels
 * as its batch ([1, P] x [P, M] per channel): 399 ms for MobileNet v2's 112 x 112 x 32 layer at batch 8 on two
 * threads, 23 ms this way (docs/PERFORMANCE.md "Training").
 */
export function depthwiseBackpropFilter(scope: KernelScope, x: Info, dy: Info, g: ConvGeometry, m: number): Info {
  const c = g.inC;
  const needH = (g.kh - 1) * g.dh + (g.outH - 1) * g.sh + 1, needW = (g.kw - 1) * g.dw + (g.outW - 1) * g.sw + 1;
  const a = Math.ceil(Math.max(g.top + g.inH, needH) / g.sh), b = Math.ceil(Math.max(g.left + g.inW, needW) / g.sw);
  const xP = scope.pad(x, [[0, 0], [g.top, a * g.sh - g.top - g.inH], [g.left, b * g.sw - g.left - g.inW], [0, 0]]);
  const blocks = scope.reshape(xP, [g.n, a, g.sh, b, g.sw, c]);
  const dy5 = scope.reshape(dy, [g.n, g.outH, g.outW, c, m]);
  const taps: Info[] = [];
  for (let i = 0; i < g.kh; i++) {
    for (let j = 0; j < g.kw; j++) {
      const h0 = i * g.dh, w0 = j * g.dw; // padded row h0 + oh*sh: block oh + floor(h0 / sh), phase h0 % sh
      const t = scope.slice(blocks, [0, Math.floor(h0 / g.sh), h0 % g.sh, Math.floor(w0 / g.sw), w0 % g.sw, 0], [g.n, g.outH, 1, g.outW, 1, c]);
      const t5 = scope.reshape(t, [g.n, g.outH, g.outW, c, 1]);
      const prod = scope.run('Multiply', { a: t5, b: dy5 });
      const prod4 = scope.reshape(prod, [g.n, g.outH, g.outW, c * m]);
      taps.push(scope.reshape(channelReduce(scope, prod4, false, false), [1, c * m]));
      for (const u of [prod4, prod, t5, t]) if (u !== blocks) scope.free(u);
    }
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
