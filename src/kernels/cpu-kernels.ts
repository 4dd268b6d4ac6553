/**
 * Faster kernels for tfjs's pure-JavaScript `cpu` backend, registered by `useBackend('cpu')` (and `pickBackend()`
 * when it lands on cpu). The cpu backend is what runs where nothing else starts, and what the parity suite runs
 * beside wasm; its convolution is a direct loop at about 0.85 GFLOP/s here and its Slice, SplitV and PadV2 compute
 * every element's coordinates (a DPN-68 pass spent 11 of its 28 s slicing channels). These compute the same values:
 * - Conv2D and FusedConv2D (NHWC): a blocked matrix product (cpu-conv.ts), 4-5x faster, float64 accumulation;
 *   a bias per output channel and relu/relu6 are applied in the store, other activations by the backend's kernels.
 * - DepthwiseConv2dNative (NHWC, channel multiplier 1): taps summed in registers over a padded copy, 3-4x.
 * - Conv2DBackpropFilter (NHWC): the same product, transposed (tfjs's own took 80 of the 83 s of a ResNet-18
 *   training step at 96 px). MaxPoolGrad: one pass over the pooled outputs (pool-backprop.ts, shared with wasm).
 * - Slice and SplitV: runs along the last axis (slice-runs.ts); PadV2: the input's rows copied into the filled output;
 *   Transpose: runs or tiles (`copyTranspose`, src/arrays.ts).
 * - Add, Multiply (broadcasting), Relu and FusedBatchNorm over the last axis: row loops (cpu-elementwise.ts), the
 *   same values as tfjs's.
 * Anything else (NCHW, other dtypes, broadcast biases) goes to the backend's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { convFilterGradNhwc, convNhwc, depthwiseNhwc, type Epilogue } from './cpu-conv.js';
import { copySlice, splitBySlices } from './slice-runs.js';
import { copyTranspose } from '../arrays.js';
import { maxPoolGradNhwc, poolInfo } from './pool-backprop.js';
import { replaceKernels } from './register.js';
import { batchNormLastAxis, broadcastBinary, relu, type BinaryOp } from './cpu-elementwise.js';

const BACKEND = 'cpu';

/** The parts of tfjs-backend-cpu's backend these kernels use. */
interface CpuBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}

/** The cpu backend's own kernels that ours replace and fall back to (captured at registration). */
const cpuOwn = new Map<string, tf.KernelFunc>();
const own = (name: string, args: Parameters<tf.KernelFunc>[0]) => cpuOwn.get(name)!(args);

const values = (b: CpuBackend, t: tf.TensorInfo) => b.readSync(t.dataId) as Float32Array;

/**
 * The geometry of an NHWC float32 convolution (its filter gradient too), or undefined where the backend's own kernel
 * runs instead (NCHW, other dtypes).
 */
function convInfo(tensors: readonly tf.TensorInfo[], xShape: number[], filterShape: number[],
  a: { strides: number | [number, number]; pad: tf.Conv2DAttrs['pad']; dataFormat?: string; dilations?: number | [number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil' }, depthwise = false): tf.backend_util.Conv2DInfo | undefined {
  if (tensors.some((t) => t.dtype !== 'float32') || (a.dataFormat ?? 'NHWC') !== 'NHWC') return undefined;
  return tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number],
    a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, depthwise, 'channelsLast');
}

const conv2dKernel: tf.KernelFunc = (args) => {
  const { x, filter } = args.inputs as unknown as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const info = convInfo([x, filter], x.shape, filter.shape, args.attrs as unknown as tf.Conv2DAttrs);
  if (!info) return own('Conv2D', args);
  const b = args.backend as unknown as CpuBackend;
  return b.makeTensorInfo(info.outShape, 'float32', convNhwc(values(b, x), values(b, filter), info));
};

const depthwiseKernel: tf.KernelFunc = (args) => {
  const { x, filter } = args.inputs as unknown as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const a = args.attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
  const info = filter.shape[3] === 1 ? convInfo([x, filter], x.shape, filter.shape, a, true) : undefined;
  if (!info) return own('DepthwiseConv2dNative', args);
  const b = args.backend as unknown as CpuBackend;
  return b.makeTensorInfo(info.outShape, 'float32', depthwiseNhwc(values(b, x), values(b, filter), info));
};

