/** decodeImage / decodeBmp: byte-exact against PIL's `convert('RGB')` (reference hashes), odd formats, bad input. */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { CnnZooError } from '../src/errors.js';
import { decodeBmp } from '../src/image/bmp.js';
import { decodeImage } from '../src/image/decode.js';
import { ROOT, SHARED } from './helpers/shared.js';

interface Reference {
  formats: { file: string; mode: string; sha256: string }[];
  decode: { image: string; width: number; height: number; sha256: string }[];
}
const REF = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'preprocess-reference.json'), 'utf8')) as Reference;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A BMP with a 40-byte info header; `pixels` are the raw rows (already padded), `palette` BGRA entries. */
function bmp(width: number, height: number, bitCount: number, rows: number[][], opts: { palette?: number[][]; compression?: number; masks?: number[] } = {}): Uint8Array {
  const pal = (opts.palette ?? []).flat();
  const masks = opts.masks ?? [];
  const pixels = rows.flat();
  const offset = 14 + 40 + masks.length * 4 + pal.length;
  const b = new Uint8Array(offset + pixels.length);
  const v = new DataView(b.buffer);
  b[0] = 0x42; b[1] = 0x4d;
  v.setUint32(2, b.length, true);
  v.setUint32(10, offset, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, height, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, bitCount, true);
  v.setUint32(30, opts.compression ?? 0, true);
  v.setUint32(46, (opts.palette ?? []).length, true);
  masks.forEach((m, i) => v.setUint32(54 + i * 4, m, true));
  b.set(pal, 54 + masks.length * 4);
  b.set(pixels, offset);
  return b;
}

