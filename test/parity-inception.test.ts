import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { CnnZooError } from '../src/errors.js';
import { loadStateDict } from '../src/convert/mapping.js';
import { transpose } from '../src/arrays.js';
import type { StateDict } from '../src/arrays.js';
import { create } from '../src/zoo/registry.js';
import { parityCases } from './helpers/parity.js';
import { SHARED } from './helpers/shared.js';

describe('parity: GoogLeNet, BN-Inception, Inception v3/v4, Inception-ResNet-v2 (wasm and cpu)', () => {
  parityCases(['googlenet', 'bninception', 'inception_v3', 'timm_inception_v4', 'timm_inception_resnet_v2']);
});

const CAFFE_DIR = join(SHARED, 'weights', 'caffe-bvlc_googlenet', 'weights');

function readFloats(path: string): Float32Array {
  const buf = readFileSync(path);
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
}

/**
 * The BVLC blobs as a PyTorch-layout state_dict: `<group>/<layer>_filter.bin` (out, kh, kw, in) becomes
 * `<group>.<layer>.weight` (OIHW; [out, in] for the classifier), `_bias.bin` becomes `.bias`. Shapes come from
 * the model's layers (the blobs are raw floats).
 */
function caffeStateDict(model: tf.LayersModel): StateDict {
  const sd: StateDict = new Map();
  for (const group of readdirSync(CAFFE_DIR).sort()) {
    for (const file of readdirSync(join(CAFFE_DIR, group)).sort()) {
      const m = /^(.*)_(filter|bias)\.bin$/.exec(file);
      if (!m) throw new Error(`unexpected blob file ${group}/${file}`);
      const layerName = `${group}.${m[1]}`;
      const data = readFloats(join(CAFFE_DIR, group, file));
      if (m[2] === 'bias') {
        sd.set(`${layerName}.bias`, { shape: [data.length], data });
        continue;
      }
      const kernel = model.getLayer(layerName).getWeights()[0]!;
      if (kernel.shape.length === 2) {
        const [inp, out] = kernel.shape as [number, number];
        sd.set(`${layerName}.weight`, { shape: [out, inp], data });
      } else {
        const [kh, kw, inp, out] = kernel.shape as [number, number, number, number];
        sd.set(`${layerName}.weight`, { shape: [out, inp, kh, kw], data: transpose(data, [out, kh, kw, inp], [0, 3, 1, 2]) });
      }
    }
  }
  return sd;
}

/** A 24-bit bottom-up BMP (what /work/shared/images holds) as BGR bytes, top row first. */
function readBmpBgr(path: string): { width: number; height: number; bgr: Uint8Array } {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 2) !== 'BM' || b.readUInt16LE(28) !== 24 || b.readUInt32LE(30) !== 0) {
    throw new Error(`${path}: not an uncompressed 24-bit BMP`);
  }
  const offset = b.readUInt32LE(10), width = b.readInt32LE(18), rawHeight = b.readInt32LE(22);
  const height = Math.abs(rawHeight), stride = Math.ceil((width * 3) / 4) * 4;
  const bgr = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const src = offset + (rawHeight > 0 ? height - 1 - y : y) * stride;
    bgr.set(b.subarray(src, src + width * 3), y * width * 3);
  }
  return { width, height, bgr };
}

/** Caffe's classify.py preprocessing: resize to 256x256, center crop 224, BGR minus the mean (104, 117, 123). */
function caffeInput(path: string): tf.Tensor4D {
  const img = readBmpBgr(path);
  return tf.tidy(() => {
    const x = tf.tensor3d(img.bgr, [img.height, img.width, 3], 'int32').toFloat();
    const resized = tf.image.resizeBilinear(x as tf.Tensor3D, [256, 256]);
    const crop = resized.slice([16, 16, 0], [224, 224, 3]);
    return crop.sub(tf.tensor1d([104, 117, 123])).expandDims(0) as tf.Tensor4D;
  });
}

const LABELS = readFileSync(join(SHARED, 'imagenet', 'synset_words.txt'), 'utf8').trim().split('\n').map((l) => l.slice(10));

describe('bvlc_googlenet with the real BVLC Caffe weights (wasm)', () => {
  let model: tf.LayersModel;
  before(async () => {
    await useBackend('wasm');
    model = create('bvlc_googlenet');
    const report = loadStateDict(model, caffeStateDict(model), { source: 'caffe-bvlc_googlenet' });
    expect(report.missing).to.deep.equal([]);
    expect(report.unused).to.deep.equal([]);
  });
  after(() => model?.dispose());

  const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  // [image, what it shows, classes its top-1 must be among, a class that must be in its top-5]
  const CASES: [string, string, number[], number][] = [
    ['grace_hopper.bmp', 'military uniform', [652], 652],
    ['cat.bmp', 'a domestic cat', range(281, 285), 281],
    ['bird.bmp', 'a bird', [...range(7, 24), ...range(80, 100), ...range(127, 146)], 19],
  ];
  for (const [file, what, top1In, inTop5] of CASES) {
    it(`classifies ${file} as ${what} (${LABELS[inTop5]!.split(',')[0]} in the top-5)`, () => {
      const logits = tf.tidy(() => model.predict(caffeInput(join(SHARED, 'images', file))) as tf.Tensor);
      const row = logits.dataSync() as Float32Array;
      logits.dispose();
      const top5 = [...row.keys()].sort((a, b) => row[b]! - row[a]!).slice(0, 5);
      console.log(`      ${file}: ${top5.map((i) => `${i} ${LABELS[i]!.split(',')[0]}`).join('; ')}`);
      expect(top1In).to.include(top5[0]);
      expect(top5).to.include(inTop5);
    });
  }

  it('refuses a classifier input size that Caffe pool5 cannot serve, naming the fix', () => {
    expect(() => create('bvlc_googlenet', { inputSize: 299 })).to.throw(CnnZooError, /7x7.*223 to 254 px/);
    const f = create('bvlc_googlenet', { inputSize: 299, includeTop: false });
    expect(f.outputs[0]!.shape).to.deep.equal([null, 9, 9, 1024]);
    f.dispose();
  });
});
