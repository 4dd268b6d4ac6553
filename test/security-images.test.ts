/**
 * Untrusted images (extends test/image-decode.test.ts, which checks PIL-exact pixels of the shared photos and
 * grey/palette/LA/RGBA/CMYK fixtures, 16-bit RGBA PNG, empty/missing/truncated files and a BMP bomb):
 * every truncation and random corruption of JPEG/PNG/WebP/GIF/TIFF gives a CnnZooError or a well-formed image,
 * zero and huge dimensions in the header (decompression bombs) are refused before decoding, SVG is refused,
 * and grayscale, grey+alpha, 16-bit and CMYK inputs give the expected RGB pixels.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { CnnZooError } from '../src/errors.js';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../src/image/decode.js';
import { SEED, SCALE } from './helpers/fuzz.js';
import { SHARED } from './helpers/shared.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc32 = (b: Uint8Array): number => { let c = 0xffffffff; for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };

/** A PNG with its IHDR width/height replaced (CRC fixed, so only the size is a lie). */
function pngWithSize(png: Uint8Array, width: number, height: number): Uint8Array {
  const b = png.slice();
  const v = new DataView(b.buffer);
  v.setUint32(16, width);
  v.setUint32(20, height);
  v.setUint32(29, crc32(b.subarray(12, 29)));
  return b;
}

/** A JPEG with its frame (SOF) size replaced, walking the segments (an EXIF thumbnail has its own SOF). */
function jpegWithSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const b = jpeg.slice();
  const v = new DataView(b.buffer);
  for (let i = 2; i + 9 < b.length;) {
    if (b[i] !== 0xff) throw new Error(`no marker at ${i}`);
    const marker = b[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      v.setUint16(i + 5, height);
      v.setUint16(i + 7, width);
      return b;
    }
    i += 2 + v.getUint16(i + 2);
  }
  throw new Error('no SOF marker');
}

async function outcome(input: Uint8Array, what: string): Promise<'refused' | 'decoded'> {
  let img, err: unknown;
  // No time bound: the work is bounded by the pixels a decoded image may have, asserted below.
  try { img = await decodeImage(input, { name: 'img' }); } catch (e) { err = e; }
  if (err !== undefined) {
    if (!(err instanceof CnnZooError)) throw new Error(`${what}: ${(err as Error)?.stack ?? String(err)}`);
    expect(err.message, what).to.match(/^img: /);
    return 'refused';
  }
  expect(img!.width * img!.height, `${what}: pixels`).to.be.within(1, DEFAULT_MAX_PIXELS);
  expect(img!.data.length, `${what}: data length`).to.equal(img!.width * img!.height * 3);
  return 'decoded';
}

