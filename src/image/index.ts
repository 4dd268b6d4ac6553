/** `cnn-zoo/image`: decoding like PIL, PIL-exact preprocessing, and every preprocessing preset. */
export { decodeImage, DEFAULT_MAX_PIXELS, type DecodeOptions } from './decode.js';
export { preprocess, resizeAndCrop, normalize, centerCrop, resizedSize, checkPreprocessConfig } from './preprocess.js';
export { IMAGENET_DEFAULT, PRESETS, tvPreprocess, timmPreprocess, tfPreprocess, caffePreprocess, type PresetName } from './presets.js';
export { resizePil, type ResampleFilter } from './resample.js';
export type { RgbImage, PreprocessConfig } from './types.js';
