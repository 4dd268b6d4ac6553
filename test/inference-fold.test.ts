/**
 * The inference form (src/inference): on a synthetic graph with every fusion (padding, batch norm after plain,
 * depthwise, grouped and linear layers, relu/relu6 activations, a residual add + relu, dropout) it predicts
 * what the training form predicts on cpu and wasm, has fewer kernels and no batch-norm kernel, keeps layer
 * names and FLOPs, and survives a save/load round trip.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../src/backend.js';
import { det } from '../src/parity/det.js';
import { maxRelError } from '../src/parity/run.js';
import { countFlops } from '../src/zoo/count.js';
import { activation, add, batchNorm, conv2d, dropout, globalPool, input, linear, maxPool, relu } from '../src/zoo/ops.js';
import { createInference, layerCensus, toInference, FusedConv2D } from '../src/inference/index.js';

/** Every fusion the transform knows, on a 20 x 20 input. */
function synthetic(): tf.LayersModel {
  const inp = input({ inputHeight: 20, inputWidth: 20 });
  let x = conv2d(inp, 'stem.conv', { filters: 16, kernel: 3, stride: 2, padding: 1, bias: false });
  x = activation(batchNorm(x, 'stem.bn'), 'stem.act', 'relu6');
  const skip = x;
  let y = conv2d(x, 'block.dw', { filters: 16, kernel: 2, padding: [[0, 1], [0, 1]], groups: 16, bias: false });
  y = relu(batchNorm(y, 'block.dw_bn'), 'block.dw_act');
  y = conv2d(y, 'block.grouped', { filters: 16, kernel: 3, padding: 1, groups: 4 });
  y = relu(batchNorm(y, 'block.grouped_bn', 1e-3), 'block.grouped_act');
  y = conv2d(y, 'block.project', { filters: 16, kernel: 1, bias: false });
  y = batchNorm(y, 'block.project_bn');
  x = relu(add([y, skip], 'block.add'), 'block.act');
  x = conv2d(x, 'expand.dw', { filters: 32, kernel: 3, padding: 1, groups: 16 });
  x = batchNorm(x, 'expand.bn');
  x = maxPool(x, 'pool', { kernel: 2, stride: 2 });
  x = globalPool(x, 'gap');
  x = batchNorm(linear(x, 'head.fc1', 24), 'head.bn1d');
  x = dropout(relu(x, 'head.act'), 'head.drop', 0.5);
  x = linear(x, 'head.fc2', 10);
  return tf.model({ inputs: inp, outputs: x, name: 'synthetic' });
}

/** Deterministic non-trivial weights, batch-norm statistics included (variance in [0.5, 1.5]). */
function randomize(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    layer.setWeights(layer.weights.map((w) => {
      const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
      const role = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      const u = det(w.originalName, n, 0.5);
      if (role === 'moving_variance' || role === 'gamma') return tf.tensor(u.map((v) => 1 + v), w.shape as number[]);
      return tf.tensor(u, w.shape as number[]);
    }));
  }
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

