/**
 * Image decoding in Debian's Chromium (headless): `decodePixels` of src/image/browser-decode.ts, the browser build's
 * decoder, gives PIL's pixels for grey and colour JPEGs, the same bytes as Node's decoder (sharp, pinned to Pillow by
 * test/image-decode.test.ts): with an ICC profile (Display P3), EXIF orientation, Photoshop and XMP segments too,
 * which PIL ignores and a browser would apply. A JPEG whose header claims more than `maxPixels` is refused before
 * it is decoded. The preprocessing that follows (resize, crop, normalise: WebAssembly SIMD in Chromium, and the
 * JavaScript passes), on only the part of the image it reads (read back from the canvas), gives Node's floats bit for bit.
 * An `<img>` from another origin without CORS (its pixels are not the page's to read) fails with the fix, and the
 * next image reads as before.
 */
import { expect } from 'chai';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { decodeImage } from '../src/image/decode.js';
import { IMAGENET_DEFAULT, preprocessBatch } from '../src/image/preprocess.js';
import { PRESETS } from '../src/image/presets.js';
import type { PreprocessConfig } from '../src/image/types.js';
import { ROOT, SHARED } from './helpers/shared.js';
import { serve, type Site } from './helpers/serve.js';
import { launchChromium } from './helpers/page-result.js';

const WORK = join(ROOT, 'test-artifacts', 'image-decode-browser');
const IMAGES = join(WORK, 'img');

/** The page: decode a URL with the browser build's decoder; RGB bytes as base64, or the error's code and message. */
const ENTRY = `
import { decodePixels, sourcePixels } from ${JSON.stringify(join(ROOT, 'src', 'image', 'browser-decode.ts'))};
import { preprocessBatch } from ${JSON.stringify(join(ROOT, 'src', 'image', 'preprocess.ts'))};
import { setSimdResample } from ${JSON.stringify(join(ROOT, 'src', 'image', 'resample-simd.ts'))};
window.prepUrl = async (url, cfg, simd) => {
  const ran = setSimdResample(simd);
  try {
    const px = await decodePixels(url, {}, cfg); // only the part the preprocessing reads
    const x = preprocessBatch([px], cfg);
    let s = '';
    const bytes = new Uint8Array(x.buffer);
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return { simd: ran, floats: btoa(s), read: px.data.length / 4, pixels: px.width * px.height };
  } finally {
    setSimdResample(true);
  }
};
window.decodeUrl = async (url, maxPixels) => {
  try {
    const { width, height, channels, data } = await decodePixels(url, { maxPixels });
    let s = '';
    for (let i = 0; i < data.length; i += channels) s += String.fromCharCode(data[i], data[i + 1], data[i + 2]);
    return { width, height, rgb: btoa(s) };
  } catch (e) {
    return { code: e.code, message: e.message };
  }
};
// An <img> (from another origin, with or without crossOrigin) read as the API reads elements.
window.imgPixels = async (src, crossOrigin) => {
  const img = new Image();
  if (crossOrigin) img.crossOrigin = crossOrigin;
  img.src = src;
  await img.decode();
  try {
    const { width, height } = sourcePixels(img, 'the photo');
    return { width, height };
  } catch (e) {
    return { code: e.code, message: e.message };
  }
};
window.ready = true;
`;

type Decoded = { width: number; height: number; rgb: string } | { code: string; message: string };

