/**
 * Percentile calibration (src/onnx/quantize.ts `calibrate(..., { percentile })`): an outlier stretches the min/max
 * range but not the percentile range; percentile 100 is min/max on one batch; a bad percentile is a CnnZooError.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { calibrate } from '../src/onnx/quantize.js';
import { det } from '../src/parity/det.js';
import { CnnZooError } from '../src/errors.js';

describe('int8 calibration: percentile ranges', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor4D;
  before(async () => {
    await useBackend('wasm');
    const input = tf.input({ shape: [8, 8, 3], name: 'image' });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv', kernelInitializer: 'ones' }).apply(input) as tf.SymbolicTensor;
    model = tf.model({ inputs: input, outputs: conv });
    const v = det('calibrate-percentile', 2 * 8 * 8 * 3, 1); // in [-1, 1)
    v[17] = 50; // one outlier
    x = tf.tensor4d(v, [2, 8, 8, 3]);
  });
  after(() => {
    model.dispose();
    x.dispose();
  });

  it('min/max takes the outlier; the 99th percentile does not; percentile 100 equals min/max', async () => {
    const minMax = await calibrate(model, [x]);
    const p99 = await calibrate(model, [x], { percentile: 99 });
    const p100 = await calibrate(model, [x], { percentile: 100 });
    expect(Object.keys(minMax).sort()).to.deep.equal(['conv', 'image']);
    expect(minMax.image![1]).to.equal(50);
    expect(p99.image![1]).to.be.below(1).and.above(0.9);
    expect(p99.image![0]).to.be.above(-1).and.below(-0.9);
    expect(p99.conv![1]).to.be.at.most(minMax.conv![1]!); // the outlier reaches 36 of the 288 conv outputs: above 1%
    expect(p100).to.deep.equal(minMax);
  });

  it('averages the percentile ranges of the batches', async () => {
    const y = tf.mul(x, 2) as tf.Tensor4D;
    const one = await calibrate(model, [x], { percentile: 99 });
    const two = await calibrate(model, [x, y], { percentile: 99 });
    y.dispose();
    expect(two.image![1]).to.be.closeTo(1.5 * one.image![1]!, 1e-6);
  });

  it('refuses a percentile outside (50, 100]', async () => {
    for (const percentile of [50, 100.5, Number.NaN]) {
      let err: unknown;
      try { await calibrate(model, [x], { percentile }); } catch (e) { err = e; }
      expect(err, String(percentile)).to.be.instanceOf(CnnZooError);
      expect((err as Error).message).to.match(/percentile must be above 50 and at most 100/);
    }
  });
});
