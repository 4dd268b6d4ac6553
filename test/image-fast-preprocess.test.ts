/**
 * The fast preprocessing (src/image/resize-crop.ts: resample only the cropped pixels, table normalisation, RGBA
 * input) against the reference path: PIL's full resize (`resizePil`, checked against Pillow in
 * image-preprocess.test.ts) + torchvision's `centerCrop` + the float32 formula of ToTensor/Normalize.
 * Byte for byte on the 8-bit crop, bit for bit on the floats, on every fixture image, shared photos, ImageNet
 * validation images (227x227: upscaled), and synthetic odd, tiny and extreme sizes, for all filters, crop
 * fractions 0.875/0.95/1.0 (and 1.25: padded), RGB and BGR; each with the WebAssembly SIMD passes (what runs where
 * SIMD is: Node, browsers) and with the JavaScript passes (what runs without it).
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage } from '../src/image/decode.js';
import { jpegFrame, stripJpegMetadata } from '../src/image/jpeg.js';
import sharp from 'sharp';
import { CnnZooError } from '../src/errors.js';
import { IMAGENET_DEFAULT, centerCrop, preprocessBatch, resizeAndCrop, resizedSize } from '../src/image/preprocess.js';
import { resizePil } from '../src/image/resample.js';
import { cropWindow, resizeCropPixels } from '../src/image/resize-crop.js';
import { MAX_BYTES, setSimdResample, simdMemoryBytes } from '../src/image/resample-simd.js';
import type { PreprocessConfig, RgbImage } from '../src/image/types.js';
import { ROOT, SHARED } from './helpers/shared.js';

const FILTERS = ['bilinear', 'bicubic', 'nearest'] as const;
const FRACTIONS = [0.875, 0.95, 1.0];

/** The reference: full PIL resize, then torchvision's centre crop. */
function reference(img: RgbImage, cfg: PreprocessConfig): Uint8Array {
  const [w, h] = resizedSize(img.width, img.height, Math.floor(cfg.size / cfg.cropFraction));
  return centerCrop(resizePil(img, w, h, cfg.interpolation), cfg.size, cfg.size).data;
}

/** Deterministic pseudo-random pixels (xorshift), with hard edges so rounding and clipping are exercised. */
function synthetic(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed * 2654435761 + 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    data[i] = (s >>> 0) % 7 === 0 ? 255 * ((s >>> 8) & 1) : (s >>> 0) & 255;
  }
  return { width, height, data };
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return -2;
  return a.findIndex((v, i) => v !== b[i]);
}

function expectSame(img: RgbImage, cfg: PreprocessConfig, what: string): void {
  const want = reference(img, cfg);
  const got = resizeAndCrop(img, cfg).data;
  expect(firstDiff(got, want), `${what} ${img.width}x${img.height} ${cfg.interpolation} size ${cfg.size} crop ${cfg.cropFraction}: first differing byte`).to.equal(-1);
}

