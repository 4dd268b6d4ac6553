/**
 * The cpu kernels (src/kernels/cpu-kernels.ts) against tfjs-backend-cpu's own: convolutions and the filter gradient
 * against a float64 reference (ours accumulate in float64 and round once, so their error must not exceed the
 * backend's own float32 loop's); Slice, SplitV, Transpose, PadV2, Add, Multiply, Relu and FusedBatchNorm bit for bit; no tensor
 * data left behind.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { CPU_KERNELS, ownCpuKernel, registerCpuKernels, unregisterCpuKernels } from '../src/kernels/cpu-kernels.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase { x: [number, number, number, number]; f: [number, number, number, number]; strides: [number, number]; dilations: [number, number]; pad: Pad }

const CONVS: ConvCase[] = [
  { x: [2, 9, 11, 3], f: [3, 3, 3, 5], strides: [1, 1], dilations: [1, 1], pad: 'same' },
  { x: [1, 17, 13, 24], f: [7, 7, 24, 6], strides: [2, 2], dilations: [1, 1], pad: 'same' }, // TF-SAME, asymmetric
  { x: [3, 10, 10, 16], f: [1, 1, 16, 33], strides: [1, 1], dilations: [1, 1], pad: 'valid' }, // 1x1: no im2col
  { x: [1, 10, 12, 20], f: [1, 1, 20, 8], strides: [2, 2], dilations: [1, 1], pad: 'valid' },
  { x: [2, 12, 9, 7], f: [3, 2, 7, 4], strides: [2, 1], dilations: [1, 1], pad: [[0, 0], [2, 1], [0, 3], [0, 0]] },
  { x: [1, 15, 15, 9], f: [3, 3, 9, 10], strides: [1, 1], dilations: [2, 3], pad: 'same' },
  { x: [1, 6, 6, 130], f: [3, 3, 130, 3], strides: [1, 1], dilations: [1, 1], pad: 'valid' }, // long rows, 3 < 4 outputs
];

function data(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1), out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; out[i] = s / 1073741824 - 1; }
  return out;
}

/** float64 convolution, NHWC, for the explicit padding tfjs derives. */
function reference(x: Float32Array, f: Float32Array, info: tf.backend_util.Conv2DInfo): Float64Array {
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: o } = info;
  const out = new Float64Array(nb * oh * ow * o);
  for (let n = 0; n < nb; n++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) for (let k = 0; k < o; k++) {
    let s = 0;
    for (let ky = 0; ky < info.filterHeight; ky++) for (let kx = 0; kx < info.filterWidth; kx++) {
      const iy = y * info.strideHeight - info.padInfo.top + ky * info.dilationHeight;
      const ix = xx * info.strideWidth - info.padInfo.left + kx * info.dilationWidth;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      for (let ch = 0; ch < c; ch++) s += x[((n * h + iy) * w + ix) * c + ch]! * f[((ky * info.filterWidth + kx) * c + ch) * o + k]!;
    }
    out[((n * oh + y) * ow + xx) * o + k] = s;
  }
  return out;
}

const relErr = (a: ArrayLike<number>, ref: ArrayLike<number>): number => {
  expect(a.length).to.equal(ref.length);
  let d = 0, m = 0;
  for (let i = 0; i < ref.length; i++) { d = Math.max(d, Math.abs(a[i]! - ref[i]!)); m = Math.max(m, Math.abs(ref[i]!)); }
  expect(m).to.be.greaterThan(0);
  return d / m;
};

/** Run a kernel function directly on the cpu backend; returns its outputs' values and frees them. */
function run(kernel: tf.KernelFunc, inputs: Record<string, tf.Tensor>, attrs: object): (Float32Array | Int32Array | Uint8Array)[] {
  const backend = tf.backend();
  const infos = inputs as unknown as tf.NamedTensorInfoMap;
  const out = kernel({ inputs: infos, backend, attrs: attrs as tf.NamedAttrMap });
  return (Array.isArray(out) ? out : [out]).map((t) => {
    const v = (backend.readSync(t.dataId) as Float32Array).slice();
    backend.disposeData(t.dataId);
    return v;
  });
}

