/**
 * ShuffleNet's channel shuffle with PyTorch's exact semantics:
 * `x.view(n, g, c / g, h, w).transpose(1, 2).reshape(n, c, h, w)`, i.e. output channel `j * g + i` is input
 * channel `i * (c / g) + j`. On NHWC maps that is a reshape to [n, h, w, g, c/g], a swap of the last two
 * axes and a reshape back.
 *
 * megvii's ShuffleNet v1 reshapes to (n, c/g, g, h, w) instead, the inverse permutation, which is this
 * layer with `groups = c / g`.
 *
 * On wasm, reshape/transpose took 0.06-1.0 ms per ShuffleNet map ([1, 28..7, 28..7, 60..464]) against 1.4-5.3 ms for
 * a `tf.gather` of the permutation and 0.3-1.6 ms for a 1x1 conv with a permutation matrix; at batch 8, 0.7-2.8 ms
 * against 26-61 ms and 13-18 ms (tools/bench/channel-shuffle.ts, on a shared 2-core machine).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';

export interface ChannelShuffleConfig {
  /** g of `view(n, g, c/g, h, w)`: must divide the channel count. */
  groups: number;
  name?: string;
  trainable?: boolean;
}

/** The shuffle as a tensor op: NHWC in, NHWC out. */
export function channelShuffle(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    return x.reshape([n, h, w, groups, c / groups]).transpose([0, 1, 2, 4, 3]).reshape([n, h, w, c]) as tf.Tensor4D;
  });
}

/** The permutation as indices: output channel k reads input channel `perm[k]`. */
export function shufflePermutation(channels: number, groups: number): Int32Array {
  const perGroup = channels / groups;
  const perm = new Int32Array(channels);
  for (let i = 0; i < groups; i++) for (let j = 0; j < perGroup; j++) perm[j * groups + i] = i * perGroup + j;
  return perm;
}

export class ChannelShuffle extends tf.layers.Layer {
  static className = 'ChannelShuffle';
  readonly groups: number;

  constructor(config: ChannelShuffleConfig) {
    super(config);
    if (!Number.isInteger(config.groups) || config.groups < 1) {
      throw new CnnZooError(`ChannelShuffle "${this.name}": groups must be a positive integer, got ${config.groups}.`, 'BAD_OPTION');
    }
    this.groups = config.groups;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = s[3];
    if (s.length !== 4 || c == null || c % this.groups !== 0) {
      throw new CnnZooError(`ChannelShuffle "${this.name}": ${c} channels (input shape [${s}]) do not split into ${this.groups} groups; ` +
        'shuffle an NHWC map whose channel count is a multiple of groups.', 'BAD_OPTION');
    }
    return s;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return channelShuffle(x, this.groups);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups };
  }
}