for (const backend of ['cpu', 'wasm'] as BackendName[]) {
  describe(`inference form of a synthetic graph (${backend})`, () => {
    let training: tf.LayersModel;
    let inference: tf.LayersModel;
    let x: tf.Tensor;
    before(async () => {
      await useBackend(backend);
      training = synthetic();
      randomize(training);
      inference = toInference(training);
      x = tf.tensor4d(det('synthetic-input', 2 * 20 * 20 * 3, 2), [2, 20, 20, 3]);
    });
    after(() => {
      training.dispose();
      inference.dispose();
      x.dispose();
    });

    it('predicts what the training form predicts (< 1e-5 relative)', () => {
      const err = maxRelError(predict(inference, x), predict(training, x));
      console.log(`      max_rel_err inference vs training: ${err.toExponential(3)}`);
      expect(err).to.be.below(1e-5);
    });

    it('absorbs padding, batch norms, activations, the residual add and dropout', () => {
      const census = layerCensus(inference);
      expect(census).to.deep.equal({ InputLayer: 1, FusedConv2D: 5, MaxPooling2D: 1, GlobalAveragePooling2D: 1, FusedDense: 2 });
      const project = inference.getLayer('block.project') as FusedConv2D;
      expect(project.residual).to.equal(true);
      expect(project.activation).to.equal('relu');
      expect(project.absorbed.map((a) => a.name)).to.deep.equal(['block.project_bn', 'block.add', 'block.act']);
      const dw = inference.getLayer('block.dw') as FusedConv2D;
      expect(dw.depthwise).to.equal(true);
      expect(dw.padding).to.deep.equal([[0, 1], [0, 1]]);
      expect((inference.getLayer('stem.conv') as FusedConv2D).activation).to.equal('relu6');
    });

    it('keeps layer names (a subset of the training names) and conv+linear FLOPs', () => {
      const names = new Set(training.layers.map((l) => l.name));
      for (const l of inference.layers) expect(names.has(l.name), l.name).to.equal(true);
      expect(countFlops(inference)).to.equal(countFlops(training));
    });

    it('runs fewer kernels, none of them a batch norm', async () => {
      const kernels = async (m: tf.LayersModel) => (await tf.profile(() => m.predict(x) as tf.Tensor)).kernels.map((k) => k.name);
      const before = await kernels(training);
      const after = await kernels(inference);
      console.log(`      kernels: training ${before.length}, inference ${after.length}`);
      expect(before).to.include('FusedBatchNorm');
      expect(after).to.not.include('FusedBatchNorm');
      expect(after.length).to.be.below(before.length);
    });

    it('saves and loads (registered custom layers) with the same output', async () => {
      let artifacts: tf.io.ModelArtifacts | undefined;
      await inference.save(tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }));
      expect(JSON.stringify(artifacts!.modelTopology)).to.contain('"class_name":"FusedConv2D"');
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
      try {
        expect(maxRelError(predict(loaded, x), predict(inference, x))).to.equal(0);
        const project = loaded.getLayer('block.project') as FusedConv2D;
        expect(project.absorbed.map((a) => a.name)).to.deep.equal(['block.project_bn', 'block.add', 'block.act']);
      } finally {
        loaded.dispose();
      }
    });

    it('leaves the training form usable and unchanged', () => {
      const census = layerCensus(training);
      expect(census.BatchNormalization).to.equal(6);
      expect(census.Dropout).to.equal(1);
      expect(training.trainableWeights.length).to.be.greaterThan(0);
    });
  });
}

describe('inference transform options and errors', () => {
  before(async () => { await useBackend('cpu'); });

  it('foldBatchNorm: false keeps batch norms and still matches', () => {
    const training = synthetic();
    randomize(training);
    const partial = toInference(training, { foldBatchNorm: false });
    const x = tf.tensor4d(det('opt-input', 20 * 20 * 3, 2), [1, 20, 20, 3]);
    try {
      expect(layerCensus(partial).BatchNormalization).to.equal(6);
      expect(maxRelError(predict(partial, x), predict(training, x))).to.be.below(1e-5);
    } finally {
      training.dispose();
      partial.dispose();
      x.dispose();
    }
  });

  it('createInference builds a registry model directly in inference form', () => {
    const model = createInference('squeezenet1_1', { inputSize: 64, numClasses: 7 });
    try {
      expect(layerCensus(model)).to.deep.equal({ InputLayer: 1, FusedConv2D: 26, Pool2D: 3, Concatenate: 8, AdaptiveAvgPool2D: 1, Flatten: 1 });
      expect(model.outputs[0]!.shape).to.deep.equal([null, 7]);
    } finally {
      model.dispose();
    }
  });

  it('refuses a layer applied twice, naming it', () => {
    const inp = tf.input({ shape: [4] });
    const shared = tf.layers.dense({ units: 4, name: 'shared' });
    const out = shared.apply(shared.apply(inp)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: out });
    expect(() => toInference(model)).to.throw(/"shared" is applied 2 times/);
    model.dispose();
  });
});