describe('image decoding', () => {
  it('decodes the shared photos (BMP and JPEG) byte-exactly like PIL', async () => {
    for (const r of REF.decode) {
      const img = await decodeImage(join(SHARED, 'images', r.image));
      expect([img.width, img.height], r.image).to.deep.equal([r.width, r.height]);
      expect(sha256(img.data), r.image).to.equal(r.sha256);
    }
  });

  it('converts grey, 1-bit, palette, alpha and CMYK images, and RGB ones tagged with a Display P3 profile, to RGB exactly like PIL (no colour management)', async () => {
    expect(REF.formats.map((f) => f.mode)).to.include.members(['1', 'L', 'P', 'LA', 'RGBA', 'CMYK']);
    for (const f of REF.formats) {
      const img = await decodeImage(new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', 'images', f.file))));
      expect([img.width, img.height], f.file).to.deep.equal([21, 13]);
      expect(sha256(img.data), `${f.file} (${f.mode})`).to.equal(f.sha256);
    }
  });

  it('reads 4-bit palette, 16-bit 565 bit-field and top-down BMPs', () => {
    // 3x2, 4 bits: indices row0 (bottom) 0 1 2, row1 (top) 3 0 1; rows padded to 4 bytes.
    const palette = [[0, 0, 0, 0], [255, 0, 0, 0], [0, 255, 0, 0], [0, 0, 255, 0]]; // BGRA
    const p4 = decodeBmp(bmp(3, 2, 4, [[0x01, 0x20, 0, 0], [0x30, 0x10, 0, 0]], { palette }));
    expect([...p4.data]).to.deep.equal([255, 0, 0, 0, 0, 0, 0, 0, 255, /* bottom row: */ 0, 0, 0, 0, 0, 255, 0, 255, 0]);
    // 2x1, 16-bit 5-6-5: pure red, pure green (full scale -> 255).
    const p16 = decodeBmp(bmp(2, 1, 16, [[0x00, 0xf8, 0xe0, 0x07]], { compression: 3, masks: [0xf800, 0x07e0, 0x001f] }));
    expect([...p16.data]).to.deep.equal([255, 0, 0, 0, 255, 0]);
    // Negative height: first stored row is the top row.
    const td = decodeBmp(bmp(1, -2, 24, [[1, 2, 3, 0], [4, 5, 6, 0]]));
    expect([...td.data]).to.deep.equal([3, 2, 1, 6, 5, 4]);
  });

  it('scales 16-bit PNGs to 8 bits and drops alpha', async () => {
    const raw = new Uint16Array([10 * 257, 200 * 257, 30 * 257, 65535, 0, 0, 65535, 0]);
    const png = await sharp(raw, { raw: { width: 2, height: 1, channels: 4 } })
      .toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png).metadata()).depth).to.equal('ushort');
    const img = await decodeImage(new Uint8Array(png));
    expect([...img.data]).to.deep.equal([10, 200, 30, 0, 0, 255]);
  });

  it('rejects empty, missing, corrupt and truncated files with a CnnZooError', async () => {
    const fails = async (input: string | Uint8Array, re: RegExp): Promise<void> => {
      let err: unknown;
      try { await decodeImage(input, { name: 'x' }); } catch (e) { err = e; }
      expect(err, String(re)).to.be.instanceOf(CnnZooError);
      expect((err as Error).message).to.match(re);
      expect((err as Error).message, 'one line').not.to.include('\n');
    };
    await fails(new Uint8Array(0), /empty/);
    await fails('/nonexistent/cat.jpg', /no such file/);
    await fails(SHARED, /it is a folder\). Pass the paths of its image files/);
    await fails(new TextEncoder().encode('hello, I am not an image'), /not a readable image/);
    const jpeg = readFileSync(join(SHARED, 'images', 'owl.jpg'));
    await fails(new Uint8Array(jpeg.subarray(0, Math.floor(jpeg.length / 2))), /corrupt or truncated/);
    const bmpBytes = readFileSync(join(SHARED, 'images', 'grace_hopper.bmp'));
    await fails(new Uint8Array(bmpBytes.subarray(0, 5000)), /truncated BMP/);
    await fails(new Uint8Array(bmpBytes.subarray(0, 20)), /truncated BMP/);
    await fails(bmp(2, 1, 8, [[0, 0, 0, 0]], { compression: 1 }), /RLE/);
    // An iPhone's HEIC (an ISO-BMFF ftyp box, brand heic): libvips' error named neither the format nor the way out.
    const ftyp = (major: string, ...compatible: string[]): Uint8Array => {
      const text = `ftyp${major}\0\0\0\0${compatible.join('')}`;
      const box = new Uint8Array(4 + text.length + 64);
      new DataView(box.buffer).setUint32(0, 4 + text.length);
      box.set(new TextEncoder().encode(text), 4);
      return box;
    };
    await fails(ftyp('heic', 'mif1', 'heic'), /^x: an HEIC\/HEIF photo \(brand "heic", an iPhone's default\), which cannot be decoded here \(no HEVC decoder\)\. Convert it to JPEG \(macOS: sips/);
    await fails(ftyp('mif1', 'mif1', 'heic'), /^x: an HEIC\/HEIF photo \(brand "mif1"/);
    // AVIF shares the box (and sometimes the generic brand): not this message.
    for (const avif of [ftyp('avif', 'mif1'), ftyp('mif1', 'avif')]) await fails(avif, /^x: not a readable image/);
  });

  it('refuses decompression bombs before allocating pixels', async () => {
    // A 60-byte BMP header claiming 100000 x 100000 pixels.
    const bomb = bmp(100000, 100000, 24, []);
    let err: unknown;
    try { await decodeImage(bomb); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(CnnZooError);
    expect((err as Error).message).to.match(/10000000000 pixels, above the limit/);
    // Same for formats sharp reads: a small PNG over a lowered limit.
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer();
    err = undefined;
    try { await decodeImage(new Uint8Array(png), { maxPixels: 1000 }); } catch (e) { err = e; }
    expect((err as Error).message).to.match(/4096 pixels, above the limit of 1000/);
    // The default is where PIL refuses (twice Image.MAX_IMAGE_PIXELS; between the two it only warns): a 90-megapixel
    // photo, which torchvision's loader reads, decodes (it was refused at 89478485).
    const big = await sharp({ create: { width: 10_000, height: 9_000, channels: 3, background: '#406080' } }).png({ compressionLevel: 1 }).toBuffer();
    const img = await decodeImage(new Uint8Array(big));
    expect([img.width, img.height, img.data[0], img.data[img.data.length - 1]]).to.deep.equal([10_000, 9_000, 0x40, 0x80]);
    err = undefined;
    try { await decodeImage(bmp(20_000, 9_000, 24, [])); } catch (e) { err = e; }
    expect((err as Error).message).to.equal('image (54 bytes): image is 20000x9000 = 180000000 pixels, above the limit of 178956970 (a guard ' +
      'against decompression bombs). Downscale it, or if you trust it decode it with decodeImage(file, { maxPixels }) and pass the pixels it returns.');
  });
});
