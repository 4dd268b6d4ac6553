/**
 * `CnnZoo>FusedConv2D`: the inference form of a convolution (plain, depthwise or grouped) with its batch norm
 * folded into kernel and bias, explicit (also asymmetric) padding, and the following activation run inside
 * tfjs's fused kernel (`tf.fused.conv2d` / `tf.fused.depthwiseConv2d`). Optionally a second input, a residual
 * added before the activation (ResNet's `relu(bn3(conv3(x)) + identity)`): on WebGPU it becomes the fused
 * kernel's bias, so add and activation cost no kernels of their own.
 *
 * Weights start at zero: the layer is made by `toInference` or filled from a folded checkpoint.
 * Kernel layouts: plain [kh, kw, in, out]; grouped [kh, kw, in / groups, out]; depthwise [kh, kw, in, multiplier].
 * Weight roles `kernel` and `bias` map from a (folded) PyTorch checkpoint's `<layer>.weight` and `<layer>.bias`.
 *
 * A batch norm with no conv before it (DenseNet's and DPN's after a concat, pre-activation blocks) becomes a
 * depthwise 1x1 FusedConv2D named after the batch norm (`isBatchNorm`): kernel = scale, bias = shift, with the
 * activation after it fused. tfjs's own batch-norm kernel is scalar code on wasm (DenseNet-121: 62 of them,
 * 35 of 160 ms); XNNPACK's depthwise conv is SIMD, and on WebGPU norm and activation become one dispatch.
 */
import * as tf from '@tensorflow/tfjs';
import { placeholder } from './initialisation.js';
import { applyActivation, type FusedActivation } from './activation.js';
import { clusterSize, packKernel } from './grouped-conv2d.js';
import { convOutputShape, explicitPad4D, type Explicit4D, type SpatialPadding } from './conv-geometry.js';

export type ConvPadding = 'same' | 'valid' | SpatialPadding;

/**
 * A training-form layer this layer replaced (kept for export, checkpoint folding and reports). A list of
 * `{role, name}` because tfjs serialization camel-cases string values but keeps `name` keys verbatim.
 */
export interface AbsorbedLayer {
  role: 'pad' | 'batchnorm' | 'activation' | 'add';
  name: string;
  /** Epsilon of a folded batch norm. */
  epsilon?: number;
}

export interface FusedConv2DConfig {
  filters: number;
  kernelSize: [number, number];
  strides?: [number, number];
  padding?: ConvPadding;
  dilationRate?: [number, number];
  /** Groups of a grouped convolution (1: plain). Ignored when `depthwise`. */
  groups?: number;
  /** Depthwise: every input channel convolved with its own `filters / in` filters. */
  depthwise?: boolean;
  activation?: FusedActivation;
  leakyreluAlpha?: number;
  useBias?: boolean;
  /** Takes a second input of the output's shape, added before the activation. */
  residual?: boolean;
  absorbed?: AbsorbedLayer[];
  name?: string;
  trainable?: boolean;
}

/**
 * Backends whose FusedConv2D kernel takes a bias of the output's full shape: WebGPU adds it in the conv's
 * epilogue; cpu adds it with a broadcasting add (no gain there, but it runs the WebGPU code path in tests).
 * wasm (XNNPACK) and tfjs-node take per-channel biases only.
 */
const FULL_SHAPE_BIAS_BACKENDS = new Set(['webgpu', 'cpu']);

/** A grouped conv's packed kernels and their biases, derived once per kernel value (see GroupedConv2D). */
interface GroupCache { kernelId: object; biasId: object | null; c: number; kernels: tf.Tensor4D[]; biases: tf.Tensor[] | null; owned: tf.Tensor[] }

export class FusedConv2D extends tf.layers.Layer {
  static className = 'FusedConv2D';
  /** Its weights map from a checkpoint like a Conv2D's (src/convert/mapping.ts). */
  static readonly weightsLike = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: ConvPadding;
  readonly dilationRate: [number, number];
  readonly groups: number;
  readonly depthwise: boolean;
  readonly activation: FusedActivation;
  readonly leakyreluAlpha: number | undefined;
  readonly useBias: boolean;
  readonly residual: boolean;
  readonly absorbed: AbsorbedLayer[];
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;
  private groupCache: GroupCache | null = null;

