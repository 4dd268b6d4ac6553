/**
 * PyTorch `Conv2d(groups=g)`, which tfjs-layers lacks: input channels split into g groups, each convolved
 * with its own out/g filters. Kernel layout [kh, kw, in/g, out] (HWIO per group, groups along O, as
 * PyTorch's [out, in/g, kh, kw] transposed). Explicit, possibly asymmetric padding; dilation.
 *
 * How it runs: the g groups are packed into g/c convolutions of c groups each, every one with a
 * block-diagonal kernel (zeros between its groups). c = 1 is one conv per group, c = g one dense conv.
 * Adding the zero products leaves every sum unchanged, so all packings give the same numbers; they differ in
 * speed only. `clusterSize()` picks c per shape from `tools/bench-grouped-conv.ts` measurements
 * (wasm/XNNPACK): tiny per-group convs waste the SIMD tiles and pay a fixed cost each, while wide packing
 * multiplies the arithmetic by c (so the plain-JS cpu backend keeps c = 1). The packed kernels are derived
 * once per kernel value and cached, so inference neither re-slices the kernel nor makes the backend re-pack
 * its weights on every call; while training or under a gradient tape they are derived from the live
 * variable instead, so gradients flow.
 */
import * as tf from '@tensorflow/tfjs';
import { placeholder } from './initialisation.js';
import { convOutputShape, explicitPad4D, type SpatialPadding } from './conv-geometry.js';

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

/** What `clusterSize` looks at: one grouped convolution's shape. */
export interface GroupedConvShape {
  groups: number;
  outPerGroup: number;
  /** Any stride above 1. */
  strided: boolean;
}

/**
 * Output channels a packed conv should reach: XNNPACK (wasm) tiles its GEMMs over output channels and runs
 * convs of only a few at a fraction of its speed; strided ones want more. Measured on the ResNeXt-50/101 and
 * SENet-154 shapes with `tools/bench-grouped-conv.ts` (most shapes within noise of their fastest packing).
 */
const TARGET_PACKED_OUTPUTS = { stride1: 32, strided: 64 } as const;
/** Cap on the arithmetic a packing may waste (c x the grouped FLOPs) and on its extra kernel memory. */
const MAX_PACKING = 8;

/**
 * The number of groups packed into one conv for `s`: the smallest divisor c of g (at most MAX_PACKING) whose
 * packed conv has at least TARGET_PACKED_OUTPUTS output channels; 1 when the groups are that wide already.
 */
export function clusterSize(s: GroupedConvShape): number {
  const target = s.strided ? TARGET_PACKED_OUTPUTS.strided : TARGET_PACKED_OUTPUTS.stride1;
  let best = 1;
  for (let c = 1; c <= Math.min(s.groups, MAX_PACKING); c++) {
    if (s.groups % c !== 0) continue;
    best = c;
    if (c * s.outPerGroup >= target) break;
  }
  return best;
}

/**
 * The kernels of the g/c packed convs: chunk j is [kh, kw, c*in/g, c*out/g], block-diagonal, its block (a, a)
 * being group j*c+a's kernel. Differentiable tfjs ops only.
 */
export function packKernel(kernel: tf.Tensor4D, groups: number, c: number): tf.Tensor4D[] {
  return tf.tidy(() => {
    const [kh, kw, inPerGroup, out] = kernel.shape;
    const chunks = groups === c ? [kernel] : (tf.split(kernel, groups / c, 3) as tf.Tensor4D[]);
    if (c === 1) return chunks;
    const outPerGroup = out / groups;
    const eye = tf.eye(c).reshape([1, 1, c, 1, c, 1]);
    // [kh, kw, 1, in/g, c, out/g] * eye[a, b] -> [kh, kw, c(a), in/g, c(b), out/g]: block (a, b) zero unless a = b.
    return chunks.map((k) => tf.mul(k.reshape([kh, kw, 1, inPerGroup, c, outPerGroup]), eye)
      .reshape([kh, kw, c * inPerGroup, c * outPerGroup]) as tf.Tensor4D);
  });
}

