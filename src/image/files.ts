/** Image files as the decoders see them, in Node and browsers: which files are images, and which are refused up front. */
import { CnnZooError } from '../errors.js';

/** Which files in a folder are images: the formats the decoders read (decode.ts: sharp's and our BMP reader). */
export const IMAGE_FILE = /\.(jpe?g|png|bmp|webp|gif|tiff?|avif)$/i;
/** HEIC/HEIF photo files (an iPhone's), which no decoder here reads: listed so that they are reported, not skipped. */
export const HEIC_FILE = /\.hei[cf]$/i;
/** The same formats, as messages name them. */
export const IMAGE_FORMATS = 'JPEG, PNG, BMP, WebP, GIF, TIFF, AVIF';

/**
 * The most pixels an image may have before it is refused as a possible decompression bomb: where PIL refuses one
 * (`DecompressionBombError` above twice `Image.MAX_IMAGE_PIXELS` = 89,478,485; between the two it only warns), so that
 * what torchvision's loader decodes, cnn-zoo decodes.
 */
export const DEFAULT_MAX_PIXELS = 2 * 89_478_485;

/** An image over `maxPixels`, refused before its pixels are allocated, with the ways out. */
export const tooManyPixels = (name: string, width: number, height: number, maxPixels: number): CnnZooError =>
  new CnnZooError(`${name}: image is ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels} (a guard against ` +
    'decompression bombs). Downscale it, or if you trust it decode it with decodeImage(file, { maxPixels }) and pass the pixels it returns.', 'IMAGE_TOO_LARGE');

/**
 * An HEIC/HEIF photo (an iPhone's default format: HEVC inside an ISO-BMFF `ftyp` box), refused up front with the fix: no
 * decoder here reads HEVC (sharp's libheif has AV1 only, for AVIF; Chromium none), and libvips' own error named
 * neither the format nor a way out. AVIF (brand `avif`/`avis`) is not this and decodes.
 */
export function heicProblem(bytes: Uint8Array, name: string): string | undefined {
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'ftyp') return undefined;
  const brand = String.fromCharCode(...bytes.subarray(8, 12));
  if (!['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'].includes(brand)) return undefined;
  // The generic HEIF brands also head some AVIF files: their compatible brands (after the minor version) say so.
  const boxEnd = Math.min(bytes.length, new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0));
  for (let at = 16; at + 4 <= boxEnd; at += 4) if (/^avi[fs]$/.test(String.fromCharCode(...bytes.subarray(at, at + 4)))) return undefined;
  return `${name}: an HEIC/HEIF photo (brand "${brand}", an iPhone's default), which cannot be decoded here (no HEVC decoder). ` +
    'Convert it to JPEG (macOS: sips -s format jpeg IN.heic --out OUT.jpg; libheif: heif-convert IN.heic OUT.jpg), or set the ' +
    'iPhone to save JPEG (Settings > Camera > Formats > Most Compatible).';
}
