/**
 * Image decoding in browsers, in place of `src/image/decode.ts` (sharp) in the browser bundle: bytes are decoded
 * by the browser (`createImageBitmap`, no colour-space conversion, alpha dropped), strings are fetched as URLs.
 * JPEGs (grey or colour) reach the browser without the segments PIL ignores (ICC profile, EXIF orientation: jpeg.ts),
 * so its decoder (libjpeg-turbo in Chromium) gives PIL's pixels, through `createImageBitmap`'s default path, which
 * takes a quarter less time than asking it for no colour conversion; other formats' decoders may differ from PIL's.
 */
import { DEFAULT_MAX_PIXELS, heicProblem, tooManyPixels } from './files.js';
import { CnnZooError, checkOptionKinds, checkOptionNames, shown } from '../errors.js';
import { fetchImageBytes } from './fetch-bytes.js';
import { jpegFrame, stripJpegMetadata } from './jpeg.js';
import { cropWindow, type CropFor, type PixelBuffer } from './resize-crop.js';
import type { RgbImage } from './types.js';

export { DEFAULT_MAX_PIXELS } from './files.js';

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default `DEFAULT_MAX_PIXELS`). */
  maxPixels?: number;
  /** Name used in error messages (default: the URL, or "image"). */
  name?: string;
}

/** Anything a 2D canvas can draw: images, bitmaps, canvases, video frames. */
type Drawable = CanvasImageSource & { width?: number; height?: number };

/** Intrinsic size of a drawable (an <img>'s natural size, a <video>'s frame size). */
function sizeOf(source: Drawable): [number, number] {
  const s = source as { naturalWidth?: number; naturalHeight?: number; videoWidth?: number; videoHeight?: number; width?: number; height?: number };
  const width = s.naturalWidth || s.videoWidth || Number(s.width) || 0;
  const height = s.naturalHeight || s.videoHeight || Number(s.height) || 0;
  return [width, height];
}

let scratch: { canvas: OffscreenCanvas | HTMLCanvasElement; ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D } | undefined;

/**
 * RGBA pixels of a drawable, through one reused 2D canvas (no tfjs ops). With `crop`, only the window that
 * preprocessing reads (`cropWindow`: for a 4:3 photo and a 0.875 crop about 60% of it): the read-back is most of the
 * time a canvas takes.
 */
function drawablePixels(source: Drawable, name: string, crop?: CropFor): PixelBuffer {
  const [width, height] = sizeOf(source);
  if (width < 1 || height < 1) {
    throw new CnnZooError(`${name}: the image has no pixels yet (${width}x${height}); wait for it to load (img.decode(), video 'loadeddata').`, 'BAD_IMAGE');
  }
  const full = { left: 0, top: 0, width, height };
  const win = crop ? cropWindow(width, height, crop) : full;
  if (!scratch) {
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(win.width, win.height) : Object.assign(document.createElement('canvas'), { width: win.width, height: win.height });
    const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
    if (!ctx) throw new CnnZooError('This browser gives no 2D canvas to read image pixels from; pass an RgbImage or a pixel tensor instead.', 'BAD_INPUT');
    scratch = { canvas, ctx };
  }
  const { canvas, ctx } = scratch;
  if (canvas.width !== win.width || canvas.height !== win.height) {
    canvas.width = win.width;
    canvas.height = win.height;
  } else {
    ctx.clearRect(0, 0, win.width, win.height);
  }
  ctx.drawImage(source, -win.left, -win.top); // 1:1, the window at the canvas' origin: no resampling
  let data: Uint8ClampedArray;
  try {
    data = ctx.getImageData(0, 0, win.width, win.height).data;
  } catch (e) {
    if ((e as Error).name !== 'SecurityError') throw e;
    // A cross-origin image or video without CORS "taints" the canvas for good: the page may show it, not read its
    // pixels. The next image gets a fresh canvas.
    scratch = undefined;
    throw new CnnZooError(`${name}: the browser does not let the page read the pixels of an image from another origin without CORS ` +
      `(${(e as Error).message}). Load it with crossorigin="anonymous" on the <img>/<video> (img.crossOrigin = 'anonymous'), from a ` +
      'server that sends Access-Control-Allow-Origin, or serve it from the page\'s own origin.', 'CROSS_ORIGIN_IMAGE');
  }
  return win === full ? { width, height, channels: 4, data } : { width, height, channels: 4, data, window: win };
}

