/**
 * A contiguous range of channels, `x[:, start:start + size]` in PyTorch's NCHW terms (the halves of
 * `x.chunk(2, dim=1)` in ShuffleNet v2), which tfjs-layers has no layer for. NHWC in, NHWC out.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';

export interface ChannelSliceConfig {
  /** First channel taken. */
  start: number;
  /** Number of channels taken. */
  size: number;
  name?: string;
  trainable?: boolean;
}

export class ChannelSlice extends tf.layers.Layer {
  static className = 'ChannelSlice';
  readonly start: number;
  readonly size: number;

  constructor(config: ChannelSliceConfig) {
    super(config);
    if (!Number.isInteger(config.start) || config.start < 0 || !Number.isInteger(config.size) || config.size < 1) {
      throw new CnnZooError(`ChannelSlice "${this.name}": start ${config.start} and size ${config.size} must be integers, start >= 0 and size >= 1.`, 'BAD_OPTION');
    }
    this.start = config.start;
    this.size = config.size;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = s[s.length - 1];
    if (c == null || this.start + this.size > c) {
      throw new CnnZooError(`ChannelSlice "${this.name}": channels ${this.start}..${this.start + this.size - 1} do not exist in an input ` +
        `with ${c} channels (shape [${s}]); take a range inside 0..${(c ?? 0) - 1}.`, 'BAD_OPTION');
    }
    return [...s.slice(0, -1), this.size];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
    const begin = x.shape.map((_, i) => (i === x.rank - 1 ? this.start : 0));
    const size = x.shape.map((d, i) => (i === x.rank - 1 ? this.size : d));
    return tf.slice(x, begin, size);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), start: this.start, size: this.size };
  }
}
