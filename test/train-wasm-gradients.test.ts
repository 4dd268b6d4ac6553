/**
 * Gradients on wasm (src/kernels/wasm-gradients.ts) equal tfjs cpu's, for every layer the zoo builds.
 *
 * Each case builds a small graph of zoo layers (src/zoo/ops.ts, src/layers), sets the same deterministic
 * weights on both backends, and compares d(loss)/d(input) and d(loss)/d(weight) of loss = sum(y * r) (r a fixed
 * random tensor, so every output cell gets its own upstream gradient) in training mode.
 *
 * Bound: relative max error max|wasm - cpu| / max|cpu| <= 1e-5 per gradient. Both backends compute in float32;
 * they differ only in summation order (XNNPACK tiles and its FMA vs cpu's loops), so each element carries a
 * rounding error ~ eps32 * sqrt(K) * max term for sums of K terms (K <= ~5000 here: eps32 = 6e-8 gives ~4e-6 at
 * worst). The largest error measured over these cases is ~1e-6 (printed by the test).
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { det } from '../src/parity/det.js';
import { adaptiveAvgPool, add, avgPool, batchNorm, concat, conv2d, globalPool, linear, flatten, maxPool, activation, type Sym } from '../src/zoo/ops.js';
import { ChannelShuffle } from '../src/layers/channel-shuffle.js';
import { ChannelSlice } from '../src/layers/channel-slice.js';
import { LRN } from '../src/layers/lrn.js';
import { KernelScope } from '../src/kernels/kernel-scope.js';
import { BatchNorm } from '../src/layers/batch-norm.js';
import { conv2dBackpropFilter, conv2dBackpropInput, depthwiseBackpropFilter, depthwiseBackpropInput, fastDepthwiseKernel, type ConvGeometry } from '../src/kernels/conv-backprop.js';
import { ownWasmKernel, registerWasmGradients, WASM_GRADIENT_KERNELS } from '../src/kernels/wasm-gradients.js';
import { batchGradients, trainingStep, unreadInputFilters } from '../src/train/step.js';

const BOUND = 1e-5;

function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).to.equal(b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  expect(m, 'reference gradient is all zeros: the case tests nothing').to.be.greaterThan(0);
  return d / m;
}

interface LayerCase {
  name: string;
  /** Input [H, W, C] (batch 2). */
  input: [number, number, number];
  build: (x: Sym) => Sym;
}

