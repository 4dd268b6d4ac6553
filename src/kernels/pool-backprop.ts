/**
 * MaxPoolGrad from elementwise wasm kernels. tfjs-backend-wasm's own MaxPoolGrad routes the gradient of a
 * window whose values are all negative to the window's first cell, which breaks max pooling after batch norm;
 * this one matches tfjs cpu, ties included (the first maximum in row-major window order takes the gradient). The case 'MaxPooling2D 2x2' of
 * test/train-wasm-gradients.test.ts (random inputs, so some windows are all negative) fails with wasm's kernel.
 *
 * Per window tap (i, j): take = (x[tap] == y) and no earlier tap took it; dx[tap] += dy * take. The taps
 * are strided views of x padded with -Infinity, cut as two contiguous-row Slices of the padded input seen as
 * [N, A, sh, B*sw*C] (rows of phase i mod sh) and then [N*Ho, B, sw, C] (columns of phase j mod sw): wasm's
 * StridedSlice took 80% of the kernel's time (720 of 900 ms for the ResNet stem's pool at batch 4), the two Slices
 * copy whole channel rows. A tap's contribution lands in phase (i mod sh, j mod sw) of the padded input, shifted by
 * (floor(i / sh), floor(j / sw)) stride blocks: each phase sums its taps' at the output's resolution (PadV2 by the
 * shift, Add) and the sh*sw phases are interleaved once (Concat), where each tap used to be zero-inserted, shifted
 * and added at the input's resolution. No per-element JavaScript.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelScope } from './kernel-scope.js';

type Info = tf.TensorInfo;

/** dy, x, y NHWC; returns dx like x. */
export function maxPoolBackprop(scope: KernelScope, dy: Info, x: Info, y: Info, attrs: tf.MaxPoolGradAttrs): Info {
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides,
    1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  // Padded extent every tap and every zero-inserted contribution fits in, in whole stride blocks (a x b).
  const a = Math.ceil(Math.max(top + h, kh - 1 + oh * sh) / sh), b = Math.ceil(Math.max(left + w, kw - 1 + ow * sw) / sw);
  const ph = a * sh, pw = b * sw;
  const xP = scope.run('PadV2', { x }, { paddings: [[0, 0], [top, ph - top - h], [left, pw - left - w], [0, 0]], constantValue: -Infinity });
  const rows = scope.reshape(xP, [n, a, sh, b * sw * c]);
  let free = scope.run('OnesLike', { x: y });
  // Sum of the contributions per phase of the padded input, in stride blocks: [n, a, b, c].
  const acc: (Info | null)[][] = Array.from({ length: sh }, () => Array.from({ length: sw }, () => null));
  for (let i = 0; i < kh; i++) {
    // Padded rows i + oh*sh = block oh + floor(i / sh), phase i % sh.
    const r = scope.slice(rows, [0, Math.floor(i / sh), i % sh, 0], [n, oh, 1, b * sw * c]);
    const cols = scope.reshape(r, [n * oh, b, sw, c]);
    for (let j = 0; j < kw; j++) {
      const t = scope.slice(cols, [0, Math.floor(j / sw), j % sw, 0], [n * oh, ow, 1, c]);
      const tap = scope.reshape(t, [n, oh, ow, c]);
      if (t !== cols) scope.free(t);
      const eq = scope.run('Equal', { a: tap, b: y });
      const eqF = scope.run('Cast', { x: eq }, { dtype: 'float32' });
      const take = scope.run('Multiply', { a: eqF, b: free });
      const rest = scope.run('Sub', { a: free, b: take });
      for (const t of [tap, eq, eqF, free]) scope.free(t);
      free = rest;
      const part = scope.run('Multiply', { a: dy, b: take });
      scope.free(take);
      // part[oh, ow] belongs at padded input (i + oh*sh, j + ow*sw): block (oh + floor(i/sh), ow + floor(j/sw)) of phase (i % sh, j % sw).
      const bi = Math.floor(i / sh), bj = Math.floor(j / sw);
      const placed = scope.pad(part, [[0, 0], [bi, a - bi - oh], [bj, b - bj - ow], [0, 0]]);
      if (placed !== part) scope.free(part);
      const prev = acc[i % sh]![j % sw] ?? null;
      if (prev === null) {
        acc[i % sh]![j % sw] = placed;
      } else {
        acc[i % sh]![j % sw] = scope.run('Add', { a: prev, b: placed });
        scope.free(prev);
        scope.free(placed);
      }
    }
    scope.free(cols);
    if (r !== rows) scope.free(r);
  }
  const dxP = scope.interleave(acc, [n, a, b, c]);
  return scope.slice(dxP, [0, top, left, 0], [n, h, w, c]);
}