const conv2dBackpropFilterKernel: tf.KernelFunc = (args) => {
  const { x, dy } = args.inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convInfo([x, dy], x.shape, a.filterShape, a);
  if (!info) return own('Conv2DBackpropFilter', args);
  const b = args.backend as unknown as CpuBackend;
  return b.makeTensorInfo(a.filterShape, 'float32', convFilterGradNhwc(values(b, x), values(b, dy), info));
};

/** The activations `tfjs.fused` offers, by the cpu kernel that applies them after the convolution. */
const ACTIVATION_KERNELS: Readonly<Record<string, string>> = { elu: 'Elu', sigmoid: 'Sigmoid', leakyrelu: 'LeakyRelu', prelu: 'Prelu' };

const fusedConv2dKernel: tf.KernelFunc = (args) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as unknown as
    { x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
  const a = args.attrs as unknown as tf.FusedConv2DAttrs;
  const info = convInfo([x, filter], x.shape, filter.shape, a);
  const o = filter.shape[3]!;
  const perChannelBias = !bias || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === o && bias.shape.at(-1) === o);
  const act = a.activation ?? 'linear';
  if (!info || !perChannelBias || !(act === 'linear' || act === 'relu' || act === 'relu6' || act in ACTIVATION_KERNELS)) {
    return own('FusedConv2D', args);
  }
  const b = args.backend as unknown as CpuBackend;
  const ep: Epilogue = { bias: bias ? values(b, bias) : undefined, activation: act === 'relu' || act === 'relu6' ? act : undefined };
  const out = b.makeTensorInfo(info.outShape, 'float32', convNhwc(values(b, x), values(b, filter), info, ep));
  const kernel = ACTIVATION_KERNELS[act];
  if (!kernel) return out;
  const inputs = act === 'prelu' ? { x: out, alpha: preluActivationWeights! } : { x: out };
  const activated = tf.getKernel(kernel, BACKEND)!.kernelFunc({ inputs, backend: args.backend, attrs: { alpha: a.leakyreluAlpha ?? 0.2 } }) as tf.TensorInfo;
  b.disposeIntermediateTensorInfo(out);
  return activated;
};

function slice(b: CpuBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const xs = b.readSync(x.dataId) as Float32Array | Int32Array | Uint8Array;
  const os = new (xs.constructor as new (n: number) => typeof xs)(tf.util.sizeFromShape(size));
  copySlice(xs, x.shape, begin, size, os);
  return b.makeTensorInfo(size, x.dtype, os);
}

const numeric = (x: tf.TensorInfo) => x.dtype !== 'string' && x.dtype !== 'complex64';

const sliceKernel: tf.KernelFunc = (args) => {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  if (!numeric(x)) return own('Slice', args);
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  return slice(args.backend as unknown as CpuBackend, x, b, s);
};

const splitVKernel: tf.KernelFunc = (args) => {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  if (!numeric(x)) return own('SplitV', args);
  return splitBySlices(x, args.attrs as unknown as tf.SplitVAttrs, (begin, size) => slice(args.backend as unknown as CpuBackend, x, begin, size));
};

const transposeKernel: tf.KernelFunc = (args) => {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  if (!numeric(x)) return own('Transpose', args);
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  const b = args.backend as unknown as CpuBackend;
  const xs = b.readSync(x.dataId) as Float32Array | Int32Array | Uint8Array;
  const os = new (xs.constructor as new (n: number) => typeof xs)(xs.length);
  copyTranspose(xs, x.shape, perm, os);
  return b.makeTensorInfo(perm.map((p) => x.shape[p]!), x.dtype, os);
};

const maxPoolGradKernel: tf.KernelFunc = (args) => {
  const { dy, input, output } = args.inputs as unknown as { dy: tf.TensorInfo; input: tf.TensorInfo; output: tf.TensorInfo };
  if (input.dtype !== 'float32') return own('MaxPoolGrad', args);
  const b = args.backend as unknown as CpuBackend;
  const dx = new Float32Array(tf.util.sizeFromShape(input.shape));
  maxPoolGradNhwc(b.readSync(input.dataId) as Float32Array, b.readSync(output.dataId) as Float32Array, b.readSync(dy.dataId) as Float32Array,
    poolInfo(input.shape, args.attrs as unknown as tf.MaxPoolGradAttrs), dx);
  return b.makeTensorInfo([...input.shape], 'float32', dx);
};

