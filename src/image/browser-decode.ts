/**
 * Image decoding in browsers, in place of `src/image/decode.ts` (sharp) in the browser bundle: bytes are decoded
 * by the browser (`createImageBitmap`, no colour-space conversion, alpha dropped), strings are fetched as URLs.
 * The browser's decoders are not PIL's, so JPEG pixels may differ by a few levels from Node's decoding.
 */
import { CnnZooError } from '../errors.js';
import type { RgbImage } from './types.js';

/** PIL's `Image.MAX_IMAGE_PIXELS`, as in Node. */
export const DEFAULT_MAX_PIXELS = 89_478_485;

export interface DecodeOptions {
  /** Refuse images with more pixels than this (default `DEFAULT_MAX_PIXELS`). */
  maxPixels?: number;
  /** Name used in error messages (default: the URL, or "image"). */
  name?: string;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new CnnZooError(`${url}: cannot fetch the image (${(e as Error).message}). In browsers a string is a URL; check it and CORS.`, 'IMAGE_NOT_FOUND');
  }
  if (!res.ok) throw new CnnZooError(`${url}: cannot fetch the image (HTTP ${res.status}). Check the URL.`, 'IMAGE_NOT_FOUND');
  return new Uint8Array(await res.arrayBuffer());
}

/** RGBA pixels of a decoded bitmap, through a 2D canvas. */
function bitmapPixels(bitmap: ImageBitmap): Uint8ClampedArray {
  const { width, height } = bitmap;
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (!ctx) throw new CnnZooError('This browser gives no 2D canvas to read image pixels from; pass an RgbImage or a pixel tensor instead.', 'BAD_INPUT');
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, width, height).data;
}

/** Decodes an image URL or its bytes to 8-bit RGB in a browser. Throws `CnnZooError` for unreadable or huge input. */
export async function decodeImage(input: string | Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  const name = options.name ?? (typeof input === 'string' ? input : `image (${input instanceof Uint8Array ? `${input.length} bytes` : typeof input})`);
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new CnnZooError(`decodeImage: expected a URL or a Uint8Array, got ${typeof input}.`, 'BAD_ARGUMENT');
  }
  const bytes = typeof input === 'string' ? await fetchBytes(input) : input;
  if (bytes.length === 0) throw new CnnZooError(`${name}: the image is empty (0 bytes).`, 'BAD_IMAGE');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new CnnZooError(`${name}: the browser cannot decode this image (${(e as Error).message}). Use JPEG, PNG, BMP, GIF or WebP.`, 'BAD_IMAGE');
  }
  try {
    const { width, height } = bitmap;
    const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (width * height > maxPixels) {
      throw new CnnZooError(`${name}: ${width}x${height} has more than ${maxPixels} pixels (a possible decompression bomb); pass a larger maxPixels if you trust it.`, 'IMAGE_TOO_LARGE');
    }
    const rgba = bitmapPixels(bitmap);
    const data = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
      data[i] = rgba[j]!;
      data[i + 1] = rgba[j + 1]!;
      data[i + 2] = rgba[j + 2]!;
    }
    return { width, height, data };
  } finally {
    bitmap.close();
  }
}