/** Packed kernels derived from one kernel value (identified by its data id). */
interface PackCache { dataId: object; c: number; kernels: tf.Tensor4D[] }

export class GroupedConv2D extends tf.layers.Layer {
  static className = 'GroupedConv2D';
  /** Its weights map from a checkpoint like a Conv2D's (src/convert/mapping.ts). */
  static readonly weightsLike = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly groups: number;
  readonly strides: [number, number];
  readonly padding: SpatialPadding;
  readonly dilationRate: [number, number];
  readonly useBias: boolean;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;
  private cache: PackCache | null = null;
  /** Groups per packed conv, fixed for benchmarks and tests; null: `clusterSize()` per input shape. */
  packing: number | null = null;

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
    if (this.strides.some((v) => v > 1) && this.dilationRate.some((v) => v > 1)) {
      throw new Error(`GroupedConv2D "${this.name}": tfjs convolutions take strides or dilation above 1, not both ` +
        `(strides ${this.strides}, dilation ${this.dilationRate}).`);
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const cin = s[3];
    if (cin == null || cin % this.groups !== 0) {
      throw new Error(`GroupedConv2D "${this.name}": ${cin} input channels do not split into ${this.groups} groups.`);
    }
    const init = placeholder(tf.initializers.heNormal({}));
    this.kernel = this.addWeight('kernel', [...this.kernelSize, cin / this.groups, this.filters], 'float32', init);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return convOutputShape(inputShape, this);
  }

  /**
   * Groups per packed conv: `clusterSize()` of this layer's shape; 1 on the plain-JS `cpu` backend, whose cost is
   * its arithmetic alone (packing there only multiplies it).
   */
  clusterSize(): number {
    if (this.packing !== null) {
      if (this.groups % this.packing !== 0) throw new Error(`GroupedConv2D "${this.name}": packing ${this.packing} does not divide ${this.groups} groups.`);
      return this.packing;
    }
    if (tf.getBackend() === 'cpu') return 1;
    return clusterSize({
      groups: this.groups, outPerGroup: this.filters / this.groups, strided: this.strides[0] > 1 || this.strides[1] > 1,
    });
  }

  /** Packed kernels: cached per kernel value for inference, derived afresh while gradients are recorded. */
  private packedKernels(c: number, training: boolean): tf.Tensor4D[] {
    const variable = this.kernel!.read() as tf.Variable;
    if (training || tf.engine().state.gradientDepth > 0) return packKernel(variable as tf.Tensor4D, this.groups, c);
    const cache = this.cache;
    if (cache && cache.dataId === variable.dataId && cache.c === c && !cache.kernels[0]!.isDisposed) return cache.kernels;
    this.releasePackedKernels();
    const kernels = packKernel(variable as tf.Tensor4D, this.groups, c).map((k) => tf.keep(k));
    this.cache = { dataId: variable.dataId, c, kernels };
    return kernels;
  }

  /** Free the cached packed kernels (they are derived again on the next call). */
  releasePackedKernels(): void {
    if (!this.cache) return;
    // c = 1 with one group, or c = g: the "packed" kernel is the variable itself, not ours to dispose.
    for (const k of this.cache.kernels) if (k.dataId !== this.cache.dataId) k.dispose();
    this.cache = null;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown> = {}): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const c = this.clusterSize();
      const kernels = this.packedKernels(c, kwargs.training === true);
      const pad = explicitPad4D(this.padding);
      const xs = kernels.length === 1 ? [x] : (tf.split(x, kernels.length, 3) as tf.Tensor4D[]);
      const ys = xs.map((xi, i) => tf.conv2d(xi, kernels[i]!, this.strides, pad, 'NHWC', this.dilationRate));
      const y = ys.length === 1 ? ys[0]! : tf.concat(ys, 3);
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.releasePackedKernels();
    return result;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters, kernelSize: this.kernelSize, groups: this.groups, strides: this.strides,
      padding: this.padding, dilationRate: this.dilationRate, useBias: this.useBias,
    };
  }
}