for (const simd of [true, false]) describe(`fast preprocessing equals the reference path (${simd ? 'WebAssembly SIMD' : 'JavaScript'} resampling passes)`, () => {
  const images: [string, RgbImage][] = [];
  before(async () => {
    // Node 20 has WebAssembly SIMD: the SIMD passes must run there, not quietly fall back.
    expect(setSimdResample(simd), 'SIMD passes run').to.equal(simd);
    const fixtures = join(ROOT, 'test', 'fixtures', 'images');
    for (const f of readdirSync(fixtures).sort()) images.push([f, await decodeImage(new Uint8Array(readFileSync(join(fixtures, f))))]);
    for (const f of ['grace_hopper.bmp', 'parrot.jpg', 'owl.jpg', 'cat.bmp']) images.push([f, await decodeImage(join(SHARED, 'images', f))]);
    const val = join(SHARED, 'imagenet', 'val-subset', 'images');
    for (const f of readdirSync(val).sort().slice(0, 3)) images.push([f, await decodeImage(join(val, f))]);
  });

  it('on fixture images (grey, palette, RGBA, CMYK, 1-bit, ICC-tagged; 21x13: upscaled), photos and ImageNet validation images', () => {
    expect(images.length).to.equal(13 + 4 + 3);
    for (const [name, img] of images) {
      for (const interpolation of FILTERS) {
        for (const cropFraction of FRACTIONS) {
          for (const size of name.endsWith('JPEG') || img.width < 100 ? [224] : [224, 299]) {
            expectSame(img, { ...IMAGENET_DEFAULT, size, cropFraction, interpolation }, name);
          }
        }
      }
    }
  });

  it('on odd, tiny, thin and exactly-sized images, crops larger than the image (zero padding)', () => {
    const sizes: [number, number][] = [[1, 1], [2, 3], [1, 40], [40, 1], [7, 64], [333, 257], [257, 333], [256, 300],
      [300, 256], [256, 256], [224, 224], [255, 257], [1000, 9], [31, 17]];
    let cases = 0;
    for (const [i, [w, h]] of sizes.entries()) {
      const img = synthetic(w, h, i + 1);
      for (const interpolation of FILTERS) {
        for (const [size, cropFraction] of [[224, 0.875], [224, 0.95], [224, 1.0], [16, 1.0], [16, 0.875], [5, 0.95], [160, 1.25], [1, 1.0]] as const) {
          expectSame(img, { ...IMAGENET_DEFAULT, size, cropFraction, interpolation }, 'synthetic');
          cases++;
        }
      }
    }
    expect(cases).to.equal(sizes.length * 3 * 8);
  });

  it('reads a buffer (RGB or RGBA) that holds only the window the preprocessing reads (cropWindow: what browsers read back)', () => {
    let cases = 0, smaller = 0;
    for (const [i, [w, h]] of ([[512, 384], [384, 512], [1155, 866], [333, 257], [256, 300], [300, 256], [227, 227], [21, 13], [1000, 9]] as const).entries()) {
      const img = synthetic(w, h, 50 + i);
      for (const interpolation of FILTERS) {
        for (const [size, cropFraction] of [[224, 0.875], [299, 0.875], [227, 227 / 256], [224, 1.0], [160, 1.25]] as const) {
          const cfg = { ...IMAGENET_DEFAULT, size, cropFraction, interpolation };
          const win = cropWindow(w, h, cfg);
          const data = new Uint8Array(win.width * win.height * 3);
          for (let y = 0; y < win.height; y++) data.set(img.data.subarray(((win.top + y) * w + win.left) * 3, ((win.top + y) * w + win.left + win.width) * 3), y * win.width * 3);
          const rgba = new Uint8ClampedArray(win.width * win.height * 4); // as a browser's canvas gives it
          for (let p = 0; p < win.width * win.height; p++) {
            rgba.set(data.subarray(p * 3, p * 3 + 3), p * 4);
            rgba[p * 4 + 3] = 255;
          }
          const want = preprocessBatch([img], cfg);
          for (const buf of [{ channels: 3 as const, data }, { channels: 4 as const, data: rgba }]) {
            const got = preprocessBatch([{ width: w, height: h, ...buf, window: win }], cfg);
            expect(want.findIndex((v, j) => !Object.is(v, got[j])), `${w}x${h} ${buf.channels} channels ${interpolation} ${size}/${cropFraction} window ${JSON.stringify(win)}`).to.equal(-1);
          }
          if (win.width * win.height < w * h) smaller++;
          cases++;
        }
      }
    }
    expect(smaller, 'windows smaller than the image').to.be.at.least(cases / 2);
    // A window without a pixel the preprocessing reads is refused, not read out of bounds.
    const img = synthetic(512, 384, 1);
    const win = cropWindow(512, 384, IMAGENET_DEFAULT);
    const cut = { ...win, width: win.width - 1 };
    const data = new Uint8Array(cut.width * cut.height * 3);
    expect(() => preprocessBatch([{ width: 512, height: 384, channels: 3, data, window: cut }], IMAGENET_DEFAULT))
      .to.throw(CnnZooError, /holds columns .* but this preprocessing reads columns .*Pass the whole image/);
    expect(() => preprocessBatch([{ width: 512, height: 384, channels: 3, data: img.data, window: { ...win, left: 500 } }], IMAGENET_DEFAULT))
      .to.throw(CnnZooError, /window/);
  });

  it('reads RGBA pixels (browser ImageData) as the RGB image they hold', () => {
    for (const [w, h] of [[333, 257], [256, 300], [21, 13], [224, 224]] as const) {
      const img = synthetic(w, h, w);
      const rgba = new Uint8ClampedArray(w * h * 4);
      for (let p = 0; p < w * h; p++) {
        rgba.set(img.data.subarray(p * 3, p * 3 + 3), p * 4);
        rgba[p * 4 + 3] = (p * 37) & 255;
      }
      for (const interpolation of FILTERS) {
        const want = reference(img, { ...IMAGENET_DEFAULT, interpolation });
        const got = resizeCropPixels({ width: w, height: h, channels: 4, data: rgba }, 256, 224, interpolation);
        expect(firstDiff(got, want), `RGBA ${w}x${h} ${interpolation}`).to.equal(-1);
      }
    }
  });
  after(() => setSimdResample(true));
});

