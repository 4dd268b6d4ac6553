/**
 * `CnnZoo>FusedDense`: the inference form of a linear layer, with a following batch norm folded in and the
 * activation run inside tfjs's fused matmul kernel (`tf.fused.matMul`, relu6 included, which tfjs-layers'
 * Dense leaves to a separate kernel). Weight roles `kernel` [in, out] and `bias` map like a Dense layer's.
 */
import * as tf from '@tensorflow/tfjs';
import { placeholder } from './initialisation.js';
import type { FusedActivation } from './activation.js';
import type { AbsorbedLayer } from './fused-conv2d.js';

export interface FusedDenseConfig {
  units: number;
  activation?: FusedActivation;
  leakyreluAlpha?: number;
  useBias?: boolean;
  absorbed?: AbsorbedLayer[];
  name?: string;
  trainable?: boolean;
}

export class FusedDense extends tf.layers.Layer {
  static className = 'FusedDense';
  /** Its weights map from a checkpoint like a Dense's (src/convert/mapping.ts). */
  static readonly weightsLike = 'Dense';
  readonly units: number;
  readonly activation: FusedActivation;
  readonly leakyreluAlpha: number | undefined;
  readonly useBias: boolean;
  readonly absorbed: AbsorbedLayer[];
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(config: FusedDenseConfig) {
    super(config);
    this.units = config.units;
    this.activation = config.activation ?? 'linear';
    this.leakyreluAlpha = config.leakyreluAlpha;
    this.useBias = config.useBias ?? true;
    this.absorbed = (config.absorbed ?? []).map((a) => ({ ...a }));
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = s[s.length - 1];
    if (features == null) throw new Error(`FusedDense "${this.name}": the last input dimension must be known.`);
    this.kernel = this.addWeight('kernel', [features, this.units], 'float32', placeholder(tf.initializers.zeros()));
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', placeholder(tf.initializers.zeros()));
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...s.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
      const kernel = this.kernel!.read() as tf.Tensor2D;
      const rows = x.rank === 2 ? (x as tf.Tensor2D) : x.reshape([-1, x.shape[x.rank - 1]!]) as tf.Tensor2D;
      const y = tf.fused.matMul({ a: rows, b: kernel, bias: this.bias?.read(), activation: this.activation, leakyreluAlpha: this.leakyreluAlpha });
      return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), this.units]);
    });
  }

  /** Matmul FLOPs per image (1 multiply-add = 2), as `src/zoo/count.ts` counts Dense. */
  flopsPerImage(inputShape: readonly (number | null)[]): number {
    const k = this.kernel?.shape as number[] | undefined;
    if (!k) return 0;
    const rows = inputShape.slice(1, -1).reduce((a: number, b) => a * (b ?? 1), 1);
    return 2 * rows * k[0]! * k[1]!;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const cfg: tf.serialization.ConfigDict = {
      ...super.getConfig(), units: this.units, activation: this.activation, useBias: this.useBias,
      absorbed: this.absorbed.map((a) => ({ ...a })) as unknown as tf.serialization.ConfigDict[],
    };
    if (this.leakyreluAlpha !== undefined) cfg.leakyreluAlpha = this.leakyreluAlpha;
    return cfg;
  }
}

// A (folded) checkpoint feeds `kernel` and `bias` exactly as it feeds the unfused layer's.
