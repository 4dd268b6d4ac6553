/**
 * Image and preprocessing types shared by decoding (src/image/decode.ts), preprocessing
 * (src/image/preprocess.ts), weight artifacts (their metadata carries a PreprocessConfig) and evaluation.
 */

/** A decoded image: 8-bit RGB, interleaved, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, R G B. */
  data: Uint8Array;
}

/** How a checkpoint's training pipeline turned an image into its input tensor (timm `pretrained_cfg` style). */
export interface PreprocessConfig {
  /** Final input height = width. */
  size: number;
  /** Center-crop fraction: resize the shorter side to floor(size / cropFraction) (as timm does), then crop size x size. */
  cropFraction: number;
  interpolation: 'bilinear' | 'bicubic' | 'nearest';
  /** Pixel scale applied to 0..255 values before mean/std (1/255 for torchvision, 1 for Caffe, 1/127.5 for TF). */
  scale: number;
  /** Subtracted after scaling, per channel in `channelOrder`. */
  mean: readonly [number, number, number];
  /** Divided after subtracting the mean, per channel in `channelOrder`. */
  std: readonly [number, number, number];
  channelOrder: 'RGB' | 'BGR';
}