for (const simd of [true, false]) describe(`fast preprocessing: normalisation (${simd ? 'WebAssembly SIMD' : 'JavaScript'})`, () => {
  before(() => expect(setSimdResample(simd), 'SIMD runs').to.equal(simd));
  after(() => setSimdResample(true));
  it('normalises with the float32 steps of ToTensor + Normalize (RGB and BGR), a batch in one array', () => {
    const f = Math.fround;
    const configs: PreprocessConfig[] = [
      IMAGENET_DEFAULT,
      { ...IMAGENET_DEFAULT, size: 227, cropFraction: 227 / 256, scale: 1, mean: [104, 117, 123], std: [1, 1, 1], channelOrder: 'BGR' },
      { ...IMAGENET_DEFAULT, size: 299, interpolation: 'bicubic', scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1] },
    ];
    const batch = [synthetic(500, 400, 3), synthetic(400, 500, 4), synthetic(227, 227, 5)];
    for (const cfg of configs) {
      const per = cfg.size * cfg.size * 3;
      const got = preprocessBatch(batch, cfg);
      expect(got.length).to.equal(batch.length * per);
      const order = cfg.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
      batch.forEach((img, b) => {
        const crop = reference(img, cfg);
        let bad = -1;
        for (let i = 0; i < per && bad < 0; i++) {
          const c = i % 3, v = crop[i - c + order[c]!]!;
          const want = f(f(f(v * f(cfg.scale)) - f(cfg.mean[c]!)) / f(cfg.std[c]!));
          if (!Object.is(got[b * per + i], want)) bad = i;
        }
        expect(bad, `${JSON.stringify(cfg)} image ${b}: first differing value`).to.equal(-1);
      });
    }
  });
});