describe('security: untrusted images', () => {
  const photo = new Uint8Array(readFileSync(join(SHARED, 'images', 'owl.jpg')));
  let samples: [string, Uint8Array][] = [];
  before(async () => {
    const small = sharp(photo).resize(48, 40);
    samples = [
      ['jpeg', photo],
      ['png', new Uint8Array(await small.clone().png().toBuffer())],
      ['webp', new Uint8Array(await small.clone().webp().toBuffer())],
      ['gif', new Uint8Array(await small.clone().gif().toBuffer())],
      ['tiff', new Uint8Array(await small.clone().tiff({ compression: 'lzw' }).toBuffer())],
      ['avif', new Uint8Array(await small.clone().avif().toBuffer())],
    ];
  });

  it('every sampled truncation of JPEG, PNG, WebP, GIF, TIFF and AVIF is a CnnZooError or a well-formed image', async () => {
    const counts: string[] = [];
    for (const [format, bytes] of samples) {
      const tally = { refused: 0, decoded: 0 };
      const cuts = new Set([1, 2, 8, 16, 33, 100, ...Array.from({ length: 24 }, (_, i) => Math.floor((bytes.length * (i + 0.5)) / 24)), bytes.length - 2, bytes.length - 1]);
      for (const cut of cuts) tally[await outcome(bytes.subarray(0, cut), `${format} cut at ${cut}`)]++;
      counts.push(`${format} ${cuts.size} (refused ${tally.refused})`);
    }
    console.log(`      truncations: ${counts.join(', ')}`);
  });

  it('random byte flips in each format (fast-check) give a CnnZooError or a well-formed image', async () => {
    const counts: string[] = [];
    for (const [format, bytes] of samples) {
      const tally = { refused: 0, decoded: 0 };
      await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), async (flips) => {
        const b = bytes.slice();
        for (const [o, x] of flips) b[o]! ^= x;
        tally[await outcome(b, `${format} flips ${flips.join(' ')}`)]++;
      }), { numRuns: Math.round(40 * SCALE), seed: SEED });
      counts.push(`${format} ${tally.refused + tally.decoded} (refused ${tally.refused})`);
    }
    console.log(`      flips: ${counts.join(', ')}`);
  });

  it('headers claiming zero size are refused', async () => {
    const png = samples.find(([f]) => f === 'png')![1];
    for (const [w, h] of [[0, 40], [48, 0], [0, 0]] as const) expect(await outcome(pngWithSize(png, w, h), `png ${w}x${h}`)).to.equal('refused');
    expect(await outcome(jpegWithSize(photo, 0, 100), 'jpeg width 0')).to.equal('refused');
  });

  it('decompression bombs (headers claiming 10^10 pixels) are refused before decoding, at the default limit', async () => {
    const png = samples.find(([f]) => f === 'png')![1];
    const bombs: [string, Uint8Array][] = [
      ['png 100000x100000', pngWithSize(png, 100_000, 100_000)],
      ['png 2^31-1 x 2^31-1', pngWithSize(png, 2 ** 31 - 1, 2 ** 31 - 1)],
      ['jpeg 65000x65000', jpegWithSize(photo, 65_000, 65_000)],
    ];
    // GIF: libvips sizes the image by its frame, so the frame's image descriptor is the one that lies.
    const gif = samples.find(([f]) => f === 'gif')![1].slice();
    const flags = gif[10]!;
    let at = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
    while (gif[at] === 0x21) { at += 2; while (gif[at]) at += gif[at]! + 1; at++; } // skip extension blocks
    expect(gif[at]).to.equal(0x2c);
    new DataView(gif.buffer).setUint16(at + 5, 65535, true);
    new DataView(gif.buffer).setUint16(at + 7, 65535, true);
    bombs.push(['gif frame 65535x65535', gif]);
    for (const [what, b] of bombs) {
      let err: unknown;
      try { await decodeImage(b, { name: 'bomb' }); } catch (e) { err = e; }
      expect(err, what).to.be.instanceOf(CnnZooError);
      expect((err as CnnZooError).message, what).to.match(/bomb: (image is \d+x\d+ = \d+ pixels, above the limit of 178956970|.*(corrupt|not a readable image))/);
    }
  });

  it('refuses SVG (XML, not a photo) including an SVG claiming 10^10 pixels', async () => {
    const svg = (w: number) => new TextEncoder().encode(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${w}"><rect width="10" height="10"/></svg>`);
    for (const w of [10, 100_000]) {
      let err: unknown;
      try { await decodeImage(svg(w), { name: 'x.svg' }); } catch (e) { err = e; }
      expect((err as Error).message).to.match(/x\.svg: svg images are not supported/);
    }
  });

  it('grayscale, grey + alpha and 16-bit grayscale become RGB with equal channels', async () => {
    const grey = await sharp(Buffer.from([0, 100, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).to.equal(1);
    expect([...(await decodeImage(new Uint8Array(grey))).data]).to.deep.equal([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);
    const la = await sharp(Buffer.from([50, 0, 150, 255]), { raw: { width: 2, height: 1, channels: 2 } }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(la).metadata()).channels).to.equal(2);
    // Alpha is dropped, not composited (PIL's convert('RGB')): a fully transparent pixel keeps its grey.
    expect([...(await decodeImage(new Uint8Array(la))).data]).to.deep.equal([50, 50, 50, 150, 150, 150]);
    const g16 = await sharp(new Uint16Array([0, 257 * 10, 65535, 257 * 200]), { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    const m = await sharp(g16).metadata();
    expect([m.depth, m.channels]).to.deep.equal(['ushort', 1]);
    expect([...(await decodeImage(new Uint8Array(g16))).data]).to.deep.equal([0, 0, 0, 10, 10, 10, 255, 255, 255, 200, 200, 200]);
  });

  it('8-bit RGBA drops alpha without compositing; CMYK TIFF converts like PIL (no colour management)', async () => {
    const rgba = await sharp(Buffer.from([10, 20, 30, 0, 40, 50, 60, 128]), { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    expect([...(await decodeImage(new Uint8Array(rgba))).data]).to.deep.equal([10, 20, 30, 40, 50, 60]);
    const cmyk = await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 200, g: 100, b: 50 } } }).toColourspace('cmyk').tiff().toBuffer();
    const raw = await sharp(cmyk).pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer();
    expect((await sharp(cmyk).metadata()).space).to.equal('cmyk');
    const [c, y, k] = [raw[0]!, raw[2]!, raw[3]!];
    const img = await decodeImage(new Uint8Array(cmyk));
    // PIL: channel = (255 - K) - round(C * (255 - K) / 255)
    expect(img.data[0]).to.be.closeTo(255 - k - Math.round((c * (255 - k)) / 255), 1);
    expect(img.data[2]).to.be.closeTo(255 - k - Math.round((y * (255 - k)) / 255), 1);
  });
});
