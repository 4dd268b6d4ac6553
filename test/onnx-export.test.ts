/**
 * ONNX export (src/onnx): onnxruntime-node runs the exported graph of cnn-zoo models, in training and inference
 * form, at batch 1 and 3 (dynamic batch), and computes cnn-zoo's outputs. The models cover every layer class the
 * export supports where the parity fixtures (test/helpers/parity.ts exports all of them) do not: LRN (BVLC
 * GoogLeNet; other windows and powers in the synthetic model), Reshape and TF-SAME convs (Keras MobileNet v1), flatten + dense row order (a small VGG-style head), and a synthetic model with every pooling variant (ceil mode,
 * count_include_pad, asymmetric padding, TF 'same', adaptive average pooling as matmuls), Cropping2D, Rescaling, ELU, channel shuffle and slice.
 * Also: extra outputs at the feature stages (NHWC, equal to the tfjs layer outputs), the NCHW layout,
 * metadata_props, and the errors (unsupported layer, unknown option or layer). Static int8 (QDQ): onnxruntime fuses
 * every conv into QLinearConv and stays close to the float logits.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { useBackend } from '../src/backend.js';
import { create } from '../src/zoo/registry.js';
import { withoutInitialisation } from '../src/zoo/ops.js';
import { toInference } from '../src/inference/index.js';
import { maxRelError } from '../src/parity/run.js';
import { det } from '../src/parity/det.js';
import { ONNX_PROTO } from '../src/checkpoints/onnx-proto.js';
import { readOnnx } from '../src/checkpoints/onnx.js';
import { onnxFileMetadata, onnxMetadata } from '../src/checkpoints/onnx-metadata.js';
import { loadStateDict } from '../src/convert/mapping.js';
import type { StateDict } from '../src/arrays.js';
import { unfoldBiases } from '../src/convert/match.js';
import { embeddingLayer, featureStages } from '../src/zoo/heads.js';
import { AdaptiveAvgPool2D, ChannelShuffle, ChannelSlice, LRN, Pool2D } from '../src/layers/index.js';
import { batchNorm, concat, conv2d, flatten, input, linear, maxPool, relu, type Sym } from '../src/zoo/ops.js';
import { exportOnnx, exportOnnxWithIo } from '../src/onnx/export.js';
import { CnnZooError } from '../src/errors.js';
import { calibrate, calibrationTensors, quantizePerChannel } from '../src/onnx/quantize.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Random weights everywhere, batch-norm statistics off their defaults (so folding them matters). */
function randomize(model: tf.LayersModel): void {
  let i = 0;
  for (const l of model.layers) {
    l.setWeights(l.getWeights().map((w) => tf.tidy(() => {
      const r = tf.tensor(det(`w${i++}`, w.size, 0.5), w.shape);
      return l.getClassName() === 'BatchNormalization' ? tf.add(w, tf.abs(r).mul(0.2)) : tf.add(w, r.mul(0.2));
    })));
  }
}

const inputOf = (model: tf.LayersModel, batch: number): { data: Float32Array; shape: number[] } => {
  const [, h, w, c] = model.inputs[0]!.shape as number[];
  return { data: det(`x${batch}`, batch * h! * w! * c!, 1), shape: [batch, h!, w!, c!] };
};

