import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { GroupedConv2D, clusterSize } from '../src/layers/grouped-conv2d.js';

type Pad = [[number, number], [number, number]];
interface Case { cin: number; filters: number; groups: number; kernel: [number, number]; strides: [number, number]; padding: Pad; dilation: [number, number]; bias: boolean; size: [number, number] }

/** PyTorch's grouped convolution written out directly: each group's channels convolved on their own. */
function reference(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D | null, c: Case): tf.Tensor4D {
  return tf.tidy(() => {
    const ci = c.cin / c.groups, co = c.filters / c.groups;
    const ys: tf.Tensor4D[] = [];
    for (let g = 0; g < c.groups; g++) {
      const xg = x.slice([0, 0, 0, g * ci], [-1, -1, -1, ci]);
      const kg = kernel.slice([0, 0, 0, g * co], [-1, -1, -1, co]);
      const padded = tf.pad(xg, [[0, 0], c.padding[0], c.padding[1], [0, 0]]);
      ys.push(tf.conv2d(padded, kg, c.strides, 'valid', 'NHWC', c.dilation));
    }
    const y = tf.concat(ys, 3);
    return bias ? tf.add(y, bias) : y;
  });
}

function layerFor(c: Case, packing: number | null): GroupedConv2D {
  const l = new GroupedConv2D({ filters: c.filters, kernelSize: c.kernel, groups: c.groups, strides: c.strides, padding: c.padding, dilationRate: c.dilation, useBias: c.bias });
  l.packing = packing;
  l.apply(tf.input({ shape: [c.size[0], c.size[1], c.cin] })); // builds it, and makes it disposable
  return l;
}

const maxAbs = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

const CASES: Case[] = [
  { cin: 16, filters: 16, groups: 8, kernel: [3, 3], strides: [1, 1], padding: [[1, 1], [1, 1]], dilation: [1, 1], bias: false, size: [9, 9] },
  { cin: 12, filters: 24, groups: 4, kernel: [3, 3], strides: [2, 2], padding: [[1, 1], [1, 1]], dilation: [1, 1], bias: true, size: [11, 10] },
  { cin: 8, filters: 16, groups: 2, kernel: [3, 2], strides: [2, 1], padding: [[0, 2], [1, 0]], dilation: [1, 1], bias: true, size: [8, 9] },
  { cin: 8, filters: 8, groups: 4, kernel: [3, 3], strides: [1, 1], padding: [[2, 1], [0, 2]], dilation: [2, 1], bias: false, size: [7, 8] },
  { cin: 24, filters: 48, groups: 3, kernel: [1, 1], strides: [1, 1], padding: [[0, 0], [0, 0]], dilation: [1, 1], bias: false, size: [5, 5] },
];

