import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { create, getSpec, CnnZooError, countParams, countFlops, predictChecked, useBackend } from '../src/index.js';
import { listSpecs } from '../src/zoo/index.js';
import { withoutInitialisation } from '../src/zoo/ops.js';
import { featureLayerNames, featureLayerReductions, featureStages } from '../src/zoo/heads.js';
import { toInference } from '../src/inference/index.js';

describe('registry', () => {
  before(async () => { await useBackend('cpu'); });

  it('has unique names and complete cards', () => {
    const specs = listSpecs();
    expect(specs.length).to.be.greaterThan(10);
    expect(new Set(specs.map((s) => s.name)).size).to.equal(specs.length);
    for (const s of specs) {
      expect(s.name, s.name).to.match(/^[a-z0-9_.]+$/);
      expect(s.inputSize, s.name).to.be.greaterThan(0);
      expect(s.minInputSize, s.name).to.be.at.most(s.inputSize);
      expect(s.meta.reference, s.name).to.be.a('string').and.not.empty;
    }
  });

  it('rejects an unknown name, listing the closest names', () => {
    expect(() => getSpec('vgg17')).to.throw(CnnZooError, /Unknown model "vgg17"\. Closest names: vgg11, vgg13, vgg16, vgg19/);
    expect(() => create('resnet-50x')).to.throw(CnnZooError, /Unknown model/);
  });

  it('rejects an input size below the minimum, saying the minimum', () => {
    expect(() => create('vgg11', { inputSize: 16 })).to.throw(CnnZooError, /at least 32 px/);
    expect(() => create('squeezenet1_1', { inputSize: 100.5 })).to.throw(CnnZooError, /invalid/);
    expect(() => create('alexnet', { numClasses: 0 })).to.throw(CnnZooError, /numClasses/);
  });

  it('builds at other input sizes (adaptive pooling) and with a new head', () => {
    const m = create('alexnet', { inputSize: 320, numClasses: 10 });
    expect(m.outputs[0]!.shape).to.deep.equal([null, 10]);
    m.dispose();
    const s = create('squeezenet1_1', { inputSize: 193 });
    const y = s.predict(tf.zeros([1, 193, 193, 3])) as tf.Tensor;
    expect(y.shape).to.deep.equal([1, 1000]);
    y.dispose();
    s.dispose();
  });

  it('builds without the top, with optional global pooling', () => {
    const m = create('vgg11', { includeTop: false, pooling: 'avg' });
    expect(m.outputs[0]!.shape).to.deep.equal([null, 512]);
    m.dispose();
    const f = create('squeezenet1_0', { includeTop: false });
    expect(f.outputs[0]!.shape).to.deep.equal([null, 13, 13, 512]);
    f.dispose();
    // With the classifier kept, pooling did nothing (Keras ignores it): a model with 1000 outputs where features were meant.
    expect(() => create('vgg11', { pooling: 'avg' })).to.throw(CnnZooError, 'vgg11: pooling "avg" (a string) applies to the features of a model ' +
      'without its classifier; pass includeTop: false with it (pooled features, as embed() gives), or leave out pooling (the classifier pools its own way).');
  });

  it('feature stages are block outputs, the same in the training and inference forms: no padding layer, no SE gate', () => {
    // The training form's stages were the ZeroPadding2D before each strided conv (tf_mobilenet_v2_100 /2: 113x113, so
    // features() of a classifier from load(base, { classes }) gave padded maps), ResNet's were the first conv of the next
    // block (layer2.0.conv1: 128 channels at /4, not layer1's 256), and SE nets had a 1x1 "stage" at /256 (a gate).
    const want: Record<string, string> = {
      tf_mobilenet_v2_100: '/2 112x112x96, /4 56x56x144, /8 28x28x192, /16 14x14x576, /32 7x7x1280',
      resnet50: '/2 112x112x64, /4 56x56x256, /8 28x28x512, /16 14x14x1024, /32 7x7x2048',
      legacy_seresnet18: '/2 112x112x64, /4 56x56x64, /8 28x28x128, /16 14x14x256, /32 7x7x512',
      darknet53: '/2 128x128x64, /4 64x64x128, /8 32x32x256, /16 16x16x512, /32 8x8x1024',
    };
    for (const [name, stages] of Object.entries(want)) {
      const training = withoutInitialisation(() => create(name));
      const inference = toInference(training);
      const names = featureLayerNames(getSpec(name), training.inputs[0]!.shape[1] as number);
      const shown = (m: tf.LayersModel) => featureStages(m, names).map((st) => {
        const layer = m.getLayer(st.layer);
        expect(layer.getClassName(), `${name} ${st.layer}`).not.to.equal('ZeroPadding2D');
        return `/${st.reduction} ${(layer.outputShape as number[]).slice(1).join('x')}`;
      }).join(', ');
      expect([shown(training), shown(inference)], name).to.deep.equal([stages, stages]);
      training.dispose();
      inference.dispose();
    }
    // At a small input the nearest power of two misnamed maps (Inception v3 at 75 px: 3x3 as /32, 1x1 as /64; MobileNet v2
    // at 40 px: 3x3 and 2x2 both /16, so one was lost); each layer's reduction now comes from the model's own size.
    for (const [name, size, stages] of [['inception_v3', 75, '/2 35x35, /4 15x15, /8 7x7, /16 3x3, /32 1x1'],
      ['mobilenet_v2', 40, '/2 20x20, /4 10x10, /8 5x5, /16 3x3, /32 2x2']] as const) {
      const m = withoutInitialisation(() => create(name, { inputSize: size }));
      const found = featureStages(m, featureLayerNames(getSpec(name), size), featureLayerReductions(getSpec(name)));
      expect(found.map((st) => `/${st.reduction} ${(m.getLayer(st.layer).outputShape as number[]).slice(1, 3).join('x')}`).join(', '), `${name} at ${size}`).to.equal(stages);
      m.dispose();
    }
  });

  it('gives a clear error for a wrong input shape', () => {
    const m = create('squeezenet1_1');
    const bad = (shape: number[]) => () => tf.tidy(() => predictChecked(m, tf.zeros(shape)));
    expect(bad([1, 3, 224, 224])).to.throw(CnnZooError, /looks like NCHW.*transpose/i);
    expect(bad([224, 224, 3])).to.throw(CnnZooError, /batch axis/);
    expect(bad([1, 224, 224, 4])).to.throw(CnnZooError, /4 channels/);
    expect(bad([1, 200, 200, 3])).to.throw(CnnZooError, /built for 224x224/);
    // model.predict of a created model checks the same way; a right batch still runs.
    const direct = (shape: number[]) => () => tf.tidy(() => m.predict(tf.zeros(shape)));
    expect(direct([1, 3, 224, 224])).to.throw(CnnZooError, /looks like NCHW.*transpose/i);
    expect(direct([1, 200, 200, 3])).to.throw(CnnZooError, /built for 224x224/);
    const y = m.predict(tf.zeros([2, 224, 224, 3])) as tf.Tensor;
    expect(y.shape).to.deep.equal([2, 1000]);
    y.dispose();
    m.dispose();
  });

  it('refuses an option name it does not know, naming the closest', () => {
    expect(() => create('resnet50', { inputSze: 128 } as never)).to.throw(CnnZooError, /create\("resnet50"\): unknown option "inputSze"\. Did you mean inputSize\?/);
  });

  it('card params and FLOPs equal the counts of the built model', () => {
    for (const s of listSpecs()) {
      if (s.meta.params === undefined && s.meta.flops === undefined) continue;
      if ((s.meta.params ?? 0) > 30e6) continue; // the big ones are counted in their parity cases
      const m = withoutInitialisation(() => create(s.name)); // counts need the layers, not random weights
      if (s.meta.params !== undefined) expect(countParams(m), `${s.name} params`).to.equal(s.meta.params);
      if (s.meta.flops !== undefined) expect(countFlops(m), `${s.name} FLOPs`).to.equal(s.meta.flops);
      m.dispose();
    }
  });
});
