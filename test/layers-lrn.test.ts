import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { LRN } from '../src/layers/lrn.js';
import { det } from '../src/parity/det.js';

/** Caffe's LRN (ACROSS_CHANNELS) computed directly, element by element, on an NHWC array. */
function caffeLrn(x: Float32Array, shape: [number, number, number, number], size: number, alpha: number, beta: number, k: number): Float32Array {
  const [n, h, w, c] = shape;
  const pre = Math.floor((size - 1) / 2);
  const y = new Float32Array(x.length);
  for (let p = 0; p < n * h * w; p++) {
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let j = ch - pre; j < ch - pre + size; j++) if (j >= 0 && j < c) sum += x[p * c + j]! ** 2;
      y[p * c + ch] = x[p * c + ch]! / (k + (alpha / size) * sum) ** beta;
    }
  }
  return y;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`layers: LRN (Caffe semantics, ${backend})`, () => {
    before(async () => { await useBackend(backend); });

    const shape: [number, number, number, number] = [2, 3, 4, 9];
    // Values of a few units, so alpha/size * sum is not negligible next to k.
    const data = det('lrn-input', 2 * 3 * 4 * 9, 6);
    const cases = [
      { size: 5, alpha: 1e-4, beta: 0.75, k: 1 }, // BVLC GoogLeNet / AlexNet
      { size: 5, alpha: 0.5, beta: 0.75, k: 1 },
      { size: 4, alpha: 0.3, beta: 0.5, k: 2 }, // even window: Caffe puts the extra channel after
      { size: 1, alpha: 0.2, beta: 1, k: 1 },
      { size: 11, alpha: 0.9, beta: 0.75, k: 1 }, // window wider than the channels
    ];
    for (const c of cases) {
      it(`matches a direct computation (size ${c.size}, alpha ${c.alpha}, beta ${c.beta}, k ${c.k})`, () => {
        const layer = new LRN(c);
        const out = tf.tidy(() => layer.apply(tf.tensor4d(data, shape)) as tf.Tensor);
        const ours = out.dataSync() as Float32Array;
        out.dispose();
        const ref = caffeLrn(data, shape, c.size, c.alpha, c.beta, c.k);
        expect(maxAbsDiff(ours, ref)).to.be.below(1e-5);
        // It normalises: for these alphas the output differs clearly from the input.
        if (c.alpha > 0.1) expect(maxAbsDiff(ours, data)).to.be.above(0.1);
      });
    }

    if (backend === 'cpu') it('equals tf.localResponseNormalization with alpha / size (odd windows)', () => {
      const layer = new LRN({ size: 5, alpha: 0.5, beta: 0.75, k: 1 });
      const [a, b] = tf.tidy(() => {
        const x = tf.tensor4d(data, shape);
        return [layer.apply(x) as tf.Tensor, tf.localResponseNormalization(x, 2, 1, 0.5 / 5, 0.75)];
      });
      expect(maxAbsDiff(a!.dataSync() as Float32Array, b!.dataSync() as Float32Array)).to.be.below(1e-5);
      tf.dispose([a!, b!]);
    });

    it('keeps its config through serialization and rejects a bad size', () => {
      const layer = new LRN({ size: 3, alpha: 2e-4, beta: 0.5, k: 2, name: 'norm' });
      const cfg = layer.getConfig();
      expect(cfg).to.include({ size: 3, alpha: 2e-4, beta: 0.5, k: 2 });
      const copy = LRN.fromConfig(LRN, cfg) as LRN;
      expect([copy.size, copy.alpha, copy.beta, copy.k]).to.deep.equal([3, 2e-4, 0.5, 2]);
      expect(() => new LRN({ size: 0 })).to.throw(/positive integer/);
    });
  });
}
