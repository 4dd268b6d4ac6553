/**
 * The bench's ONNX exporter (tools/bench/onnx-export.ts): onnxruntime runs the exported graph of a cnn-zoo model, in
 * training and inference form, and computes cnn-zoo's logits (so `npm run bench` compares equal work).
 * Covers ceil-mode pooling and concat (SqueezeNet), depthwise convs, relu6, padding and residual adds
 * (MobileNet v2), flatten + dense row order (a small VGG-style head).
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { useBackend } from '../src/backend.js';
import { create } from '../src/zoo/registry.js';
import { toInference } from '../src/inference/index.js';
import { maxRelError } from '../src/parity/run.js';
import { conv2d, flatten, input, linear, maxPool, relu } from '../src/zoo/ops.js';
import { exportOnnx } from '../tools/bench/onnx-export.js';
import { inputNchw, setBenchWeights } from '../tools/bench/common.js';

async function compare(model: tf.LayersModel): Promise<number> {
  const [, h, w] = model.inputs[0]!.shape as number[];
  const nchw = inputNchw(2, h!, w!);
  const session = await ort.InferenceSession.create(exportOnnx(model));
  try {
    const out = await session.run({ input: new ort.Tensor('float32', nchw, [2, 3, h!, w!]) });
    const ours = tf.tidy(() => (model.predict(tf.tensor4d(nchw, [2, 3, h!, w!]).transpose([0, 2, 3, 1])) as tf.Tensor).dataSync() as Float32Array);
    return maxRelError(out.logits!.data as Float32Array, ours);
  } finally {
    await session.release();
  }
}

function vggHead(): tf.LayersModel {
  const inp = input({ inputHeight: 16, inputWidth: 16 });
  let x = relu(conv2d(inp, 'features.0', { filters: 8, kernel: 3, padding: 1 }), 'features.1');
  x = maxPool(x, 'features.2', { kernel: 2, stride: 2 });
  x = linear(flatten(x, 'flatten'), 'classifier.0', 10);
  return tf.model({ inputs: inp, outputs: x, name: 'vgg_head' });
}

describe('bench ONNX export runs in onnxruntime with cnn-zoo\'s results', () => {
  before(async () => { await useBackend('wasm'); });

  for (const name of ['squeezenet1_1', 'mobilenet_v2', 'densenet121', 'vgg_head']) {
    it(`${name}: training and inference forms`, async () => {
      const training = name === 'vgg_head' ? vggHead() : create(name, { inputSize: 96 });
      setBenchWeights(training);
      const inference = toInference(training);
      try {
        const errTraining = await compare(training);
        const errInference = await compare(inference);
        console.log(`      ${name}: onnxruntime vs cnn-zoo ${errTraining.toExponential(2)} (training), ${errInference.toExponential(2)} (inference)`);
        expect(errTraining).to.be.below(1e-5);
        expect(errInference).to.be.below(1e-5);
      } finally {
        training.dispose();
        inference.dispose();
      }
    });
  }
});
