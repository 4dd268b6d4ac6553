/**
 * Gradient kernels for tfjs-backend-wasm, so that `model.fit` of the zoo's conv nets runs on wasm (in Node and
 * browsers). tfjs-backend-wasm 4.x has no Conv2DBackpropFilter and no depthwise backprop kernels, and its
 * Conv2DBackpropInput is a scalar loop; these are built on its XNNPACK Conv2D / DepthwiseConv2dNative and its
 * Transpose / Pad / BatchMatMul kernels (see conv-backprop.ts). Its MaxPoolGrad sends the gradient of an
 * all-negative window to the wrong cell, so it is replaced too (pool-backprop.ts, one pass in JavaScript over views of the heap); its AvgPoolGrad and LRNGrad
 * are kept (test/train-wasm-gradients.test.ts checks them against the cpu backend). Its Identity and its Cast to
 * the same dtype copy their input; the tape saves every tensor a gradient needs through Identity (tfjs-core's
 * `engine.clone`), so a training step held two copies of most activations: they share the input's data here, as
 * on the cpu backend (measured: MobileNet v2 at 224 px in training mode, 261 -> 131 MB per image of tensors held
 * after the forward pass; docs/PERFORMANCE.md "Training"). Its Slice copies its whole input out of the heap first
 * (wasm-copy.ts): the gradient kernels slice large tensors many times, and its SplitV (grouped convolutions' channel
 * splits) calls that Slice once per part. Its Transpose has no locality when both axes it crosses are long (a 1x1
 * filter gradient's [K, C] operands, the filter swaps of dx): tiled there (wasm-copy.ts). Its Sum and Mean over N, H, W (batch norm in
 * training mode) transpose the whole tensor first and sum serially; wasm-reduce.ts pools instead. Its FusedBatchNorm
 * is one loop on one thread: XNNPACK's broadcasting Sub, Multiply and Add here (batchNormKernel).
 *
 * The backprop-input kernels skip the dx a training step never reads (the first trained convolution's, whose
 * input depends on no trained weight), and derive each flipped filter once per step (training-step.ts).
 *
 * `registerWasmGradients()` registers them once (idempotent); `useBackend('wasm')` calls it. It also replaces
 * tfjs-core's batch-norm gradient by one without a full-size Tile, bit-identical on every backend
 * (batch-norm-gradient.ts), ClipByValue's (ReLU6) by one pass where the backend has the kernel (clip-gradient.ts),
 * and Sum's and Mean's by ones the backend fills instead of a JavaScript array of the input's size (reduce-gradient.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { KernelScope } from './kernel-scope.js';
import { replaceKernels } from './register.js';
import { maxPoolGradNhwc, poolInfo } from './pool-backprop.js';
import { registerBatchNormGradient } from './batch-norm-gradient.js';
import { CLIP_GRAD_KERNEL, registerClipGradient, wasmClipGradKernel } from './clip-gradient.js';
import { registerReduceGradients } from './reduce-gradient.js';
import { wasmConcat, wasmSlice, wasmSplitV, wasmTranspose, type WasmHeapBackend } from './wasm-copy.js';
import { channelReduce, isChannelReduce } from './wasm-reduce.js';
import { inputGradientUnread } from './training-step.js';
import { conv2dBackpropFilter, conv2dBackpropInput, depthwiseBackpropFilter, depthwiseBackpropInput, geometry } from './conv-backprop.js';

const BACKEND = 'wasm';

function checkNhwc(format: string | undefined, kernel: string): void {
  if (format !== undefined && format !== 'NHWC') {
    throw new CnnZooError(`${kernel} on wasm supports NHWC only (got ${format}); transpose the input to NHWC ` +
      '(x.transpose([0, 2, 3, 1])) and use dataFormat "channelsLast".', 'BAD_INPUT');
  }
}

/** Run `body` in a kernel scope; intermediates are freed, on failure too. */
function scoped(backend: unknown, body: (scope: KernelScope) => tf.TensorInfo): tf.TensorInfo {
  const scope = new KernelScope(backend as tf.KernelBackend, BACKEND);
  try {
    return scope.finish(body(scope));
  } catch (e) {
    scope.abandon();
    throw e;
  }
}

/** The dx of a convolution whose input gradient the running step does not read (training-step.ts). */
function zeros(backend: unknown, shape: readonly number[]): tf.TensorInfo {
  return scoped(backend, (s) => s.run('Fill', [], { shape: [...shape], value: 0, dtype: 'float32' }));
}

const conv2dBackpropInputKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  checkNhwc(a.dataFormat, 'Conv2DBackpropInput');
  if (inputGradientUnread(filter)) return zeros(backend, a.inputShape);
  const g = geometry(a.inputShape, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode, false);
  return scoped(backend, (s) => conv2dBackpropInput(s, dy, filter, g));
};

const conv2dBackpropFilterKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  checkNhwc(a.dataFormat, 'Conv2DBackpropFilter');
  const g = geometry(x.shape, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false);
  return scoped(backend, (s) => conv2dBackpropFilter(s, x, dy, g));
};

const depthwiseBackpropInputKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  if (inputGradientUnread(filter)) return zeros(backend, a.inputShape);
  const g = geometry(a.inputShape, filter.shape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  return scoped(backend, (s) => depthwiseBackpropInput(s, dy, filter, g));
};

const depthwiseBackpropFilterKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const g = geometry(x.shape, a.filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  return scoped(backend, (s) => depthwiseBackpropFilter(s, x, dy, g, a.filterShape[3]));
};

const maxPoolGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input, output } = inputs as unknown as { dy: tf.TensorInfo; input: tf.TensorInfo; output: tf.TensorInfo };
  const b = backend as unknown as WasmHeapBackend;
  const dx = b.makeOutput([...input.shape], 'float32');
  const f32 = (t: tf.TensorInfo) => b.typedArrayFromHeap(t) as Float32Array; // views taken after the output is allocated
  maxPoolGradNhwc(f32(input), f32(output), f32(dy), poolInfo(input.shape, attrs as unknown as tf.MaxPoolGradAttrs), f32(dx));
  return dx;
};

/** wasm's own kernels that ours replace and fall back to (captured at registration). */
const wasmOwn = new Map<string, tf.KernelFunc>();

/** The same data under a new handle (a reference, no copy); wasm frees it when the last handle goes. */
function share(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  (backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const identityKernel: tf.KernelFunc = (args) => {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  return x.dtype === 'string' ? wasmOwn.get('Identity')!(args) : share(x, args.backend);
};

const castKernel: tf.KernelFunc = (args) => {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  return x.dtype === (args.attrs as unknown as tf.CastAttrs).dtype && x.dtype !== 'string' ? share(x, args.backend) : wasmOwn.get('Cast')!(args);
};

const sliceKernel: tf.KernelFunc = (args) => wasmSlice(args, wasmOwn.get('Slice')!);
const splitVKernel: tf.KernelFunc = (args) => wasmSplitV(args, wasmOwn.get('SplitV')!);
const concatKernel: tf.KernelFunc = (args) => wasmConcat(args, wasmOwn.get('Concat')!);
const transposeKernel: tf.KernelFunc = (args) => wasmTranspose(args, wasmOwn.get('Transpose')!);

/** Sum / Mean over N, H, W of an NHWC tensor by XNNPACK's average pooling (wasm-reduce.ts); other reductions: wasm's own. */
const reduceKernel = (name: 'Sum' | 'Mean', mean: boolean): tf.KernelFunc => (args) => {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  if (!isChannelReduce(x, axis)) return wasmOwn.get(name)!(args);
  return scoped(args.backend, (s) => channelReduce(s, x, mean, keepDims));
};

/**
 * Batch norm with per-channel statistics (training mode's batch statistics, and unfolded inference) as XNNPACK's
 * broadcasting Sub, Multiply and Add: ((x - mean) * (scale * rsqrt(variance + eps))) + offset. wasm's own kernel is
 * one loop on one thread: 25 -> 3.7 ms for [8, 112, 112, 64] on two threads, 13% of a MobileNet v2 training step's
 * kernel time before; values agree to float32 rounding (test/train-wasm-gradients.test.ts). Other shapes: wasm's own.
 */
const batchNormKernel: tf.KernelFunc = (args) => {
  const { x, mean, variance, offset, scale } = args.inputs as unknown as Record<'x' | 'mean' | 'variance', tf.TensorInfo> & Partial<Record<'offset' | 'scale', tf.TensorInfo>>;
  const c = x.shape[x.shape.length - 1];
  const perChannel = (t: tf.TensorInfo | undefined) => t === undefined || (t.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === c);
  if (x.dtype !== 'float32' || x.shape.length < 2 || ![mean, variance, offset, scale].every(perChannel)) return wasmOwn.get('FusedBatchNorm')!(args);
  const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
  return scoped(args.backend, (s) => {
    const rsqrt = s.run('Rsqrt', { x: s.run('Add', { a: variance, b: s.scalar(varianceEpsilon) }) });
    const factor = scale ? s.run('Multiply', { a: rsqrt, b: scale }) : rsqrt;
    const centred = s.run('Sub', { a: x, b: mean });
    const scaled = s.run('Multiply', { a: centred, b: factor });
    s.free(centred);
    return offset ? s.run('Add', { a: scaled, b: offset }) : scaled;
  });
};

/** The kernels registered for wasm, by tfjs kernel name. */
export const WASM_GRADIENT_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  Conv2DBackpropInput: conv2dBackpropInputKernel,
  Conv2DBackpropFilter: conv2dBackpropFilterKernel,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInputKernel,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilterKernel,
  MaxPoolGrad: maxPoolGradKernel,
  Identity: identityKernel,
  Cast: castKernel,
  Slice: sliceKernel,
  SplitV: splitVKernel,
  Concat: concatKernel,
  Transpose: transposeKernel,
  Sum: reduceKernel('Sum', false),
  Mean: reduceKernel('Mean', true),
  FusedBatchNorm: batchNormKernel,
  [CLIP_GRAD_KERNEL]: wasmClipGradKernel,
};

/** wasm's own kernel `name` where ours replaced it (for tests and benchmarks). */
export function ownWasmKernel(name: string): tf.KernelFunc | undefined {
  return wasmOwn.get(name);
}

/**
 * Register the gradient kernels for the wasm backend (idempotent; replaces wasm's own scalar
 * Conv2DBackpropInput, its MaxPoolGrad, its copying Identity and same-dtype Cast, its Slice, SplitV, Concat and Transpose, its Sum and Mean
 * over N, H, W, and its per-channel FusedBatchNorm). Call it after `@tensorflow/tfjs-backend-wasm` is imported, which registers the
 * backend's kernels: `useBackend('wasm')` does both.
 */
export function registerWasmGradients(): void {
  if (!tf.getKernel('Conv2D', BACKEND)) {
    throw new CnnZooError('registerWasmGradients(): the wasm backend is not loaded; call useBackend("wasm") ' +
      '(or import "@tensorflow/tfjs-backend-wasm") first.', 'NO_BACKEND');
  }
  replaceKernels(BACKEND, WASM_GRADIENT_KERNELS, wasmOwn);
  registerBatchNormGradient();
  registerClipGradient();
  registerReduceGradients();
}
