/**
 * What the high-level API accepts as an image, and how each becomes an `RgbImage`: Node file paths, URLs and
 * Buffers (decoded), `RgbImage`s, tensors of raw 0-255 pixels ([H, W, 3] or a batch [N, H, W, 3]), and in
 * browsers anything `tf.browser.fromPixels` takes (HTMLImageElement, canvas, ImageData, video, ImageBitmap).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, shown } from '../errors.js';
import type { CropFor, PixelBuffer } from '../image/resize-crop.js';
import type { RgbImage } from '../image/types.js';
import { hasImageSignature } from '../image/files.js';

/** Browser pixel sources (structural, so Node type-checks without the DOM at run time). */
export type PixelSource = Parameters<typeof tf.browser.fromPixels>[0];

/**
 * One image: a path or URL (file:, http(s):, data:), an image file's bytes, or pixels. Tensors hold raw pixels in 0..255,
 * [H, W, 3]; a [N, H, W, 3] tensor is a batch of N images. A `Blob`
 * (a `File` from an `<input type="file">` or a drop, a fetched blob) is the image file it holds.
 */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | DataView | Blob | RgbImage | tf.Tensor3D | tf.Tensor4D | PixelSource;

/** What errors call an input: `noun`, with its place in the caller's list when it has one (`image [3]`). */
const placed = (noun: string, index?: number): string => (index === undefined ? noun : `${noun} [${index}]`);

/**
 * An image file given as a path or URL, its bytes or a Blob: what the decoders take, and the name its errors use (the
 * path, a File's name; bytes and unnamed Blobs by their place in a batch and their size). Undefined for other inputs.
 */
async function imageFile(x: ImageInput, index?: number): Promise<{ file: string | Uint8Array; name: string } | undefined> {
  const place = placed('image', index);
  // A data: URL (canvas.toDataURL(), an inlined image) is named by its start, not by its whole text.
  if (typeof x === 'string') return { file: x, name: /^data:/i.test(x) ? `${place} (a data: URL of ${x.length} characters)` : x };
  if (x instanceof URL) return imageFile(x.href, index); // new URL('./photo.jpg', import.meta.url)
  if (x instanceof Uint8Array) return { file: x, name: `${place} (${x.length} bytes)` };
  // await (await fetch(url)).arrayBuffer(), a DataView over a file's bytes: the file's bytes too.
  if (x instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer)) {
    return { file: new Uint8Array(x), name: `${place} (${x.byteLength} bytes)` };
  }
  if (x instanceof DataView) return { file: new Uint8Array(x.buffer, x.byteOffset, x.byteLength), name: `${place} (${x.byteLength} bytes)` };
  if (ArrayBuffer.isView(x)) {
    const kind = x.constructor.name;
    throw new CnnZooError(`${placed('Image', index)} is a ${kind}: an image is a file's bytes (a Uint8Array, Buffer or ArrayBuffer) or pixels ` +
      `with their shape (a [H, W, 3] tensor, an RgbImage { width, height, data }${kind === 'Uint8ClampedArray' ? ', or the ImageData whose data this is' : ''}).`, 'BAD_INPUT');
  }
  if (typeof Blob === 'undefined' || !(x instanceof Blob)) return undefined;
  const fileName = (x as { name?: unknown }).name;
  return { file: new Uint8Array(await x.arrayBuffer()), name: typeof fileName === 'string' && fileName ? fileName : `${place} (a Blob of ${x.size} bytes)` };
}

/**
 * Decodes an image file; bytes that fail and do not start as an image file does are perhaps raw pixels, which the
 * error says how to pass (with their size).
 */
async function decodedFile<T>(image: { file: string | Uint8Array; name: string }, decode: () => Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (e) {
    if (!(e instanceof CnnZooError && e.code === 'BAD_IMAGE') || typeof image.file === 'string' || hasImageSignature(image.file)) throw e;
    throw new CnnZooError(`${e.message} These bytes do not start as an image file does: if they are raw pixels, pass them with their ` +
      'size, as an RgbImage { data, width, height } (RGB, 3 bytes a pixel) or a tensor, tf.tensor3d(data, [height, width, 3]).', 'BAD_IMAGE');
  }
}

/**
 * An object with a width, a height and typed-array data that is neither an RgbImage nor ImageData-like (data of another
 * length or type): what is wrong with it, which tf.browser.fromPixels and the canvas would not say.
 */
