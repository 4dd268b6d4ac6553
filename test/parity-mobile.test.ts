import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parityCases } from './helpers/parity.js';
import { SHARED } from './helpers/shared.js';
import { useBackend } from '../src/backend.js';
import { create, getSpec } from '../src/zoo/registry.js';
import { ChannelShuffle, shufflePermutation } from '../src/layers/channel-shuffle.js';
import { ChannelSlice } from '../src/layers/channel-slice.js';
import { CnnZooError } from '../src/errors.js';
import type { ModelSpec } from '../src/zoo/types.js';

describe('parity: MobileNet v1/v2, ShuffleNet v1/v2 (wasm and cpu)', () => {
  parityCases([
    'mobilenet_v2',
    'timm_mobilenetv1_025', 'timm_mobilenetv1_050', 'timm_mobilenetv1_075', 'timm_mobilenetv1_100',
    'timm_mobilenetv2_035', 'timm_mobilenetv2_050', 'timm_mobilenetv2_075', 'timm_mobilenetv2_100', 'timm_mobilenetv2_140',
    'shufflenet_v2_x0_5', 'shufflenet_v2_x1_0', 'shufflenet_v2_x1_5', 'shufflenet_v2_x2_0',
    'shufflenet_v1_g3_0_5x', 'shufflenet_v1_g3_1_0x', 'shufflenet_v1_g3_1_5x', 'shufflenet_v1_g3_2_0x',
    'shufflenet_v1_g8_0_5x', 'shufflenet_v1_g8_1_0x', 'shufflenet_v1_g8_1_5x', 'shufflenet_v1_g8_2_0x',
  ]);
});

/** The Keras 2.1.4 MobileNet v1 0.25 TF.js artifact, optionally at another [height, width] (its layers are size-free). */
async function loadKerasArtifact(inputSize: readonly [number, number] = [224, 224]): Promise<tf.LayersModel> {
  const dir = join(SHARED, 'weights', 'tfjs-mobilenet_v1_0.25_224');
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: { model_config: { config: { layers: { config: { batch_input_shape?: (number | null)[] } }[] } } };
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const first = json.modelTopology.model_config.config.layers[0]!.config;
  first.batch_input_shape = [null, inputSize[0], inputSize[1], 3];
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const data = new Uint8Array(shards.reduce((a, b) => a + b.length, 0));
  let offset = 0;
  for (const s of shards) { data.set(s, offset); offset += s.length; }
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology as unknown as tf.io.ModelJSON['modelTopology'],
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: data.buffer,
  }));
}

/** Copy the artifact's weights into `model`, layer by layer, through `rename` (our name -> Keras name). */
function copyWeights(model: tf.LayersModel, ref: tf.LayersModel, rename: (ours: string) => string): void {
  for (const layer of model.layers) {
    if (layer.weights.length > 0) layer.setWeights(ref.getLayer(rename(layer.name)).getWeights());
  }
}

const relErr = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);

/** TF-slim scope names of the tf convention -> the Keras names of the same layers. */
function slimToKeras(name: string): string {
  const m = /^MobilenetV1\.Conv2d_(\d+)(?:_(depthwise|pointwise))?(\.BatchNorm)?$/.exec(name);
  if (m) {
    const base = m[2] === undefined ? 'conv1' : `conv_${m[2] === 'depthwise' ? 'dw' : 'pw'}_${m[1]}`;
    return base + (m[3] ? '_bn' : '');
  }
  if (name === 'MobilenetV1.Logits.Conv2d_1c_1x1') return 'conv_preds';
  throw new Error(`no Keras name for ${name}`);
}

/** Whether `spec` cannot be built at `size` px, or some feature map shrinks to nothing there. */
function collapses(spec: ModelSpec, size: number): boolean {
  let m: tf.LayersModel;
  try {
    m = spec.build({ inputHeight: size, inputWidth: size, numClasses: 10, includeTop: false, pooling: null });
  } catch {
    return true;
  }
  const empty = m.layers.some((l) => (l.outputShape as (number | null)[]).some((d) => d !== null && d <= 0));
  m.dispose();
  return empty;
}