describe('WebAssembly SIMD passes: memory', () => {
  it('grow the module\'s memory only up to MAX_BYTES: a larger job runs in JavaScript, with the same floats', () => {
    const fits = synthetic(3000, 2000, 7); // its crop reads about 16 MB of rows: SIMD
    const big = synthetic(6000, 5000, 8); // about 79 MB of rows: JavaScript
    expect(setSimdResample(true)).to.equal(true);
    preprocessBatch([fits], IMAGENET_DEFAULT);
    expect(simdMemoryBytes(), 'the module grew for the 3000x2000 image').to.be.at.least(15 << 20);
    const simd = preprocessBatch([big], IMAGENET_DEFAULT);
    expect(simdMemoryBytes()).to.be.at.most(MAX_BYTES + 65536);
    setSimdResample(false);
    const js = preprocessBatch([big], IMAGENET_DEFAULT);
    setSimdResample(true);
    expect(simd.findIndex((v, i) => !Object.is(v, js[i]))).to.equal(-1);
  });

  it('run in JavaScript, with the same floats, when the runtime refuses to grow the memory', () => {
    const img = synthetic(4000, 3000, 9); // about 32 MB of rows: more than the module holds after the test above
    const have = simdMemoryBytes();
    expect(have, 'the module holds less than this job needs').to.be.below(30 << 20);
    const grow = WebAssembly.Memory.prototype.grow;
    let refused = 0;
    WebAssembly.Memory.prototype.grow = function () { refused++; throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded'); };
    let got: Float32Array;
    try {
      got = preprocessBatch([img], IMAGENET_DEFAULT);
    } finally {
      WebAssembly.Memory.prototype.grow = grow;
    }
    expect(refused).to.be.at.least(1);
    expect(simdMemoryBytes()).to.equal(have);
    setSimdResample(false);
    const js = preprocessBatch([img], IMAGENET_DEFAULT);
    setSimdResample(true);
    expect(js.findIndex((v, i) => !Object.is(v, got[i]))).to.equal(-1);
  });
});

describe('JPEG decoding in one libvips call (frame header read in JS)', () => {
  it('reads the size and components of baseline, grey and CMYK JPEGs; not of other files', async () => {
    for (const f of ['hot_dog.jpg', 'owl.jpg', 'parrot.jpg']) {
      const bytes = new Uint8Array(readFileSync(join(SHARED, 'images', f)));
      const img = await decodeImage(bytes);
      expect(jpegFrame(bytes), f).to.deep.equal({ width: img.width, height: img.height, components: 3 });
    }
    const fixture = (f: string): Uint8Array => new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', 'images', f)));
    expect(jpegFrame(fixture('grey.jpg'))).to.deep.equal({ width: 21, height: 13, components: 1 });
    expect(jpegFrame(fixture('cmyk.jpg'))).to.deep.equal({ width: 21, height: 13, components: 4 });
    expect(jpegFrame(fixture('rgba.png'))).to.equal(undefined);
    expect(jpegFrame(fixture('rgb24.bmp'))).to.equal(undefined);
    expect(jpegFrame(Uint8Array.of(0xff, 0xd8, 0xff))).to.equal(undefined);
  });

  it('hands libvips the JPEG without EXIF, XMP, ICC and Photoshop segments; the pixels stay the same', async () => {
    const segments = (b: Uint8Array): number[] => {
      const markers: number[] = [];
      for (let i = 2; i + 4 <= b.length && b[i + 1] !== 0xda; i += 2 + ((b[i + 2]! << 8) | b[i + 3]!)) markers.push(b[i + 1]!);
      return markers;
    };
    const raw = async (b: Uint8Array): Promise<Buffer> => sharp(b, { ignoreIcc: true }).raw().toBuffer();
    const bytes = new Uint8Array(readFileSync(join(SHARED, 'images', 'hot_dog.jpg')));
    expect(segments(bytes).filter((m) => m >= 0xe0 && m <= 0xef)).to.deep.equal([0xe0, 0xed, 0xe1, 0xe2, 0xe1]);
    const stripped = stripJpegMetadata(bytes);
    expect(segments(stripped).filter((m) => m >= 0xe0 && m <= 0xef)).to.deep.equal([0xe0]); // JFIF stays
    expect(bytes.length - stripped.length).to.equal(4 * 2 + 5902 + 5222 + 3160 + 16996); // 4 markers + their lengths
    expect((await raw(stripped)).equals(await raw(bytes))).to.equal(true);
    // Adobe APP14 (the colour transform) stays; nothing to drop returns the same bytes.
    const cmyk = new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', 'images', 'cmyk.jpg')));
    expect(segments(stripJpegMetadata(cmyk))).to.deep.equal(segments(cmyk).filter((m) => !(m >= 0xe1 && m <= 0xed) && m !== 0xef && m !== 0xfe));
    const plain = stripJpegMetadata(stripped);
    expect(plain).to.equal(stripped);
    expect(stripJpegMetadata(Uint8Array.of(0xff, 0xd8, 0xff, 0xe1, 0x00, 0x40))).to.have.length(6); // truncated: as it is
  });

  it('refuses a JPEG over maxPixels from its header, before decoding', async () => {
    const bytes = new Uint8Array(readFileSync(join(SHARED, 'images', 'owl.jpg')));
    let err: unknown;
    try { await decodeImage(bytes, { maxPixels: 1000, name: 'owl' }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(CnnZooError);
    expect((err as Error).message).to.match(/owl: image is 512x384 = 196608 pixels, above the limit of 1000/);
  });
});