describe('GroupedConv2D', () => {
  before(async () => { await useBackend('cpu'); });

  for (const c of CASES) {
    it(`every packing equals the per-group convolution: ${c.cin}->${c.filters} g${c.groups} k${c.kernel} s${c.strides} p${JSON.stringify(c.padding)} d${c.dilation}`, () => {
      const x = tf.randomNormal([2, c.size[0], c.size[1], c.cin]) as tf.Tensor4D;
      for (const packing of [null, ...[1, 2, 3, 4, 8].filter((p) => c.groups % p === 0)]) {
        const l = layerFor(c, packing);
        const [kernel, bias] = l.getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
        if (bias) l.setWeights([kernel, tf.randomNormal([c.filters]) as tf.Tensor1D]);
        const ref = reference(x, kernel, (l.getWeights()[1] as tf.Tensor1D | undefined) ?? null, c);
        const y = l.apply(x) as tf.Tensor4D;
        expect(y.shape, `packing ${packing}`).to.deep.equal(ref.shape);
        expect(y.shape.slice(1), 'computeOutputShape').to.deep.equal(l.computeOutputShape([2, c.size[0], c.size[1], c.cin]).slice(1));
        expect(maxAbs(y, ref), `packing ${packing}`).to.be.below(1e-5);
        tf.dispose([y, ref]);
        l.dispose();
      }
      x.dispose();
    });
  }

  it('follows new weights (the packed-kernel cache is keyed on the kernel value)', () => {
    const c = CASES[0]!;
    const l = layerFor(c, null);
    const x = tf.randomNormal([1, 9, 9, 16]) as tf.Tensor4D;
    tf.dispose(l.apply(x) as tf.Tensor);
    const k2 = tf.randomNormal([3, 3, 2, 16]) as tf.Tensor4D;
    l.setWeights([k2]);
    const y = l.apply(x) as tf.Tensor4D;
    const ref = reference(x, k2, null, c);
    expect(maxAbs(y, ref)).to.be.below(1e-5);
    tf.dispose([x, k2, y, ref]);
    l.dispose();
  });

  it('passes gradients to its kernel (no cached constant while a tape records)', () => {
    const c = CASES[1]!;
    const x = tf.randomNormal([1, 11, 10, 12]) as tf.Tensor4D;
    for (const packing of [null, 1, 2, 4]) {
      const l = layerFor(c, packing);
      tf.dispose(l.apply(x) as tf.Tensor); // fill the inference cache first
      const kernel = l.trainableWeights[0]!.read() as tf.Variable;
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(l.apply(x) as tf.Tensor)) as tf.Scalar, [kernel]);
      const expected = tf.grad((k: tf.Tensor) => tf.sum(tf.square(reference(x, k as tf.Tensor4D, l.getWeights()[1] as tf.Tensor1D, c))))(kernel);
      const scale = tf.max(tf.abs(expected)).dataSync()[0]!;
      expect(maxAbs(grads[kernel.name]!, expected), `packing ${packing}`).to.be.below(1e-5 * scale);
      tf.dispose([expected, ...Object.values(grads)]);
      l.dispose();
    }
    x.dispose();
  });

  it('keeps no tensors beyond its packed kernels, and frees those on dispose', () => {
    const c = CASES[0]!;
    const x = tf.randomNormal([1, 9, 9, 16]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const l = layerFor(c, 2);
    tf.dispose(l.apply(x) as tf.Tensor);
    const afterFirst = tf.memory().numTensors;
    tf.dispose(l.apply(x) as tf.Tensor);
    expect(tf.memory().numTensors, 'second call reuses the cache').to.equal(afterFirst);
    l.dispose();
    expect(tf.memory().numTensors, 'all freed').to.equal(before);
    x.dispose();
  });

  it('packs narrow groups up to 32 output channels (64 when strided), at most 8 groups; none on cpu', () => {
    const l = layerFor(CASES[0]!, null);
    expect(l.clusterSize(), 'cpu backend').to.equal(1);
    l.dispose();
    expect(clusterSize({ groups: 32, outPerGroup: 4, strided: false })).to.equal(8);
    expect(clusterSize({ groups: 32, outPerGroup: 8, strided: false })).to.equal(4);
    expect(clusterSize({ groups: 32, outPerGroup: 8, strided: true })).to.equal(8);
    expect(clusterSize({ groups: 32, outPerGroup: 32, strided: false })).to.equal(1);
    expect(clusterSize({ groups: 64, outPerGroup: 64, strided: true })).to.equal(1);
    expect(clusterSize({ groups: 3, outPerGroup: 4, strided: false })).to.equal(3);
    expect(clusterSize({ groups: 50, outPerGroup: 2, strided: false })).to.equal(5);
  });

  it('rejects channels that do not split into its groups', () => {
    expect(() => new GroupedConv2D({ filters: 10, kernelSize: [3, 3], groups: 4 })).to.throw(/do not split into 4 groups/);
    const l = new GroupedConv2D({ filters: 8, kernelSize: [3, 3], groups: 4 });
    expect(() => l.build([null, 8, 8, 6])).to.throw(/6 input channels do not split into 4 groups/);
    expect(() => new GroupedConv2D({ filters: 8, kernelSize: [3, 3], groups: 4, strides: [2, 2], dilationRate: [2, 2] })).to.throw(/strides or dilation/);
  });
});