/** True when `x` is `ImageData` or shaped like it (RGBA bytes, `width * height * 4`). */
export function isImageDataLike(x: unknown): x is { width: number; height: number; data: Uint8ClampedArray | Uint8Array } {
  const d = x as { width?: unknown; height?: unknown; data?: unknown } | null;
  return typeof d === 'object' && d !== null && typeof d.width === 'number' && typeof d.height === 'number' &&
    (d.data instanceof Uint8ClampedArray || d.data instanceof Uint8Array) && d.data.length === d.width * d.height * 4;
}

/**
 * The pixels of a browser image source (`ImageData`, <img>, <canvas>, <video>, `ImageBitmap`) as
 * RGBA, read through a 2D canvas (ImageData as it is): no tfjs ops, no RGB conversion pass.
 */
export function sourcePixels(source: unknown, name = 'image', crop?: CropFor): PixelBuffer {
  if (isImageDataLike(source)) return { width: source.width, height: source.height, channels: 4, data: source.data };
  return drawablePixels(source as Drawable, name, crop);
}

/**
 * Decodes an image URL or its bytes to RGBA pixels in a browser (no conversion pass; the preprocessing reads RGBA);
 * with `crop`, only the part that preprocessing reads.
 */
export async function decodePixels(input: string | Uint8Array, options: DecodeOptions = {}, crop?: CropFor): Promise<PixelBuffer> {
  const name = options.name ?? (typeof input === 'string' ? input : `image (${input instanceof Uint8Array ? `${input.length} bytes` : typeof input})`);
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new CnnZooError(`decodeImage: expected a URL or a Uint8Array, got ${shown(input)}.`, 'BAD_ARGUMENT');
  }
  const bytes = typeof input === 'string' ? await fetchImageBytes(input, 'In browsers a string is a URL; check it and CORS.') : input;
  if (bytes.length === 0) throw new CnnZooError(`${name}: the image is empty (0 bytes).`, 'BAD_IMAGE');
  const heic = heicProblem(bytes, name);
  if (heic) throw new CnnZooError(heic, 'BAD_IMAGE');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const tooLarge = (width: number, height: number): CnnZooError => tooManyPixels(name, width, height, maxPixels);
  // A grey or colour JPEG: its size from the header (refused before decoding), and without ICC profile and EXIF the
  // default decode is PIL's (untagged means sRGB, no alpha to premultiply, no orientation to apply).
  const frame = jpegFrame(bytes);
  const plainJpeg = frame !== undefined && (frame.components === 1 || frame.components === 3) && frame.width > 0 && frame.height > 0;
  if (plainJpeg && frame.width * frame.height > maxPixels) throw tooLarge(frame.width, frame.height);
  let bitmap: ImageBitmap;
  try {
    bitmap = plainJpeg
      ? await createImageBitmap(new Blob([stripJpegMetadata(bytes) as Uint8Array<ArrayBuffer>]))
      : await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new CnnZooError(`${name}: the browser cannot decode this image (${(e as Error).message}). Use JPEG, PNG, BMP, GIF or WebP.`, 'BAD_IMAGE');
  }
  try {
    const { width, height } = bitmap;
    if (width * height > maxPixels) throw tooLarge(width, height);
    return drawablePixels(bitmap, name, crop);
  } finally {
    bitmap.close();
  }
}

/** Decodes an image URL or its bytes to 8-bit RGB in a browser. Throws `CnnZooError` for unreadable or huge input. */
export async function decodeImage(input: string | Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  checkOptionNames('decodeImage(input, options)', options, ['maxPixels', 'name'] satisfies (keyof DecodeOptions)[]);
  checkOptionKinds('decodeImage(input, options)', options, { maxPixels: 'positive integer', name: 'string' });
  const { width, height, data: rgba } = await decodePixels(input, options);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    data[i] = rgba[j]!;
    data[i + 1] = rgba[j + 1]!;
    data[i + 2] = rgba[j + 2]!;
  }
  return { width, height, data };
}
