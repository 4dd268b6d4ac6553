/**
 * The bench's transformers.js model folder (tools/bench/hf-folder.ts): built from the shipped MobileNet v2's ONNX
 * export, transformers.js (local files only, onnxruntime-node) loads it; its model gives cnn-zoo's top-5 and
 * probabilities on our preprocessed photo, and its `pipeline('image-classification')` classifies the file end to end.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../src/backend.js';
import { load } from '../src/api/index.js';
import { exportOnnxWithIo } from '../src/onnx/export.js';
import { CnnZooError } from '../src/errors.js';
import { create } from '../src/zoo/registry.js';
import { preprocessorConfig, writeTransformersFolder } from '../tools/bench/hf-folder.js';

const PHOTO = 'examples/images/grace_hopper.jpg';

describe('bench: transformers.js model folder from our export', function () {
  this.timeout(300000);
  let root: string;
  before(async () => {
    await useBackend('wasm');
    root = mkdtempSync(join(tmpdir(), 'cnn-zoo-hf-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('transformers.js loads the folder (local files only) and its model gives our top-5 and probabilities on our preprocessed photo', async () => {
    const zoo = await load('tf_mobilenet_v2_100');
    try {
      await writeTransformersFolder(zoo, join(root, 'mnv2'));
      const config = JSON.parse(readFileSync(join(root, 'mnv2', 'config.json'), 'utf8')) as { id2label: Record<string, string> };
      expect(Object.keys(config.id2label)).to.have.length(1001); // TF MobileNet: background at 0
      expect(config.id2label['1']).to.equal('tench');
      const ours = await zoo.classify(PHOTO);
      const { pipeline, env, AutoModelForImageClassification, Tensor } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = root + '/';
      // The model alone, on our preprocessing: the same network and weights.
      const model = await AutoModelForImageClassification.from_pretrained('mnv2', { dtype: 'fp32', device: 'cpu' });
      const x = await zoo.preprocess(PHOTO);
      const nchw = tf.tidy(() => x.transpose([0, 3, 1, 2]));
      const pixels = (await nchw.data()) as Float32Array;
      tf.dispose([x, nchw]);
      const { logits } = (await model({ pixel_values: new Tensor('float32', pixels, [1, 3, 224, 224]) })) as { logits: { data: Float32Array } };
      const probs = tf.tidy(() => tf.softmax(tf.tensor1d(logits.data)).dataSync());
      const top = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, 5);
      expect(top.map((i) => config.id2label[String(i)])).to.deep.equal(ours.map((p) => p.label));
      top.forEach((i, k) => expect(Math.abs(probs[i]! - ours[k]!.probability)).to.be.below(1e-4));
      await model.dispose();
      // The pipeline end to end classifies the file with its own resize (sharp's bilinear, no antialiasing as PIL
      // has): it runs and labels with our classes; its ranking may differ from ours (the bench prints both).
      const classifier = await pipeline('image-classification', 'mnv2', { dtype: 'fp32', device: 'cpu' });
      const theirs = (await classifier(PHOTO, { top_k: 5 })) as { label: string; score: number }[];
      await classifier.dispose();
      expect(theirs).to.have.length(5);
      expect(theirs.filter((p) => ours.some((o) => o.label === p.label)).length).to.be.at.least(3);
    } finally {
      zoo.dispose();
    }
  });

  it('maps our preprocessing to transformers.js settings and refuses BGR (it has no channel-order option)', () => {
    const cfg = preprocessorConfig({ size: 224, cropFraction: 0.875, interpolation: 'bilinear', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], channelOrder: 'RGB' });
    expect(cfg).to.include({ resample: 2, do_center_crop: true, rescale_factor: 1 / 255 });
    expect(cfg.size).to.deep.equal({ shortest_edge: 256 });
    expect(cfg.crop_size).to.deep.equal({ height: 224, width: 224 });
    expect(() => preprocessorConfig({ size: 227, cropFraction: 227 / 256, interpolation: 'bilinear', scale: 1, mean: [104, 117, 123], std: [1, 1, 1], channelOrder: 'BGR' }))
      .to.throw(/RGB/);
  });

  it('exportOnnx names the graph input by inputName, and refuses a name that is not an identifier', async () => {
    const model = create('squeezenet1_1', { inputSize: 64 });
    try {
      const { io } = await exportOnnxWithIo(model, { layout: 'NCHW', inputName: 'pixel_values' });
      expect(io.input.name).to.equal('pixel_values');
      let err: unknown;
      try { await exportOnnxWithIo(model, { inputName: 'bad name' }); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(CnnZooError);
      expect((err as Error).message).to.match(/inputName must be an identifier/);
    } finally {
      model.dispose();
    }
  });
});
