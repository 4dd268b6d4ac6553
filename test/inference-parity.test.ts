/**
 * Inference-form parity on real fixtures: the folded model (1) predicts the fixture's reference logits within
 * the fixture's tolerance with top-5 agreeing, (2) matches the training form (< 1e-4 relative), and (3) with its weights wiped,
 * loads the fixture's state_dict folded into a TFLite-style checkpoint
 * (conv weight + bias, no batch norm keys) and reproduces the reference again. Every batch norm is folded: into
 * the conv before it, or, where there is none (DenseNet, DPN, pre-activation ResNet, NASNet), into a depthwise 1x1.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../src/backend.js';
import { loadFixture } from '../src/parity/fixture.js';
import { maxRelError, nchwToNhwc, top5Agree } from '../src/parity/run.js';
import { resolveOptions } from '../src/zoo/registry.js';
import { findByFixture } from '../src/parity/run.js';
import { loadStateDict } from '../src/convert/mapping.js';
import { countFlops } from '../src/zoo/count.js';
import { foldStateDict, layerCensus, toInference } from '../src/inference/index.js';
import { fixturePath } from './helpers/shared.js';

function logits(model: tf.LayersModel, input: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(input) as tf.Tensor).dataSync() as Float32Array);
}

function inferenceParityCases(fixtures: readonly string[], backend: BackendName = 'wasm'): void {
  before(async () => { await useBackend(backend); });
  for (const name of fixtures) {
    it(`${name}: folded form reproduces the fixture and the training form; a folded checkpoint loads (${backend})`, async () => {
      const fx = await loadFixture(fixturePath(name));
      const { spec, fixture } = findByFixture(name);
      const options = { ...fixture.options, inputSize: [fx.inputShape[2], fx.inputShape[3]] as [number, number], numClasses: fx.logitsShape[1] };
      const rule = fixture.layout ? spec.keyRules?.[fixture.layout] : undefined;
      const input = nchwToNhwc(fx.input, fx.inputShape);
      let training: tf.LayersModel | undefined = spec.build(resolveOptions(spec, options));
      let inference: tf.LayersModel | undefined;
      try {
        loadStateDict(training, fx.stateDict, { rule, source: `fixture ${name}` });
        const trained = logits(training, input);
        inference = toInference(training);
        const flops = countFlops(training);
        training.dispose();
        training = undefined;
        const ours = logits(inference, input);
        const errRef = maxRelError(ours, fx.logits);
        const errTrain = maxRelError(ours, trained);

        // The same inference model, wiped, then filled from the folded checkpoint.
        for (const layer of inference.layers) tf.tidy(() => layer.setWeights(layer.getWeights().map((w) => tf.zerosLike(w))));
        loadStateDict(inference, foldStateDict(inference, fx.stateDict, rule), { source: `folded fixture ${name}` });
        const fromFolded = logits(inference, input);
        const errFolded = maxRelError(fromFolded, fx.logits);
        const census = layerCensus(inference);
        console.log(`      ${name}: vs reference ${errRef.toExponential(3)} (tolerance ${fx.tolerance}), vs training ${errTrain.toExponential(3)}, ` +
          `folded checkpoint vs reference ${errFolded.toExponential(3)}; ${inference.layers.length} layers, BatchNormalization ${census.BatchNormalization ?? 0}`);
        expect(errRef, 'inference vs reference').to.be.below(fx.tolerance);
        expect(top5Agree(ours, fx.logits, fx.logitsShape[1]), 'top-5 agree').to.equal(true);
        expect(errTrain, 'inference vs training').to.be.below(1e-4);
        expect(errFolded, 'folded checkpoint vs reference').to.be.below(fx.tolerance);
        expect(top5Agree(fromFolded, fx.logits, fx.logitsShape[1]), 'folded checkpoint top-5 agree').to.equal(true);
        expect(countFlops(inference), 'conv+linear FLOPs').to.equal(flops);
        if (fx.flops !== null) expect(flops).to.equal(fx.flops);
        expect(census.Dropout ?? 0, 'dropout left').to.equal(0);
        // Every batch norm is gone: folded into the conv before it, or (no conv before it) a depthwise 1x1.
        expect(census.BatchNormalization ?? 0, 'batch norms left').to.equal(0);
      } finally {
        training?.dispose();
        inference?.dispose();
        input.dispose();
      }
    });
  }
}

describe('inference form on parity fixtures (wasm)', () => {
  inferenceParityCases(['squeezenet1_1', 'vgg11_bn', 'resnet50', 'resnext50_32x4d', 'mobilenet_v2', 'densenet121']);
});

describe('inference form: batch norms with no conv before them (concat and pre-activation nets, wasm)', () => {
  inferenceParityCases(['timm_dpn68', 'timm_resnetv2_50', 'nasnetamobile']);
});