  constructor(config: FusedConv2DConfig) {
    super(config);
    this.filters = config.filters;
    this.kernelSize = config.kernelSize;
    this.strides = config.strides ?? [1, 1];
    this.padding = config.padding ?? 'valid';
    this.dilationRate = config.dilationRate ?? [1, 1];
    this.depthwise = config.depthwise ?? false;
    this.groups = this.depthwise ? 1 : config.groups ?? 1;
    this.activation = config.activation ?? 'linear';
    this.leakyreluAlpha = config.leakyreluAlpha;
    this.useBias = config.useBias ?? true;
    this.residual = config.residual ?? false;
    this.absorbed = (config.absorbed ?? []).map((a) => ({ ...a }));
    if (this.filters % this.groups !== 0) {
      throw new Error(`FusedConv2D "${this.name}": ${this.filters} filters do not split into ${this.groups} groups.`);
    }
  }

  private inputChannels(inputShape: tf.Shape | tf.Shape[]): number {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const cin = s[3];
    if (cin == null) throw new Error(`FusedConv2D "${this.name}": input channels must be known.`);
    return cin;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const cin = this.inputChannels(inputShape);
    const [kh, kw] = this.kernelSize;
    let shape: number[];
    if (this.depthwise) {
      if (this.filters % cin !== 0) throw new Error(`FusedConv2D "${this.name}": depthwise ${cin} -> ${this.filters} channels is not a whole multiplier.`);
      shape = [kh, kw, cin, this.filters / cin];
    } else {
      if (cin % this.groups !== 0) throw new Error(`FusedConv2D "${this.name}": ${cin} input channels do not split into ${this.groups} groups.`);
      shape = [kh, kw, cin / this.groups, this.filters];
    }
    this.kernel = this.addWeight('kernel', shape, 'float32', placeholder(tf.initializers.zeros()));
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', placeholder(tf.initializers.zeros()));
    this.built = true;
  }