const conv = (o: Parameters<typeof conv2d>[2]) => (x: Sym) => conv2d(x, 'conv', o);
const CASES: LayerCase[] = [
  // Conv2D: torch padding becomes 'same' (stride 1) or ZeroPadding2D + 'valid'.
  { name: 'Conv2D 3x3 s1 pad 1 (same)', input: [9, 8, 5], build: conv({ filters: 6, kernel: 3, padding: 1 }) },
  { name: 'Conv2D 3x3 s2 pad 1', input: [9, 10, 5], build: conv({ filters: 6, kernel: 3, stride: 2, padding: 1 }) },
  { name: 'Conv2D 3x3 s2 valid', input: [10, 9, 4], build: conv({ filters: 6, kernel: 3, stride: 2, bias: false }) },
  { name: 'Conv2D 7x7 s2 pad 3 (stem)', input: [17, 15, 3], build: conv({ filters: 8, kernel: 7, stride: 2, padding: 3 }) },
  { name: 'Conv2D 11x11 s4 pad 2 (AlexNet)', input: [35, 33, 3], build: conv({ filters: 4, kernel: 11, stride: 4, padding: 2 }) },
  { name: 'Conv2D 5x5 s1 pad 2', input: [8, 8, 4], build: conv({ filters: 3, kernel: 5, padding: 2, bias: false }) },
  { name: 'Conv2D 1x1 s1', input: [6, 7, 8], build: conv({ filters: 5, kernel: 1 }) },
  { name: 'Conv2D 1x1 s2', input: [7, 8, 8], build: conv({ filters: 5, kernel: 1, stride: 2 }) },
  // 1x1 filter gradients are one matrix product; the operand with fewer channels is transposed (both ways here).
  { name: 'Conv2D 1x1 s1, fewer input than output channels', input: [6, 5, 3], build: conv({ filters: 7, kernel: 1 }) },
  { name: 'Conv2D 1x1 s2 on odd sizes, fewer input channels', input: [9, 7, 3], build: conv({ filters: 8, kernel: 1, stride: 2, bias: false }) },
  { name: 'Conv2D 1x1 s3x2 "same" (tfjs)', input: [8, 7, 5], build: (x) => tf.layers.conv2d({ filters: 4, kernelSize: 1, strides: [3, 2], padding: 'same' }).apply(x) as Sym },
  { name: 'Conv2D 2x3 s3x2 "valid" (taps fewer than the stride: phases with no gradient)', input: [11, 9, 3],
    build: (x) => tf.layers.conv2d({ filters: 4, kernelSize: [2, 3], strides: [3, 2] }).apply(x) as Sym },
  { name: 'Conv2D 3x3 s2x1 pad 1 (one axis strided)', input: [9, 7, 4], build: (x) => tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: [2, 1], padding: 'same' }).apply(x) as Sym },
  { name: 'Conv2D 1x7 pad (0,3)', input: [7, 9, 4], build: conv({ filters: 5, kernel: [1, 7], padding: [0, 3] }) },
  { name: 'Conv2D 7x1 pad (3,0)', input: [9, 7, 4], build: conv({ filters: 5, kernel: [7, 1], padding: [3, 0] }) },
  { name: 'Conv2D 3x3 s2 pad [[0,1],[0,1]] (TF SAME)', input: [8, 8, 4], build: conv({ filters: 5, kernel: 3, stride: 2, padding: [[0, 1], [0, 1]] }) },
  { name: 'Conv2D 3x3 s2 padding "same" (tfjs)', input: [8, 9, 4], build: (x) => tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same' }).apply(x) as Sym },
  { name: 'Conv2D 4x4 s2 pad [[1,2],[2,1]]', input: [9, 8, 3], build: conv({ filters: 4, kernel: 4, stride: 2, padding: [[1, 2], [2, 1]] }) },
  // Depthwise (groups = channels) and grouped.
  { name: 'DepthwiseConv2D 3x3 s1 pad 1', input: [8, 9, 6], build: conv({ filters: 6, kernel: 3, padding: 1, groups: 6 }) },
  { name: 'DepthwiseConv2D 3x3 s2 pad 1', input: [9, 8, 6], build: conv({ filters: 6, kernel: 3, stride: 2, padding: 1, groups: 6, bias: false }) },
  { name: 'DepthwiseConv2D 5x5 s2 pad 2', input: [11, 10, 4], build: conv({ filters: 4, kernel: 5, stride: 2, padding: 2, groups: 4 }) },
  { name: 'DepthwiseConv2D 3x3 s2 TF SAME', input: [8, 8, 4], build: conv({ filters: 4, kernel: 3, stride: 2, padding: [[0, 1], [0, 1]], groups: 4 }) },
  { name: 'DepthwiseConv2D 3x3 multiplier 2', input: [7, 7, 3], build: conv({ filters: 6, kernel: 3, padding: 1, groups: 3 }) },
  { name: 'DepthwiseConv2D 3x3 s2 multiplier 2 (phases, summed over the multiplier)', input: [9, 8, 3], build: conv({ filters: 6, kernel: 3, stride: 2, padding: 1, groups: 3 }) },
  { name: 'DepthwiseConv2D 2x2 s3 "valid" (taps fewer than the stride)', input: [10, 11, 4], build: (x) => tf.layers.depthwiseConv2d({ kernelSize: 2, strides: 3 }).apply(x) as Sym },
  { name: 'DepthwiseConv2D 3x3 s2 "same" (tfjs)', input: [9, 8, 4], build: (x) => tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }).apply(x) as Sym },
  { name: 'GroupedConv2D 3x3 groups 2', input: [7, 8, 8], build: conv({ filters: 6, kernel: 3, padding: 1, groups: 2 }) },
  { name: 'GroupedConv2D 3x3 s2 groups 4', input: [9, 9, 8], build: conv({ filters: 8, kernel: 3, stride: 2, padding: 1, groups: 4, bias: false }) },
  { name: 'GroupedConv2D 1x1 groups 3', input: [5, 6, 6], build: conv({ filters: 9, kernel: 1, groups: 3 }) },
  // Pooling: tfjs layers, and Pool2D (torch padding, ceil mode, count_include_pad, TF SAME).
  { name: 'MaxPooling2D 2x2', input: [8, 6, 3], build: (x) => maxPool(x, 'pool', { kernel: 2 }) },
  { name: 'MaxPooling2D 3x3 s2 "same" (tfjs)', input: [9, 8, 3], build: (x) => tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as Sym },
  { name: 'MaxPooling2D 3x3 s1 "same" (stride 1: one phase)', input: [7, 6, 3], build: (x) => tf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(x) as Sym },
  { name: 'MaxPooling2D 1x1 s2 (window smaller than the stride: phases with no gradient)', input: [7, 6, 3], build: (x) => tf.layers.maxPooling2d({ poolSize: 1, strides: 2 }).apply(x) as Sym },
  { name: 'MaxPooling2D 2x3 s3x2 "valid" (uneven window and strides)', input: [11, 9, 3], build: (x) => tf.layers.maxPooling2d({ poolSize: [2, 3], strides: [3, 2] }).apply(x) as Sym },
  { name: 'AveragePooling2D 2x2', input: [8, 6, 3], build: (x) => avgPool(x, 'pool', { kernel: 2 }) },
  { name: 'AveragePooling2D 3x3 s2 "same" (tfjs)', input: [9, 8, 3], build: (x) => tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as Sym },
  { name: 'Pool2D max 3x3 s2 ceil', input: [8, 9, 3], build: (x) => maxPool(x, 'pool', { kernel: 3, stride: 2, ceil: true }) },
  { name: 'Pool2D max 3x3 s2 pad 1', input: [9, 8, 3], build: (x) => maxPool(x, 'pool', { kernel: 3, stride: 2, padding: 1 }) },
  { name: 'Pool2D avg 3x3 s1 pad 1 count_include_pad', input: [6, 7, 3], build: (x) => avgPool(x, 'pool', { kernel: 3, stride: 1, padding: 1 }) },
  { name: 'Pool2D avg 3x3 s2 pad 1 exclude pad', input: [9, 8, 3], build: (x) => avgPool(x, 'pool', { kernel: 3, stride: 2, padding: 1, countIncludePad: false }) },
  { name: 'Pool2D avg 2x2 ceil', input: [7, 7, 3], build: (x) => avgPool(x, 'pool', { kernel: 2, stride: 2, ceil: true, countIncludePad: false }) },
  { name: 'Pool2D avg 3x3 s2 TF SAME [[0,1],[0,1]]', input: [8, 8, 3], build: (x) => avgPool(x, 'pool', { kernel: 3, stride: 2, padding: [[0, 1], [0, 1]], countIncludePad: false }) },
  { name: 'AdaptiveAvgPool2D 7 -> 3 (bins)', input: [7, 7, 4], build: (x) => adaptiveAvgPool(x, 'pool', 3) },
  { name: 'AdaptiveAvgPool2D 6 -> 2 (avg pool)', input: [6, 6, 4], build: (x) => adaptiveAvgPool(x, 'pool', 2) },
  { name: 'GlobalAveragePooling2D + Dense', input: [5, 4, 6], build: (x) => linear(globalPool(x, 'gap'), 'fc', 7) },
  { name: 'Flatten + Dense', input: [3, 4, 5], build: (x) => linear(flatten(x, 'flat'), 'fc', 6) },
  // Channel layers.
  { name: 'ChannelShuffle groups 3', input: [4, 5, 6], build: (x) => new ChannelShuffle({ groups: 3 }).apply(conv({ filters: 6, kernel: 1 })(x)) as Sym },
  { name: 'ChannelSlice', input: [4, 5, 8], build: (x) => new ChannelSlice({ start: 2, size: 4 }).apply(conv({ filters: 8, kernel: 1 })(x)) as Sym },
  { name: 'LRN (size 5)', input: [4, 5, 7], build: (x) => new LRN({ size: 5, alpha: 0.5, beta: 0.75, k: 1 }).apply(conv({ filters: 7, kernel: 1 })(x)) as Sym },
  // Normalisation, merges, activations.
  { name: 'BatchNormalization (training)', input: [5, 6, 4], build: (x) => batchNorm(conv({ filters: 5, kernel: 3, padding: 1, bias: false })(x), 'bn') },
  { name: 'BatchNormalization + ReLU + MaxPool 3x3 s2 pad 1 (ResNet stem)', input: [9, 8, 3], build: (x) => maxPool(activation(batchNorm(conv({ filters: 4, kernel: 3, padding: 1, bias: false })(x), 'bn'), 'relu'), 'pool', { kernel: 3, stride: 2, padding: 1 }) },
  { name: 'MaxPooling2D 2x2 after ReLU (ties at zero)', input: [8, 6, 3], build: (x) => maxPool(activation(x, 'relu'), 'pool', { kernel: 2 }) },
  { name: 'concat of two convs', input: [6, 6, 4], build: (x) => concat([conv2d(x, 'a', { filters: 3, kernel: 1 }), conv2d(x, 'b', { filters: 2, kernel: 3, padding: 1 })], 'cat') },
  { name: 'add (residual)', input: [6, 6, 4], build: (x) => add([x, conv2d(x, 'a', { filters: 4, kernel: 3, padding: 1 })], 'add') },
  ...(['relu', 'relu6', 'sigmoid', 'swish'] as const).map((fn): LayerCase => ({
    name: `activation ${fn}`, input: [5, 5, 4], build: (x) => activation(conv({ filters: 4, kernel: 3, padding: 1 })(x), 'act', fn),
  })),
];

/** Deterministic weights for a model (BN variance positive), by weight index. */
function weightsFor(model: tf.LayersModel, caseName: string): tf.Tensor[] {
  return model.weights.map((w, i) => {
    const n = w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    const v = det(`${caseName}/${i}`, n, 0.5);
    if (/moving_variance|gamma/.test(w.name)) for (let j = 0; j < n; j++) v[j] = 1 + v[j]!;
    return tf.tensor(v, w.shape as number[]);
  });
}

