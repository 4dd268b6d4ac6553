import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { create } from '../src/zoo/registry.js';
import { parityCases } from './helpers/parity.js';

describe('parity: DenseNet (wasm and cpu)', () => {
  parityCases(['densenet121', 'densenet161', 'densenet169', 'densenet201']);

  it('densenet121 keeps the dense-block concatenations bounded in predict() (batch 1)', async () => {
    const model = create('densenet121');
    const x = tf.zeros([1, 224, 224, 3]);
    try {
      const base = tf.memory().numBytes, tensors = tf.memory().numTensors;
      const prof = await tf.profile(() => model.predict(x) as tf.Tensor);
      tf.dispose(prof.result as tf.Tensor);
      // Past the stem (its max pool), every live byte belongs to the dense blocks and transitions.
      const stemEnd = prof.kernels.findIndex((k) => k.name === 'MaxPool');
      expect(stemEnd, 'stem max pool kernel').to.be.greaterThan(0);
      const peak = Math.max(...prof.kernels.slice(stemEnd + 1).map((k) => k.totalBytesSnapshot)) - base;
      const allocated = prof.kernels.reduce((a, k) => a + Math.max(0, k.bytesAdded), 0);
      const blockMap = 56 * 56 * 256 * 4; // denseblock1's output, the widest map of the blocks, in bytes
      console.log(`      densenet121 bs1: peak ${(peak / 2 ** 20).toFixed(2)} MiB live (${(peak / blockMap).toFixed(2)} block maps), ` +
        `${(allocated / 2 ** 20).toFixed(0)} MiB allocated over the pass`);
      // tf.memory() counts reshape views and predict()'s input slice as bytes of their own, so this is an upper
      // bound. The chain x_i = cat(x_{i-1}, y_i) measures 3.0-3.2 block maps (torchvision's per-layer cat of
      // every earlier output: 3.5-3.7); keeping every concatenation alive would take ~90 (the allocated bytes).
      expect(peak).to.be.below(4 * blockMap);
      expect(tf.memory().numTensors, 'tensors leaked by predict()').to.equal(tensors);
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('runs at its minimum input size (29 px)', () => {
    const model = create('densenet121', { inputSize: 29 });
    const y = tf.tidy(() => model.predict(tf.zeros([1, 29, 29, 3])) as tf.Tensor);
    expect(y.shape).to.deep.equal([1, 1000]);
    y.dispose();
    model.dispose();
  });
});
