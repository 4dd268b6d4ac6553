/** Image files as the decoders see them, in Node and browsers: which files are images, and which are refused up front. */
import { CnnZooError } from '../errors.js';

/** Which files in a folder are images: the formats the decoders read (decode.ts: sharp's and our BMP reader). */
export const IMAGE_FILE = /\.(jpe?g|png|bmp|webp|gif|tiff?|avif)$/i;
/** HEIC/HEIF photo files (an iPhone's), which no decoder here reads: listed so that they are reported, not skipped. */
export const HEIC_FILE = /\.hei[cf]$/i;
/** The same formats, as messages name them. */
export const IMAGE_FORMATS = 'JPEG, PNG, BMP, WebP, GIF, TIFF, AVIF';

/**
 * Whether `bytes` start as an image file of a format the decoders know does (its signature); raw pixels given as bytes
 * do not, nor do most files that are no image.
 */
export function hasImageSignature(bytes: Uint8Array): boolean {
  const ascii = (from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));
  return (bytes[0] === 0xff && bytes[1] === 0xd8) || ascii(0, 4) === '\x89PNG' || ascii(0, 4) === 'GIF8' || ascii(0, 2) === 'BM' ||
    (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') || ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*' || ascii(4, 8) === 'ftyp';
}

/** The few synchronous calls of Node's `fs` that `filesBelow` makes (passed in: this module also runs in browsers). */
export interface FolderFs {
  readdirSync(path: string): string[];
  statSync(path: string): { isDirectory(): boolean };
  realpathSync(path: string): string;
}

/** The files below a folder, by kind, as paths relative to it (`/`-separated, in walk order, names sorted). */
export interface FilesBelow { images: string[]; heic: string[]; other: string[]; /** Images right in the folder. */ direct: number; /** Folders right in it. */ folders: number }

/** How deep `filesBelow` walks (sub-folders of sub-folders ...): a bound on links that loop. */
const MAX_DEPTH = 32;

/**
 * Every file below `root`, its sub-folders too (as torchvision's ImageFolder and Keras' image_dataset_from_directory
 * take a class's images), hidden names skipped; a folder reached twice (a link that loops) is walked once.
 */
export function filesBelow(root: string, fs: FolderFs, join: (...parts: string[]) => string): FilesBelow {
  const found: FilesBelow = { images: [], heic: [], other: [], direct: 0, folders: 0 };
  const seen = new Set<string>();
  const isDir = (p: string): boolean => { try { return fs.statSync(p).isDirectory(); } catch { return false; } };
  const visit = (rel: string, depth: number): void => {
    const here = rel ? join(root, ...rel.split('/')) : root;
    let real = here;
    try { real = fs.realpathSync(here); } catch { /* unreadable: walked as named */ }
    if (seen.has(real) || depth > MAX_DEPTH) return;
    seen.add(real);
    for (const name of fs.readdirSync(here).sort()) {
      if (name.startsWith('.')) continue;
      const path = rel ? `${rel}/${name}` : name;
      if (isDir(join(here, name))) {
        if (depth === 0) found.folders++;
        visit(path, depth + 1);
      } else if (IMAGE_FILE.test(name)) {
        found.images.push(path);
        if (depth === 0) found.direct++;
      } else (HEIC_FILE.test(name) ? found.heic : found.other).push(path);
    }
  };
  visit('', 0);
  return found;
}

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