  /** [[top, bottom], [left, right]] of this layer for an input of h x w. */
  explicitPadding(h: number, w: number): [[number, number], [number, number]] {
    if (Array.isArray(this.padding)) return this.padding;
    if (this.padding === 'valid') return [[0, 0], [0, 0]];
    const side = (n: number, k: number, s: number, d: number): [number, number] => {
      const out = Math.ceil(n / s);
      const total = Math.max((out - 1) * s + (k - 1) * d + 1 - n, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    };
    return [side(h, this.kernelSize[0], this.strides[0], this.dilationRate[0]), side(w, this.kernelSize[1], this.strides[1], this.dilationRate[1])];
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return convOutputShape(inputShape, this);
  }

  /** The `pad` argument of tfjs conv ops. */
  private padArg(): 'same' | 'valid' | Explicit4D {
    if (!Array.isArray(this.padding)) return this.padding;
    const [[t, b], [l, r]] = this.padding;
    if (t === 0 && b === 0 && l === 0 && r === 0) return 'valid';
    return explicitPad4D(this.padding);
  }

  private conv(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor | undefined, activation: FusedActivation): tf.Tensor4D {
    const pad = this.padArg();
    const common = { x, filter: kernel, strides: this.strides, dilations: this.dilationRate, bias, activation, leakyreluAlpha: this.leakyreluAlpha };
    if (this.depthwise) {
      // tfjs core accepts explicit padding for depthwise convs too (conv_util.computeConv2DInfo); its typing lags.
      return tf.fused.depthwiseConv2d({ ...common, pad: pad as 'same' });
    }
    return tf.fused.conv2d({ ...common, pad });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const x = list[0] as tf.Tensor4D;
      const residual = this.residual ? list[1] : undefined;
      if (this.residual && !residual) throw new Error(`FusedConv2D "${this.name}": expects [input, residual].`);
      const kernel = this.kernel!.read() as tf.Tensor4D;
      const bias = this.bias?.read();
      const act = { activation: this.activation, leakyreluAlpha: this.leakyreluAlpha };
      if (this.groups > 1) {
        const { kernels, biases } = this.groupedParts(kernel, bias);
        const xs = kernels.length === 1 ? [x] : tf.split(x, kernels.length, 3) as tf.Tensor4D[];
        const fused = residual ? 'linear' : this.activation;
        const ys = xs.map((xi, i) => this.conv(xi, kernels[i]!, biases?.[i], fused));
        const y = ys.length === 1 ? ys[0]! : tf.concat(ys, 3);
        return residual ? applyActivation(tf, tf.add(y, residual), act) : y;
      }
      if (!residual) return this.conv(x, kernel, bias, this.activation);
      if (FULL_SHAPE_BIAS_BACKENDS.has(tf.getBackend())) {
        return this.conv(x, kernel, bias ? tf.add(residual, bias) : residual, this.activation);
      }
      return applyActivation(tf, tf.add(this.conv(x, kernel, bias, 'linear'), residual), act);
    });
  }

  /**
   * Grouped: the groups packed into block-diagonal convs (`clusterSize`/`packKernel` of GroupedConv2D: same
   * sums, faster on XNNPACK), with their slices of the bias; cached per kernel value, since re-slicing would
   * make wasm re-pack its weights on every call.
   */
  private groupedParts(kernel: tf.Tensor4D, bias: tf.Tensor | undefined): { kernels: tf.Tensor4D[]; biases: tf.Tensor[] | null } {
    const c = tf.getBackend() === 'cpu' ? 1 : clusterSize({
      groups: this.groups, outPerGroup: this.filters / this.groups, strided: this.strides[0] > 1 || this.strides[1] > 1,
    });
    if (tf.engine().state.gradientDepth > 0) {
      const kernels = packKernel(kernel, this.groups, c);
      return { kernels, biases: bias ? tf.split(bias, kernels.length, 0) : null };
    }
    const cache = this.groupCache;
    if (cache && cache.kernelId === kernel.dataId && cache.biasId === (bias?.dataId ?? null) && cache.c === c &&
        !cache.owned.some((t) => t.isDisposed)) {
      return cache;
    }
    this.releaseGroupCache();
    const kernels = packKernel(kernel, this.groups, c).map((k) => tf.keep(k));
    const biases = bias ? (kernels.length === 1 ? [bias] : tf.split(bias, kernels.length, 0).map((b) => tf.keep(b))) : null;
    const owned = [...kernels, ...(biases ?? [])].filter((t) => t.dataId !== kernel.dataId && t.dataId !== bias?.dataId);
    this.groupCache = { kernelId: kernel.dataId, biasId: bias?.dataId ?? null, c, kernels, biases, owned };
    return this.groupCache;
  }

  private releaseGroupCache(): void {
    for (const t of this.groupCache?.owned ?? []) t.dispose();
    this.groupCache = null;
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.releaseGroupCache();
    return result;
  }

  /** A batch norm on its own (no conv before it), run as a depthwise 1x1 conv: this layer bears its name. */
  get isBatchNorm(): boolean {
    return this.absorbed.some((a) => a.role === 'batchnorm' && a.name === this.name);
  }

  /**
   * Conv FLOPs per image (1 multiply-add = 2), as `src/zoo/count.ts` counts the unfused conv; 0 for a lone
   * batch norm, which the training form does not count either.
   */
  flopsPerImage(_inputShape: readonly (number | null)[], outputShape: readonly (number | null)[]): number {
    const k = this.kernel?.shape as number[] | undefined;
    if (!k || this.isBatchNorm) return 0;
    const cells = (outputShape[1] ?? 1) * (outputShape[2] ?? 1) * (outputShape[3] ?? 1);
    const macs = this.depthwise ? k[0]! * k[1]! : k[0]! * k[1]! * k[2]!;
    return 2 * cells * macs;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const cfg: tf.serialization.ConfigDict = {
      ...super.getConfig(),
      filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding,
      dilationRate: this.dilationRate, groups: this.groups, depthwise: this.depthwise, activation: this.activation,
      useBias: this.useBias, residual: this.residual, absorbed: this.absorbed.map((a) => ({ ...a })),
    };
    if (this.leakyreluAlpha !== undefined) cfg.leakyreluAlpha = this.leakyreluAlpha;
    return cfg;
  }
}

// A (folded) checkpoint feeds `kernel` and `bias` exactly as it feeds the unfused layer's.