describe('cpu kernels (src/kernels/cpu-kernels.ts)', () => {
  before(async () => { await useBackend('cpu'); });

  it('are registered for cpu by useBackend("cpu"), with the backend\'s own kept as fallbacks', () => {
    for (const [name, fn] of Object.entries(CPU_KERNELS)) {
      expect(tf.getKernel(name, 'cpu')?.kernelFunc, name).to.equal(fn);
      expect(ownCpuKernel(name), name).to.be.a('function').and.not.equal(fn);
    }
    unregisterCpuKernels(); // the bench's baseline: tfjs's own
    for (const name of Object.keys(CPU_KERNELS)) expect(tf.getKernel(name, 'cpu')?.kernelFunc, name).to.equal(ownCpuKernel(name));
    registerCpuKernels();
    for (const [name, fn] of Object.entries(CPU_KERNELS)) expect(tf.getKernel(name, 'cpu')?.kernelFunc, name).to.equal(fn);
  });

  for (const c of CONVS) {
    it(`Conv2D ${c.x.join('x')} * ${c.f.join('x')} stride ${c.strides} dilation ${c.dilations} pad ${JSON.stringify(c.pad)}: no farther from float64 than tfjs's own`, () => {
      const xs = data(c.x, 1), fs = data(c.f, 2);
      const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations, c.pad);
      const ref = reference(xs, fs, info);
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dataFormat: 'NHWC' };
      const x = tf.tensor4d(xs, c.x), f = tf.tensor4d(fs, c.f);
      const [ours] = run(CPU_KERNELS.Conv2D!, { x, filter: f }, attrs);
      const [theirs] = run(ownCpuKernel('Conv2D')!, { x, filter: f }, attrs);
      const e = relErr(ours!, ref), own = relErr(theirs!, ref);
      expect(e).to.be.at.most(own).and.below(1e-6);
      tf.dispose([x, f]);
    });
  }

  for (const c of CONVS.filter((cc) => cc.dilations[0] === 1 && cc.dilations[1] === 1)) {
    it(`Conv2DBackpropFilter ${c.x.join('x')} * ${c.f.join('x')} stride ${c.strides} pad ${JSON.stringify(c.pad)}: no farther from float64 than tfjs's own`, () => {
      const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, 1, c.pad);
      const xs = data(c.x, 11), dys = data(info.outShape, 12);
      const [kh, kw, ch, o] = c.f, ref = new Float64Array(kh * kw * ch * o);
      for (let n = 0; n < info.batchSize; n++) for (let y = 0; y < info.outHeight; y++) for (let xx = 0; xx < info.outWidth; xx++) {
        for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
          const iy = y * info.strideHeight - info.padInfo.top + ky, ix = xx * info.strideWidth - info.padInfo.left + kx;
          if (iy < 0 || iy >= info.inHeight || ix < 0 || ix >= info.inWidth) continue;
          for (let i = 0; i < ch; i++) for (let j = 0; j < o; j++) {
            ref[((ky * kw + kx) * ch + i) * o + j] += xs[((n * info.inHeight + iy) * info.inWidth + ix) * ch + i]! * dys[((n * info.outHeight + y) * info.outWidth + xx) * o + j]!;
          }
        }
      }
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
      const x = tf.tensor4d(xs, c.x), dy = tf.tensor4d(dys, info.outShape);
      const [ours] = run(CPU_KERNELS.Conv2DBackpropFilter!, { x, dy }, attrs);
      const [theirs] = run(ownCpuKernel('Conv2DBackpropFilter')!, { x, dy }, attrs);
      expect(relErr(ours!, ref)).to.be.at.most(relErr(theirs!, ref)).and.below(1e-6);
      tf.dispose([x, dy]);
    });
  }

  const DEPTHWISE: ConvCase[] = [
    { x: [2, 13, 11, 8], f: [3, 3, 8, 1], strides: [1, 1], dilations: [1, 1], pad: 'same' },
    { x: [1, 14, 15, 5], f: [5, 5, 5, 1], strides: [2, 2], dilations: [1, 1], pad: 'same' }, // TF-SAME, asymmetric
    { x: [1, 9, 10, 3], f: [3, 3, 3, 1], strides: [1, 1], dilations: [2, 2], pad: 'valid' },
    { x: [2, 8, 7, 6], f: [7, 7, 6, 1], strides: [2, 2], dilations: [1, 1], pad: [[0, 0], [3, 2], [1, 3], [0, 0]] },
    { x: [1, 6, 6, 4], f: [3, 3, 4, 2], strides: [1, 1], dilations: [1, 1], pad: 'same' }, // multiplier 2: backend's own
  ];
  for (const c of DEPTHWISE) {
    it(`DepthwiseConv2dNative ${c.x.join('x')} * ${c.f.join('x')} stride ${c.strides} dilation ${c.dilations} pad ${JSON.stringify(c.pad)}: no farther from float64 than tfjs's own`, () => {
      const xs = data(c.x, 9), fs = data(c.f, 10);
      const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations, c.pad, undefined, true);
      // A depthwise conv is a conv whose filter is zero between different channels.
      const [kh, kw, ch, m] = c.f, dense = new Float32Array(kh * kw * ch * ch * m);
      for (let t = 0; t < kh * kw; t++) for (let i = 0; i < ch; i++) for (let j = 0; j < m; j++) dense[(t * ch + i) * ch * m + i * m + j] = fs[(t * ch + i) * m + j]!;
      const ref = reference(xs, dense, tf.backend_util.computeConv2DInfo(c.x, [kh, kw, ch, ch * m], c.strides, c.dilations, c.pad));
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dataFormat: 'NHWC' };
      const x = tf.tensor4d(xs, c.x), f = tf.tensor4d(fs, c.f);
      const [ours] = run(CPU_KERNELS.DepthwiseConv2dNative!, { x, filter: f }, attrs);
      const [theirs] = run(ownCpuKernel('DepthwiseConv2dNative')!, { x, filter: f }, attrs);
      expect(info.outShape.reduce((a, b) => a * b, 1)).to.equal(ours!.length);
      expect(relErr(ours!, ref)).to.be.at.most(relErr(theirs!, ref)).and.below(1e-6);
      tf.dispose([x, f]);
    });
  }

  const ACTIVATIONS: Record<string, (v: number, channel: number, alpha: Float32Array) => number> = {
    linear: (v) => v,
    relu: (v) => Math.max(v, 0),
    relu6: (v) => Math.min(Math.max(v, 0), 6),
    elu: (v) => (v >= 0 ? v : Math.exp(v) - 1),
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    leakyrelu: (v) => (v < 0 ? 0.1 * v : v),
    prelu: (v, ch, alpha) => (v < 0 ? alpha[ch]! * v : v),
  };
  for (const [activation, fn] of Object.entries(ACTIVATIONS)) {
    it(`FusedConv2D with a bias and ${activation}: no farther from float64 than the backend's own, nothing left behind`, () => {
      const c = CONVS[1]!, o = c.f[3];
      const xs = data(c.x, 3), fs = data(c.f, 4), bs = data([o], 5).map((v) => v * 4), as = data([o], 6); // relu6 clips
      const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations, c.pad);
      const ref = reference(xs, fs, info).map((v, i) => fn(v + bs[i % o]!, i % o, as));
      const x = tf.tensor4d(xs, c.x), f = tf.tensor4d(fs, c.f), bias = tf.tensor1d(bs), alpha = tf.tensor1d(as);
      const inputs: Record<string, tf.Tensor> = activation === 'prelu' ? { x, filter: f, bias, preluActivationWeights: alpha } : { x, filter: f, bias };
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dataFormat: 'NHWC', activation, leakyreluAlpha: 0.1 };
      const before = tf.engine().backend.numDataIds();
      const [ours] = run(CPU_KERNELS.FusedConv2D!, inputs, attrs);
      expect(tf.engine().backend.numDataIds(), 'intermediate left behind').to.equal(before);
      const [theirs] = run(ownCpuKernel('FusedConv2D')!, inputs, attrs);
      expect(relErr(ours!, ref)).to.be.at.most(relErr(theirs!, ref)).and.below(1e-6);
      tf.dispose([x, f, bias, alpha]);
    });
  }

  it('FusedConv2D with a bias it cannot apply per channel, and NCHW Conv2D, go to the backend\'s own kernels', () => {
    const x = tf.tensor4d(data([1, 5, 5, 4], 7), [1, 5, 5, 4]), f = tf.tensor4d(data([3, 3, 4, 2], 8), [3, 3, 4, 2]);
    const scalarBias = tf.scalar(0.5);
    const fused = tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', bias: scalarBias, activation: 'relu' });
    const plain = tf.relu(tf.add(tf.conv2d(x, f, 1, 'same'), 0.5));
    expect(relErr(fused.dataSync(), plain.dataSync())).to.be.below(1e-6);
    const nchw = tf.conv2d(x.transpose([0, 3, 1, 2]) as tf.Tensor4D, f, 1, 'same', 'NCHW');
    expect(relErr(nchw.transpose([0, 2, 3, 1]).dataSync(), tf.conv2d(x, f, 1, 'same').dataSync())).to.be.below(1e-6);
    tf.dispose([x, f, scalarBias, fused, plain, nchw]);
  });

  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    it(`Slice, SplitV, Transpose and PadV2 equal the backend's own bit for bit (${dtype}, ranks 1-5)`, () => {
      const shapes = [[11], [4, 7], [3, 5, 20], [2, 3, 4, 18], [2, 2, 3, 2, 5]];
      for (const shape of shapes) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(Array.from(data([n], shape.length), (v) => (dtype === 'float32' ? v : dtype === 'int32' ? Math.round(v * 100) : v > 0 ? 1 : 0)), shape, dtype);
        const begin = shape.map((d) => Math.floor(d / 3)), size = shape.map((d, i) => d - begin[i]! - (i % 2));
        const sliceAttrs = { begin, size };
        expect(run(CPU_KERNELS.Slice!, { x }, sliceAttrs), `Slice ${shape}`).to.deep.equal(run(ownCpuKernel('Slice')!, { x }, sliceAttrs));
        const contiguous = { begin: shape.map((_, i) => (i === 0 ? 1 : 0)), size: shape.map((d, i) => (i === 0 ? d - 1 : d)) };
        expect(run(CPU_KERNELS.Slice!, { x }, contiguous)).to.deep.equal(run(ownCpuKernel('Slice')!, { x }, contiguous));
        const axis = shape.length - 1, last = shape[axis]!;
        const splitAttrs = { numOrSizeSplits: [1, -1, Math.floor(last / 2)], axis };
        expect(run(CPU_KERNELS.SplitV!, { x }, splitAttrs), `SplitV ${shape}`).to.deep.equal(run(ownCpuKernel('SplitV')!, { x }, splitAttrs));
        for (const perm of [[...shape.keys()].reverse(), [...shape.keys()].map((i) => (i + 1) % shape.length), [...shape.keys()]]) {
          expect(run(CPU_KERNELS.Transpose!, { x }, { perm }), `Transpose ${shape} ${perm}`).to.deep.equal(run(ownCpuKernel('Transpose')!, { x }, { perm }));
        }
        for (const constantValue of [0, 1, -2.5]) {
          const padAttrs = { paddings: shape.map((_, i) => [i % 2, (i + 1) % 3]), constantValue };
          expect(run(CPU_KERNELS.PadV2!, { x }, padAttrs), `PadV2 ${shape} ${constantValue}`).to.deep.equal(run(ownCpuKernel('PadV2')!, { x }, padAttrs));
        }
        x.dispose();
      }
    });
  }

  const bits = (v: Float32Array | Int32Array | Uint8Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length * 4 / v.BYTES_PER_ELEMENT).slice(0, v.BYTES_PER_ELEMENT === 4 ? v.length : undefined));
  const BROADCASTS: [number[], number[]][] = [
    [[2, 5, 6, 7], [2, 5, 6, 7]], [[2, 5, 6, 7], [7]], [[2, 5, 6, 7], [2, 1, 1, 7]], [[1, 5, 6, 1], [2, 5, 6, 7]],
    [[2, 5, 6, 7], []], [[3, 1], [1, 4]], [[4], [3, 1]], [[2, 1, 6, 1], [5, 1, 7]], [[0, 3], [3]],
  ];
  for (const [kernel, op] of [['Add', 'add'], ['Multiply', 'mul']] as const) {
    it(`${kernel} equals the backend's own bit for bit, with and without broadcasting`, () => {
      for (const [sa, sb] of BROADCASTS) {
        const a = tf.tensor(data([sa.reduce((x, y) => x * y, 1)], 13), sa), b = tf.tensor(data([sb.reduce((x, y) => x * y, 1)], 14), sb);
        const [ours] = run(CPU_KERNELS[kernel]!, { a, b }, {}), [theirs] = run(ownCpuKernel(kernel)!, { a, b }, {});
        expect(bits(ours!), `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`).to.deep.equal(bits(theirs!));
        tf.dispose([a, b]);
      }
      const i = tf.tensor1d([1, 2, 3], 'int32'); // other dtypes: the backend's own
      expect(Array.from(run(CPU_KERNELS[kernel]!, { a: i, b: i }, {})[0]!)).to.deep.equal(op === 'add' ? [2, 4, 6] : [1, 4, 9]);
      i.dispose();
    });
  }

  it('Relu and FusedBatchNorm equal the backend\'s own bit for bit (NaN, -0 and infinities too)', () => {
    const xs = data([2 * 3 * 4 * 6], 15);
    xs.set([NaN, -0, 0, Infinity, -Infinity, 1e-45]);
    const x = tf.tensor4d(xs, [2, 3, 4, 6]);
    expect(bits(run(CPU_KERNELS.Relu!, { x }, {})[0]!)).to.deep.equal(bits(run(ownCpuKernel('Relu')!, { x }, {})[0]!));
    const [mean, offset] = [tf.tensor1d(data([6], 16)), tf.tensor1d(data([6], 17))];
    const [variance, scale] = [tf.tensor1d(data([6], 18).map(Math.abs)), tf.tensor1d(data([6], 19))];
    for (const inputs of [{ x, mean, variance, offset, scale }, { x, mean, variance }, { x, mean, variance, scale }] as Record<string, tf.Tensor>[]) {
      for (const attrs of [{ varianceEpsilon: 1e-5 }, {}]) {
        expect(bits(run(CPU_KERNELS.FusedBatchNorm!, inputs, attrs)[0]!), Object.keys(inputs).join()).to.deep.equal(bits(run(ownCpuKernel('FusedBatchNorm')!, inputs, attrs)[0]!));
      }
    }
    const scale4d = tf.tensor4d(data([6], 19), [1, 1, 1, 6]); // ranks differ: the backend's own error
    expect(() => run(CPU_KERNELS.FusedBatchNorm!, { x, mean, variance, scale: scale4d }, {})).to.throw(/equal ranks/);
    tf.dispose([x, mean, offset, variance, scale, scale4d]);
  });

  it('Transpose by tiles (both crossed axes long) and with size-1 axes equals the backend\'s own bit for bit', () => {
    for (const [shape, perm] of [[[70, 130], [1, 0]], [[2, 3, 64, 80], [0, 1, 3, 2]], [[1, 70, 1, 90], [3, 2, 1, 0]], [[2, 20, 1, 3, 17, 2], [4, 1, 0, 5, 3, 2]]] as const) {
      const n = shape.reduce((a: number, b: number) => a * b, 1);
      const x = tf.tensor(data([n], shape.length), [...shape]);
      expect(run(CPU_KERNELS.Transpose!, { x }, { perm }), `Transpose ${shape} ${perm}`).to.deep.equal(run(ownCpuKernel('Transpose')!, { x }, { perm }));
      x.dispose();
    }
  });

  it('MaxPoolGrad routes every gradient to the cell tfjs\'s own does (ties, all-negative, -Infinity and NaN windows, padding)', () => {
    const cases: [number[], [number, number], [number, number], 'valid' | 'same' | number][] = [ // x shape, window, strides, pad
      [[2, 8, 6, 5], [2, 2], [2, 2], 'valid'], [[2, 9, 8, 5], [3, 3], [2, 2], 'same'], [[1, 7, 6, 4], [3, 3], [1, 1], 'same'],
      [[2, 9, 8, 3], [3, 3], [2, 2], 1], [[1, 11, 9, 3], [2, 3], [3, 2], 'valid'], [[1, 7, 6, 3], [1, 1], [2, 2], 'valid'],
    ];
    for (const [shape, filterSize, strides, pad] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      // Quarter steps: many ties; negative offsets per channel: all-negative windows; one -Infinity window, one NaN.
      const v = Float32Array.from(data([n], 7), (d, i) => Math.round(d * 4) / 4 - (i % shape[3]! === 1 ? 5 : 0));
      v.fill(-Infinity, 0, shape[3]! * 2 * shape[2]!);
      v[shape[3]! * 3] = NaN;
      const x = tf.tensor4d(v, shape as [number, number, number, number]);
      const y = tf.maxPool(x, filterSize, strides, pad);
      const dy = tf.tensor(data([y.size], 3), y.shape);
      const attrs = { filterSize, strides, pad, dimRoundingMode: undefined };
      const [ours] = run(CPU_KERNELS.MaxPoolGrad!, { dy, input: x, output: y }, attrs);
      const [theirs] = run(ownCpuKernel('MaxPoolGrad')!, { dy, input: x, output: y }, attrs);
      const m = Math.max(...Array.from(theirs!, Math.abs));
      theirs!.forEach((t, i) => expect(Math.abs(ours![i]! - t), `${shape} ${filterSize} ${strides} ${pad} [${i}]`).to.be.at.most(1e-6 * m));
      tf.dispose([x, y, dy]);
    }
  });

  it('Slice and PadV2 of empty tensors, through the ops', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(tf.slice(x, [0, 1], [2, 0]).shape).to.deep.equal([2, 0]);
    expect(tf.pad(tf.zeros([0, 3]), [[1, 1], [0, 0]], 7).arraySync()).to.deep.equal([[7, 7, 7], [7, 7, 7]]);
    expect(tf.split(x, [1, 2], 1).map((t) => t.arraySync())).to.deep.equal([[[1], [4]], [[2, 3], [5, 6]]]);
  });
});
