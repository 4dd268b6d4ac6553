/**
 * WebGPU in Node (Dawn) has no synchronous readback (`dataSync()` needs an OffscreenCanvas there), and in browsers
 * it is slow. So the high-level calls read every tensor asynchronously: here `dataSync`/`arraySync` throw while
 * they run. Measured on an H100 with `cnn-zoo classify --backend webgpu` and `cnn-zoo parity --backend webgpu`
 * (all 77 fixtures), which failed with "OffscreenCanvas is not defined" before.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { useBackend } from '../src/backend.js';
import { load } from '../src/api/index.js';
import { decodeImage } from '../src/image/decode.js';
import { loadFixture } from '../src/parity/fixture.js';
import { runParity } from '../src/parity/run.js';
import { nodeFileSystem } from '../src/index.js';
import { modelWithWeights } from '../src/api/weights.js';
import { ZooModel } from '../src/api/zoo-model.js';
import { getSpec } from '../src/zoo/registry.js';
import { artifactArrays, quantizationError } from '../src/artifacts/save.js';
import { compareWithReference } from '../src/convert/reference.js';
import { DEFAULT_ARCH } from '../src/artifacts/shipped.js';
import { fixturePath, ROOT, SHARED } from './helpers/shared.js';

const GRACE_HOPPER = join(SHARED, 'images', 'grace_hopper.bmp');

describe('no synchronous tensor reads in the inference paths (WebGPU needs that)', () => {
  const proto = tf.Tensor.prototype as unknown as Record<'dataSync' | 'arraySync', (...a: unknown[]) => unknown>;
  const saved = { dataSync: proto.dataSync, arraySync: proto.arraySync };
  before(async () => {
    await useBackend('wasm');
    for (const k of ['dataSync', 'arraySync'] as const) proto[k] = () => { throw new Error(`${k}() called: WebGPU in Node cannot read synchronously`); };
  });
  after(() => { proto.dataSync = saved.dataSync; proto.arraySync = saved.arraySync; });

  it('ZooModel: classify, embed, features, warmup, and pixel-tensor inputs', async () => {
    const model = await load(DEFAULT_ARCH);
    try {
      await model.warmup();
      const top = await model.classify(GRACE_HOPPER);
      expect(top.map((p) => p.label)).to.include('military uniform');
      const img = await decodeImage(GRACE_HOPPER);
      const pixels = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
      const fromTensor = await model.classify(pixels);
      pixels.dispose();
      expect(fromTensor[0]!.label).to.equal(top[0]!.label);
      const [e] = await model.embed(GRACE_HOPPER);
      expect(e).to.have.length(1280);
      const maps = await model.features(GRACE_HOPPER, { stages: [0] });
      expect(maps[0]!.data.length).to.equal(maps[0]!.shape.reduce((a, b) => a * b, 1));
    } finally {
      model.dispose();
    }
  });

  it('classify() on a loaded LayersModel (the CLI) and runParity (cnn-zoo parity)', async () => {
    const m = await modelWithWeights(DEFAULT_ARCH);
    try {
      expect((await new ZooModel(m, getSpec(DEFAULT_ARCH)).classify(await decodeImage(GRACE_HOPPER), { topK: 5 })).map((p) => p.label)).to.include('military uniform');
    } finally {
      m.dispose();
    }
    const r = await runParity(await loadFixture(fixturePath('squeezenet1_1')));
    expect(r.pass).to.equal(true);
  });

  it('the convert path: artifact weights, quantization report, reference pairs', async () => {
    const artifacts = await nodeFileSystem(join(ROOT, 'models', DEFAULT_ARCH)).load!();
    const arrays = await artifactArrays(artifacts);
    expect(arrays.size).to.be.greaterThan(100);
    const m = await modelWithWeights(DEFAULT_ARCH);
    try {
      const q = await quantizationError(m, artifacts);
      expect(q.relToRms).to.equal(0); // the same uint8 weights on both sides
      const size = 224 * 224 * 3;
      const input = { shape: [1, 224, 224, 3], data: new Float32Array(size) };
      const output = { shape: [1, 1001], data: Float32Array.from({ length: 1001 }, (_, i) => (i === 1 ? 1 : 0)) };
      const ref = await compareWithReference(m, input, output);
      expect(ref.softmax).to.equal(true); // a one-hot row sums to 1: compared as probabilities
    } finally {
      m.dispose();
    }
  });
});
