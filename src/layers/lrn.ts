/**
 * Caffe's `LRN` layer (`norm_region: ACROSS_CHANNELS`), as in AlexNet and the BVLC GoogLeNet:
 *
 *   y[c] = x[c] / (k + alpha / n * sum_{c' in window(c)} x[c']^2) ^ beta
 *
 * with `alpha` divided by the window size `n` (Caffe's convention; TensorFlow's `local_response_normalization`
 * does not divide) and the window c - floor((n-1)/2) .. c + ceil((n-1)/2), clipped at the channel ends.
 * Built from plain ops (square, pad, shifted slices), so it runs on every backend.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * `s ** beta` for the scale (s >= k > 0): Caffe's beta 0.75 as sqrt(s) * sqrt(sqrt(s)), 0.5 as sqrt(s), 1 as s. A
 * `pow` per element was 8.5 of BVLC GoogLeNet's 100 ms on wasm (and onnxruntime's LRN kernel is one: the ONNX export
 * writes the same form, src/onnx/export.ts); the square roots agree with it to a few float32 ulps.
 */
function power(s: tf.Tensor, beta: number): tf.Tensor {
  if (beta === 1) return s;
  if (beta === 0.5) return tf.sqrt(s);
  if (beta === 0.75) { const root = tf.sqrt(s); return tf.mul(root, tf.sqrt(root)); }
  return tf.pow(s, beta);
}

export interface LRNConfig {
  /** Window size across channels (Caffe `local_size`, default 5). */
  size?: number;
  /** Caffe `alpha` (default 1), divided by `size` inside the layer. */
  alpha?: number;
  /** Caffe `beta` (default 0.75). */
  beta?: number;
  /** Caffe `k` (default 1). */
  k?: number;
  name?: string;
  trainable?: boolean;
}

export class LRN extends tf.layers.Layer {
  static className = 'LRN';
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;

  constructor(config: LRNConfig = {}) {
    super(config);
    this.size = config.size ?? 5;
    this.alpha = config.alpha ?? 1;
    this.beta = config.beta ?? 0.75;
    this.k = config.k ?? 1;
    if (!Number.isInteger(this.size) || this.size < 1) {
      throw new Error(`LRN "${this.name}": size must be a positive integer, got ${this.size}.`);
    }
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const c = x.shape[3];
      const before = Math.floor((this.size - 1) / 2), after = this.size - 1 - before;
      const padded = tf.pad(tf.square(x), [[0, 0], [0, 0], [0, 0], [before, after]]);
      const terms: tf.Tensor[] = [];
      for (let i = 0; i < this.size; i++) terms.push(tf.slice(padded, [0, 0, 0, i], [-1, -1, -1, c]));
      const sum = terms.length === 1 ? terms[0]! : tf.addN(terms);
      const scale = tf.add(tf.mul(sum, this.alpha / this.size), this.k);
      return tf.div(x, power(scale, this.beta));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: this.size, alpha: this.alpha, beta: this.beta, k: this.k };
  }
}
