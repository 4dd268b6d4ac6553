/**
 * Decode an image file (a path, a file: or http(s) URL, or bytes) to 8-bit RGB, as torchvision's loader does
 * (`Image.open(f).convert('RGB')`): JPEG/PNG/WebP/GIF/TIFF/AVIF... through sharp (libvips), BMP through our own reader
 * (libvips cannot read it).
 * Grayscale, palette, alpha (dropped, not composited), CMYK and 16-bit inputs all become 8-bit RGB. EXIF orientation
 * is NOT applied and embedded ICC profiles are ignored, like PIL, so pixels match what the checkpoints were trained
 * and evaluated on (checked byte for byte against Pillow 9.4 on JPEG/PNG/BMP in RGB, L, LA, RGBA, P and CMYK modes;
 * 16-bit images are scaled to 8 bits, where PIL would clip them).
 * Node only (sharp is loaded on first use).
 */
import { CnnZooError, checkOptionKinds, checkOptionNames, shown, tildeHint } from '../errors.js';
import { decodeBmp, isBmp } from './bmp.js';
import { fetchImageBytes, isHttpUrl } from './fetch-bytes.js';
import { DEFAULT_MAX_PIXELS, heicProblem, IMAGE_FORMATS, tooManyPixels } from './files.js';
import { jpegFrame, stripJpegMetadata } from './jpeg.js';
import type { CropFor, PixelBuffer } from './resize-crop.js';
import type { RgbImage } from './types.js';

/**
 * Raster formats decoded through sharp. Others libvips could open (SVG, which is XML with text rendering,
 * and libvips' own formats) are refused: they are not photos, and each is more parser exposed to files.
 */
const SHARP_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

export { DEFAULT_MAX_PIXELS } from './files.js';

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default `DEFAULT_MAX_PIXELS`, as PIL). */
  maxPixels?: number;
  /** Name used in error messages (default: the path, or "image"). */
  name?: string;
}

const DECODE_OPTIONS = ['maxPixels', 'name'] as const satisfies readonly (keyof DecodeOptions)[];

async function readInput(input: string | Uint8Array, name: string): Promise<Uint8Array> {
  if (typeof input !== 'string') {
    if (!(input instanceof Uint8Array)) {
      throw new CnnZooError(`decodeImage: expected a file path or a Uint8Array, got ${shown(input)}.`, 'BAD_ARGUMENT');
    }
    return input;
  }
  if (isHttpUrl(input)) return fetchImageBytes(input, 'Check the URL and the network (or download it and pass the file).');
  if (/^data:/i.test(input)) return fetchImageBytes(input, 'Check the data: URL (data:image/jpeg;base64,...).');
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(/^file:/i.test(input) ? new URL(input) : input);
  } catch (e) {
    throw unreadableImage(input, name, e);
  }
}

function unreadableImage(path: string, name: string, e: unknown): CnnZooError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') {
    return new CnnZooError(`${name}: cannot read the image (it is a folder). Pass the paths of its image files ` +
      '(cnn-zoo classify takes a folder and reads its images).', 'IMAGE_NOT_FOUND');
  }
  const why = code === 'ENOENT' ? 'no such file' : (e as Error).message;
  return new CnnZooError(`${name}: cannot read the image (${why}). Check the path${code === 'ENOENT' ? tildeHint(path) : ''}.`, 'IMAGE_NOT_FOUND');
}

/**
 * Why the image file at `path` cannot be read, as decoding it would say (undefined when it can be opened, and for
 * URLs): what `cnn-zoo classify` checks before it loads a model for images that are none of them there. Node only.
 */
export async function unreadableImageFile(path: string): Promise<CnnZooError | undefined> {
  if (isHttpUrl(path) || /^data:/i.test(path)) return undefined;
  const { open } = await import('node:fs/promises');
  try {
    const fh = await open(/^file:/i.test(path) ? new URL(path) : path, 'r');
    try {
      await fh.read(new Uint8Array(1), 0, 1, 0); // a folder opens, and fails here (EISDIR), as readFile does
    } finally {
      await fh.close();
    }
    return undefined;
  } catch (e) {
    return unreadableImage(path, path, e);
  }
}

/** libvips' error text on one line: its lines trimmed, repeats dropped (it repeats each line per attempt). */
const oneLine = (message: string): string =>
  [...new Set(message.replace(/^Input buffer has corrupt header: /, 'corrupt header\n').split(/\r?\n/).map((l) => l.trim()).filter(Boolean))].join('; ');

type Sharp = typeof import('sharp').default;
let sharpModule: Promise<Sharp> | undefined;
/**
 * sharp is Node-only, loaded on first use through `require()`: an ESM import of this CommonJS package would have Node
 * lex its source for export names first (tools/build-node.mjs says why that matters), and a computed name keeps
 * browser bundlers from trying to include it.
 */