const padV2Kernel: tf.KernelFunc = (args) => {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  if (!numeric(x) || x.shape.length === 0) return own('PadV2', args);
  const { paddings, constantValue } = args.attrs as unknown as tf.PadV2Attrs;
  const b = args.backend as unknown as CpuBackend;
  const xs = b.readSync(x.dataId) as Float32Array | Int32Array | Uint8Array;
  const shape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
  const os = new (xs.constructor as new (n: number) => typeof xs)(tf.util.sizeFromShape(shape));
  if (constantValue !== 0) os.fill(constantValue);
  const rank = x.shape.length, run = x.shape[rank - 1]!, rows = xs.length / (run || 1);
  const outStrides = [...tf.util.computeStrides(shape), 1];
  const at = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < rows && run > 0; r++) {
    let to = paddings[rank - 1]![0];
    for (let d = 0; d < rank - 1; d++) to += (paddings[d]![0] + at[d]!) * outStrides[d]!;
    os.set(xs.subarray(r * run, (r + 1) * run), to);
    for (let d = rank - 2; d >= 0; d--) {
      if (++at[d]! < x.shape[d]!) break;
      at[d] = 0;
    }
  }
  return b.makeTensorInfo(shape, x.dtype, os);
};

const binaryKernel = (name: string, op: BinaryOp): tf.KernelFunc => (args) => {
  const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return own(name, args);
  const be = args.backend as unknown as CpuBackend;
  const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  return be.makeTensorInfo(shape, 'float32', broadcastBinary(op, values(be, a), a.shape, values(be, b), b.shape, shape));
};

const reluKernel: tf.KernelFunc = (args) => {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  if (x.dtype !== 'float32') return own('Relu', args);
  const b = args.backend as unknown as CpuBackend;
  return b.makeTensorInfo(x.shape, 'float32', relu(values(b, x)));
};

const batchNormKernel: tf.KernelFunc = (args) => {
  const { x, mean, variance, offset, scale } = args.inputs as unknown as
    { x: tf.TensorInfo; mean: tf.TensorInfo; variance: tf.TensorInfo; offset?: tf.TensorInfo; scale?: tf.TensorInfo };
  const c = x.shape.at(-1) ?? 0;
  const perChannel = (t?: tf.TensorInfo) => !t || (t.dtype === 'float32' && t.shape.length === mean.shape.length && t.shape.at(-1) === c &&
    tf.util.sizeFromShape(t.shape) === c);
  if (x.dtype !== 'float32' || c === 0 || ![mean, variance, offset, scale].every(perChannel)) return own('FusedBatchNorm', args);
  const b = args.backend as unknown as CpuBackend;
  const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
  return b.makeTensorInfo(x.shape, 'float32', batchNormLastAxis(values(b, x), c, values(b, mean), values(b, variance),
    offset && values(b, offset), scale && values(b, scale), varianceEpsilon ?? 0.001));
};

/** The kernels registered for cpu, by tfjs kernel name. */
export const CPU_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  Conv2D: conv2dKernel,
  FusedConv2D: fusedConv2dKernel,
  DepthwiseConv2dNative: depthwiseKernel,
  Conv2DBackpropFilter: conv2dBackpropFilterKernel,
  MaxPoolGrad: maxPoolGradKernel,
  Slice: sliceKernel,
  SplitV: splitVKernel,
  Transpose: transposeKernel,
  PadV2: padV2Kernel,
  Add: binaryKernel('Add', 'add'),
  Multiply: binaryKernel('Multiply', 'mul'),
  Relu: reluKernel,
  FusedBatchNorm: batchNormKernel,
};

/** Register the cpu kernels (idempotent); `useBackend('cpu')` calls it. */
export function registerCpuKernels(): void {
  replaceKernels(BACKEND, CPU_KERNELS, cpuOwn);
}

/** The backend's own kernel that `name` replaces (for tests comparing the two); undefined before registration. */
export function ownCpuKernel(name: string): tf.KernelFunc | undefined {
  return cpuOwn.get(name);
}

/** Put the backend's own kernels back (the bench's "tfjs's own cpu" baseline); `registerCpuKernels()` undoes it. */
export function unregisterCpuKernels(): void {
  for (const [kernelName, kernelFunc] of cpuOwn) {
    tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
  }
}
