/**
 * Every preprocessing constant in one place: the publishers' conventions (torchvision, timm, TF-slim/Keras, Caffe) in
 * their own terms (resize/crop sizes, crop fraction, mean/std), and the named presets a checkpoint format implies.
 */
import type { PreprocessConfig } from './types.js';

type Interpolation = PreprocessConfig['interpolation'];
type Triple = readonly [number, number, number];

export const IMAGENET_MEAN: Triple = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Triple = [0.229, 0.224, 0.225];
/** timm's IMAGENET_INCEPTION_MEAN/STD (inputs in [-1, 1]). */
export const INCEPTION_MEAN: Triple = [0.5, 0.5, 0.5];
export const INCEPTION_STD: Triple = [0.5, 0.5, 0.5];

const triple = (v: readonly number[]): Triple => [v[0]!, v[1]!, v[2]!];

/** torchvision: resize the shorter side to `resize`, centre-crop `crop`, RGB / 255, mean/std. */
export function tvPreprocess(crop: number, resize: number, interpolation: Interpolation, mean: readonly number[], std: readonly number[]): PreprocessConfig {
  return { size: crop, cropFraction: crop / resize, interpolation, scale: 1 / 255, mean: triple(mean), std: triple(std), channelOrder: 'RGB' };
}

/** timm `pretrained_cfg`: input size, crop_pct, interpolation, mean/std (RGB / 255). */
export function timmPreprocess(size: number, cropPct: number, interpolation: Interpolation, mean: Triple = IMAGENET_MEAN, std: Triple = IMAGENET_STD): PreprocessConfig {
  return { size, cropFraction: cropPct, interpolation, scale: 1 / 255, mean, std, channelOrder: 'RGB' };
}

/** TF-slim / Keras `preprocess_input(mode='tf')`: RGB scaled to [-1, 1], 0.875 central crop, bilinear. */
export function tfPreprocess(size: number): PreprocessConfig {
  return { size, cropFraction: 0.875, interpolation: 'bilinear', scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1], channelOrder: 'RGB' };
}

/** Caffe: BGR 0..255 minus a mean pixel, `size` cropped from a 256 resize. */
export function caffePreprocess(size: number, meanBgr: Triple): PreprocessConfig {
  return { size, cropFraction: size / 256, interpolation: 'bilinear', scale: 1, mean: meanBgr, std: [1, 1, 1], channelOrder: 'BGR' };
}

/** torchvision's ImageNet eval transform at 224: resize 256, centre crop 224, bilinear, ImageNet mean/std. */
export const IMAGENET_DEFAULT: PreprocessConfig = tvPreprocess(224, 256, 'bilinear', IMAGENET_MEAN, IMAGENET_STD);

/** BVLC Caffe's mean pixel (BGR, 0..255). */
export const CAFFE_MEAN_BGR: Triple = [104, 117, 123];

/** Named presets, by the training pipeline a checkpoint format implies (`cnn-zoo convert --preprocess NAME`). */
export const PRESETS = {
  /** TF-slim / Keras / TFLite: RGB in [-1, 1], 0.875 crop. */
  tf: (size: number): PreprocessConfig => tfPreprocess(size),
  /** torchvision / timm: RGB / 255 with the ImageNet mean and std, 0.875 crop. */
  torch: (size: number): PreprocessConfig => ({ ...IMAGENET_DEFAULT, size }),
  /** BVLC Caffe: BGR 0-255 minus the mean pixel, `size` cropped from a 256 resize. */
  caffe: (size: number): PreprocessConfig => caffePreprocess(size, CAFFE_MEAN_BGR),
} as const satisfies Record<string, (size: number) => PreprocessConfig>;
export type PresetName = keyof typeof PRESETS;
