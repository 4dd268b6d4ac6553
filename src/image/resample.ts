/**
 * PIL's image resize (`Image.resize`, Pillow >= 7 `libImaging/Resample.c`), reproduced bit for bit on 8-bit RGB:
 * separable two-pass convolution (horizontal, then vertical) whose filter support is scaled by the downscale
 * factor (antialiasing), coefficients normalised to 22-bit fixed point, each pass rounded and clipped to 8 bits.
 * NEAREST is PIL's affine nearest-neighbour scaling. This is what torchvision's `Resize` does to PIL images, so
 * the checkpoints' training and evaluation inputs are reproduced exactly (tf.image.resizeBilinear does not
 * antialias and differs).
 */
import type { RgbImage } from './types.js';

export type ResampleFilter = 'nearest' | 'bilinear' | 'bicubic';

export interface Filter { support: number; fn(x: number): number }

export const FILTERS: Record<Exclude<ResampleFilter, 'nearest'>, Filter> = {
  bilinear: {
    support: 1,
    fn(x) {
      if (x < 0) x = -x;
      return x < 1 ? 1 - x : 0;
    },
  },
  bicubic: {
    support: 2,
    fn(x) {
      const a = -0.5; // Keys' cubic convolution, as PIL
      if (x < 0) x = -x;
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

export const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
export const HALF = 1 << (PRECISION_BITS - 1);

/**
 * Per output pixel: first input index, tap count, and `ksize` fixed-point weights. Entry `i` is output pixel
 * `from + i` (`from` is 0 unless only part of the axis was asked for).
 */
export interface Coeffs { ksize: number; bounds: Int32Array; kk: Int32Array }

/**
 * PIL's `precompute_coeffs` + `normalize_coeffs_8bpc` for one axis, for output pixels `from..to-1` (default all:
 * each output pixel's weights depend only on its own position, so a part is the same numbers as the whole).
 */
export function precomputeCoeffs(inSize: number, outSize: number, filter: Filter, from = 0, to = outSize): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const n = to - from;
  const bounds = new Int32Array(n * 2);
  const kk = new Int32Array(n * ksize);
  const w = new Float64Array(ksize);
  for (let i = 0; i < n; i++) {
    const xx = from + i;
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = filter.fn((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x]! / ww : w[x]!;
      kk[i * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE);
    }
    bounds[i * 2] = xmin;
    bounds[i * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

/** PIL's `clip8`: fixed point -> 0..255 (arithmetic shift = floor). */
export const clip8 = (v: number): number => {
  const s = v >> PRECISION_BITS;
  return s < 0 ? 0 : s > 255 ? 255 : s;
};

function resampleHorizontal(src: RgbImage, outW: number, c: Coeffs): RgbImage {
  const { width: inW, height, data } = src;
  const out = new Uint8Array(outW * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * inW * 3;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = c.bounds[xx * 2]!, xmax = c.bounds[xx * 2 + 1]!, k0 = xx * c.ksize;
      let s0 = HALF, s1 = HALF, s2 = HALF;
      for (let x = 0; x < xmax; x++) {
        const k = c.kk[k0 + x]!, p = row + (x + xmin) * 3;
        s0 += data[p]! * k;
        s1 += data[p + 1]! * k;
        s2 += data[p + 2]! * k;
      }
      const o = (y * outW + xx) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return { width: outW, height, data: out };
}

function resampleVertical(src: RgbImage, outH: number, c: Coeffs): RgbImage {
  const { width, data } = src;
  const out = new Uint8Array(width * outH * 3);
  const rowLen = width * 3;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = c.bounds[yy * 2]!, ymax = c.bounds[yy * 2 + 1]!, k0 = yy * c.ksize;
    for (let i = 0; i < rowLen; i++) {
      let s = HALF;
      for (let y = 0; y < ymax; y++) s += data[(y + ymin) * rowLen + i]! * c.kk[k0 + y]!;
      out[yy * rowLen + i] = clip8(s);
    }
  }
  return { width, height: outH, data: out };
}

/** PIL's `ImagingScaleAffine` (what `Image.resize(..., NEAREST)` runs). */
export function resizeNearest(src: RgbImage, outW: number, outH: number): RgbImage {
  const ax = src.width / outW, ay = src.height / outH;
  const coord = (v: number): number => (v < 0 ? -1 : Math.trunc(v));
  const xin = new Int32Array(outW);
  let xo = ax * 0.5;
  for (let x = 0; x < outW; x++, xo += ax) xin[x] = Math.min(coord(xo), src.width - 1);
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const yi = Math.min(coord(ay * (y + 0.5)), src.height - 1);
    for (let x = 0; x < outW; x++) {
      const s = (yi * src.width + xin[x]!) * 3, o = (y * outW + x) * 3;
      out[o] = src.data[s]!;
      out[o + 1] = src.data[s + 1]!;
      out[o + 2] = src.data[s + 2]!;
    }
  }
  return { width: outW, height: outH, data: out };
}

/** Resizes `img` to `width` x `height` exactly as PIL's `Image.resize((width, height), filter)`. */
export function resizePil(img: RgbImage, width: number, height: number, filter: ResampleFilter): RgbImage {
  if (width === img.width && height === img.height) return { width, height, data: img.data.slice() };
  if (filter === 'nearest') return resizeNearest(img, width, height);
  const f = FILTERS[filter];
  let out = img;
  if (width !== img.width) out = resampleHorizontal(out, width, precomputeCoeffs(img.width, width, f));
  if (height !== img.height) out = resampleVertical(out, height, precomputeCoeffs(img.height, height, f));
  return out;
}