const SHARP = 'sharp';
const loadSharp = (): Promise<Sharp> =>
  (sharpModule ??= import('node:module').then((m) => m.createRequire(import.meta.url)(SHARP) as Sharp));

/** PIL's `cmyk2rgb` (no colour management): channel = (255 - K) - round(C * (255 - K) / 255). */
function cmykToRgb(cmyk: Uint8Array): Uint8Array {
  const n = cmyk.length / 4, out = new Uint8Array(n * 3);
  const mulDiv255 = (a: number, b: number): number => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (let i = 0; i < n; i++) {
    const nk = 255 - cmyk[i * 4 + 3]!;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.max(0, Math.min(255, nk - mulDiv255(cmyk[i * 4 + c]!, nk)));
  }
  return out;
}

/**
 * Grey or colour (not CMYK) image bytes -> 8-bit RGB in one libvips pipeline. `ignoreIcc`: PIL (torchvision's
 * loader) does not apply embedded colour profiles, so neither do we (sharp would convert e.g. a phone's Display P3
 * photo to sRGB, changing its pixels; and even an sRGB profile's identity transform costs 3-4 ms per photo).
 */
async function decodeRgb(sharp: Sharp, bytes: Uint8Array, maxPixels: number, name: string, format: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', ignoreIcc: true })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new CnnZooError(`${name}: the ${format} data is corrupt or truncated (${oneLine((e as Error).message)}). ` +
      'Re-download or remove the file.', 'BAD_IMAGE');
  }
}

/** Decodes an image file (a path, a file: or http(s) URL) or its bytes to 8-bit RGB. Throws `CnnZooError` for empty, corrupt, truncated or huge input. */
export async function decodeImage(input: string | Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  checkOptionNames('decodeImage(input, options)', options, DECODE_OPTIONS);
  checkOptionKinds('decodeImage(input, options)', options, { maxPixels: 'positive integer', name: 'string' });
  const name = options.name ?? (typeof input === 'string' ? input : `image (${input instanceof Uint8Array ? `${input.length} bytes` : typeof input})`);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const bytes = await readInput(input, name);
  if (bytes.length === 0) throw new CnnZooError(`${name}: the image is empty (0 bytes). Re-download or remove it.`, 'BAD_IMAGE');
  if (isBmp(bytes)) return decodeBmp(bytes, name, maxPixels);
  const heic = heicProblem(bytes, name);
  if (heic) throw new CnnZooError(heic, 'BAD_IMAGE');

  const sharp = await loadSharp();
  // JPEG in grey or colour (the common case): one libvips call, the header read here (CMYK takes the path below).
  const frame = jpegFrame(bytes);
  if (frame && (frame.components === 1 || frame.components === 3) && frame.width > 0 && frame.height > 0) {
    if (frame.width * frame.height > maxPixels) throw tooManyPixels(name, frame.width, frame.height, maxPixels);
    return decodeRgb(sharp, stripJpegMetadata(bytes), maxPixels, name, 'jpeg');
  }
  let meta: Awaited<ReturnType<ReturnType<Sharp>['metadata']>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new CnnZooError(`${name}: not a readable image (${oneLine((e as Error).message)}). ` +
      `Supported: ${IMAGE_FORMATS}. Re-save or remove the file.`, 'BAD_IMAGE');
  }
  if (!SHARP_FORMATS.has(meta.format ?? '')) {
    throw new CnnZooError(`${name}: ${meta.format ?? 'this'} images are not supported. ` +
      `Supported: ${IMAGE_FORMATS}. Convert the file to PNG or JPEG.`, 'BAD_IMAGE');
  }
  const { width = 0, height = 0 } = meta;
  if (width * height > maxPixels) throw tooManyPixels(name, width, height, maxPixels);
  if (meta.space !== 'cmyk') return decodeRgb(sharp, bytes, maxPixels, name, meta.format ?? 'image');
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', ignoreIcc: true })
      .pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded CMYK to ${info.channels} channels, expected 4`);
    return { width: info.width, height: info.height, data: cmykToRgb(data) };
  } catch (e) {
    throw new CnnZooError(`${name}: the ${meta.format ?? 'image'} data is corrupt or truncated (${oneLine((e as Error).message)}). ` +
      'Re-download or remove the file.', 'BAD_IMAGE');
  }
}

/**
 * `decodeImage` as the preprocessing's pixel buffer (the browser build's `decodePixels` gives RGBA instead, and only
 * the part that `_crop`'s preprocessing reads: libvips decodes the whole image anyway, so here it is the whole).
 */
export async function decodePixels(input: string | Uint8Array, options: DecodeOptions = {}, _crop?: CropFor): Promise<PixelBuffer> {
  return { ...(await decodeImage(input, options)), channels: 3 };
}
