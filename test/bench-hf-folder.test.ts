/**
 * The bench's transformers.js model folder (tools/bench/hf-folder.ts): built from the shipped MobileNet v2's ONNX
 * export, transformers.js (local files only, onnxruntime-node) loads it through `pipeline('image-classification')`
 * and classifies a photo with the same top-5 classes, in the same order, as cnn-zoo's `classify()`.
 */
import { expect } from 'chai';
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

  it('transformers.js classifies a photo with our top-5 (same classes, same order, probabilities within 2 points)', async () => {
    const zoo = await load('tf_mobilenet_v2_100');
    try {
      await writeTransformersFolder(zoo, join(root, 'mnv2'));
      const config = JSON.parse(readFileSync(join(root, 'mnv2', 'config.json'), 'utf8')) as { id2label: Record<string, string> };
      expect(Object.keys(config.id2label)).to.have.length(1001); // TF MobileNet: background at 0
      const ours = await zoo.classify(PHOTO);
      const { pipeline, env } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = root + '/';
      const classifier = await pipeline('image-classification', 'mnv2', { dtype: 'fp32', device: 'cpu' });
      const theirs = (await classifier(PHOTO, { top_k: 5 })) as { label: string; score: number }[];
      await classifier.dispose();
      expect(theirs.map((p) => p.label)).to.deep.equal(ours.map((p) => p.label));
      // transformers.js resizes with sharp's bilinear, we with PIL's antialiased filter: close, not bit-equal.
      theirs.forEach((p, i) => expect(Math.abs(p.score - ours[i]!.probability)).to.be.below(0.02));
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