/** onnxruntime vs tfjs on `model` at batch 1 and 3: the worst max|ort - tfjs| / max|tfjs| over every output. */
async function compare(model: tf.LayersModel, outputs?: string[]): Promise<number> {
  const session = await ort.InferenceSession.create(await exportOnnx(model, { outputs }), { intraOpNumThreads: 1 });
  try {
    let worst = 0;
    for (const batch of [1, 3]) {
      const { data, shape } = inputOf(model, batch);
      const out = await session.run({ input: new ort.Tensor('float32', data, shape) });
      const probe = outputs ? tf.model({ inputs: model.inputs, outputs: [model.outputs[0]!, ...outputs.map((l) => model.getLayer(l).output as tf.SymbolicTensor)] }) : model;
      const ours = tf.tidy(() => ([probe.predict(tf.tensor(data, shape))].flat() as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
      const onnx = [out.logits ?? out.features!, ...(outputs ?? []).map((l) => out[`features/${l}`]!)];
      onnx.forEach((t, i) => {
        expect(t.dims[0], 'batch axis').to.equal(batch);
        worst = Math.max(worst, maxRelError(t.data as Float32Array, ours[i]!));
      });
    }
    return worst;
  } finally {
    await session.release();
  }
}

/**
 * `build()` randomized, its inference form exported and read back (readOnnx) into a fresh training form with the batch
 * norms put back (`unfoldBiases` as for cnn-zoo's export; `inspect` sees the folded model and the arrays read): the
 * fresh model's error against the model on `batch` images, and how many batch norms were put back.
 */
async function readBackInferenceForm(build: () => tf.LayersModel, file: string, batch: number,
  inspect?: (folded: tf.LayersModel, stateDict: StateDict) => void): Promise<{ err: number; unfolded: number }> {
  const model = build();
  randomize(model);
  const folded = toInference(model);
  const back = withoutInitialisation(build);
  const { data, shape } = inputOf(model, batch);
  const x = tf.tensor(data, shape);
  try {
    const { stateDict } = readOnnx(await exportOnnx(folded), file);
    inspect?.(folded, stateDict);
    const { stateDict: arrays, unfolded } = unfoldBiases(back, stateDict, file, true);
    expect(loadStateDict(back, arrays)).to.deep.include({ missing: [], unused: [] });
    const err = tf.tidy(() => maxRelError((back.predict(x) as tf.Tensor).dataSync() as Float32Array, (model.predict(x) as tf.Tensor).dataSync() as Float32Array));
    return { err, unfolded };
  } finally {
    x.dispose();
    for (const m of [model, folded, back]) m.dispose();
  }
}

function vggHead(): tf.LayersModel {
  const inp = input({ inputHeight: 16, inputWidth: 16 });
  let x = relu(conv2d(inp, 'features.0', { filters: 8, kernel: 3, padding: 1 }), 'features.1');
  x = maxPool(x, 'features.2', { kernel: 2, stride: 2 });
  x = linear(flatten(x, 'flatten'), 'classifier.0', 10);
  return tf.model({ inputs: inp, outputs: x, name: 'vgg_head' });
}

/** Batch norms after a conv with its own bias (VGG-BN, BN-Inception), after a conv without, and alone (DenseNet, DPN). */
function bnHead(): tf.LayersModel {
  const inp = input({ inputHeight: 16, inputWidth: 16 });
  let x = relu(batchNorm(conv2d(inp, 'features.0', { filters: 8, kernel: 3, padding: 1 }), 'features.1'), 'features.2');
  x = batchNorm(maxPool(x, 'features.3', { kernel: 2, stride: 2 }), 'features.4');
  x = relu(batchNorm(conv2d(x, 'features.5', { filters: 6, kernel: 3, padding: 1, bias: false }), 'features.6'), 'features.7');
  x = linear(flatten(x, 'flatten'), 'classifier.0', 10);
  return tf.model({ inputs: inp, outputs: x, name: 'bn_head' });
}

/** Every pooling variant and the small layers no registry model has a fixture for. */
function layerZoo(): tf.LayersModel {
  const inp = input({ inputHeight: 13, inputWidth: 15 });
  const apply = (l: tf.layers.Layer, x: Sym | Sym[]) => l.apply(x) as Sym;
  let x = conv2d(inp, 'stem', { filters: 12, kernel: 3, padding: 1 });
  x = apply(tf.layers.elu({ name: 'stem.act' }), x);
  // LRN's written-out export: an even window (1 before, 2 after), the generic power, the square root, no power.
  x = apply(new LRN({ name: 'lrn.even', size: 4, alpha: 0.5, beta: 0.6, k: 2 }), x);
  x = apply(new LRN({ name: 'lrn.sqrt', size: 3, alpha: 1, beta: 0.5, k: 1 }), x);
  x = apply(new LRN({ name: 'lrn.one', size: 1, alpha: 0.25, beta: 1, k: 1.5 }), x);
  const branches = [
    apply(new Pool2D({ name: 'p.avg_ceil_excl', mode: 'avg', poolSize: [3, 3], strides: [2, 2], padding: [[1, 0], [0, 1]], ceilMode: true, countIncludePad: false }), x),
    apply(new Pool2D({ name: 'p.avg_ceil_incl', mode: 'avg', poolSize: [3, 3], strides: [2, 2], padding: [[1, 1], [1, 1]], ceilMode: true, countIncludePad: true }), x),
    apply(new Pool2D({ name: 'p.max_ceil', mode: 'max', poolSize: [3, 3], strides: [2, 2], padding: [[0, 1], [1, 0]], ceilMode: true }), x),
    apply(new Pool2D({ name: 'p.avg_floor', mode: 'avg', poolSize: [2, 2], strides: [2, 2] }), apply(tf.layers.zeroPadding2d({ name: 'p.pad', padding: [[1, 0], [0, 1]] }), x)),
    apply(tf.layers.averagePooling2d({ name: 'p.avg_same', poolSize: 3, strides: 2, padding: 'same' }), x),
    apply(tf.layers.maxPooling2d({ name: 'p.max_same', poolSize: 2, strides: 2, padding: 'same' }), x),
  ];
  let y = concat(branches, 'cat'); // 7 x 8 x 72
  y = apply(new ChannelShuffle({ name: 'shuffle', groups: 6 }), y);
  y = apply(new ChannelSlice({ name: 'slice', start: 5, size: 40 }), y);
  y = apply(tf.layers.cropping2D({ name: 'crop', cropping: [[1, 0], [2, 1]] }), y); // 6 x 5
  y = apply(tf.layers.rescaling({ name: 'scale', scale: 0.5, offset: 0.25 }), y);
  y = apply(new AdaptiveAvgPool2D({ name: 'adaptive', outputSize: [4, 3] }), y); // 6 x 5 -> 4 x 3: overlapping bins
  y = conv2d(y, 'head', { filters: 16, kernel: 1 });
  y = apply(tf.layers.globalMaxPooling2d({ name: 'pool' }), y);
  y = apply(tf.layers.reshape({ name: 'keepdims', targetShape: [1, 1, 16] }), y);
  y = apply(tf.layers.flatten({ name: 'flat' }), y);
  y = linear(y, 'fc', 7);
  return tf.model({ inputs: inp, outputs: y, name: 'layer_zoo' });
}

const MODELS: Record<string, () => tf.LayersModel> = {
  squeezenet1_1: () => create('squeezenet1_1', { inputSize: 96 }), // ceil-mode pools, concat
  mobilenet_v2: () => create('mobilenet_v2', { inputSize: 96 }), // depthwise, relu6, residual adds
  tf_mobilenet_v1_025: () => create('tf_mobilenet_v1_025', { inputSize: 96 }), // TF 'same', Reshape around a 1x1 conv
  bvlc_googlenet: () => create('bvlc_googlenet'), // LRN
  shufflenet_v1_g3_0_5x: () => create('shufflenet_v1_g3_0_5x', { inputSize: 96, globalPool: true }), // grouped conv, channel shuffle
  effnet: () => create('effnet'), // LeakyReLU
  vgg_head: vggHead,
  layer_zoo: layerZoo,
};

describe('ONNX export: onnxruntime computes cnn-zoo\'s outputs', () => {
  before(async () => { await useBackend('wasm'); });

  for (const [name, build] of Object.entries(MODELS)) {
    it(`${name}: training and inference forms, batch 1 and 3`, async () => {
      const training = build();
      randomize(training);
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

  it('the inference form read back into the training form: folded and lone batch norms come back as batch norms that compute the same', async () => {
    // A conv with its own bias keeps the folded bias (its batch norm becomes the identity); a batch norm stored alone (a
    // depthwise 1x1 scale and shift) becomes one with those; they failed with "weights have no source" (VGG-BN,
    // BN-Inception, DenseNet, DPN, NASNet, EffNet, pre-activation ResNet exports).
    const { err, unfolded } = await readBackInferenceForm(bnHead, 'bn_head.onnx', 2, (folded, stateDict) => {
      expect(folded.layers.some((l) => l.getClassName() === 'BatchNormalization'), 'batch norms left in the inference form').to.equal(false);
      const refused = (() => { try { loadStateDict(bnHead(), unfoldBiases(bnHead(), stateDict, 'bn_head.onnx').stateDict); } catch (e) { return e; } })();
      expect((refused as Error).message, 'without inferenceForm').to.match(/weights have no source: features\.1\/gamma/);
    });
    expect(unfolded, 'batch norms put back').to.equal(3);
    console.log(`      bn_head inference form read back: ${err.toExponential(2)}`);
    expect(err).to.be.below(1e-5);
  });

  it('its weights read back (readOnnx, as load(FILE) reads them) give the model again: a dense after a flattened feature map keeps its column order, float and int8', async () => {
    // cnn-zoo's graph flattens NHWC (a Transpose, then Reshape), so the dense weights' columns are in tfjs's order; the
    // reader reordered them as PyTorch's NCHW flatten, and a VGG or AlexNet export read back computed other logits.
    const model = vggHead();
    randomize(model);
    const { data, shape } = inputOf(model, 2);
    const x = tf.tensor4d(data, shape as [number, number, number, number]);
    const want = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
    try {
      const calibration = await calibrate(model, (async function* () { yield x; })());
      for (const [form, bytes] of [['float', await exportOnnx(model)], ['int8', await exportOnnx(model, { int8: calibration })]] as const) {
        const { stateDict } = readOnnx(bytes, `vgg_head-${form}.onnx`);
        expect(stateDict.get('classifier.0.weight')!.flattenedHWC, form).to.equal(true);
        const back = vggHead();
        const report = loadStateDict(back, stateDict);
        expect([report.missing, report.unused], form).to.deep.equal([[], []]);
        const got = tf.tidy(() => (back.predict(x) as tf.Tensor).dataSync() as Float32Array);
        back.dispose();
        // float: the same weights; int8: the weights rounded to 8 bits per output channel (measured 2.7e-3 to 5.7e-3).
        const err = maxRelError(got, want);
        console.log(`      vgg_head read back (${form}): ${err.toExponential(2)}`);
        expect(err, form).to.be.below(form === 'float' ? 1e-6 : 2e-2);
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  for (const [name, opts] of [['densenet121', { inputSize: 64 }], ['dpn68', { inputSize: 64 }], ['resnetv2_50', { inputSize: 64 }],
    ['bninception', { inputSize: 96 }], ['nasnetamobile', { inputSize: 96, globalPool: true }]] as const) {
    it(`${name}: its inference form exported and read back into its training form computes the same (batch norms folded, alone, after a biased conv)`, async () => {
      const { err } = await readBackInferenceForm(() => create(name, opts), `${name}.onnx`, 1);
      console.log(`      ${name} read back: ${err.toExponential(2)}`);
      expect(err).to.be.below(1e-5);
    });
  }

  it('an adaptive average pool with uneven bins reads back as no weights of its own (its bins multiply from the left)', async () => {
    // Its [w, ow] bins multiplied from the right read as a dense layer's weight: "has 14 weighted layers but model
    // "vgg13_bn" has 13" for VGG at 64 px (a 2x2 map pooled to 7x7).
    const model = layerZoo();
    randomize(model);
    const { data, shape } = inputOf(model, 2);
    const x = tf.tensor(data, shape);
    const back = layerZoo();
    try {
      const r = readOnnx(await exportOnnx(model), 'layer_zoo.onnx');
      expect([r.naming, [...r.stateDict.keys()].filter((k) => /adaptive/.test(k))]).to.deep.equal(['names', []]);
      expect(loadStateDict(back, r.stateDict)).to.deep.include({ missing: [], unused: [] });
      const err = tf.tidy(() => maxRelError((back.predict(x) as tf.Tensor).dataSync() as Float32Array, (model.predict(x) as tf.Tensor).dataSync() as Float32Array));
      expect(err).to.be.below(1e-6);
    } finally {
      x.dispose();
      model.dispose();
      back.dispose();
    }
  });

  it('extra outputs at the feature stages equal the tfjs layer outputs (NHWC), both forms', async () => {
    const training = create('mobilenet_v2', { inputSize: 64 });
    randomize(training);
    const inference = toInference(training);
    try {
      for (const model of [training, inference]) {
        const stages = featureStages(model).map((s) => s.layer);
        expect(stages).to.have.length(5);
        const err = await compare(model, [...stages, embeddingLayer(model, () => featureStages(model))!]);
        console.log(`      mobilenet_v2 feature stages ${stages.join(', ')} and embedding ${embeddingLayer(model, () => featureStages(model))}: ${err.toExponential(2)}`);
        expect(err).to.be.below(1e-5);
      }
      const { io } = await exportOnnxWithIo(inference, { outputs: 'features' });
      expect(io.outputs.map((o) => o.shape)).to.deep.equal([['N', 1000], ['N', 32, 32, 96], ['N', 16, 16, 144], ['N', 8, 8, 192], ['N', 4, 4, 576], ['N', 2, 2, 1280], ['N', 1280]]);
      expect(io.outputs.at(-1)!.name).to.equal('embedding');
      // Asked for by name; a layer asked for by its own name stays `features/<layer>` (the embedding's layer too).
      const named = (await exportOnnxWithIo(inference, { outputs: ['embedding', embeddingLayer(inference, () => featureStages(inference))!] })).io;
      expect(named.outputs.map((o) => [o.name, o.layer])).to.deep.equal([['logits', 'classifier.1'], ['embedding', 'pool'], ['features/pool', 'pool']]);
      const squeeze = create('squeezenet1_1', { inputSize: 64 });
      try {
        await exportOnnx(squeeze, { outputs: ['embedding'] }).then(() => { throw new Error('exported'); }, (e: Error) => {
          expect(e.message).to.match(/^exportOnnx: "squeezenet1_1" has no embedding layer of its own \(.*\); name the layer to output\.$/);
        });
      } finally {
        squeeze.dispose();
      }
    } finally {
      training.dispose();
      inference.dispose();
    }
  });

  it('NCHW layout: input [N, 3, H, W], feature outputs NCHW', async () => {
    const model = create('squeezenet1_1', { inputSize: 64 });
    randomize(model);
    try {
      const stage = featureStages(model)[1]!.layer;
      const session = await ort.InferenceSession.create(await exportOnnx(model, { layout: 'NCHW', outputs: [stage] }), { intraOpNumThreads: 1 });
      const { data, shape } = inputOf(model, 3);
      const nchw = tf.tidy(() => tf.tensor(data, shape).transpose([0, 3, 1, 2]).dataSync() as Float32Array);
      const out = await session.run({ input: new ort.Tensor('float32', nchw, [3, 3, 64, 64]) });
      await session.release();
      const probe = tf.model({ inputs: model.inputs, outputs: [model.outputs[0]!, model.getLayer(stage).output as tf.SymbolicTensor] });
      const [logits, fmap] = tf.tidy(() => (probe.predict(tf.tensor(data, shape)) as tf.Tensor[]).map((t, i) =>
        (i === 1 ? t.transpose([0, 3, 1, 2]) : t).dataSync() as Float32Array));
      expect(maxRelError(out.logits!.data as Float32Array, logits!)).to.be.below(1e-5);
      expect(out[`features/${stage}`]!.dims).to.deep.equal([3, 128, 15, 15]);
      expect(maxRelError(out[`features/${stage}`]!.data as Float32Array, fmap!)).to.be.below(1e-5);
    } finally {
      model.dispose();
    }
  });

  it('writes the cnnZoo metadata (preprocessing, labels, source, licence) and the input/output description into metadata_props', async () => {
    const model = create('squeezenet1_1', { inputSize: 64 });
    const cnnZoo = { format: 'cnn-zoo-weights/1', arch: 'squeezenet1_1', preprocessing: { size: 64, mean: [0.485, 0.456, 0.406] }, labels: 'imagenet1k', source: { format: 'torch' }, licence: 'BSD-3-Clause' };
    model.setUserDefinedMetadata({ cnnZoo });
    try {
      const bytes = await exportOnnx(model, { metadata: { note: 'test' } });
      const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
      const decoded = root.lookupType('onnx.ModelProto').toObject(root.lookupType('onnx.ModelProto').decode(bytes)) as { graph: { input: { name: string }[] } };
      const props = onnxMetadata(bytes);
      expect(JSON.parse(props.cnnZoo!)).to.deep.equal(cnnZoo);
      expect(props.note).to.equal('test');
      const io = JSON.parse(props['cnnZoo.io']!) as { input: { layout: string; shape: unknown[] } };
      expect(io.input).to.deep.include({ layout: 'NHWC', shape: ['N', 64, 64, 3] });
      expect(decoded.graph.input.map((i) => i.name)).to.deep.equal(['input']);
      // Cut short anywhere, from the bytes or the file (whose graph is skipped unread): nothing, not part of it.
      const file = join(mkdtempSync(join(tmpdir(), 'cnn-zoo-meta-')), 'cut.onnx');
      for (const keep of [bytes.length - 1, bytes.length - 40, Math.floor(bytes.length / 2), 3]) {
        expect(onnxMetadata(bytes.subarray(0, keep)), `${keep} of ${bytes.length} bytes`).to.deep.equal({});
        writeFileSync(file, bytes.subarray(0, keep));
        expect(await onnxFileMetadata(file), `a file of ${keep} bytes`).to.deep.equal({});
      }
      writeFileSync(file, bytes);
      expect(await onnxFileMetadata(file)).to.deep.equal(props);
    } finally {
      model.dispose();
    }
  });

  it('refuses an unsupported layer, an unknown option and an unknown output layer with a CnnZooError that names them', async () => {
    const inp = input({ inputHeight: 8, inputWidth: 8 });
    const up = tf.layers.conv2dTranspose({ name: 'up', filters: 2, kernelSize: 2, strides: 2 }).apply(inp) as Sym;
    const model = tf.model({ inputs: inp, outputs: up });
    const squeeze = create('squeezenet1_1', { inputSize: 64 });
    const fails = async (p: Promise<unknown>, re: RegExp) => {
      const e = await p.then(() => null, (err: unknown) => err);
      expect(e).to.be.instanceOf(CnnZooError);
      expect((e as Error).message).to.match(re);
    };
    try {
      await fails(exportOnnx(model), /layer "up" \(Conv2DTranspose\) has no ONNX export/);
      await fails(exportOnnx(squeeze, { output: ['x'] } as never), /unknown option "output"/);
      await fails(exportOnnx(squeeze, { outputs: ['features.99'] }), /no layer "features\.99"/);
      await fails(exportOnnx(squeeze, { int: true } as never), /unknown option "int"\. Did you mean int8\?/);
      await fails(exportOnnx('squeezenet1_1' as never), /^exportOnnx\(model\): model is a tf\.LayersModel \(load\(name\)\.model, or create\(name\)\), got "squeezenet1_1" \(a string\)\.$/);
      await fails(exportOnnx({ model: squeeze } as never), /^exportOnnx\(model\): model is a tf\.LayersModel \(a ZooModel holds one: exportOnnx\(zooModel\.model\)\), got an object\.$/);
    } finally {
      model.dispose();
      squeeze.dispose();
    }
  });

  it('int8: per-channel weights round-trip within half a step; onnxruntime fuses every conv of MobileNet v2 into QLinearConv', async () => {
    const w = det('w', 4 * 3 * 2, 1);
    const { q, scales } = quantizePerChannel(w, [4, 3, 2], 0);
    w.forEach((v, i) => expect(Math.abs(q[i]! * scales[Math.floor(i / 6)]! - v)).to.be.at.most(scales[Math.floor(i / 6)]! / 2 + 1e-7));

    const training = create('mobilenet_v2', { inputSize: 96 });
    randomize(training);
    const model = toInference(training);
    training.dispose();
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-int8-'));
    try {
      const batches = [0, 1].map((b) => tf.tensor4d(det(`cal${b}`, 4 * 96 * 96 * 3, 1), [4, 96, 96, 3]));
      const ranges = await calibrate(model, batches);
      batches.forEach((b) => b.dispose());
      expect(Object.keys(ranges.ranges)).to.have.length(calibrationTensors(model).length);
      expect(Object.keys(ranges.means)).to.have.length(calibrationTensors(model).length);
      const optimized = join(dir, 'optimized.onnx');
      const int8 = await ort.InferenceSession.create(await exportOnnx(model, { int8: ranges }), { intraOpNumThreads: 1, optimizedModelFilePath: optimized });
      const float = await ort.InferenceSession.create(await exportOnnx(model), { intraOpNumThreads: 1 });
      const { data, shape } = inputOf(model, 3);
      const feeds = { input: new ort.Tensor('float32', data, shape) };
      const err = maxRelError((await int8.run(feeds)).logits!.data as Float32Array, (await float.run(feeds)).logits!.data as Float32Array);
      await int8.release();
      await float.release();
      const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
      const T = root.lookupType('onnx.ModelProto');
      const ops = (T.toObject(T.decode(readFileSync(optimized))) as { graph: { node: { op_type: string }[] } }).graph.node.map((n) => n.op_type);
      const convs = model.layers.filter((l) => l.getClassName() === 'FusedConv2D').length;
      console.log(`      int8 vs float logits ${err.toExponential(2)}; ${ops.filter((o) => o === 'QLinearConv').length} QLinearConv of ${convs} convs`);
      expect(ops.filter((o) => o === 'QLinearConv')).to.have.length(convs);
      expect(ops).to.not.include('Conv');
      expect(err).to.be.below(0.25);
    } finally {
      model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