function pixelObjectProblem(x: unknown, index?: number): CnnZooError | undefined {
  const o = x as { width?: unknown; height?: unknown; data?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.width !== 'number' || typeof o.height !== 'number' || !ArrayBuffer.isView(o.data)) return undefined;
  const [w, h, data] = [o.width, o.height, o.data as ArrayBufferView & { length?: number }];
  const n = data.length ?? data.byteLength;
  const kind = data.constructor.name;
  if (data instanceof Uint8Array && n === w * h * 3) return undefined;
  if ((data instanceof Uint8Array || data instanceof Uint8ClampedArray) && n === w * h * 4) return undefined;
  const what = placed('Image', index);
  if (data instanceof Uint8ClampedArray && n === w * h * 3) {
    return new CnnZooError(`${what} holds RGB pixels in a Uint8ClampedArray; an RgbImage's data is a Uint8Array: ` +
      'pass { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }.', 'BAD_INPUT');
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    return new CnnZooError(`${what} has its pixels in a ${kind}; pixels are bytes (a Uint8Array, 0..255: an RgbImage ` +
      '{ data, width, height }), or pass a [H, W, 3] tensor of them.', 'BAD_INPUT');
  }
  return new CnnZooError(`${what} is ${w}x${h} but holds ${n} bytes of pixels: an RgbImage holds width x height x 3 (${w * h * 3}), ` +
    `ImageData width x height x 4 (${w * h * 4}). Check its width and height.`, 'BAD_INPUT');
}

const isRgbImage = (x: unknown): x is RgbImage =>
  typeof x === 'object' && x !== null && 'data' in x && 'width' in x && 'height' in x && (x as RgbImage).data instanceof Uint8Array &&
  (x as RgbImage).data.length === (x as RgbImage).width * (x as RgbImage).height * 3;

/** A pixel tensor whose last axis is not RGB, with the fix for the usual cases: channels first, grayscale, RGBA. */
function channelsError(what: string, shape: number[]): CnnZooError {
  const batch = shape.length === 4;
  const [first, last] = [shape[batch ? 1 : 0], shape[shape.length - 1]];
  const fix = first === 3 ? `: its channels come first, pass x.transpose(${batch ? '[0, 2, 3, 1]' : '[1, 2, 0]'})`
    : last === 1 ? ` (grayscale: tf.tile(x, ${batch ? '[1, 1, 1, 3]' : '[1, 1, 3]'}))`
    : last === 4 ? ` (RGBA: drop alpha with ${batch ? 'x.slice([0, 0, 0, 0], [-1, -1, -1, 3])' : 'x.slice([0, 0, 0], [-1, -1, 3])'})`
    : '';
  return new CnnZooError(`${what} has ${last} channel${last === 1 ? '' : 's'} (shape [${shape}]); pass RGB pixels ` +
    `${batch ? '[N, H, W, 3]' : '[H, W, 3]'} in 0..255${fix}.`, 'BAD_INPUT_SHAPE');
}

/** Raw pixels lie in 0..255; a float tensor this far outside was scaled or normalized (or holds 16-bit samples). */
const SCALED_MAX = 3;
const PIXEL_RANGE = [-256, 512] as const;

/**
 * Raw-pixel tensor [H, W, 3] -> RgbImage: rounded half to even (as tf.round) and clamped to 0..255, so that a resize's
 * small overshoot passes. Refused, with the fix: NaN or infinities, and values that are not 0..255 pixels (a tensor
 * scaled to 0..1 or already normalized, which the preprocessing would scale again, or 16-bit samples).
 */
async function tensorToRgb(t: tf.Tensor3D, index?: number): Promise<RgbImage> {
  const [height, width, c] = t.shape;
  const what = placed('Image tensor', index);
  if (c !== 3) throw channelsError(what, t.shape);
  const values = await t.data();
  const data = new Uint8Array(values.length);
  let lo = Infinity;
  let hi = -Infinity;
  let fractional = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      const [y, x, ch] = [Math.floor(i / (3 * width)), Math.floor(i / 3) % width, i % 3];
      throw new CnnZooError(`${what} holds ${v} at [${y}, ${x}, ${ch}] (shape [${t.shape}]); pass finite RGB pixels in 0..255.`, 'BAD_INPUT');
    }
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    let r = Math.round(v);
    if (r !== v) {
      fractional = true;
      if (r - v === 0.5 && r % 2 !== 0) r -= 1;
    }
    data[i] = r < 0 ? 0 : r > 255 ? 255 : r;
  }
  const range = `[${+lo.toPrecision(4)}, ${+hi.toPrecision(4)}]`;
  if (fractional && Math.max(-lo, hi) <= SCALED_MAX) {
    throw new CnnZooError(`${what} holds values in ${range}: pixels scaled to 0..1 or already normalized, but images are raw RGB ` +
      'pixels in 0..255 (the model\'s own preprocessing comes after). Pass the pixels before scaling (x.mul(255) for 0..1), ' +
      'or give a tensor you preprocessed yourself to model.model.predict().', 'BAD_INPUT');
  }
  if (lo < PIXEL_RANGE[0] || hi > PIXEL_RANGE[1]) {
    throw new CnnZooError(`${what} holds values in ${range}, far outside the 0..255 of RGB pixels; pass 8-bit pixels ` +
      '(16-bit samples: divide by 257).', 'BAD_INPUT');
  }
  return { width, height, data };
}

