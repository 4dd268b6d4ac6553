/**
 * Pooling with PyTorch's exact semantics, which tfjs-layers lacks: explicit (also asymmetric) padding,
 * `ceil_mode`, and average pooling that counts padded cells (`count_include_pad`, PyTorch's default) or not.
 *
 * Output size (PyTorch `pooling_output_shape`): out = floor_or_ceil((in + padBefore + padAfter - k) / s) + 1,
 * and in ceil mode a last window that would start in the right/bottom padding is dropped.
 */
import * as tf from '@tensorflow/tfjs';

export type PoolMode = 'max' | 'avg';

export interface Pool2DConfig {
  mode: PoolMode;
  /** Window [kh, kw]. */
  poolSize: [number, number];
  /** Strides [sh, sw]. */
  strides: [number, number];
  /** Padding [[top, bottom], [left, right]]. */
  padding?: [[number, number], [number, number]];
  ceilMode?: boolean;
  /** Average pooling: divide by the window including padding (PyTorch default true). */
  countIncludePad?: boolean;
  name?: string;
  trainable?: boolean;
}

function outSize(inp: number, k: number, s: number, p0: number, p1: number, ceil: boolean): number {
  const span = inp + p0 + p1 - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= inp + p0) out -= 1;
  return out;
}

/** The divisor of each output cell of an average pool, as PyTorch computes it. */
function divisorMap(h: number, w: number, c: Required<Omit<Pool2DConfig, 'name' | 'trainable'>>): Float32Array {
  const [kh, kw] = c.poolSize, [sh, sw] = c.strides, [[pt, pb], [pl, pr]] = c.padding;
  const oh = outSize(h, kh, sh, pt, pb, c.ceilMode), ow = outSize(w, kw, sw, pl, pr, c.ceilMode);
  const out = new Float32Array(oh * ow);
  const extent = (o: number, k: number, s: number, p0: number, p1: number, n: number) => {
    let start = o * s - p0;
    let end = Math.min(start + k, n + p1);
    if (!c.countIncludePad) {
      start = Math.max(start, 0);
      end = Math.min(end, n);
    }
    return end - start;
  };
  for (let i = 0; i < oh; i++) {
    const dh = extent(i, kh, sh, pt, pb, h);
    for (let j = 0; j < ow; j++) out[i * ow + j] = dh * extent(j, kw, sw, pl, pr, w);
  }
  return out;
}

export class Pool2D extends tf.layers.Layer {
  static className = 'Pool2D';
  private readonly cfg: Required<Omit<Pool2DConfig, 'name' | 'trainable'>>;

  constructor(config: Pool2DConfig) {
    super(config);
    this.cfg = {
      mode: config.mode,
      poolSize: config.poolSize,
      strides: config.strides,
      padding: config.padding ?? [[0, 0], [0, 0]],
      ceilMode: config.ceilMode ?? false,
      countIncludePad: config.countIncludePad ?? true,
    };
    const [[pt, pb], [pl, pr]] = this.cfg.padding;
    const [kh, kw] = this.cfg.poolSize;
    if (Math.max(pt, pb) > kh / 2 || Math.max(pl, pr) > kw / 2) {
      throw new Error(`Pool2D "${this.name}": padding ${JSON.stringify(this.cfg.padding)} exceeds half the window ${kh}x${kw} (PyTorch rejects this too).`);
    }
  }

  /** Output [h, w] for an input of [h, w]. */
  outputHW(h: number, w: number): [number, number] {
    const c = this.cfg;
    return [
      outSize(h, c.poolSize[0], c.strides[0], c.padding[0][0], c.padding[0][1], c.ceilMode),
      outSize(w, c.poolSize[1], c.strides[1], c.padding[1][0], c.padding[1][1], c.ceilMode),
    ];
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const [n, h, w, ch] = s;
    if (h == null || w == null) return [n ?? null, null, null, ch ?? null];
    const [oh, ow] = this.outputHW(h, w);
    if (oh < 1 || ow < 1) throw new Error(`Pool2D "${this.name}": input ${h}x${w} is too small for a ${this.cfg.poolSize.join('x')} window.`);
    return [n ?? null, oh, ow, ch ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const c = this.cfg;
      const [, h, w] = x.shape;
      const [oh, ow] = this.outputHW(h, w);
      const [kh, kw] = c.poolSize, [sh, sw] = c.strides;
      const [[pt], [pl]] = c.padding;
      // Pad so that exactly oh x ow windows fit: extra cells past the stated padding only occur in ceil mode.
      const pb = (oh - 1) * sh + kh - h - pt;
      const pr = (ow - 1) * sw + kw - w - pl;
      const needsPad = pt > 0 || pl > 0 || pb > 0 || pr > 0;
      const fill = c.mode === 'max' ? -Infinity : 0;
      const padded = needsPad
        ? tf.pad(x, [[0, 0], [pt, Math.max(pb, 0)], [pl, Math.max(pr, 0)], [0, 0]], fill)
        : x;
      const cropped = pb < 0 || pr < 0 ? padded.slice([0, 0, 0, 0], [-1, (oh - 1) * sh + kh, (ow - 1) * sw + kw, -1]) : padded;
      if (c.mode === 'max') return tf.maxPool(cropped as tf.Tensor4D, [kh, kw], [sh, sw], 'valid');
      const mean = tf.avgPool(cropped as tf.Tensor4D, [kh, kw], [sh, sw], 'valid');
      const div = divisorMap(h, w, c);
      if (div.every((d) => d === kh * kw)) return mean;
      const factor = tf.tensor4d(div.map((d) => (kh * kw) / d), [1, oh, ow, 1]);
      return tf.mul(mean, factor);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.cfg };
  }
}
