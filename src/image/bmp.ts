/**
 * A small Windows BMP reader (libvips, and so sharp, cannot read BMP). Handles the formats real files use:
 * OS/2 core and Windows info headers (v1-v5), 1/4/8-bit palettes, 16/32-bit bit fields, 24-bit BGR,
 * bottom-up and top-down rows. RLE-compressed and embedded JPEG/PNG BMPs are rejected with a clear error.
 * Alpha is dropped (like PIL's `convert('RGB')`), the result is 8-bit RGB.
 */
import { tooManyPixels } from './files.js';
import { CnnZooError } from '../errors.js';
import type { RgbImage } from './types.js';

/** True when `bytes` starts with the BMP signature. */
export const isBmp = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;

const BI_RGB = 0, BI_RLE8 = 1, BI_RLE4 = 2, BI_BITFIELDS = 3, BI_JPEG = 4, BI_PNG = 5, BI_ALPHABITFIELDS = 6;

interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bitCount: number;
  compression: number;
  dataOffset: number;
  paletteOffset: number;
  paletteEntrySize: number;
  paletteSize: number;
  masks: [number, number, number];
}

function fail(what: string, name: string): never {
  throw new CnnZooError(`${name}: ${what}. Re-save the image as a standard 24-bit BMP, PNG or JPEG.`, 'BAD_IMAGE');
}

function readHeader(bytes: Uint8Array, name: string, maxPixels: number): BmpHeader {
  if (bytes.length < 26) fail(`truncated BMP (${bytes.length} bytes, the headers alone need at least 26)`, name);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  if (![12, 16, 40, 52, 56, 64, 108, 124].includes(headerSize)) fail(`unknown BMP header size ${headerSize}`, name);
  if (bytes.length < 14 + headerSize) fail('truncated BMP header', name);
  let width: number, rawHeight: number, bitCount: number, compression = BI_RGB, colorsUsed = 0;
  if (headerSize === 12) {
    width = v.getUint16(18, true);
    rawHeight = v.getInt16(20, true);
    bitCount = v.getUint16(24, true);
  } else {
    width = v.getInt32(18, true);
    rawHeight = v.getInt32(22, true);
    bitCount = v.getUint16(28, true);
    compression = v.getUint32(30, true);
    colorsUsed = headerSize >= 40 ? v.getUint32(46, true) : 0;
  }
  if (width <= 0 || rawHeight === 0) fail(`invalid BMP size ${width}x${rawHeight}`, name);
  const height = Math.abs(rawHeight);
  if (width * height > maxPixels) throw tooManyPixels(name, width, height, maxPixels);
  if (compression === BI_RLE8 || compression === BI_RLE4) fail('RLE-compressed BMPs are not supported', name);
  if (compression === BI_JPEG || compression === BI_PNG) fail('BMPs embedding JPEG/PNG data are not supported', name);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    fail(`unknown BMP compression ${compression}`, name);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bitCount)) fail(`unsupported BMP bit depth ${bitCount}`, name);

  // Bit masks: in the v2+ header, or in 12 bytes after a 40-byte header with BI_BITFIELDS.
  let masks: [number, number, number] = bitCount === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0x00ff00, 0x0000ff];
  let paletteOffset = 14 + headerSize;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bitCount !== 16 && bitCount !== 32) fail(`bit fields with ${bitCount}-bit pixels`, name);
    const at = headerSize >= 52 ? 54 : 14 + headerSize;
    if (bytes.length < at + 12) fail('truncated BMP bit masks', name);
    masks = [v.getUint32(at, true), v.getUint32(at + 4, true), v.getUint32(at + 8, true)];
    if (headerSize === 40) paletteOffset += compression === BI_ALPHABITFIELDS ? 16 : 12;
  }
  const paletteSize = bitCount <= 8 ? (colorsUsed > 0 ? Math.min(colorsUsed, 1 << bitCount) : 1 << bitCount) : 0;
  return {
    width, height, topDown: rawHeight < 0, bitCount, compression, dataOffset, paletteOffset,
    paletteEntrySize: headerSize === 12 ? 3 : 4, paletteSize, masks,
  };
}

/** Extracts a channel selected by `mask` and scales it to 0..255. */
function maskReader(mask: number): (px: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  // Integer scaling like PIL's unpackers (`(v * 255) / 31`, truncating).
  return max === 255 ? (px) => (px >>> shift) & 255 : (px) => Math.floor((((px & mask) >>> shift) * 255) / max);
}

/** Decodes a BMP file to 8-bit RGB. `name` is used in error messages. */
export function decodeBmp(bytes: Uint8Array, name = 'image', maxPixels = Number.POSITIVE_INFINITY): RgbImage {
  if (!isBmp(bytes)) fail('not a BMP file (no "BM" signature)', name);
  const h = readHeader(bytes, name, maxPixels);
  const { width, height, bitCount } = h;
  const stride = Math.ceil((width * bitCount) / 32) * 4;
  if (h.dataOffset + stride * height > bytes.length) {
    fail(`truncated BMP: ${width}x${height} at ${bitCount} bits needs ${h.dataOffset + stride * height} bytes, the file has ${bytes.length}`, name);
  }
  let palette: Uint8Array | undefined;
  if (h.paletteSize > 0) {
    if (h.paletteOffset + h.paletteSize * h.paletteEntrySize > bytes.length) fail('truncated BMP palette', name);
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < h.paletteSize; i++) {
      const o = h.paletteOffset + i * h.paletteEntrySize;
      palette[i * 3] = bytes[o + 2]!;
      palette[i * 3 + 1] = bytes[o + 1]!;
      palette[i * 3 + 2] = bytes[o]!;
    }
  }
  const [readR, readG, readB] = h.masks.map(maskReader) as [(p: number) => number, (p: number) => number, (p: number) => number];
  const out = new Uint8Array(width * height * 3);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let y = 0; y < height; y++) {
    const row = h.dataOffset + (h.topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    if (bitCount === 24) { // the common case, without the per-pixel dispatch below
      for (let x = 0, p = row; x < width; x++, o += 3, p += 3) {
        out[o] = bytes[p + 2]!;
        out[o + 1] = bytes[p + 1]!;
        out[o + 2] = bytes[p]!;
      }
      continue;
    }
    for (let x = 0; x < width; x++, o += 3) {
      if (bitCount === 32 || bitCount === 16) {
        const px = bitCount === 32 ? v.getUint32(row + x * 4, true) : v.getUint16(row + x * 2, true);
        out[o] = readR(px);
        out[o + 1] = readG(px);
        out[o + 2] = readB(px);
      } else {
        const perByte = 8 / bitCount;
        const byte = bytes[row + Math.floor(x / perByte)]!;
        const shift = 8 - bitCount * ((x % perByte) + 1);
        const idx = (byte >> shift) & ((1 << bitCount) - 1);
        out[o] = palette![idx * 3]!;
        out[o + 1] = palette![idx * 3 + 1]!;
        out[o + 2] = palette![idx * 3 + 2]!;
      }
    }
  }
  return { width, height, data: out };
}
