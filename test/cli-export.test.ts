/**
 * `cnn-zoo export`: the shipped MobileNet v2 (tf_mobilenet_v2_100) as an ONNX file that onnxruntime runs with
 * cnn-zoo's results on a preprocessed photo (inference form, NHWC, with feature outputs; the training form too);
 * `--int8 --calibrate DIR` writes a static int8 model calibrated on the photos there, `--fp16` one with float16
 * weights; a model with no weights and
 * none shipped fails with the message `classify` gives.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { useBackend } from '../src/backend.js';
import { load } from '../src/api/index.js';
import { maxRelError } from '../src/parity/run.js';
import { onnxMetadata } from '../src/checkpoints/onnx-metadata.js';
import { CLI, ROOT, SHARED } from './helpers/shared.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [...CLI, 'export', ...args], { encoding: 'utf8', cwd: ROOT });

describe('cnn-zoo export', () => {
  let dir: string;
  before(async () => {
    await useBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-export-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exports the shipped MobileNet v2 (inference form with feature outputs, and training form); onnxruntime reproduces cnn-zoo on a photo', async () => {
    const inferencePath = join(dir, 'mnv2.onnx'), trainingPath = join(dir, 'mnv2-training.onnx'), int8Path = join(dir, 'mnv2-int8.onnx');
    const r1 = cli('tf_mobilenet_v2_100', '--out', inferencePath, '--features', '--json');
    expect(r1.status, r1.stderr).to.equal(0);
    const io = JSON.parse(r1.stdout.slice(r1.stdout.indexOf('{'))) as { form: string; input: { layout: string; shape: unknown[] }; outputs: { name: string; layer: string }[] };
    expect(io.form).to.equal('inference form');
    expect(io.input).to.deep.include({ layout: 'NHWC', shape: ['N', 224, 224, 3] });
    // The logits, the five feature stages and the embedding (the pooled features embed() returns).
    expect(io.outputs.map((o) => o.name)).to.have.length(7);
    expect(io.outputs.at(-1)).to.deep.include({ name: 'embedding', layer: 'MobilenetV2.Logits.AvgPool' });
    const r2 = cli('tf_mobilenet_v2_100', '--out', trainingPath, '--training-form');
    expect(r2.status, r2.stderr).to.equal(0);
    expect(r2.stdout).to.match(/training form/);
    const r3 = cli('tf_mobilenet_v2_100', '--out', int8Path, '--int8', '--calibrate', join(SHARED, 'images'));
    expect(r3.status, r3.stderr).to.equal(0);
    expect(r3.stdout).to.match(/int8 calibrated on 6 images/);
    const fp16Path = join(dir, 'mnv2-fp16.onnx');
    const r4 = cli('tf_mobilenet_v2_100', '--out', fp16Path, '--fp16');
    expect(r4.status, r4.stderr).to.equal(0);
    expect(r4.stdout).to.match(/float16 weights/);

    const zoo = await load('tf_mobilenet_v2_100');
    try {
      const x = await zoo.preprocess(join(SHARED, 'images', 'grace_hopper.bmp'));
      const data = (await x.data()) as Float32Array;
      const probe = tf.model({ inputs: zoo.model.inputs, outputs: [zoo.model.outputs[0]!, ...[...zoo.stages.map((s) => s.layer), 'MobilenetV2.Logits.AvgPool'].map((l) => zoo.model.getLayer(l).output as tf.SymbolicTensor)] });
      const ours = tf.tidy(() => (probe.predict(x) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
      x.dispose();
      for (const path of [inferencePath, trainingPath]) {
        const session = await ort.InferenceSession.create(readFileSync(path), { intraOpNumThreads: 1 });
        const out = await session.run({ input: new ort.Tensor('float32', data, [1, 224, 224, 3]) });
        await session.release();
        const logits = out.logits!.data as Float32Array;
        const err = maxRelError(logits, ours[0]!);
        console.log(`      ${path.endsWith('training.onnx') ? 'training' : 'inference'} form: onnxruntime vs cnn-zoo logits ${err.toExponential(2)}, top-1 ${logits.indexOf(Math.max(...logits))}`);
        expect(err).to.be.below(1e-5);
        expect(logits.indexOf(Math.max(...logits))).to.equal(ours[0]!.indexOf(Math.max(...ours[0]!)));
        if (path === inferencePath) {
          // Feature maps of the real checkpoint (relu6 clips large pre-activations; measured up to 1.7e-5): the
          // fixtures' default tolerance, 1e-4.
          io.outputs.slice(1).forEach((o, i) => {
            const err = maxRelError(out[o.name]!.data as Float32Array, ours[i + 1]!);
            console.log(`      ${o.name}: ${err.toExponential(2)}`);
            expect(err, o.name).to.be.below(1e-4);
          });
        }
      }
      const session = await ort.InferenceSession.create(readFileSync(int8Path), { intraOpNumThreads: 1 });
      const int8 = (await session.run({ input: new ort.Tensor('float32', data, [1, 224, 224, 3]) })).logits!.data as Float32Array;
      await session.release();
      const top5 = [...int8.keys()].sort((a, b) => int8[b]! - int8[a]!).slice(0, 5);
      const err = maxRelError(int8, ours[0]!);
      console.log(`      int8: onnxruntime vs cnn-zoo float logits ${err.toExponential(2)}, top-5 ${top5.join(' ')}`);
      expect(top5).to.include(ours[0]!.indexOf(Math.max(...ours[0]!)));
      expect(err).to.be.below(0.25);
      // float16 weights: about half the file (the graph itself stays float32); the same top-1, logits within the
      // rounding of 11-bit mantissas (test/onnx-fp16.test.ts checks the export exactly against rounded weights).
      const fp16Bytes = readFileSync(fp16Path);
      expect(fp16Bytes.byteLength).to.be.below(0.55 * readFileSync(inferencePath).byteLength);
      const s16 = await ort.InferenceSession.create(fp16Bytes, { intraOpNumThreads: 1 });
      const half = (await s16.run({ input: new ort.Tensor('float32', data, [1, 224, 224, 3]) })).logits!.data as Float32Array;
      await s16.release();
      console.log(`      fp16: onnxruntime vs cnn-zoo float logits ${maxRelError(half, ours[0]!).toExponential(2)}`);
      expect(half.indexOf(Math.max(...half))).to.equal(ours[0]!.indexOf(Math.max(...ours[0]!)));
    } finally {
      zoo.dispose();
    }
  });

  it('--input-size 160: the weights at 160 px, the input shape and the metadata\'s preprocessing say so, onnxruntime runs it', async () => {
    const path = join(dir, 'mnv2-160.onnx');
    const r = cli('tf_mobilenet_v2_100', '--out', path, '--input-size', '160', '--json');
    expect(r.status, r.stderr).to.equal(0);
    const io = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { input: { shape: unknown[] } };
    expect(io.input.shape).to.deep.equal(['N', 160, 160, 3]);
    const meta = JSON.parse(onnxMetadata(readFileSync(path)).cnnZoo!) as { inputSize: number; preprocessing: { size: number; cropFraction: number } };
    expect([meta.inputSize, meta.preprocessing.size, meta.preprocessing.cropFraction]).to.deep.equal([160, 160, 0.875]);
    const zoo = await load('tf_mobilenet_v2_100', { inputSize: 160, runtime: 'tfjs' });
    try {
      const x = await zoo.preprocess(join(SHARED, 'images', 'grace_hopper.bmp'));
      const ours = tf.tidy(() => (zoo.model.predict(x) as tf.Tensor).dataSync() as Float32Array);
      const session = await ort.InferenceSession.create(readFileSync(path), { intraOpNumThreads: 1 });
      const out = await session.run({ input: new ort.Tensor('float32', (await x.data()) as Float32Array, [1, 160, 160, 3]) });
      x.dispose();
      await session.release();
      expect(maxRelError(out.logits!.data as Float32Array, ours)).to.be.below(1e-5);
    } finally {
      zoo.dispose();
    }
    const bad = cli('tf_mobilenet_v2_100', '--out', path, '--input-size', 'big');
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.match(/--input-size must be a positive integer, got "big"/);
    const empty = cli('tf_mobilenet_v2_100', '--out', path, '--int8', '--calibrate', dir);
    expect(empty.status).to.equal(1);
    expect(empty.stderr).to.include('holds no images (JPEG, PNG, BMP, WebP, GIF, TIFF, AVIF)');
  });

  it('without weights and none shipped it says where to get some; without --out it says so', () => {
    const r = cli('resnet50', '--out', join(dir, 'r50.onnx'));
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/ships no weights for "resnet50".*--weights imagenet/);
    const r2 = cli('resnet50');
    expect(r2.status).to.equal(1);
    expect(r2.stderr).to.match(/export needs --out FILE\.onnx/);
    const r3 = cli('tf_mobilenet_v2_100', '--out', join(dir, 'q.onnx'), '--int8');
    expect(r3.status).to.equal(1);
    expect(r3.stderr).to.match(/--int8 needs --calibrate IMAGE_DIR/);
    const r4 = cli('tf_mobilenet_v2_100', '--out', join(dir, 'h.onnx'), '--fp16', '--int8', '--calibrate', dir);
    expect(r4.status).to.equal(1);
    expect(r4.stderr).to.match(/choose --fp16 or --int8, not both/);
  });

  it('--calibrate TRAINING_DIR takes images of every class sub-folder, evenly spaced (the first 64 were all of one class)', async () => {
    const { calibrationImages } = await import('../src/cli/commands/export.js');
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-calibrate-'));
    try {
      for (const c of ['cat', 'dog', 'fish']) {
        mkdirSync(join(dir, c));
        for (let i = 0; i < 40; i++) writeFileSync(join(dir, c, `${String(i).padStart(2, '0')}.jpg`), '');
      }
      writeFileSync(join(dir, 'notes.txt'), '');
      const picked = await calibrationImages(dir, 6);
      expect(picked.map((p) => p.slice(dir.length + 1))).to.deep.equal(['cat/00.jpg', 'cat/20.jpg', 'dog/00.jpg', 'dog/20.jpg', 'fish/00.jpg', 'fish/20.jpg']);
      expect(await calibrationImages(dir, 500)).to.have.length(120);
      // It said `--calibrate "DIR": ENOENT; give a folder of images.`
      for (const [where, what] of [[join(dir, 'no-such'), 'does not exist'], [join(dir, 'notes.txt'), 'is a file, not a folder']]) {
        const e = await calibrationImages(where, 6).then(() => undefined, (x: Error) => x);
        expect(e?.message).to.equal(`--calibrate "${where}" ${what}; give a folder of images like the model will see.`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
