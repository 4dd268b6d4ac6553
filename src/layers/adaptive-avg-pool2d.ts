/**
 * PyTorch `AdaptiveAvgPool2d(output_size)`: output cell i averages input rows
 * floor(i*H/OH) .. ceil((i+1)*H/OH)-1 (and likewise columns). Identity when sizes match, a plain
 * average pool when they divide, otherwise two small averaging matrices.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdaptiveAvgPool2DConfig {
  outputSize: [number, number];
  name?: string;
  trainable?: boolean;
}

/** Row-stochastic [out, in] matrix of PyTorch's adaptive bins. */
export function adaptiveBins(inp: number, out: number): Float32Array {
  const m = new Float32Array(out * inp);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * inp) / out);
    const end = Math.ceil(((i + 1) * inp) / out);
    for (let j = start; j < end; j++) m[i * inp + j] = 1 / (end - start);
  }
  return m;
}

export class AdaptiveAvgPool2D extends tf.layers.Layer {
  static className = 'AdaptiveAvgPool2D';
  readonly outputSize: [number, number];

  constructor(config: AdaptiveAvgPool2DConfig) {
    super(config);
    this.outputSize = config.outputSize;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0] ?? null, this.outputSize[0], this.outputSize[1], s[3] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      const [oh, ow] = this.outputSize;
      if (h === oh && w === ow) return x.clone();
      if (h % oh === 0 && w % ow === 0) return tf.avgPool(x, [h / oh, w / ow], [h / oh, w / ow], 'valid');
      const ph = tf.tensor2d(adaptiveBins(h, oh), [oh, h]);
      const pw = tf.tensor2d(adaptiveBins(w, ow), [ow, w]);
      // rows: [n, h, w*c] -> [n, oh, w*c]
      const rows = tf.matMul(tf.tile(ph.expandDims(0), [n, 1, 1]) as tf.Tensor3D, x.reshape([n, h, w * c]));
      // cols: [n*oh, w, c] -> [n*oh, ow, c]
      const cols = tf.matMul(tf.tile(pw.expandDims(0), [n * oh, 1, 1]) as tf.Tensor3D, rows.reshape([n * oh, w, c]));
      return cols.reshape([n, oh, ow, c]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), outputSize: this.outputSize };
  }
}
