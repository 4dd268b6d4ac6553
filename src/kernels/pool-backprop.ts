/**
 * MaxPoolGrad from elementwise wasm kernels. tfjs-backend-wasm's own MaxPoolGrad routes the gradient of a
 * window whose values are all negative to the window's first cell, which breaks max pooling after batch norm;
 * this one matches tfjs cpu, ties included (the first maximum in row-major window order takes the gradient). The case 'MaxPooling2D 2x2' of
 * test/train-wasm-gradients.test.ts (random inputs, so some windows are all negative) fails with wasm's kernel.
 *
 * Per window tap (i, j): take = (x[tap] == y) and no earlier tap took it; dx[tap] += dy * take. The taps
 * are strided views of x padded with -Infinity (StridedSlice), and each contribution goes back to input
 * positions through zero insertion and padding (Reshape, PadV2, Add): no per-element JavaScript.
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
  // Padded extent every tap and every zero-inserted contribution fits in.
  const ph = Math.max(top + h, kh - 1 + oh * sh), pw = Math.max(left + w, kw - 1 + ow * sw);
  const xP = scope.run('PadV2', { x }, { paddings: [[0, 0], [top, ph - top - h], [left, pw - left - w], [0, 0]], constantValue: -Infinity });
  let free = scope.run('OnesLike', { x: y });
  let dxP: Info | null = null;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const tap = scope.run('StridedSlice', { x: xP }, {
        begin: [0, i, j, 0], end: [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c], strides: [1, sh, sw, 1],
        beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
      });
      const eq = scope.run('Equal', { a: tap, b: y });
      const eqF = scope.run('Cast', { x: eq }, { dtype: 'float32' });
      const take = scope.run('Multiply', { a: eqF, b: free });
      const rest = scope.run('Sub', { a: free, b: take });
      for (const t of [tap, eq, eqF, free]) scope.free(t);
      free = rest;
      const part = scope.run('Multiply', { a: dy, b: take });
      scope.free(take);
      // part[oh, ow] belongs at padded input (i + oh*sh, j + ow*sw): insert zeros, then shift by (i, j).
      const r = scope.reshape(part, [n, oh, 1, ow, 1, c]);
      const z = scope.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      const s = scope.reshape(z, [n, oh * sh, ow * sw, c]);
      const placed = scope.pad(s, [[0, 0], [i, ph - i - oh * sh], [j, pw - j - ow * sw], [0, 0]]);
      for (const t of [part, r, z, s]) if (t !== placed) scope.free(t);
      if (dxP === null) {
        dxP = placed;
      } else {
        const sum = scope.run('Add', { a: dxP, b: placed });
        scope.free(dxP);
        scope.free(placed);
        dxP = sum;
      }
    }
  }
  return scope.slice(dxP!, [0, top, left, 0], [n, h, w, c]);
}