/**
 * Every image in `input` (a batch tensor expands to its images; an array to its members). `index`: the place of `input`
 * in what the caller was given, or of an array's first member (a part of a longer list), for errors to name.
 */
export async function toRgbImages(input: ImageInput | readonly ImageInput[], index?: number): Promise<RgbImage[]> {
  if (Array.isArray(input)) return (await Promise.all((input as readonly ImageInput[]).map((x, i) => toRgbImages(x, (index ?? 0) + i)))).flat();
  const x = input as ImageInput;
  const image = await imageFile(x, index);
  if (image) {
    const { decodeImage } = await import('../image/decode.js');
    return [await decodedFile(image, () => decodeImage(image.file, { name: image.name }))];
  }
  const problem = pixelObjectProblem(x, index);
  if (problem) throw problem;
  if (isRgbImage(x)) return [x];
  if (x instanceof tf.Tensor) {
    if (x.rank === 4) {
      if (x.shape[3] !== 3) throw channelsError(placed('Image tensor', index), x.shape);
      const images = tf.unstack(x) as tf.Tensor3D[];
      try { return await Promise.all(images.map((t, i) => tensorToRgb(t, i))); } finally { tf.dispose(images); }
    }
    if (x.rank === 3) return [await tensorToRgb(x as tf.Tensor3D, index)];
    throw new CnnZooError(`${placed('Image tensor', index)} has rank ${x.rank} (shape [${x.shape}]); pass [H, W, 3] or [N, H, W, 3] raw pixels.`, 'BAD_INPUT_SHAPE');
  }
  if (typeof x === 'object' && x !== null) {
    // Without a DOM (Node), tf.browser.fromPixels takes only ImageData-like objects; anything else (a stream, a
    // sharp instance) failed deep inside it.
    if (typeof document === 'undefined' && typeof OffscreenCanvas === 'undefined') {
      const { isImageDataLike } = await import('../image/browser-decode.js');
      if (!isImageDataLike(x)) {
        throw new CnnZooError(`${placed('Image', index)} is ${shown(x)}, which is not an image here: pass a file path or URL, the file's ` +
          'bytes (Buffer, Uint8Array, ArrayBuffer; read a stream into one first), a Blob, an RgbImage, or a [H, W, 3] pixel tensor.', 'BAD_INPUT');
      }
    }
    const t = tf.browser.fromPixels(x as PixelSource, 3);
    try { return [await tensorToRgb(t)]; } finally { t.dispose(); }
  }
  throw new CnnZooError(`Unsupported image input ${String(x)}: pass a file path, a URL, bytes or a Blob, an RgbImage, a pixel tensor, or an image/canvas/video element.`, 'BAD_INPUT');
}

/**
 * Every image in `input` as pixels for the preprocessing: what `toRgbImages` gives, except that in browsers image
 * files and elements stay RGBA as the canvas returns them (read without tfjs ops, no conversion pass), and with
 * `crop` only the part that preprocessing reads; `index` as for `toRgbImages`.
 */
export async function toPixelBuffers(input: ImageInput | readonly ImageInput[], crop?: CropFor, index?: number): Promise<PixelBuffer[]> {
  if (Array.isArray(input)) return (await Promise.all((input as readonly ImageInput[]).map((x, i) => toPixelBuffers(x, crop, (index ?? 0) + i)))).flat();
  const x = input as ImageInput;
  const image = await imageFile(x, index);
  if (image) {
    const { decodePixels } = await import('../image/decode.js'); // image/browser-decode.ts in the browser bundle
    return [await decodedFile(image, () => decodePixels(image.file, { name: image.name }, crop))];
  }
  const problem = pixelObjectProblem(x, index);
  if (problem) throw problem;
  if (typeof x === 'object' && x !== null && !isRgbImage(x) && !(x instanceof tf.Tensor)) {
    const { isImageDataLike, sourcePixels } = await import('../image/browser-decode.js');
    const canvas = typeof OffscreenCanvas !== 'undefined' || typeof document !== 'undefined';
    if (canvas || isImageDataLike(x)) return [sourcePixels(x, 'image', crop)];
  }
  return (await toRgbImages(x, index)).map((img) => ({ ...img, channels: 3 as const }));
}