/** Gradients (input first, then each trainable weight) of sum(model(x) * r) on the current backend. */
function layerGrads(c: LayerCase): Float32Array[] {
  const x = tf.input({ shape: c.input });
  const model = tf.model({ inputs: x, outputs: c.build(x) });
  const init = weightsFor(model, c.name);
  model.setWeights(init);
  tf.dispose(init);
  const shape = [2, ...c.input];
  const x0 = tf.tensor(det(`${c.name}/x`, shape.reduce((a, b) => a * b, 1), 2), shape);
  const xVar = tf.variable(x0);
  x0.dispose();
  const outShape = [2, ...(model.outputs[0]!.shape.slice(1) as number[])];
  const r = tf.tensor(det(`${c.name}/r`, outShape.reduce((a, b) => a * b, 1), 1), outShape);
  const vars = [xVar, ...model.trainableWeights.map((w) => w.read() as tf.Variable)];
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(xVar, { training: true }) as tf.Tensor, r)), vars);
  const out = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([value, r, xVar, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe('train: gradients on wasm equal cpu (zoo layers)', function () {
  let worst = 0;
  after(() => console.log(`    largest relative max error over all layer gradients: ${worst.toExponential(2)} (bound ${BOUND})`));

  for (const c of CASES) {
    it(c.name, async () => {
      await useBackend('cpu');
      const ref = layerGrads(c);
      await useBackend('wasm');
      const before = tf.memory().numTensors;
      const got = layerGrads(c);
      expect(tf.memory().numTensors, 'tensors leaked').to.equal(before);
      expect(got.length).to.equal(ref.length);
      got.forEach((g, i) => {
        const e = relErr(g, ref[i]!);
        worst = Math.max(worst, e);
        expect(e, `${i === 0 ? 'input' : `weight ${i - 1}`} gradient`).to.be.at.most(BOUND);
      });
    });
  }
});

/** [kh, kw, ...] filter with d-1 zeros between taps: a dilated conv as an undilated one (cpu has no dilated backprop). */
function dilateFilter(w: Float32Array, shape: [number, number, number, number], d: number): { data: Float32Array; shape: [number, number, number, number] } {
  const [kh, kw, a, b] = shape;
  const eh = (kh - 1) * d + 1, ew = (kw - 1) * d + 1;
  const out = new Float32Array(eh * ew * a * b);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) out.set(w.subarray((i * kw + j) * a * b, (i * kw + j + 1) * a * b), ((i * d) * ew + j * d) * a * b);
  return { data: out, shape: [eh, ew, a, b] };
}
function undilate(w: Float32Array, shape: [number, number, number, number], d: number): Float32Array {
  const [kh, kw, a, b] = shape;
  const ew = (kw - 1) * d + 1;
  const out = new Float32Array(kh * kw * a * b);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) out.set(w.subarray(((i * d) * ew + j * d) * a * b, ((i * d) * ew + j * d + 1) * a * b), (i * kw + j) * a * b);
  return out;
}

describe('train: wasm conv backprop with dilation or explicit 1x1 padding (called directly; tfjs has no dilated conv gradient)', () => {
  const cases = [
    { depthwise: false, x: [2, 11, 10, 3], k: [3, 3], out: 4, s: 1, d: 2, pad: [[2, 2], [2, 2]] },
    { depthwise: false, x: [2, 13, 12, 3], k: [3, 2], out: 4, s: 2, d: 2, pad: [[1, 2], [0, 1]] },
    { depthwise: true, x: [2, 11, 10, 4], k: [3, 3], out: 1, s: 1, d: 3, pad: [[3, 3], [3, 3]] },
    { depthwise: true, x: [2, 12, 11, 3], k: [3, 3], out: 2, s: 2, d: 2, pad: [[1, 2], [2, 1]] },
    // A padded 1x1 (its filter gradient is a matrix product of the pixels read: padding and crops around it).
    { depthwise: false, x: [2, 7, 8, 3], k: [1, 1], out: 5, s: 2, d: 1, pad: [[1, 0], [2, 1]] },
    { depthwise: false, x: [2, 6, 5, 6], k: [1, 1], out: 4, s: 1, d: 1, pad: [[1, 1], [0, 2]] },
  ] as const;
  for (const c of cases) {
    it(`${c.depthwise ? 'depthwise' : 'conv2d'} ${c.k.join('x')} stride ${c.s} dilation ${c.d} pad ${JSON.stringify(c.pad)}`, async () => {
      const [n, h, w, cin] = c.x;
      const fShape: [number, number, number, number] = [c.k[0], c.k[1], cin, c.out];
      const xData = det('dil/x', n * h * w * cin, 1), fData = det('dil/f', fShape.reduce((a, b) => a * b), 1);
      const big = dilateFilter(fData, fShape, c.d);
      const pad: tf.backend_util.ExplicitPadding = [[0, 0], [c.pad[0][0], c.pad[0][1]], [c.pad[1][0], c.pad[1][1]], [0, 0]];
      // Reference on cpu: the undilated conv with the zero-inserted filter.
      await useBackend('cpu');
      const xr = tf.tensor4d(xData, c.x as unknown as [number, number, number, number]), fr = tf.tensor4d(big.data, big.shape);
      const fwd = (a: tf.Tensor4D, b: tf.Tensor4D) => c.depthwise ? tf.depthwiseConv2d(a, b, c.s, pad as unknown as 'valid') : tf.conv2d(a, b, c.s, pad as unknown as 'valid');
      const y = fwd(xr, fr);
      const r = tf.tensor(det('dil/r', y.size, 1), y.shape);
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fwd(a as tf.Tensor4D, b as tf.Tensor4D), r)))([xr, fr]);
      const refX = gx!.dataSync() as Float32Array, refF = undilate(gf!.dataSync() as Float32Array, fShape, c.d);
      const rData = r.dataSync() as Float32Array, yShape = y.shape as [number, number, number, number];
      tf.dispose([xr, fr, y, r, gx!, gf!]);
      // wasm: the kernels' functions with a dilated geometry.
      await useBackend('wasm');
      const g: ConvGeometry = { n, inH: h, inW: w, inC: cin, outH: yShape[1], outW: yShape[2], kh: c.k[0], kw: c.k[1], sh: c.s, sw: c.s, dh: c.d, dw: c.d, top: c.pad[0][0], left: c.pad[1][0] };
      const xt = tf.tensor4d(xData, c.x as unknown as [number, number, number, number]), ft = tf.tensor4d(fData, fShape), dy = tf.tensor4d(rData, yShape);
      const run = (f: (s: KernelScope) => tf.TensorInfo) => {
        const s = new KernelScope(tf.backend(), 'wasm');
        return tf.engine().makeTensorFromTensorInfo(s.finish(f(s)));
      };
      const dx = run((s) => c.depthwise ? depthwiseBackpropInput(s, dy, ft, g) : conv2dBackpropInput(s, dy, ft, g));
      const df = run((s) => c.depthwise ? depthwiseBackpropFilter(s, xt, dy, g, c.out) : conv2dBackpropFilter(s, xt, dy, g));
      expect(relErr(dx.dataSync() as Float32Array, refX)).to.be.at.most(BOUND);
      expect(relErr(df.dataSync() as Float32Array, refF)).to.be.at.most(BOUND);
      tf.dispose([xt, ft, dy, dx, df]);
    });
  }
});

