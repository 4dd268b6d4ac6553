/**
 * What the high-level API accepts as an image, and how each becomes an `RgbImage`: Node file paths, URLs and
 * Buffers (decoded), `RgbImage`s, tensors of raw 0-255 pixels ([H, W, 3] or a batch [N, H, W, 3]), and in
 * browsers anything `tf.browser.fromPixels` takes (HTMLImageElement, canvas, ImageData, video, ImageBitmap).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import type { CropFor, PixelBuffer } from '../image/resize-crop.js';
import type { RgbImage } from '../image/types.js';

/** Browser pixel sources (structural, so Node type-checks without the DOM at run time). */
export type PixelSource = Parameters<typeof tf.browser.fromPixels>[0];

/**
 * One image. Tensors hold raw pixels in 0..255, [H, W, 3]; a [N, H, W, 3] tensor is a batch of N images. A `Blob`
 * (a `File` from an `<input type="file">` or a drop, a fetched blob) is the image file it holds.
 */
export type ImageInput = string | Uint8Array | Blob | RgbImage | tf.Tensor3D | tf.Tensor4D | PixelSource;

/**
 * An image file given as a path or URL, its bytes or a Blob: what the decoders take, and the name its errors use (the
 * path, a File's name; bytes and unnamed Blobs by their place in a batch and their size). Undefined for other inputs.
 */
async function imageFile(x: ImageInput, index?: number): Promise<{ file: string | Uint8Array; name: string } | undefined> {
  const place = `image${index === undefined ? '' : ` [${index}]`}`;
  if (typeof x === 'string') return { file: x, name: x };
  if (x instanceof Uint8Array) return { file: x, name: `${place} (${x.length} bytes)` };
  if (typeof Blob === 'undefined' || !(x instanceof Blob)) return undefined;
  const fileName = (x as { name?: unknown }).name;
  return { file: new Uint8Array(await x.arrayBuffer()), name: typeof fileName === 'string' && fileName ? fileName : `${place} (a Blob of ${x.size} bytes)` };
}

const isRgbImage = (x: unknown): x is RgbImage =>
  typeof x === 'object' && x !== null && 'data' in x && 'width' in x && 'height' in x && (x as RgbImage).data instanceof Uint8Array &&
  (x as RgbImage).data.length === (x as RgbImage).width * (x as RgbImage).height * 3;

/** Raw-pixel tensor [H, W, 3] -> RgbImage (rounded, clamped to 0..255). */
async function tensorToRgb(t: tf.Tensor3D): Promise<RgbImage> {
  const [height, width, c] = t.shape;
  if (c !== 3) throw new CnnZooError(`Image tensor has ${c} channels (shape [${t.shape}]); pass RGB pixels [H, W, 3] in 0..255.`, 'BAD_INPUT_SHAPE');
  const pixels = tf.tidy(() => t.toFloat().round().clipByValue(0, 255).toInt());
  try {
    return { width, height, data: Uint8Array.from(await pixels.data()) };
  } finally {
    pixels.dispose();
  }
}

/** Every image in `input` (a batch tensor expands to its images; an array to its members). */
export async function toRgbImages(input: ImageInput | readonly ImageInput[], index?: number): Promise<RgbImage[]> {
  if (Array.isArray(input)) return (await Promise.all((input as readonly ImageInput[]).map((x, i) => toRgbImages(x, i)))).flat();
  const x = input as ImageInput;
  const image = await imageFile(x, index);
  if (image) {
    const { decodeImage } = await import('../image/decode.js');
    return [await decodeImage(image.file, { name: image.name })];
  }
  if (isRgbImage(x)) return [x];
  if (x instanceof tf.Tensor) {
    if (x.rank === 4) {
      const images = tf.unstack(x) as tf.Tensor3D[];
      try { return await Promise.all(images.map((t) => tensorToRgb(t))); } finally { tf.dispose(images); }
    }
    if (x.rank === 3) return [await tensorToRgb(x as tf.Tensor3D)];
    throw new CnnZooError(`Image tensor has rank ${x.rank} (shape [${x.shape}]); pass [H, W, 3] or [N, H, W, 3] raw pixels.`, 'BAD_INPUT_SHAPE');
  }
  if (typeof x === 'object' && x !== null) {
    const t = tf.browser.fromPixels(x as PixelSource, 3);
    try { return [await tensorToRgb(t)]; } finally { t.dispose(); }
  }
  throw new CnnZooError(`Unsupported image input ${String(x)}: pass a file path, a URL, bytes or a Blob, an RgbImage, a pixel tensor, or an image/canvas/video element.`, 'BAD_INPUT');
}

/**
 * Every image in `input` as pixels for the preprocessing: what `toRgbImages` gives, except that in browsers image
 * files and elements stay RGBA as the canvas returns them (read without tfjs ops, no conversion pass), and with
 * `crop` only the part that preprocessing reads.
 */
export async function toPixelBuffers(input: ImageInput | readonly ImageInput[], crop?: CropFor, index?: number): Promise<PixelBuffer[]> {
  if (Array.isArray(input)) return (await Promise.all((input as readonly ImageInput[]).map((x, i) => toPixelBuffers(x, crop, i)))).flat();
  const x = input as ImageInput;
  const image = await imageFile(x, index);
  if (image) {
    const { decodePixels } = await import('../image/decode.js'); // image/browser-decode.ts in the browser bundle
    return [await decodePixels(image.file, { name: image.name }, crop)];
  }
  if (typeof x === 'object' && x !== null && !isRgbImage(x) && !(x instanceof tf.Tensor)) {
    const { isImageDataLike, sourcePixels } = await import('../image/browser-decode.js');
    const canvas = typeof OffscreenCanvas !== 'undefined' || typeof document !== 'undefined';
    if (canvas || isImageDataLike(x)) return [sourcePixels(x, 'image', crop)];
  }
  return (await toRgbImages(x)).map((img) => ({ ...img, channels: 3 as const }));
}