describe('mobile family: checkpoint conventions and layers', () => {
  before(async () => { await useBackend('wasm'); });

  it('keras_mobilenet_v1_025 has the TF.js Keras artifact\'s weight names and shapes, and reproduces its output', async () => {
    const ref = await loadKerasArtifact();
    const ours = create('keras_mobilenet_v1_025');
    const refShapes = new Map(ref.weights.map((w) => [w.originalName, w.shape.join('x')]));
    expect(ours.weights.map((w) => `${w.originalName} ${w.shape.join('x')}`))
      .to.deep.equal(ours.weights.map((w) => `${w.originalName} ${refShapes.get(w.originalName) ?? 'absent'}`));
    expect(ours.weights.length).to.equal(refShapes.size);
    copyWeights(ours, ref, (n) => n);
    const x = tf.randomUniform([2, 224, 224, 3], -1, 1, 'float32', 7);
    const probs = ref.predict(x) as tf.Tensor;
    const logits = ours.predict(x) as tf.Tensor;
    const err = relErr(tf.softmax(logits), probs);
    console.log(`      keras_mobilenet_v1_025 vs TF.js artifact: max_rel_err ${err.toExponential(3)}`);
    expect(err).to.be.below(1e-5);
    tf.dispose([x, probs, logits]);
    ours.dispose();
    ref.dispose();
  });

  it('tf_mobilenet_v1 pads like TensorFlow "SAME" (the Keras 2.1.4 artifact uses SAME; run at 161 x 224 px)', async () => {
    // Odd rows: SAME pads (1, 1) at stride 2, where Keras' explicit padding is (0, 1); even columns: SAME pads (0, 1),
    // where PyTorch's is (1, 1). Only SAME itself reproduces the artifact along both axes.
    const size = [161, 224] as const;
    const ref = await loadKerasArtifact(size);
    const refLogits = tf.model({ inputs: ref.inputs, outputs: ref.getLayer('conv_preds').output as tf.SymbolicTensor });
    const ours = create('tf_mobilenet_v1_025', { inputSize: size, numClasses: 1000 });
    copyWeights(ours, ref, slimToKeras);
    const x = tf.randomUniform([2, ...size, 3], -1, 1, 'float32', 11);
    const a = ours.predict(x) as tf.Tensor;
    const b = (refLogits.predict(x) as tf.Tensor).reshape([2, 1000]);
    const err = relErr(a, b);
    console.log(`      tf_mobilenet_v1_025 at 161 x 224 px vs TF.js artifact: max_rel_err ${err.toExponential(3)}`);
    expect(err).to.be.below(1e-5);
    // The Keras convention's maps shrink faster along odd sides.
    const keras = create('keras_mobilenet_v1_025', { inputSize: size });
    expect(keras.getLayer('conv_pw_13_relu').outputShape).to.deep.equal([null, 5, 7, 256]);
    expect(ours.getLayer('MobilenetV1.Conv2d_13_pointwise.Relu6').outputShape).to.deep.equal([null, 6, 7, 256]);
    tf.dispose([x, a, b]);
    [ours, keras, ref].forEach((m) => m.dispose());
  });

  it('TF conventions: 1001 classes, BN epsilon 1e-3, TF-slim scope names, SAME padding from the input size', () => {
    const v2 = create('tf_mobilenet_v2_100', { inputSize: [225, 224] });
    expect(v2.outputs[0]!.shape).to.deep.equal([null, 1001]);
    for (const name of ['MobilenetV2.Conv', 'MobilenetV2.expanded_conv.depthwise', 'MobilenetV2.expanded_conv.project.BatchNorm',
      'MobilenetV2.expanded_conv_1.expand', 'MobilenetV2.expanded_conv_16.project', 'MobilenetV2.Conv_1.BatchNorm',
      'MobilenetV2.Logits.Conv2d_1c_1x1', 'MobilenetV2.expanded_conv_2.add']) {
      expect(() => v2.getLayer(name), name).not.to.throw();
    }
    const eps = (m: tf.LayersModel, n: string) => (m.getLayer(n).getConfig() as { epsilon: number }).epsilon;
    expect(eps(v2, 'MobilenetV2.Conv.BatchNorm')).to.equal(1e-3);
    const pad = (m: tf.LayersModel, n: string) => (m.getLayer(n).getConfig() as { padding: number[][] }).padding;
    // SAME at stride 2: one pixel each side of an odd side (225 rows), only the end of an even one (224 columns).
    expect(pad(v2, 'MobilenetV2.Conv.pad')).to.deep.equal([[1, 1], [0, 1]]);
    expect(pad(v2, 'MobilenetV2.expanded_conv_1.depthwise.pad')).to.deep.equal([[1, 1], [0, 1]]); // 113 x 112
    v2.dispose();
    const torch = create('mobilenet_v2');
    expect(eps(torch, 'features.0.1')).to.equal(1e-5);
    expect(pad(torch, 'features.0.0.pad')).to.deep.equal([[1, 1], [1, 1]]);
    torch.dispose();
    const v1 = create('tf_mobilenet_v1_100');
    expect(v1.outputs[0]!.shape).to.deep.equal([null, 1001]);
    expect(() => v1.getLayer('MobilenetV1.Conv2d_13_pointwise.BatchNorm')).not.to.throw();
    v1.dispose();
  });

  it('timm MobileNet v2 keys map onto the torchvision layout', () => {
    const rule = getSpec('mobilenet_v2_140').keyRules!['timm']!;
    expect(rule('conv_stem.weight')).to.equal('features.0.0.weight');
    expect(rule('blocks.0.0.conv_dw.weight')).to.equal('features.1.conv.0.0.weight');
    expect(rule('blocks.0.0.bn2.running_var')).to.equal('features.1.conv.2.running_var');
    expect(rule('blocks.3.2.conv_pwl.weight')).to.equal('features.9.conv.2.weight');
    expect(rule('blocks.6.0.bn3.bias')).to.equal('features.17.conv.3.bias');
    expect(rule('bn2.weight')).to.equal('features.18.1.weight');
    expect(rule('classifier.bias')).to.equal('classifier.1.bias');
  });

  it('ChannelShuffle is torch\'s view(n, g, c/g, h, w).transpose(1, 2); megvii\'s v1 shuffle is its inverse', () => {
    // Expected permutations printed by PyTorch 1.13: torch.arange(c).view(1, g, c // g, 1, 1).transpose(1, 2).reshape(c).
    const cases: [number, number, number[]][] = [
      [6, 2, [0, 3, 1, 4, 2, 5]], [6, 3, [0, 2, 4, 1, 3, 5]], [12, 4, [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]],
    ];
    for (const [c, g, expected] of cases) {
      const x = tf.range(0, c).reshape([1, 1, 1, c]);
      const y = new ChannelShuffle({ groups: g }).apply(x) as tf.Tensor;
      expect(Array.from(y.dataSync()), `c=${c} g=${g}`).to.deep.equal(expected);
      expect(Array.from(shufflePermutation(c, g))).to.deep.equal(expected);
      tf.dispose([x, y]);
    }
    // megvii: x.reshape(n, c/g, g, h, w).permute(0, 2, 1, 3, 4) with g = 3 on 12 channels = the shuffle with 4 groups.
    expect(Array.from(shufflePermutation(12, 12 / 3))).to.deep.equal([0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
  });

  it('channel layers reject bad configurations with a CnnZooError naming the fix', () => {
    expect(() => new ChannelShuffle({ groups: 0 })).to.throw(CnnZooError, /groups must be a positive integer/);
    const x = tf.input({ shape: [4, 4, 10] });
    expect(() => new ChannelShuffle({ groups: 3 }).apply(x)).to.throw(CnnZooError, /10 channels.*3 groups/);
    expect(() => new ChannelSlice({ start: 8, size: 4 }).apply(x)).to.throw(CnnZooError, /channels 8\.\.11.*10 channels/);
  });

  it('mobile-family models run at their smallest input size and fail to build below it', () => {
    for (const name of ['mobilenet_v1_025', 'keras_mobilenet_v1_025', 'tf_mobilenet_v2_035', 'mobilenet_v2_035', 'shufflenet_v1_g8_0_5x',
      'shufflenet_v2_x0_5', 'effnet', 'fd_mobilenet_0_25x']) {
      const spec = getSpec(name), min = spec.minInputSize;
      // A fixed-window head (ShuffleNet v1's AvgPool2d(7)) fits only some sizes: the smallest size is the trunk's.
      const m = spec.build({ inputHeight: min, inputWidth: min, numClasses: 10, includeTop: true, pooling: null, globalPool: spec.fixedPoolHead !== undefined });
      const y = m.predict(tf.ones([1, min, min, 3])) as tf.Tensor;
      expect(y.shape, name).to.deep.equal([1, 10]);
      expect(y.dataSync().every(Number.isFinite), name).to.equal(true);
      tf.dispose(y);
      m.dispose();
      if (min > 1) expect(collapses(spec, min - 1), `${name} at ${min - 1} px`).to.equal(true);
    }
  });
});
