/**
 * Preprocessing against reference numbers computed once with torchvision 0.14 / Pillow 9.4
 * (tools/make-preprocess-fixture.py -> test/fixtures/preprocess-reference.json): PIL's resize byte for byte,
 * whole eval pipelines (8-bit crop byte for byte, float32 values to 1e-6).
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../src/backend.js';
import { CnnZooError } from '../src/errors.js';
import { decodeImage } from '../src/image/decode.js';
import { IMAGENET_DEFAULT, centerCrop, preprocess, resizeAndCrop, resizedSize } from '../src/image/preprocess.js';
import { resizePil, type ResampleFilter } from '../src/image/resample.js';
import type { PreprocessConfig, RgbImage } from '../src/image/types.js';
import { ROOT, SHARED } from './helpers/shared.js';

interface Reference {
  synthetic: { seed: number; size: [number, number]; data: string }[];
  resize: { seed: number; input: [number, number]; output: [number, number]; filter: ResampleFilter; data: string }[];
  pipelines: { image: string; config: PreprocessConfig; resizedShort: number; cropSha256: string; sampleValues: number[]; mean: number }[];
}
const REF = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'preprocess-reference.json'), 'utf8')) as Reference;
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('image preprocessing (vs torchvision/PIL reference)', () => {
  before(async () => { await useBackend('cpu'); });

  it('resizes exactly like PIL (bilinear, bicubic, nearest; up and down)', () => {
    expect(REF.resize.length).to.equal(30);
    for (const r of REF.resize) {
      const s = REF.synthetic.find((x) => x.seed === r.seed)!;
      const src: RgbImage = { width: s.size[0], height: s.size[1], data: b64(s.data) };
      const out = resizePil(src, r.output[0], r.output[1], r.filter);
      const want = b64(r.data);
      const what = `${r.input.join('x')} -> ${r.output.join('x')} ${r.filter}`;
      expect(out.data.length, what).to.equal(want.length);
      const firstDiff = out.data.findIndex((v, i) => v !== want[i]);
      expect(firstDiff, `${what}: first differing byte`).to.equal(-1);
    }
  });

  it('reproduces the eval pipelines (resize shorter side, centre crop, scale, mean/std, RGB/BGR)', async () => {
    expect(REF.pipelines.map((p) => p.config.interpolation)).to.include.members(['bilinear', 'bicubic', 'nearest']);
    for (const p of REF.pipelines) {
      const what = `${p.image} ${JSON.stringify(p.config)}`;
      const img = await decodeImage(join(SHARED, 'images', p.image));
      expect(Math.floor(p.config.size / p.config.cropFraction), what).to.equal(p.resizedShort);
      const crop = resizeAndCrop(img, p.config);
      expect(sha256(crop.data), `${what}: 8-bit crop`).to.equal(p.cropSha256);
      const t = preprocess(img, p.config);
      expect(t.shape).to.deep.equal([p.config.size, p.config.size, 3]);
      expect(t.dtype).to.equal('float32');
      const v = t.dataSync();
      t.dispose();
      let maxErr = 0;
      p.sampleValues.forEach((want, i) => { maxErr = Math.max(maxErr, Math.abs(v[(i * 7919 + 13) % v.length]! - want)); });
      expect(maxErr, `${what}: max |ours - torchvision| at ${p.sampleValues.length} positions`).to.be.below(1e-6 * Math.max(1, Math.abs(p.mean)));
      const mean = (v as Float32Array).reduce((a, x) => a + x, 0) / v.length;
      expect(Math.abs(mean - p.mean), `${what}: mean`).to.be.below(1e-6 * Math.max(1, Math.abs(p.mean)));
    }
  });

  it('computes torchvision resize sizes and crop offsets', () => {
    expect(resizedSize(512, 600, 256)).to.deep.equal([256, 300]);
    expect(resizedSize(600, 512, 256)).to.deep.equal([300, 256]);
    expect(resizedSize(512, 929, 341)).to.deep.equal([341, 618]);
    // Crop offsets use Python's round (half to even): (5 - 2) / 2 = 1.5 -> 2, (7 - 2) / 2 = 2.5 -> 2.
    const img: RgbImage = { width: 5, height: 7, data: Uint8Array.from({ length: 5 * 7 * 3 }, (_, i) => Math.floor(i / 3)) };
    const c = centerCrop(img, 2, 2);
    expect([...c.data].filter((_, i) => i % 3 === 0)).to.deep.equal([2 * 5 + 2, 2 * 5 + 3, 3 * 5 + 2, 3 * 5 + 3]);
  });

  it('does not leak tensors and rejects bad configs and images clearly', () => {
    const img: RgbImage = { width: 4, height: 4, data: new Uint8Array(48) };
    const before = tf.memory().numTensors;
    preprocess(img, { ...IMAGENET_DEFAULT, size: 2 }).dispose();
    expect(tf.memory().numTensors).to.equal(before);
    expect(() => preprocess(img, { ...IMAGENET_DEFAULT, size: 0 })).to.throw(CnnZooError, /size must be a positive integer/);
    expect(() => preprocess(img, { ...IMAGENET_DEFAULT, std: [1, 0, 1] })).to.throw(CnnZooError, /std must not contain 0/);
    expect(() => preprocess(img, { ...IMAGENET_DEFAULT, interpolation: 'lanczos' as 'bilinear' })).to.throw(CnnZooError, /interpolation/);
    expect(() => preprocess({ width: 4, height: 4, data: new Uint8Array(10) }, IMAGENET_DEFAULT)).to.throw(CnnZooError, /48 bytes|width \* height \* 3/);
    // A missing config or image crashed inside ("Cannot read properties of undefined (reading 'size')").
    expect(() => preprocess(img, 'torch' as never)).to.throw(CnnZooError, 'preprocess(image, config): config is a PreprocessConfig ' +
      '({ size, cropFraction, interpolation, scale, mean, std, channelOrder }; a model\'s is model.preprocessing), got "torch" (a string).');
    expect(() => preprocess(undefined as never, IMAGENET_DEFAULT)).to.throw(CnnZooError, 'preprocess: expected an RgbImage ({ width, height, data }), ' +
      'got undefined. Decode images with decodeImage().');
  });
});
