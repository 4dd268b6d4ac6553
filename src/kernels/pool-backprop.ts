/**
 * MaxPoolGrad (NHWC, float32) as one pass over the pooled outputs: each output's gradient goes to the first cell of
 * its window, in row-major order, that holds the window's maximum (the output), as tfjs cpu routes it (and PyTorch);
 * a window whose maximum is -Infinity or NaN passes no gradient, as on cpu. Registered for wasm (through views of
 * the heap) and cpu.
 *
 * tfjs-backend-wasm's own MaxPoolGrad routes the gradient of a window whose values are all negative to the
 * window's first cell, which breaks max pooling after batch norm (the case 'MaxPooling2D 2x2' of
 * test/train-wasm-gradients.test.ts fails with it). Until 2026-12-05 this kernel composed wasm's elementwise kernels
 * per window tap (two Slices, Equal, Cast, two Multiplies, Sub, PadV2 and Add: nine passes over the pooled size per
 * tap), 140 ms for a ResNet stem's 3x3/2 pool at batch 8 on two threads; tfjs cpu's computes every cell's
 * coordinates. Here each output scans its window's cells (their offsets computed once per output pixel) channel by channel:
 * 42 ms for that pool in Node (JavaScript on one thread), against 121 ms composed and 23 s for tfjs cpu's own.
 */
import * as tf from '@tensorflow/tfjs';

/** The pooling geometry of MaxPoolGrad's attributes for an NHWC input. */
export function poolInfo(xShape: readonly number[], attrs: tf.MaxPoolGradAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}

/** dx of a max pool: x and dx [N, H, W, C], y and dy [N, Ho, Wo, C]; dx is overwritten. */
export function maxPoolGradNhwc(x: Float32Array, y: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo, dx: Float32Array): void {
  dx.fill(0);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const taps = new Int32Array(kh * kw); // the offsets of an output's window cells inside the input, row-major
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        let t = 0;
        for (let i = 0; i < kh; i++) {
          const row = r * sh - top + i;
          if (row < 0 || row >= h) continue;
          for (let j = 0; j < kw; j++) {
            const col = q * sw - left + j;
            if (col >= 0 && col < w) taps[t++] = ((b * h + row) * w + col) * c;
          }
        }
        const o = ((b * oh + r) * ow + q) * c;
        for (let k = 0; k < c; k++) {
          const yk = y[o + k]!;
          if (!(yk > -Infinity)) continue; // -Infinity or NaN: no gradient, as on cpu
          for (let s = 0; s < t; s++) {
            const p = taps[s]! + k;
            if (x[p] === yk) { dx[p] += dy[o + k]!; break; }
          }
        }
      }
    }
  }
}