describe('train: registerWasmGradients', () => {
  it('registers every kernel once, replacing wasm\'s own, and is idempotent', async () => {
    await useBackend('wasm');
    registerWasmGradients();
    registerWasmGradients();
    for (const [name, fn] of Object.entries(WASM_GRADIENT_KERNELS)) expect(tf.getKernel(name, 'wasm')?.kernelFunc).to.equal(fn);
  });

  it('Identity and same-dtype Cast share their input\'s data (no copy); other casts convert; the tape\'s saved tensors share data (fewer buffers than copies)', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const x = tf.tensor2d([[1.5, -2], [3, 4.25]]);
    const id = tf.engine().runKernel('Identity', { x }) as tf.Tensor;
    const same = tf.engine().runKernel('Cast', { x }, { dtype: 'float32' }) as tf.Tensor;
    const ints = tf.engine().runKernel('Cast', { x }, { dtype: 'int32' }) as tf.Tensor;
    expect(id.dataId).to.equal(x.dataId);
    expect(same.dataId).to.equal(x.dataId);
    expect(ints.dataId).to.not.equal(x.dataId);
    expect(Array.from(ints.dataSync())).to.deep.equal([1, -2, 3, 4]);
    x.dispose();
    expect(Array.from(id.dataSync())).to.deep.equal([1.5, -2, 3, 4.25]); // the data outlives the first handle
    tf.dispose([id, same, ints]);

    // conv -> batch norm (training) -> relu6 -> mean under the tape: data buffers made by the forward pass, with
    // Identity sharing (ours) and copying (as wasm's own did: every tensor the tape saves became a second buffer).
    const inp = tf.input({ shape: [8, 8, 4] });
    const net = tf.model({ inputs: inp, outputs: activation(batchNorm(conv2d(inp, 'c', { filters: 6, kernel: 3, padding: 1 }), 'bn'), 'act', 'relu6') as Sym });
    const xs = tf.randomNormal([2, 8, 8, 4]);
    const taped = (): number => {
      let n = 0;
      const { value, grads } = tf.variableGrads(() => {
        const before = backend.numDataIds();
        const y = tf.mean(net.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar;
        n = backend.numDataIds() - before;
        return y;
      });
      tf.dispose([value, ...Object.values(grads)]);
      return n;
    };
    const shared = taped();
    const copy: tf.KernelFunc = ({ inputs }) => {
      const { x } = inputs as unknown as { x: tf.TensorInfo };
      return { dataId: backend.write((backend.readSync(x.dataId) as Float32Array).slice(), x.shape, x.dtype), shape: x.shape, dtype: x.dtype };
    };
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: copy });
    let copied: number;
    try { copied = taped(); } finally { registerWasmGradients(); }
    console.log(`      buffers made by a taped forward pass: ${shared} (shared), ${copied} (copied)`);
    expect(tf.getKernel('Identity', 'wasm')?.kernelFunc).to.equal(WASM_GRADIENT_KERNELS.Identity);
    expect(shared).to.be.below(copied);
    tf.dispose(xs);
    net.dispose();
  });

  it('Slice equals indexing at ranks 1-6 (float32, int32, bool; contiguous, short and long rows) and reads no copy of its input', async () => {
    await useBackend('wasm');
    const backend = tf.backend() as unknown as { readSync(dataId: object): unknown };
    const cases: [number[], number[], number[]][] = [ // shape, begin, size (-1: to the end)
      [[10], [3], [5]], [[4, 7], [1, 2], [2, 4]], [[4, 40], [1, 3], [3, 30]], [[3, 4, 5], [0, 1, 2], [3, 2, -1]],
      [[2, 6, 6, 3], [1, 1, 2, 0], [1, 4, 3, 3]], [[2, 6, 6, 20], [0, 2, 1, 4], [2, 3, 4, 16]], [[2, 6, 6, 3], [1, 0, 0, 0], [1, 6, 6, 3]],
      [[2, 3, 4, 5, 6], [1, 0, 1, 2, 1], [1, 3, 2, 3, 4]], [[2, 2, 3, 2, 3, 4], [0, 1, 1, 0, 1, 1], [2, 1, 2, 2, 2, 3]],
      // A depthwise filter gradient's taps of the stride blocks [N, A, sh, B, sw, C]: length-1 and whole axes merge.
      [[2, 5, 1, 6, 1, 8], [0, 1, 0, 2, 0, 0], [2, 3, 1, 3, 1, 8]], [[2, 5, 2, 6, 2, 8], [0, 1, 1, 2, 0, 0], [2, 3, 1, 3, 1, 8]],
      [[1, 1, 4, 1], [0, 0, 1, 0], [1, 1, 2, 1]], [[1, 1, 1], [0, 0, 0], [1, 1, 1]],
    ];
    for (const [shape, begin, size] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, i) => (i * 7919) % 1000 - 500);
      const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      const sz = size.map((v, d) => (v === -1 ? shape[d]! - begin[d]! : v));
      const want: number[] = [];
      const walk = (d: number, offset: number): void => {
        if (d === shape.length) { want.push(values[offset]!); return; }
        for (let k = 0; k < sz[d]!; k++) walk(d + 1, offset + (begin[d]! + k) * strides[d]!);
      };
      walk(0, 0);
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const x = tf.tensor(dtype === 'bool' ? values.map((v) => v > 0) : values, shape, dtype);
        const readSync = backend.readSync;
        let reads = 0;
        backend.readSync = function (this: unknown, ...a: [object]) { reads++; return readSync.apply(this, a); };
        let y: tf.Tensor;
        try { y = tf.slice(x, begin, size); } finally { backend.readSync = readSync; }
        expect(reads, `${dtype} ${shape}: reads of the input`).to.equal(0);
        expect(y.shape, `${dtype} ${shape}`).to.deep.equal(sz);
        expect(Array.from(await y.data()), `${dtype} ${shape} ${begin} ${size}`).to.deep.equal(dtype === 'bool' ? want.map((v) => (v > 0 ? 1 : 0)) : want);
        tf.dispose([x, y]);
      }
    }
  });

  it('Concat equals wasm\'s own bit for bit (float32, int32, bool; every axis, negative axes, empty and repeated inputs)', async () => {
    await useBackend('wasm');
    const backend = tf.backend() as unknown as { readSync(dataId: object): unknown };
    const own = ownWasmKernel('Concat')!;
    expect(tf.getKernel('Concat', 'wasm')!.kernelFunc, 'registered').to.not.equal(own);
    const cases: [number[][], number][] = [ // input shapes, axis
      [[[1, 5, 5, 8], [1, 5, 5, 3]], 3], [[[1, 5, 5, 8], [1, 5, 5, 3]], -1], [[[2, 3, 4, 2], [2, 1, 4, 2], [2, 2, 4, 2]], 1],
      [[[2, 3], [4, 3]], 0], [[[2, 3], [2, 0], [2, 2]], 1], [[[0, 3], [2, 3]], 0], [[[6], [1], [2]], 0], [[[3, 2, 1, 2, 2], [3, 2, 1, 2, 1]], 4],
    ];
    for (const [shapes, axis] of cases) {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const xs = shapes.map((shape, k) => {
          const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => ((i + 31 * k) * 7919) % 1000 - 500);
          return tf.tensor(dtype === 'bool' ? values.map((v) => v > 0) : values, shape, dtype);
        });
        const inputs = [...xs, xs[0]!]; // a repeated input too, where the shapes allow it
        const use = inputs.slice(0, shapes.every((sh) => sh.every((d, i) => i === (axis + sh.length) % sh.length || d === shapes[0]![i])) ? inputs.length : xs.length);
        const y = tf.concat(use, axis);
        const ref = own({ inputs: use as unknown as tf.NamedTensorInfoMap, backend: tf.backend(), attrs: { axis } as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
        const refValues = Array.from(backend.readSync(ref.dataId) as ArrayLike<number>);
        tf.backend().disposeData(ref.dataId);
        expect(y.shape, `${dtype} ${JSON.stringify(shapes)} axis ${axis}`).to.deep.equal(ref.shape);
        expect(Array.from(await y.data()), `${dtype} ${JSON.stringify(shapes)} axis ${axis}`).to.deep.equal(refValues);
        tf.dispose([...xs, y]);
      }
    }
  });

  it('SplitV equals consecutive slices (float32, int32, bool; counts, sizes with -1, negative axes) and reads no copy of its input', async () => {
    await useBackend('wasm');
    const backend = tf.backend() as unknown as { readSync(dataId: object): unknown };
    const cases: [number[], number | number[], number][] = [ // shape, numOrSizeSplits, axis
      [[12], 3, 0], [[4, 10], [3, -1, 2], 1], [[2, 5, 5, 96], 32, 3], [[2, 5, 5, 96], 32, -1], [[2, 5, 5, 24], [4, 20], -1],
      [[3, 6, 4], [1, 2, 3], 1], [[4, 3, 2, 2, 5], 2, 0],
    ];
    for (const [shape, splits, axis] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, i) => (i * 7919) % 1000 - 500);
      const ax = axis < 0 ? axis + shape.length : axis;
      const sizes = typeof splits === 'number' ? new Array<number>(splits).fill(shape[ax]! / splits)
        : splits.map((v) => (v === -1 ? shape[ax]! - splits.reduce((a, b) => a + (b === -1 ? 0 : b), 0) : v));
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const x = tf.tensor(dtype === 'bool' ? values.map((v) => v > 0) : values, shape, dtype);
        const readSync = backend.readSync;
        let reads = 0;
        backend.readSync = function (this: unknown, ...a: [object]) { reads++; return readSync.apply(this, a); };
        let parts: tf.Tensor[];
        try { parts = tf.split(x, splits, axis); } finally { backend.readSync = readSync; }
        expect(reads, `${dtype} ${shape}: reads of the input`).to.equal(0);
        expect(parts.map((p) => p.shape[ax]), `${dtype} ${shape} ${splits}`).to.deep.equal(sizes);
        let start = 0;
        for (const [i, part] of parts.entries()) {
          const begin = shape.map((_, d) => (d === ax ? start : 0)), size = shape.map((v, d) => (d === ax ? sizes[i]! : v));
          const want = tf.slice(x, begin, size);
          expect(Array.from(await part.data()), `${dtype} ${shape} ${splits} part ${i}`).to.deep.equal(Array.from(await want.data()));
          want.dispose();
          start += sizes[i]!;
        }
        tf.dispose([x, ...parts]);
      }
    }
  });

  it('Transpose equals indexing (float32, int32, bool; ranks 2-6, size-1 axes; tiled and wasm\'s own)', async () => {
    await useBackend('wasm');
    const cases: [number[], number[]][] = [ // the first five cross two axes of at least 64: the tiled copy
      [[70, 130], [1, 0]], [[2, 3, 64, 80], [0, 1, 3, 2]], [[65, 2, 66], [2, 1, 0]], [[1, 70, 1, 90], [3, 2, 1, 0]],
      [[2, 64, 1, 3, 65, 2], [4, 1, 0, 5, 3, 2]],
      [[5, 7], [1, 0]], [[2, 3, 4, 5], [3, 1, 2, 0]], [[2, 3, 4, 5], [1, 2, 0, 3]], [[100, 8], [1, 0]], [[3, 1, 4], [1, 2, 0]],
    ];
    for (const [shape, perm] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, i) => (i * 7919) % 1000 - 500);
      const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      const outShape = perm.map((p) => shape[p]!);
      const want: number[] = [];
      const walk = (d: number, offset: number): void => {
        if (d === outShape.length) { want.push(values[offset]!); return; }
        for (let k = 0; k < outShape[d]!; k++) walk(d + 1, offset + k * strides[perm[d]!]!);
      };
      walk(0, 0);
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const x = tf.tensor(dtype === 'bool' ? values.map((v) => v > 0) : values, shape, dtype);
        const y = tf.transpose(x, perm);
        expect(y.shape, `${dtype} ${shape} ${perm}`).to.deep.equal(outShape);
        expect(Array.from(await y.data()), `${dtype} ${shape} ${perm}`).to.deep.equal(dtype === 'bool' ? want.map((v) => (v > 0 ? 1 : 0)) : want);
        tf.dispose([x, y]);
      }
    }
  });

  it('Sum and Mean over N, H, W (pooled) equal float64 per-channel sums; keepDims and negative axes; other reductions unchanged', async () => {
    await useBackend('wasm');
    const shape = [3, 20, 17, 5];
    const values = det('wasm-reduce', 3 * 20 * 17 * 5, 2).map((v, i) => v + (i % 5)); // per-channel offsets 0..4
    const ref = new Float64Array(5);
    values.forEach((v, i) => { ref[i % 5] += v; });
    const x = tf.tensor4d(values, shape as [number, number, number, number]);
    const m = Math.max(...ref.map(Math.abs));
    const close = async (t: tf.Tensor, want: number[], shapeWant: number[], what: string) => {
      expect(t.shape, what).to.deep.equal(shapeWant);
      const got = await t.data();
      want.forEach((v, c) => expect(Math.abs(got[c]! - v) / m, `${what}[${c}]`).to.be.below(1e-6));
    };
    const count = 3 * 20 * 17;
    await close(tf.sum(x, [0, 1, 2]), Array.from(ref), [5], 'sum');
    await close(tf.sum(x, [-4, -3, -2], true), Array.from(ref), [1, 1, 1, 5], 'sum keepDims');
    await close(tf.mean(x, [0, 1, 2]), Array.from(ref, (v) => v / count), [5], 'mean');
    await close(tf.mean(x, [2, 0, 1], true), Array.from(ref, (v) => v / count), [1, 1, 1, 5], 'mean keepDims');
    const moments = tf.moments(x, [0, 1, 2]);
    await close(moments.mean, Array.from(ref, (v) => v / count), [5], 'moments');
    // Another reduction (wasm's own kernel): H and W only.
    const hw = await tf.sum(x, [1, 2]).data();
    const want = new Float64Array(15);
    values.forEach((v, i) => { want[Math.floor(i / (20 * 17 * 5)) * 5 + (i % 5)] += v; });
    want.forEach((v, k) => expect(Math.abs(hw[k]! - v) / m).to.be.below(1e-5));
    tf.dispose([x, moments.mean, moments.variance]);
  });

  it('the gradients of ClipByValue (ReLU6), Sum and Mean equal tfjs-core\'s bit for bit on wasm and cpu, and upload no array of the input\'s size to wasm', async () => {
    const bits = async (t: tf.Tensor) => Array.from(new Int32Array((await t.data() as Float32Array).slice().buffer));
    for (const name of ['wasm', 'cpu'] as const) {
      await useBackend(name);
      const before = tf.memory().numTensors, dataBefore = tf.engine().backend.numDataIds();
      // Bounds, signed zeros, NaN and infinities among ordinary values; dy with signed zeros too.
      const special = [-1, 0, -0, 6, 6.000001, 5.999999, NaN, Infinity, -Infinity, 3];
      const xs = det('clip-grad/x', 2 * 7 * 5 * 6, 8).map((v, i) => (i % 13 < special.length ? special[i % 13]! : v + 3));
      const dys = det('clip-grad/dy', xs.length, 2).map((v, i) => (i % 17 === 0 ? -0 : v));
      const x = tf.tensor4d(xs, [2, 7, 5, 6]), dy = tf.tensor4d(dys, [2, 7, 5, 6]);
      const got = tf.grad((a: tf.Tensor) => tf.clipByValue(a, 0, 6))(x, dy);
      const want = tf.tidy(() => tf.where(tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, 6)), dy, tf.zerosLike(dy)));
      expect(await bits(got), `${name}: ClipByValue`).to.deep.equal(await bits(want));
      // Sum and Mean over N, H, W (batch norm's moments) and over one axis; tfjs-core's dy * ones(x.shape) (/ n).
      const backend = tf.backend() as unknown as { write(values: unknown, shape: number[], dtype: string): unknown };
      const write = backend.write;
      const finite = tf.clipByValue(x, -1e3, 1e3);
      for (const [op, axis] of [['sum', [0, 1, 2]], ['mean', [0, 1, 2]], ['mean', [2]], ['sum', [-1]]] as const) {
        const reduce = (a: tf.Tensor) => (op === 'sum' ? tf.sum(a, [...axis]) : tf.mean(a, [...axis]));
        const up = tf.tidy(() => tf.add(tf.mul(reduce(x), 0), tf.range(0, reduce(x).size).reshape(reduce(x).shape).mul(0.37)));
        let largest = 0;
        backend.write = function (this: unknown, values: unknown, shape: number[], dtype: string) {
          if (values != null) largest = Math.max(largest, tf.util.sizeFromShape(shape)); // null: an output the backend allocates
          return write.call(this, values, shape, dtype);
        };
        let g: tf.Tensor;
        try { g = tf.grad(reduce)(finite, up); } finally { backend.write = write; }
        // On wasm every tensor lives in the heap: an array written from JavaScript is an upload (cpu's tensors are arrays).
        if (name === 'wasm') expect(largest, `${op} ${axis}: largest array uploaded`).to.be.below(x.size);
        const axes = tf.util.parseAxisParam([...axis], x.shape), expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const n = axes.reduce((a, i) => a * x.shape[i]!, 1);
        const ref = tf.tidy(() => { const p = tf.mul(tf.reshape(up, expanded), tf.ones(x.shape)); return op === 'sum' ? p : tf.div(p, n); });
        expect(await bits(g), `${name} ${op} ${axis}`).to.deep.equal(await bits(ref));
        tf.dispose([up, g, ref]);
      }
      tf.dispose([x, dy, got, want, finite]);
      expect(tf.memory().numTensors, `${name}: tensors left`).to.equal(before);
      expect(tf.engine().backend.numDataIds(), `${name}: backend buffers left`).to.equal(dataBefore);
    }
  });

  it('batch norm with per-channel statistics equals the float64 formula (with and without scale and offset); other shapes: wasm\'s own kernel', async () => {
    await useBackend('wasm');
    const shape = [2, 9, 7, 6], c = 6, n = 2 * 9 * 7 * 6;
    const xs = det('wasm-bn/x', n, 3).map((v, i) => v + 40 * ((i % c) - 2)); // channel means far from zero
    const ms = Array.from({ length: c }, (_, k) => 40 * (k - 2) + 0.1 * k), vs = Array.from({ length: c }, (_, k) => 0.5 + k);
    const ss = Array.from({ length: c }, (_, k) => 1.5 - 0.4 * k), os = Array.from({ length: c }, (_, k) => 0.25 * k - 1);
    const x = tf.tensor4d(xs, shape as [number, number, number, number]);
    const [m, v, sc, of] = [ms, vs, ss, os].map((a) => tf.tensor1d(a));
    for (const [withScale, withOffset] of [[true, true], [false, true], [true, false], [false, false]]) {
      const y = await tf.batchNorm(x, m!, v!, withOffset ? of : undefined, withScale ? sc : undefined, 1e-3).data();
      let err = 0, max = 0;
      xs.forEach((xv, i) => {
        const k = i % c;
        const want = (xv - ms[k]!) / Math.sqrt(vs[k]! + 1e-3) * (withScale ? ss[k]! : 1) + (withOffset ? os[k]! : 0);
        err = Math.max(err, Math.abs(y[i]! - want));
        max = Math.max(max, Math.abs(want));
      });
      expect(err / max, `scale ${withScale}, offset ${withOffset}`).to.be.below(1e-6);
    }
    // Statistics of x's full shape are not per-channel: wasm's own kernel, the same formula.
    const full = (a: number[]) => tf.tidy(() => tf.mul(tf.ones(shape), tf.tensor1d(a)));
    const [mf, vf, sf, off] = [full(ms), full(vs), full(ss), full(os)];
    const yFull = await tf.batchNorm(x, mf, vf, off, sf, 1e-3).data(), yChan = await tf.batchNorm(x, m!, v!, of, sc, 1e-3).data();
    yFull.forEach((val, i) => expect(Math.abs(val - yChan[i]!)).to.be.below(1e-4));
    tf.dispose([x, m!, v!, sc!, of!, mf, vf, sf, off]);
  });

  it('batch norm in training mode (tfjs-layers\' layer and the zoo\'s): dx, dgamma and dbeta equal the float64 closed form on wasm and cpu', async () => {
    const [n, h, w, c] = [2, 5, 6, 4], eps = 1e-3, m = n * h * w;
    const xData = det('bn-grad/x', n * h * w * c, 2).map((v, i) => v * (1 + (i % c)) + (i % c)); // per-channel scales and offsets
    const rData = det('bn-grad/r', n * h * w * c, 1), gamma = [0.5, 1.5, -0.7, 2], beta = [0.1, -0.2, 0.3, 0];
    // float64: xhat = (x - mean) / sqrt(var + eps); dx = gamma / sqrt(var + eps) / M * (M r - sum r - xhat sum(r xhat)).
    const want = { dx: new Float64Array(xData.length), dgamma: new Float64Array(c), dbeta: new Float64Array(c) };
    for (let ch = 0; ch < c; ch++) {
      const idx = Array.from({ length: m }, (_, i) => i * c + ch);
      const mu = idx.reduce((a, i) => a + xData[i]!, 0) / m;
      const v = idx.reduce((a, i) => a + (xData[i]! - mu) ** 2, 0) / m, inv = 1 / Math.sqrt(v + eps);
      const sumR = idx.reduce((a, i) => a + rData[i]!, 0), sumRX = idx.reduce((a, i) => a + rData[i]! * (xData[i]! - mu) * inv, 0);
      want.dbeta[ch] = sumR;
      want.dgamma[ch] = sumRX;
      for (const i of idx) want.dx[i] = (gamma[ch]! * inv / m) * (m * rData[i]! - sumR - (xData[i]! - mu) * inv * sumRX);
    }
    for (const [backend, kind] of [['wasm', 'stock'], ['wasm', 'zoo'], ['cpu', 'stock'], ['cpu', 'zoo']] as const) {
      await useBackend(backend);
      const layer = kind === 'zoo' ? new BatchNorm({ epsilon: eps }) : tf.layers.batchNormalization({ epsilon: eps });
      const x = tf.variable(tf.tensor4d(xData, [n, h, w, c]));
      layer.apply(tf.input({ shape: [h, w, c] }));
      layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), tf.zeros([c]), tf.ones([c])]);
      const r = tf.tensor4d(rData, [n, h, w, c]);
      const vars = [x, ...layer.trainableWeights.map((v) => v.read() as tf.Variable)];
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, r)), vars);
      const [dx, dgamma, dbeta] = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
      const close = (got: Float32Array, ref: Float64Array, what: string) => {
        const scale = Math.max(...ref.map(Math.abs));
        got.forEach((g, i) => expect(Math.abs(g - ref[i]!) / scale, `${backend} ${kind} ${what}[${i}]`).to.be.below(1e-5));
      };
      close(dx!, want.dx, 'dx');
      close(dgamma!, want.dgamma, 'dgamma');
      close(dbeta!, want.dbeta, 'dbeta');
      tf.dispose([value, x, r, ...Object.values(grads)]);
      layer.dispose();
    }
  });

  it('the zoo\'s BatchNorm in training mode: tfjs-layers\' outputs, moving statistics and gradients with one gradient node (fewer kernels), no tensor left; inference and saving as tfjs\'s own', async () => {
    const shape = [3, 5, 4, 6];
    const weights = () => [tf.tensor1d(det('bn-zoo/g', 6, 1)), tf.tensor1d(det('bn-zoo/b', 6, 1)), tf.tensor1d(det('bn-zoo/m', 6, 1)), tf.tensor1d(det('bn-zoo/v', 6, 1).map((v) => 1 + Math.abs(v)))];
    for (const backend of ['wasm', 'cpu'] as const) {
      await useBackend(backend);
      const x = tf.tensor4d(det('bn-zoo/x', 360, 3).map((v, i) => v + (i % 6)), shape as [number, number, number, number]);
      const r = tf.tensor4d(det('bn-zoo/r', 360, 1), shape as [number, number, number, number]);
      const runs = [tf.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }), new BatchNorm({ epsilon: 1e-5, momentum: 0.9 })].map((layer) => {
        layer.build(shape);
        layer.setWeights(weights());
        const before = tf.memory().numTensors;
        const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
        const loss = (xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, r)) as tf.Scalar;
        const gx = tf.grad(loss)(x);
        const { value, grads } = tf.variableGrads(() => loss(x), vars);
        const y = layer.apply(x, { training: true }) as tf.Tensor, yi = layer.apply(x, { training: false }) as tf.Tensor;
        const out = { y: y.dataSync(), yi: yi.dataSync(), dx: gx.dataSync(), dg: grads[vars[0]!.name]!.dataSync(), db: grads[vars[1]!.name]!.dataSync(),
          moving: layer.getWeights().slice(2).map((w) => Array.from(w.dataSync())) };
        tf.dispose([gx, value, y, yi, ...Object.values(grads)]);
        expect(tf.memory().numTensors - before, `${backend} ${layer.constructor.name}: tensors left`).to.equal(0);
        return { layer, out };
      });
      const [stock, zoo] = runs as [typeof runs[0], typeof runs[0]];
      expect(zoo.layer.getClassName()).to.equal('BatchNormalization');
      expect(Array.from(zoo.out.yi), `${backend}: inference mode`).to.deep.equal(Array.from(stock.out.yi));
      expect(zoo.out.moving, `${backend}: moving mean and variance after three training-mode calls`).to.deep.equal(stock.out.moving);
      for (const k of ['y', 'dx', 'dg', 'db'] as const) expect(relErr(zoo.out[k] as Float32Array, stock.out[k] as Float32Array), `${backend} ${k}`).to.be.at.most(1e-6);
      // Kernels of one training-mode forward and backward pass.
      const count = async (layer: tf.layers.Layer) => (await tf.profile(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, r)))(x))).kernelNames.length;
      const [ks, kz] = [await count(stock.layer), await count(zoo.layer)];
      expect(kz, `${backend}: kernels ${kz} (zoo) vs ${ks} (tfjs-layers)`).to.be.below(ks);
      // Saved and loaded again, it is tfjs-layers' own class.
      const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: shape.slice(1) }), zoo.layer] });
      const loaded = await tf.models.modelFromJSON(model.toJSON(undefined, false) as tf.serialization.ConfigDict);
      const bn = loaded.layers.find((l) => l.name === zoo.layer.name);
      expect(bn?.getClassName()).to.equal('BatchNormalization');
      expect(bn).to.not.be.instanceOf(BatchNorm);
      tf.dispose([x, r]);
      const stockModel = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: shape.slice(1) }), stock.layer] });
      for (const m of [loaded, model, stockModel]) m.dispose();
    }
  });

  it('a training step skips the input gradients it never reads (first trained convolution) and its weight gradients are unchanged', async () => {
    await useBackend('wasm');
    const inp = tf.input({ shape: [15, 13, 3] });
    let y = activation(batchNorm(conv2d(inp, 'stem', { filters: 8, kernel: 7, stride: 2, padding: 3, bias: false }), 'stem.bn'), 'stem.relu');
    y = conv2d(y, 'dw', { filters: 8, kernel: 3, padding: 1, groups: 8, bias: false });
    y = conv2d(y, 'pw', { filters: 6, kernel: 1 });
    const model = tf.model({ inputs: inp, outputs: linear(globalPool(y, 'pool'), 'fc', 4) });
    const weights = (names: string[]) => model.layers.filter((l) => names.includes(l.name)).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
    const all = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const kernel = (layer: string) => model.getLayer(layer).trainableWeights[0]!.read();
    // Trained whole: the stem (behind its ZeroPadding2D) reads the input only; fine-tuning from the depthwise layer on: that one.
    expect(unreadInputFilters(model, all)).to.deep.equal([kernel('stem')]);
    expect(unreadInputFilters(model, weights(['dw', 'pw', 'fc']))).to.deep.equal([kernel('dw')]);
    expect(unreadInputFilters(model, weights(['pw', 'fc']))).to.deep.equal([kernel('pw')]);
    expect(unreadInputFilters(model, weights(['fc']))).to.deep.equal([]);

    const x = tf.tensor4d(det('unread/x', 2 * 15 * 13 * 3, 1), [2, 15, 13, 3]);
    const r = tf.tensor2d(det('unread/r', 2 * 4, 1), [2, 4]);
    const loss = () => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar;
    const plain = tf.variableGrads(loss, all);
    const before = tf.memory().numTensors;
    const skipped = trainingStep(model, all, () => tf.variableGrads(loss, all));
    expect(tf.memory().numTensors - before, 'tensors of one step (value and gradients) only').to.equal(1 + all.length);
    expect(skipped.value.dataSync()[0]).to.equal(plain.value.dataSync()[0]);
    for (const v of all) expect(Array.from(skipped.grads[v.name]!.dataSync()), v.name).to.deep.equal(Array.from(plain.grads[v.name]!.dataSync()));
    // Inside the step the stem's dx is zeros (not computed); outside it is the real gradient.
    const dxStem = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(model.apply(t, { training: true }) as tf.Tensor, r)))(x);
    const inside = trainingStep(model, all, dxStem), outside = dxStem();
    expect(inside.dataSync().every((v) => v === 0)).to.equal(true);
    expect(outside.dataSync().some((v) => v !== 0)).to.equal(true);
    tf.dispose([x, r, inside, outside, plain.value, skipped.value, ...Object.values(plain.grads), ...Object.values(skipped.grads)]);
    model.dispose();
  });

  it('a step of micro-batches derives each flipped filter once, frees them all when it ends, and equals the micro-batches run apart', async () => {
    await useBackend('wasm');
    const inp = tf.input({ shape: [11, 10, 4] });
    let y = conv2d(inp, 'a', { filters: 6, kernel: 3, padding: 1 });
    y = conv2d(y, 'b', { filters: 8, kernel: 3, stride: 2, padding: 1, bias: false }); // dx by phases
    y = conv2d(y, 'dw', { filters: 8, kernel: 3, padding: 1, groups: 8, bias: false });
    y = conv2d(y, 'pw', { filters: 5, kernel: 1 });
    const model = tf.model({ inputs: inp, outputs: linear(globalPool(y, 'pool'), 'fc', 3) });
    const all = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const xs = [0, 1].map((i) => tf.tensor4d(det(`derived/x${i}`, 2 * 11 * 10 * 4, 1), [2, 11, 10, 4]));
    const r = tf.tensor2d(det('derived/r', 2 * 3, 1), [2, 3]);
    const grads = (x: tf.Tensor) => tf.variableGrads(() => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar, all);
    const values = (g: ReturnType<typeof grads>) => all.map((v) => Array.from(g.grads[v.name]!.dataSync()));
    const release = (g: ReturnType<typeof grads>) => tf.dispose([g.value, ...Object.values(g.grads)]);
    const apart = xs.map((x) => { const g = grads(x); const v = values(g); release(g); return v; });
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const base = backend.numDataIds();
    const held: number[] = [];
    const together = trainingStep(model, all, () => xs.map((x) => {
      const g = grads(x);
      const v = values(g);
      release(g);
      held.push(backend.numDataIds() - base);
      return v;
    }));
    // Inside the step the derived filters stay (the dx of a, b's four phases, dw, pw; the first convolution's is
    // unread), the second micro-batch derives none; after it, nothing is left.
    expect(held[0]).to.be.greaterThan(0);
    expect(held[1]).to.equal(held[0]);
    expect(backend.numDataIds()).to.equal(base);
    expect(together).to.deep.equal(apart);
    tf.dispose([...xs, r]);
    model.dispose();
  });

  it('batchGradients: a batch run as micro-batches gives the whole batch\'s mean loss and gradients (batch norm in inference mode)', async () => {
    await useBackend('wasm');
    const inp = tf.input({ shape: [9, 9, 3] });
    let y = activation(batchNorm(conv2d(inp, 'stem', { filters: 6, kernel: 3, stride: 2, padding: 1, bias: false }), 'stem.bn'), 'stem.relu');
    y = conv2d(y, 'dw', { filters: 6, kernel: 3, padding: 1, groups: 6 });
    const model = tf.model({ inputs: inp, outputs: linear(globalPool(y, 'pool'), 'fc', 4) });
    const all = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = tf.tensor4d(det('batch-grads/x', 7 * 9 * 9 * 3, 1), [7, 9, 9, 3]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2], 'int32'), 4);
    const loss = (xs: tf.Tensor, ys: tf.Tensor) => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: false }) as tf.Tensor) as tf.Scalar;
    const whole = tf.variableGrads(() => loss(x, labels), all);
    const sizes: number[] = [];
    const before = tf.memory().numTensors;
    const parts = batchGradients(model, all, 7, 3, (begin, size) => { sizes.push(size); return loss(x.slice(begin, size), labels.slice(begin, size)); });
    expect(tf.memory().numTensors - before, 'the loss and one gradient per variable').to.equal(1 + all.length);
    expect(sizes).to.deep.equal([3, 3, 1]);
    expect(Math.abs(parts.loss.dataSync()[0]! - whole.value.dataSync()[0]!)).to.be.below(1e-6);
    for (const v of all) expect(relErr(parts.grads[v.name]!.dataSync() as Float32Array, whole.grads[v.name]!.dataSync() as Float32Array), v.name).to.be.at.most(BOUND);
    tf.dispose([x, labels, whole.value, parts.loss, ...Object.values(whole.grads), ...Object.values(parts.grads)]);
    model.dispose();
  });

  it('depthwise dx runs only the kernel sizes XNNPACK has kernels for (phases of slow sizes get zero taps), with the same gradients', async () => {
    expect([[2, 1], [1, 2], [3, 2], [2, 3], [5, 1], [4, 2], [1, 1], [3, 1], [2, 2], [3, 3], [5, 5], [7, 7]].map(([r, c]) => fastDepthwiseKernel(r!, c!)))
      .to.deep.equal([[3, 1], [1, 3], [3, 3], [3, 3], [9, 1], [5, 5], null, null, null, null, null, null]);
    await useBackend('wasm');
    const taps: number[] = [];
    const run = KernelScope.prototype.run;
    KernelScope.prototype.run = function (this: KernelScope, name: string, inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[], attrs?: Record<string, unknown>) {
      if (name === 'DepthwiseConv2dNative') { const f = (inputs as Record<string, tf.TensorInfo>).filter!; taps.push(f.shape[0]! * f.shape[1]!); }
      return run.call(this, name, inputs, attrs);
    };
    try {
      for (const [k, s] of [[3, 2], [5, 2], [3, 1]] as const) {
        const x = tf.tensor4d(det(`dw-fast/${k}/x`, 2 * 9 * 8 * 4, 1), [2, 9, 8, 4]), f = tf.tensor4d(det(`dw-fast/${k}/f`, k * k * 4, 1), [k, k, 4, 1]);
        const loss = (a: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, f, s, 'same'), tf.range(1, 1 + tf.depthwiseConv2d(x, f, s, 'same').size).reshape(tf.depthwiseConv2d(x, f, s, 'same').shape)));
        const before = taps.length;
        const got = tf.tidy(() => tf.grad(loss)(x).dataSync() as Float32Array);
        expect(taps.length, `${k}x${k} stride ${s}: depthwise convolutions run`).to.be.greaterThan(before);
        expect(taps.slice(before).every((t) => [1, 3, 4, 9, 25].includes(t)), `${k}x${k} stride ${s}: taps ${taps.slice(before)}`).to.equal(true);
        await useBackend('cpu');
        const want = tf.tidy(() => tf.grad(loss)(x).dataSync() as Float32Array);
        await useBackend('wasm');
        expect(relErr(got, want), `${k}x${k} stride ${s}`).to.be.at.most(BOUND);
        tf.dispose([x, f]);
      }
    } finally {
      KernelScope.prototype.run = run;
    }
  });

  it('interleave (strided dx\'s phases) writes each phase once on wasm, no Concat or PadV2; equal to indexing and to the padded-and-concatenated path (cpu)', async () => {
    const cases = [
      { n: 2, h: 7, w: 5, c: 3, sh: 2, sw: 2, zeros: ['0,1'] },
      { n: 1, h: 6, w: 9, c: 20, sh: 2, sw: 3, zeros: [] as string[] },
      { n: 2, h: 5, w: 4, c: 17, sh: 3, sw: 1, zeros: ['2,0'] },
      { n: 3, h: 4, w: 7, c: 1, sh: 1, sw: 2, zeros: [] as string[] },
    ];
    const names: string[] = [];
    const run = KernelScope.prototype.run;
    KernelScope.prototype.run = function (this: KernelScope, name: string, inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[], attrs?: Record<string, unknown>) {
      names.push(name);
      return run.call(this, name, inputs, attrs);
    };
    try {
      for (const c of cases) {
        const cell = (r: number, t: number) => [c.n, Math.ceil((c.h - r) / c.sh), Math.ceil((c.w - t) / c.sw), c.c];
        const data = (r: number, t: number) => det(`interleave/${r},${t}`, cell(r, t).reduce((a, b) => a * b), 1);
        const want = new Float32Array(c.n * c.h * c.w * c.c);
        for (let b = 0; b < c.n; b++) for (let y = 0; y < c.h; y++) for (let x = 0; x < c.w; x++) for (let k = 0; k < c.c; k++) {
          const [r, t] = [y % c.sh, x % c.sw], s = cell(r, t);
          if (!c.zeros.includes(`${r},${t}`)) want[((b * c.h + y) * c.w + x) * c.c + k] = data(r, t)[((b * s[1]! + Math.floor(y / c.sh)) * s[2]! + Math.floor(x / c.sw)) * c.c + k]!;
        }
        for (const backend of ['wasm', 'cpu'] as const) {
          await useBackend(backend);
          tf.fill([want.length * 2], 7).dispose(); // leaves the allocator's memory non-zero
          const grid = Array.from({ length: c.sh }, (_, r) => Array.from({ length: c.sw }, (_, t) =>
            c.zeros.includes(`${r},${t}`) ? null : tf.tensor(data(r, t), cell(r, t))));
          names.length = 0;
          const scope = new KernelScope(tf.backend(), backend);
          const out = tf.engine().makeTensorFromTensorInfo(scope.finish(scope.interleave(grid, [c.n, c.h, c.w, c.c])));
          expect(out.shape, `${backend} ${JSON.stringify(c)}`).to.deep.equal([c.n, c.h, c.w, c.c]);
          expect(Array.from(out.dataSync()), `${backend} ${JSON.stringify(c)}`).to.deep.equal(Array.from(want));
          if (backend === 'wasm') expect(names, JSON.stringify(c)).to.deep.equal([]);
          else expect(names, JSON.stringify(c)).to.include('Concat');
          tf.dispose([out, ...grid.flat().filter((g): g is tf.Tensor => g !== null)]);
        }
      }
    } finally {
      KernelScope.prototype.run = run;
    }
  });

  it('rejects NCHW with a CnnZooError that says to transpose', async () => {
    await useBackend('wasm');
    const dy = tf.zeros([1, 2, 4, 4]), f = tf.zeros([3, 3, 2, 2]);
    expect(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { strides: 1, pad: 'same', dataFormat: 'NCHW', inputShape: [1, 2, 4, 4] }))
      .to.throw(/NHWC only.*transpose/);
    tf.dispose([dy, f]);
  });
});
