/**
 * PyTorch `Conv2d(groups=g)`, which tfjs-layers lacks: input channels split into g groups, each convolved
 * with its own out/g filters. Kernel layout [kh, kw, in/g, out] (HWIO per group, groups along O, as
 * PyTorch's [out, in/g, kh, kw] transposed). Explicit, possibly asymmetric padding; dilation.
 */
import * as tf from '@tensorflow/tfjs';

export interface GroupedConv2DConfig {
  filters: number;
  kernelSize: [number, number];
  groups: number;
  strides?: [number, number];
  /** [[top, bottom], [left, right]] */
  padding?: [[number, number], [number, number]];
  dilationRate?: [number, number];
  useBias?: boolean;
  name?: string;
  trainable?: boolean;
}

export class GroupedConv2D extends tf.layers.Layer {
  static className = 'GroupedConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly groups: number;
  readonly strides: [number, number];
  readonly padding: [[number, number], [number, number]];
  readonly dilationRate: [number, number];
  readonly useBias: boolean;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(config: GroupedConv2DConfig) {
    super(config);
    this.filters = config.filters;
    this.kernelSize = config.kernelSize;
    this.groups = config.groups;
    this.strides = config.strides ?? [1, 1];
    this.padding = config.padding ?? [[0, 0], [0, 0]];
    this.dilationRate = config.dilationRate ?? [1, 1];
    this.useBias = config.useBias ?? true;
    if (this.filters % this.groups !== 0) {
      throw new Error(`GroupedConv2D "${this.name}": ${this.filters} filters do not split into ${this.groups} groups.`);
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const cin = s[3];
    if (cin == null || cin % this.groups !== 0) {
      throw new Error(`GroupedConv2D "${this.name}": ${cin} input channels do not split into ${this.groups} groups.`);
    }
    const init = tf.initializers.heNormal({});
    this.kernel = this.addWeight('kernel', [...this.kernelSize, cin / this.groups, this.filters], 'float32', init);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  private outDim(n: number, axis: 0 | 1): number {
    const k = (this.kernelSize[axis] - 1) * this.dilationRate[axis] + 1;
    const [p0, p1] = this.padding[axis];
    return Math.floor((n + p0 + p1 - k) / this.strides[axis]) + 1;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const h = s[1] == null ? null : this.outDim(s[1], 0);
    const w = s[2] == null ? null : this.outDim(s[2], 1);
    return [s[0] ?? null, h, w, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const kernel = this.kernel!.read() as tf.Tensor4D;
      const pad: [[number, number], [number, number], [number, number], [number, number]] =
        [[0, 0], this.padding[0], this.padding[1], [0, 0]];
      const g = this.groups;
      const xs = g === 1 ? [x] : tf.split(x, g, 3);
      const ks = g === 1 ? [kernel] : tf.split(kernel, g, 3);
      const ys = xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ks[i] as tf.Tensor4D, this.strides, pad, 'NHWC', this.dilationRate));
      const y = ys.length === 1 ? ys[0]! : tf.concat(ys, 3);
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters, kernelSize: this.kernelSize, groups: this.groups, strides: this.strides,
      padding: this.padding, dilationRate: this.dilationRate, useBias: this.useBias,
    };
  }
}