describe('image decoding in Chromium (the browser build)', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let site: Site | undefined;
  let cors: Site | undefined;
  let page: Page | undefined;
  const decode = (name: string, maxPixels?: number): Promise<Decoded> =>
    page!.evaluate(([u, m]) => (window as unknown as { decodeUrl(u: string, m?: number): Promise<Decoded> }).decodeUrl(u, m), [`/img/${name}`, maxPixels] as const);

  before(async () => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(IMAGES, { recursive: true });
    for (const f of ['owl.jpg', 'parrot.jpg', 'hot_dog.jpg']) copyFileSync(join(SHARED, 'images', f), join(IMAGES, f));
    for (const f of ['icc-p3.jpg', 'grey.jpg']) copyFileSync(join(ROOT, 'test', 'fixtures', 'images', f), join(IMAGES, f));
    // EXIF orientation 6 ("rotate 90 degrees to view"): PIL keeps the stored 512x384, a browser would show 384x512.
    writeFileSync(join(IMAGES, 'exif-rotated.jpg'), await sharp(join(SHARED, 'images', 'owl.jpg')).withMetadata({ orientation: 6 }).jpeg({ quality: 85 }).toBuffer());
    // owl.jpg whose frame header claims 60000 x 60000 pixels.
    const huge = new Uint8Array(readFileSync(join(SHARED, 'images', 'owl.jpg')));
    let sof = 2;
    while (huge[sof + 1]! < 0xc0 || huge[sof + 1]! > 0xc2) sof += 2 + ((huge[sof + 2]! << 8) | huge[sof + 3]!); // to the frame header
    huge.set([60000 >> 8, 60000 & 255, 60000 >> 8, 60000 & 255], sof + 5);
    writeFileSync(join(IMAGES, 'huge.jpg'), huge);
    writeFileSync(join(WORK, 'entry.js'), ENTRY);
    await build({ entryPoints: [join(WORK, 'entry.js')], outfile: join(WORK, 'page.js'), bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'error' });
    writeFileSync(join(WORK, 'index.html'), '<!doctype html><script type="module" src="/page.js"></script>');
    site = await serve({ '/': join(WORK, 'index.html'), '/page.js': join(WORK, 'page.js'), '/img/': IMAGES });
    cors = await serve({ '/img/': IMAGES }, { 'Access-Control-Allow-Origin': '*' });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await cors?.close();
  });

  it('an <img> from another origin without CORS: says why its pixels cannot be read and how to load it; then reads the next', async () => {
    type Read = { width: number; height: number } | { code: string; message: string };
    const read = (src: string, crossOrigin?: string): Promise<Read> =>
      page!.evaluate(([u, c]) => (window as unknown as { imgPixels(u: string, c?: string): Promise<Read> }).imgPixels(u, c), [src, crossOrigin] as const);
    const other = (s: Site) => s.url.replace('127.0.0.1', 'localhost'); // another origin, the same server
    const tainted = await read(`${other(site!)}/img/owl.jpg`);
    expect(tainted).to.have.property('code', 'CROSS_ORIGIN_IMAGE');
    expect((tainted as { message: string }).message).to.match(/^the photo: the browser does not let the page read the pixels of an image from another origin without CORS \(.+\)\. Load it with crossorigin="anonymous"/);
    expect(await read('/img/owl.jpg')).to.deep.equal({ width: 512, height: 384 });
    expect(await read(`${other(cors!)}/img/owl.jpg`, 'anonymous')).to.deep.equal({ width: 512, height: 384 });
  });

  it('gives PIL\'s pixels for JPEGs, with ICC profiles, EXIF orientation and Photoshop segments ignored as PIL does', async () => {
    const exif = (await sharp(join(IMAGES, 'exif-rotated.jpg')).metadata()).orientation;
    expect(exif, 'the test image carries EXIF orientation 6').to.equal(6);
    for (const name of ['owl.jpg', 'parrot.jpg', 'hot_dog.jpg', 'icc-p3.jpg', 'grey.jpg', 'exif-rotated.jpg']) {
      const want = await decodeImage(join(IMAGES, name));
      const got = await decode(name);
      expect(got, name).to.not.have.property('code');
      const { width, height, rgb } = got as { width: number; height: number; rgb: string };
      expect([width, height], `${name}: size`).to.deep.equal([want.width, want.height]);
      const pixels = Buffer.from(rgb, 'base64');
      let differ = 0;
      for (let i = 0; i < pixels.length; i++) if (pixels[i] !== want.data[i]) differ++;
      expect(differ, `${name}: bytes that differ from PIL's (${want.width}x${want.height}x3)`).to.equal(0);
    }
  });

  it('refuses a JPEG whose header claims more than maxPixels, before decoding it', async () => {
    const huge = await decode('huge.jpg');
    expect(huge).to.deep.include({ code: 'IMAGE_TOO_LARGE' });
    expect((huge as { message: string }).message).to.equal(
      '/img/huge.jpg: image is 60000x60000 = 3600000000 pixels, above the limit of 178956970 (a guard against decompression bombs). ' +
      'Downscale it, or if you trust it decode it with decodeImage(file, { maxPixels }) and pass the pixels it returns.');
    expect(await decode('owl.jpg', 1000)).to.deep.include({ code: 'IMAGE_TOO_LARGE' });
  });

  it('preprocesses to Node\'s floats bit for bit, with the SIMD passes and with the JavaScript passes', async () => {
    const configs: PreprocessConfig[] = [IMAGENET_DEFAULT, PRESETS.caffe(227), PRESETS.tf(299), { ...IMAGENET_DEFAULT, interpolation: 'bicubic' }];
    for (const cfg of configs) {
      for (const name of ['owl.jpg', 'parrot.jpg', 'grey.jpg']) {
        const want = preprocessBatch([await decodeImage(join(IMAGES, name))], cfg);
        for (const simd of [true, false]) {
          const got = await page!.evaluate(([u, c, sd]) => (window as unknown as { prepUrl(u: string, c: unknown, s: boolean): Promise<{ simd: boolean; floats: string; read: number; pixels: number }> }).prepUrl(u, c, sd),
            [`/img/${name}`, cfg, simd] as const);
          expect(got.simd, 'Chromium runs the SIMD passes when asked').to.equal(simd);
          // A photo's 0.875 centre crop reads at most 80% of it (a 4:3 one about 60%), the 21x13 image all of it.
          if (name !== 'grey.jpg' && cfg.cropFraction < 0.9) expect(got.read / got.pixels, `${name}: share of the pixels read back`).to.be.below(0.8);
          const floats = new Float32Array(new Uint8Array(Buffer.from(got.floats, 'base64')).buffer);
          expect(floats.length).to.equal(want.length);
          const bad = want.findIndex((v, i) => !Object.is(v, floats[i]));
          expect(bad, `${name} ${cfg.size}px ${cfg.interpolation} ${simd ? 'SIMD' : 'JavaScript'}: first value that differs`).to.equal(-1);
        }
      }
    }
  });
});
