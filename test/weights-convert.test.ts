/**
 * Conversion end to end: reference pairs reproduced (ONNX SqueezeNet 1.1 within 1e-4, TFLite SqueezeNet 1.0),
 * the same network from different formats (Keras .h5 = TF.js export; per-blob Caffe = .caffemodel),
 * folded TFLite biases in BN form vs the exact folded computation, tfjs artifacts written with metadata,
 * shards <= 4 MB and tfjs quantization that `tf.loadLayersModel` reads, and `modelWithWeights()` from every source kind.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useBackend } from '../src/backend.js';
import { CnnZooError } from '../src/errors.js';
import { createInference } from '../src/inference/checkpoint.js';
import { det } from '../src/parity/det.js';
import { maxRelError } from '../src/parity/run.js';
import { modelMetadata } from '../src/artifacts/metadata.js';
import { quantizeUint8, saveConverted, uint8Grid } from '../src/artifacts/save.js';
import { readCaffeBlobs, readPrototxt, writeCaffemodel } from '../src/checkpoints/caffe.js';
import { convertCheckpoint } from '../src/convert/convert.js';
import { nodeFileSystem } from '../src/artifacts/node-fs.js';
import { modelWithWeights } from '../src/api/weights.js';
import { loadStateDict } from '../src/convert/mapping.js';
import { readNpy } from '../src/checkpoints/npy.js';
import { compareWithReference } from '../src/convert/reference.js';
import { readSource } from '../src/checkpoints/files.js';
import { SHARED } from './helpers/shared.js';

const W = join(SHARED, 'weights');
const predict = (m: tf.LayersModel, size: number, seed = 'x'): Float32Array => tf.tidy(() =>
  (m.predict(tf.tensor4d(det(seed, size * size * 3, 1), [1, size, size, 3])) as tf.Tensor).dataSync() as Float32Array);

describe('weights: conversion, artifacts and loading', function () {
  let tmp: string;
  before(async () => {
    await useBackend('wasm');
    tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-weights-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const [name, folder, opts] of [
    ['ONNX SqueezeNet 1.1 (.npy, OIHW)', 'onnx-squeezenet1.1-npy', { arch: 'squeezenet1_1', from: 'npy' as const }],
    ['TFLite SqueezeNet 1.0 (.npy, OHWI)', 'tflite-squeezenet1.0-npy', { arch: 'tf_squeezenet1_0', from: 'npy' as const, npyLayout: 'ohwi' as const, layout: 'tflite' }],
  ] as const) {
    it(`${name} reproduces its runtime's test pairs within 1e-4 after save + load`, async () => {
      const c = await convertCheckpoint({ ...opts, inputs: [join(W, folder, 'weights')] });
      const dir = join(tmp, folder);
      await saveConverted(c.model, nodeFileSystem(dir), c.metadata);
      c.model.dispose();
      const model = await modelWithWeights(opts.arch, { weights: dir });
      for (const i of [0, 1, 2]) {
        const d = join(W, folder, 'test_data_set', String(i));
        const r = await compareWithReference(model, readNpy(readFileSync(join(d, 'input_0.npy'))), readNpy(readFileSync(join(d, 'output_0.npy'))));
        console.log(`      pair ${i}: max_rel_err ${r.maxRelErr.toExponential(3)}${r.softmax ? ' (probabilities)' : ''}`);
        expect(r.maxRelErr).to.be.below(1e-4);
        expect(r.top1Agree).to.equal(true);
      }
      model.dispose();
    });
  }

  it('the Keras .h5 and its TF.js export give the same model, equal to running the TF.js artifact itself', async () => {
    const h5 = await convertCheckpoint({ arch: 'keras_mobilenet_v1_025', from: 'keras', inputs: [join(W, 'keras-mobilenet_v1_0.25_224', 'mobilenet_v1_0.25_224.h5')] });
    const js = await convertCheckpoint({ arch: 'keras_mobilenet_v1_025', from: 'tfjs', inputs: [join(W, 'tfjs-mobilenet_v1_0.25_224')] });
    const reference = await tf.loadLayersModel(nodeFileSystem(join(W, 'tfjs-mobilenet_v1_0.25_224')));
    const [a, b, ref] = [predict(h5.model, 224), predict(js.model, 224), predict(reference, 224)];
    const refLogits = ref; // the Keras export ends in softmax; compare probabilities
    const soft = (x: Float32Array) => tf.tidy(() => tf.softmax(tf.tensor1d(x)).dataSync() as Float32Array);
    console.log(`      h5 vs tfjs ${maxRelError(a, b).toExponential(3)}, ours vs the TF.js artifact ${maxRelError(soft(a), refLogits).toExponential(3)}`);
    expect(maxRelError(a, b)).to.be.below(1e-6);
    expect(maxRelError(soft(a), refLogits)).to.be.below(1e-4);
    for (const m of [h5.model, js.model, reference]) m.dispose();
  });

  it('a .caffemodel encoded from the per-blob arrays converts to the same weights', async () => {
    const dir = join(W, 'caffe-squeezenet_v1.1');
    const net = readPrototxt(readFileSync(join(dir, 'deploy.prototxt'), 'utf8'));
    expect(net.inputSize).to.equal(227);
    const blobs = await readCaffeBlobs(net, async (p) => { try { return readFileSync(join(dir, 'weights', p)); } catch { return undefined; } }, dir);
    const file = join(tmp, 'squeezenet_v1.1.caffemodel');
    writeFileSync(file, writeCaffemodel(blobs, 'SqueezeNet'));
    const fromModel = await readSource('caffe', [file, join(dir, 'deploy.prototxt')]);
    expect([...fromModel.stateDict.keys()]).to.deep.equal([...blobs.keys()]);
    for (const [k, v] of blobs) expect(Array.from(fromModel.stateDict.get(k)!.data), k).to.deep.equal(Array.from(v.data));
    const a = await convertCheckpoint({ arch: 'squeezenet1_1', from: 'caffe', inputs: [file, join(dir, 'deploy.prototxt')] });
    const b = await convertCheckpoint({ arch: 'squeezenet1_1', from: 'caffe', inputs: [dir] });
    expect(a.metadata.inputSize).to.equal(227);
    expect(a.metadata.preprocessing.channelOrder).to.equal('BGR');
    expect(maxRelError(predict(a.model, 227), predict(b.model, 227))).to.equal(0);
    a.model.dispose();
    b.model.dispose();
  });

  it('TFLite folded conv biases loaded as BN (gamma 1, var 1 - eps) match the exact folded computation', async () => {
    const file = join(W, 'tflite-mobilenet', 'mobilenet_v1_0.25_128_quant.tflite');
    const bn = await convertCheckpoint({ arch: 'tf_mobilenet_v1_025', from: 'tflite', inputs: [file] });
    expect(bn.report.unfoldedBatchNorms).to.equal(27);
    expect(bn.metadata.classOffset).to.equal(1);
    expect(bn.metadata.inputSize).to.equal(128);
    const folded = createInference('tf_mobilenet_v1_025', { inputSize: 128 });
    const src = await readSource('tflite', [file]);
    loadStateDict(folded, src.stateDict, { source: file });
    const err = maxRelError(predict(bn.model, 128), predict(folded, 128));
    console.log(`      BN form vs folded: max_rel_err ${err.toExponential(3)}`);
    expect(err).to.be.below(1e-5);
    bn.model.dispose();
    folded.dispose();
  });

  it('matches unnamed (ONNX int8) layers by graph order, refusing another architecture with both counts', async () => {
    const onnx = join(W, 'onnx-mobilenetv2-int8', 'mobilenet_v2_quant.onnx');
    const c = await convertCheckpoint({ arch: 'mobilenet_v2', from: 'onnx', inputs: [onnx] });
    expect(c.report.matchedBy).to.equal('order');
    expect(c.report.unfoldedBatchNorms).to.equal(52);
    c.model.dispose();
    let err: unknown;
    try { await convertCheckpoint({ arch: 'squeezenet1_1', from: 'onnx', inputs: [onnx] }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(CnnZooError);
    expect((err as Error).message).to.match(/has 53 weighted layers but model "squeezenet1_1" has 26/);
    for (const [opts, why] of [
      [onnx, /^convertCheckpoint: options must be an object \(\{ arch, from, inputs, .*\}\), got ".*\.onnx" \(a string\)\.$/],
      [{ arch: 'mobilenet_v2', inputs: [onnx] }, /options need arch, from and inputs, e\.g\. .*; from is missing\.$/],
      [{ arch: 'mobilenet_v2', from: 'onnx', input: [onnx] }, /unknown option "input"\. Did you mean inputs\?/],
      [{ arch: 'mobilenet_v2', from: 'onnx', inputs: onnx }, /inputs is a list of checkpoint files or folders, got ".*" \(a string\)\.$/],
    ] as const) {
      err = undefined;
      try { await convertCheckpoint(opts as never); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(CnnZooError);
      expect((err as Error).message).to.match(why);
    }
  });

  it('writes artifacts tfjs itself loads: metadata, <= 4 MB shards, uint8 and float16 quantization', async () => {
    const c = await convertCheckpoint({ arch: 'tf_mobilenet_v1_025', from: 'tflite', inputs: [join(W, 'tflite-mobilenet', 'mobilenet_v1_0.25_128_quant.tflite')], licence: 'Apache-2.0' });
    const want = predict(c.model, 128);
    for (const dtype of ['float32', 'float16', 'uint8'] as const) {
      const dir = join(tmp, `v1-${dtype}`);
      // Small shards here so that splitting is exercised (the default is 4 MB).
      await saveConverted(c.model, nodeFileSystem(dir, { shardBytes: 256 * 1024 }), { ...c.metadata, dtype });
      const shards = readdirSync(dir).filter((f) => f.endsWith('.bin'));
      for (const s of shards) expect(statSync(join(dir, s)).size).to.be.at.most(256 * 1024);
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const meta = json.userDefinedMetadata.cnnZoo;
      expect(meta).to.include({ arch: 'tf_mobilenet_v1_025', classOffset: 1, licence: 'Apache-2.0', dtype, labels: 'imagenet1k', inputSize: 128 });
      expect(meta.source.files[0].sha256).to.match(/^[0-9a-f]{64}$/);
      expect(meta.preprocessing).to.include({ size: 128, scale: 1 / 127.5, channelOrder: 'RGB' });
      if (dtype !== 'float32') expect(json.weightsManifest[0].weights.some((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === dtype)).to.equal(true);
      const plain = await tf.loadLayersModel(nodeFileSystem(dir)); // tfjs's own loader
      const err = maxRelError(predict(plain, 128), want);
      console.log(`      ${dtype}: ${shards.length} shard(s), ${(shards.reduce((a, s) => a + statSync(join(dir, s)).size, 0) / 1e6).toFixed(2)} MB, max_rel_err ${err.toExponential(2)}`);
      expect(err).to.be.below(dtype === 'float16' ? 2e-2 : 1e-4); // uint8 keeps the TFLite grid (up to float32 rounding of min/scale)
      plain.dispose();
    }
    c.model.dispose();
  });

  it('quantizeUint8 keeps values already on a 256-level grid exactly', () => {
    const grid = Float32Array.from({ length: 300 }, (_, i) => 0.037 * ((i * 7) % 200 - 90));
    expect(uint8Grid(grid)).to.not.equal(undefined);
    const q = quantizeUint8(grid);
    for (let i = 0; i < grid.length; i++) expect(Math.abs(q.bytes[i]! * q.scale + q.min - grid[i]!)).to.be.below(1e-5);
    const smooth = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
    expect(uint8Grid(smooth)).to.equal(undefined);
  });

  it('load() reads a directory, a file:// URL, a file map, an IOHandler and an http:// URL; names missing files and bad shapes', async () => {
    const dir = join(tmp, 'load-squeezenet1_1');
    const c = await convertCheckpoint({ arch: 'squeezenet1_1', from: 'npy', inputs: [join(W, 'onnx-squeezenet1.1-npy', 'weights')] });
    await saveConverted(c.model, nodeFileSystem(dir), c.metadata);
    c.model.dispose();
    const ref = await modelWithWeights('squeezenet1_1', { weights: dir });
    const want = predict(ref, 224);
    expect(modelMetadata(ref)!.arch).to.equal('squeezenet1_1');
    const files = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
    const server = createServer((req, res) => {
      const body = files[(req.url ?? '').replace(/^\/weights\//, '')];
      res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/weights/`;
    try {
      for (const weights of [pathToFileURL(dir).href, files, nodeFileSystem(dir), url]) {
        const m = await modelWithWeights('squeezenet1_1', { weights });
        expect(maxRelError(predict(m, 224), want)).to.equal(0);
        m.dispose();
      }
    } finally {
      server.close();
    }
    ref.dispose();
    const shard = Object.keys(files).find((f) => f.endsWith('.bin'))!;
    const noShard = Object.fromEntries(Object.entries(files).filter(([k]) => k !== shard));
    await expectError(() => modelWithWeights('squeezenet1_1', { weights: noShard }), new RegExp(`lacks "${shard}"`));
    await expectError(() => modelWithWeights('squeezenet1_1', { weights: join(tmp, 'nowhere') }), /^Nothing is at ".*nowhere"\. Weights are a folder that holds model\.json and its weight shards/);
    await expectError(() => modelWithWeights('squeezenet1_0', { weights: dir }), /holds weights for "squeezenet1_1", not "squeezenet1_0"/);
    // Same architecture, other class count: the metadata lies about it -> the tensor and file are named.
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.userDefinedMetadata.cnnZoo.numClasses = 10;
    await expectError(() => modelWithWeights('squeezenet1_1', { weights: { ...files, 'model.json': Buffer.from(JSON.stringify(json)) } }),
      /the weights map: tensor "classifier\.1\/kernel" has shape \[1,1,512,1000\] but squeezenet1_1 needs \[1,1,512,10\]/);
  });
});

async function expectError(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown;
  try { await fn(); } catch (e) { err = e; }
  expect(err, String(re)).to.be.instanceOf(CnnZooError);
  expect((err as Error).message).to.match(re);
}
