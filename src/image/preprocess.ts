/**
 * Evaluation preprocessing, identical to timm/torchvision's eval pipeline on PIL images:
 *   Resize(floor(size / cropFraction), interpolation)   shorter side, PIL antialiased resampling (resample.ts)
 *   CenterCrop(size)                                     torchvision's rounding, zero padding if too small
 *   ToTensor + Normalize                                 x * scale, - mean, / std (float32 steps), RGB or BGR
 * The resize target follows timm's `transforms_imagenet_eval` (`math.floor(img_size / crop_pct)`).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, shown } from '../errors.js';
import { normalizeInto, preprocessInto, resizeCropPixels, resizedSize, roundHalfEven, type PixelBuffer } from './resize-crop.js';
import type { PreprocessConfig, RgbImage } from './types.js';

export { resizedSize };

/** torchvision's ImageNet eval pipeline: Resize(256, bilinear), CenterCrop(224), ImageNet mean/std. */
export { IMAGENET_DEFAULT } from './presets.js';

/** Validates a config, throwing `CnnZooError` naming the bad field. */
export function checkPreprocessConfig(cfg: PreprocessConfig): void {
  if (typeof cfg !== 'object' || cfg === null) {
    throw new CnnZooError(`preprocess(image, config): config is a PreprocessConfig ({ size, cropFraction, interpolation, scale, mean, std, ` +
      `channelOrder }; a model's is model.preprocessing), got ${shown(cfg)}.`, 'BAD_PREPROCESS_CONFIG');
  }
  const bad = (field: string, why: string): never => {
    throw new CnnZooError(`PreprocessConfig.${field} ${why}.`, 'BAD_PREPROCESS_CONFIG');
  };
  if (!Number.isInteger(cfg.size) || cfg.size < 1) bad('size', `must be a positive integer, got ${shown(cfg.size)}`);
  if (!(cfg.cropFraction > 0) || !Number.isFinite(cfg.cropFraction)) bad('cropFraction', `must be a positive number (0.875 for a 256 -> 224 crop), got ${shown(cfg.cropFraction)}`);
  if (!['bilinear', 'bicubic', 'nearest'].includes(cfg.interpolation)) bad('interpolation', `must be 'bilinear', 'bicubic' or 'nearest', got ${shown(cfg.interpolation)}`);
  if (!Number.isFinite(cfg.scale) || cfg.scale === 0) bad('scale', `must be a non-zero number (1/255 for torchvision), got ${shown(cfg.scale)}`);
  if (cfg.channelOrder !== 'RGB' && cfg.channelOrder !== 'BGR') bad('channelOrder', `must be 'RGB' or 'BGR', got ${shown(cfg.channelOrder)}`);
  for (const [field, v] of [['mean', cfg.mean], ['std', cfg.std]] as const) {
    if (!Array.isArray(v) || v.length !== 3 || !v.every(Number.isFinite)) bad(field, `must be three finite numbers, got ${JSON.stringify(v)}`);
  }
  if (cfg.std.some((s) => s === 0)) bad('std', 'must not contain 0');
}

/** torchvision's `CenterCrop`: zero-pads an image smaller than the crop, then crops the centre. */
export function centerCrop(img: RgbImage, width: number, height: number): RgbImage {
  let src = img;
  if (width > img.width || height > img.height) {
    const left = width > img.width ? (width - img.width) >> 1 : 0;
    const top = height > img.height ? (height - img.height) >> 1 : 0;
    const pw = img.width + left + (width > img.width ? (width - img.width + 1) >> 1 : 0);
    const ph = img.height + top + (height > img.height ? (height - img.height + 1) >> 1 : 0);
    const data = new Uint8Array(pw * ph * 3);
    for (let y = 0; y < img.height; y++) {
      data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + top) * pw + left) * 3);
    }
    src = { width: pw, height: ph, data };
  }
  if (src.width === width && src.height === height) return src;
  const top = roundHalfEven((src.height - height) / 2), left = roundHalfEven((src.width - width) / 2);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const s = ((y + top) * src.width + left) * 3;
    data.set(src.data.subarray(s, s + width * 3), y * width * 3);
  }
  return { width, height, data };
}

/**
 * Resize (shorter side) + centre crop on 8-bit pixels: the image the network sees, before normalisation. Computed
 * for the cropped pixels only (resize-crop.ts); the same bytes as `centerCrop(resizePil(img, w, h, filter), size, size)`.
 */
export function resizeAndCrop(img: RgbImage, cfg: PreprocessConfig): RgbImage {
  checkPreprocessConfig(cfg);
  const data = resizeCropPixels(checkImage(img), Math.floor(cfg.size / cfg.cropFraction), cfg.size, cfg.interpolation);
  return { width: cfg.size, height: cfg.size, data };
}

/** Scale, mean/std and channel order applied to 8-bit RGB pixels, as float32 HWC values. */
export function normalize(img: RgbImage, cfg: PreprocessConfig): Float32Array {
  const out = new Float32Array(img.width * img.height * 3);
  normalizeInto(img.data, cfg, out);
  return out;
}

/** Checks an RgbImage (or RGBA pixel buffer) and returns it as the preprocessing's pixel buffer. */
function checkImage(img: RgbImage | PixelBuffer): PixelBuffer {
  if (typeof img !== 'object' || img === null) {
    throw new CnnZooError(`preprocess: expected an RgbImage ({ width, height, data }), got ${shown(img)}. Decode images with decodeImage().`, 'BAD_IMAGE');
  }
  const channels = 'channels' in img && img.channels === 4 ? 4 : 3;
  const win = 'window' in img ? img.window : undefined;
  const inside = !win || ([win.left, win.top, win.width, win.height].every(Number.isInteger) && win.left >= 0 && win.top >= 0 &&
    win.left + win.width <= img.width && win.top + win.height <= img.height);
  if (!img || !Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1 ||
    !(img.data instanceof Uint8Array || (channels === 4 && img.data instanceof Uint8ClampedArray)) || !inside ||
    img.data.length !== (win ? win.width * win.height : img.width * img.height) * channels) {
    throw new CnnZooError(`preprocess: expected an RgbImage with width * height * ${channels} bytes, got ` +
      `${img?.width}x${img?.height}${win ? ` (window ${JSON.stringify(win)})` : ''} with ${img?.data?.length} bytes. Decode images with decodeImage().`, 'BAD_IMAGE');
  }
  return channels === 4 || win ? img as PixelBuffer : { width: img.width, height: img.height, data: img.data, channels: 3 };
}

/** The model input for one image: a [size, size, 3] float32 tensor. */
export function preprocess(img: RgbImage, cfg: PreprocessConfig): tf.Tensor3D {
  return tf.tensor3d(preprocessBatch([img], cfg), [cfg.size, cfg.size, 3], 'float32');
}

/**
 * The model input of a batch of images as one NHWC Float32Array ([N, size, size, 3]); no tensors. Images are
 * RgbImages or RGBA pixel buffers (browsers' ImageData).
 */
export function preprocessBatch(images: readonly (RgbImage | PixelBuffer)[], cfg: PreprocessConfig): Float32Array {
  checkPreprocessConfig(cfg);
  const per = cfg.size * cfg.size * 3;
  const out = new Float32Array(images.length * per);
  images.forEach((img, i) => {
    preprocessInto(checkImage(img), cfg, out, i * per);
  });
  return out;
}
