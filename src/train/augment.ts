/**
 * Training-time augmentation of a preprocessed batch [N, H, W, 3]: a random resized crop (area 60-100%,
 * aspect 3/4-4/3, bilinear back to H x W) and a horizontal flip with probability 1/2, as in the usual
 * ImageNet training recipes, drawn from a seeded generator.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from './random.js';

export function augment(batch: tf.Tensor4D, rng: Random): tf.Tensor4D {
  const [n, h, w] = batch.shape;
  const boxes: number[][] = [];
  for (let i = 0; i < n; i++) {
    const area = rng.uniform(0.6, 1), aspect = Math.exp(rng.uniform(Math.log(3 / 4), Math.log(4 / 3)));
    const bh = Math.min(1, Math.sqrt(area / aspect)), bw = Math.min(1, Math.sqrt(area * aspect));
    const y0 = rng.uniform(0, 1 - bh), x0 = rng.uniform(0, 1 - bw);
    // A flip is a box whose x1 < x0 (cropAndResize samples it right to left).
    boxes.push(rng.next() < 0.5 ? [y0, x0, y0 + bh, x0 + bw] : [y0, x0 + bw, y0 + bh, x0]);
  }
  return tf.tidy(() => tf.image.cropAndResize(batch, boxes, Array.from({ length: n }, (_, i) => i), [h, w], 'bilinear'));
}
