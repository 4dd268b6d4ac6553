import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { create } from '../src/zoo/registry.js';
import { parityCases } from './helpers/parity.js';

describe('parity: DPN (wasm and cpu)', () => {
  parityCases(['timm_dpn68', 'timm_dpn68b', 'timm_dpn92', 'timm_dpn98', 'timm_dpn107', 'timm_dpn131']);

  it('runs at its minimum input size (1 px); without the top it ends at 832 channels', () => {
    // conv5 of dpn68: residual 512 + dense 3 * 64 + 2 * 64 = 832 channels (timm's num_features).
    const model = create('dpn68', { inputSize: 1, includeTop: false });
    const y = tf.tidy(() => model.predict(tf.zeros([1, 1, 1, 3])) as tf.Tensor);
    expect(y.shape).to.deep.equal([1, 1, 1, 832]);
    y.dispose();
    model.dispose();
  });
});
