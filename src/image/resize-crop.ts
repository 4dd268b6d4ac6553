/**
 * The fast eval preprocessing: torchvision's `Resize(short)` (PIL's resampling, resample.ts) + `CenterCrop(size)`
 * + `ToTensor`/`Normalize`, computed in typed arrays, byte for byte what `centerCrop(resizePil(...))` gives, but
 * only for the pixels the crop keeps: the horizontal pass runs on the input rows the vertical pass reads, for the
 * crop's columns only, and the vertical pass only for the crop's rows. Normalisation is a 256-entry float32 table
 * per channel (the same float32 steps as `normalize`), written straight into the caller's Float32Array.
 * Input pixels may be RGB or RGBA (browsers' `ImageData`): the 4th byte is ignored, no conversion pass.
 * When both axes are resized the two passes run in WebAssembly SIMD (resample-simd.ts, the same integer sums), and
 * so does the normalisation (the same float32 steps); the JavaScript passes below serve the other cases, and
 * runtimes without SIMD. A buffer may hold only the part of the image the preprocessing reads (`cropWindow`).
 */
import { FILTERS, HALF, PRECISION_BITS, precomputeCoeffs, resizeNearest, type Coeffs } from './resample.js';
import { normalizeSimd, resampleSimd } from './resample-simd.js';
import { CnnZooError } from '../errors.js';
import type { PreprocessConfig, RgbImage } from './types.js';

/** Interleaved 8-bit pixels whose first three channels are R, G, B (`channels` 4: RGBA, the alpha is ignored). */
export interface PixelBuffer {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
  /**
   * When set, `data` holds only this part of the image (`width` x `height` stay the whole image's size): at least
   * the pixels the preprocessing reads (`cropWindow`). Browsers read back only these from their canvas.
   */
  window?: PixelWindow;
}

/** A rectangle of an image's pixels. */
export interface PixelWindow { left: number; top: number; width: number; height: number }

/** The preprocessing that pixels are read for (browsers read back only the part it reads: `cropWindow`). */
export type CropFor = Pick<PreprocessConfig, 'size' | 'cropFraction' | 'interpolation'>;

/** Output size of torchvision's `Resize(short)` for an image: shorter side `short`, the other truncated. */
export function resizedSize(width: number, height: number, short: number): [number, number] {
  if (width <= height) return [short, Math.trunc((short * height) / width)];
  return [Math.trunc((short * width) / height), short];
}

/** Python's `round()`: halves go to the even neighbour. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Where torchvision's `CenterCrop(crop)` starts on an axis of length `len`: the image is zero-padded (left
 * `(crop - len) >> 1`) when shorter than the crop, so the start is negative then.
 */
export function cropStart(len: number, crop: number): number {
  return crop > len ? -((crop - len) >> 1) : roundHalfEven((len - crop) / 2);
}

/**
 * Horizontal pass of PIL's resample for input rows `r0..r1-1` and the output columns of `c` (RGB out, `nx` wide).
 * With no coefficients (width unchanged) it copies columns `x0..x0+nx-1`. `win`: the part of the image `src` holds.
 */
function horizontal(src: PixelBuffer, win: PixelWindow, r0: number, r1: number, nx: number, c: Coeffs | undefined, x0: number): Uint8Array {
  const { data, channels: ch } = src;
  const out = new Uint8Array((r1 - r0) * nx * 3);
  let o = 0;
  for (let y = r0; y < r1; y++) {
    const row = ((y - win.top) * win.width - win.left) * ch; // pixel (x, y) at row + x * ch
    if (!c) {
      for (let x = 0, p = row + x0 * ch; x < nx; x++, p += ch, o += 3) {
        out[o] = data[p]!;
        out[o + 1] = data[p + 1]!;
        out[o + 2] = data[p + 2]!;
      }
      continue;
    }
    const { bounds, kk, ksize } = c;
    for (let xx = 0, k0 = 0; xx < nx; xx++, o += 3, k0 += ksize) {
      const xmax = bounds[xx * 2 + 1]!, kEnd = k0 + xmax;
      let s0 = HALF, s1 = HALF, s2 = HALF;
      for (let j = k0, p = row + bounds[xx * 2]! * ch; j < kEnd; j++, p += ch) {
        const k = kk[j]!;
        s0 = (s0 + Math.imul(data[p]!, k)) | 0;
        s1 = (s1 + Math.imul(data[p + 1]!, k)) | 0;
        s2 = (s2 + Math.imul(data[p + 2]!, k)) | 0;
      }
      s0 >>= PRECISION_BITS;
      s1 >>= PRECISION_BITS;
      s2 >>= PRECISION_BITS;
      out[o] = s0 < 0 ? 0 : s0 > 255 ? 255 : s0;
      out[o + 1] = s1 < 0 ? 0 : s1 > 255 ? 255 : s1;
      out[o + 2] = s2 < 0 ? 0 : s2 > 255 ? 255 : s2;
    }
  }
  return out;
}

/** Vertical pass on `rows` (RGB, `rowLen` bytes each, row 0 = input row `r0`): one output row per entry of `c`. */
function vertical(rows: Uint8Array, rowLen: number, r0: number, c: Coeffs): Uint8Array {
  const n = c.bounds.length >> 1;
  const out = new Uint8Array(n * rowLen);
  const { bounds, kk, ksize } = c;
  for (let yy = 0, o = 0; yy < n; yy++) {
    const base = (bounds[yy * 2]! - r0) * rowLen, ymax = bounds[yy * 2 + 1]!, k0 = yy * ksize;
    if (ymax === 2) { // upscales and mild downscales: two or three taps, unrolled (the sums fit in int32)
      const k1 = kk[k0]!, k2 = kk[k0 + 1]!;
      for (let i = 0, p = base; i < rowLen; i++, o++, p++) {
        const s = (HALF + Math.imul(rows[p]!, k1) + Math.imul(rows[p + rowLen]!, k2)) >> PRECISION_BITS;
        out[o] = s < 0 ? 0 : s > 255 ? 255 : s;
      }
      continue;
    }
    if (ymax === 3) {
      const k1 = kk[k0]!, k2 = kk[k0 + 1]!, k3 = kk[k0 + 2]!, r2 = 2 * rowLen;
      for (let i = 0, p = base; i < rowLen; i++, o++, p++) {
        const s = (HALF + Math.imul(rows[p]!, k1) + Math.imul(rows[p + rowLen]!, k2) + Math.imul(rows[p + r2]!, k3)) >> PRECISION_BITS;
        out[o] = s < 0 ? 0 : s > 255 ? 255 : s;
      }
      continue;
    }
    for (let i = 0; i < rowLen; i++, o++) {
      let s = HALF;
      for (let y = 0, p = base + i; y < ymax; y++, p += rowLen) s = (s + Math.imul(rows[p]!, kk[k0 + y]!)) | 0;
      s >>= PRECISION_BITS;
      out[o] = s < 0 ? 0 : s > 255 ? 255 : s;
    }
  }
  return out;
}

/**
 * Where the centre crop of an image resized to shorter side `short` comes from: the resized image's columns xa..xb-1
 * and rows ya..yb-1 inside the crop (`left`, `top`: the crop's corner, negative when it pads), the filter's weights
 * for them, and the input rows r0..r1-1 and columns c0..c1-1 those weights read.
 */
function cropPlan(W: number, H: number, short: number, size: number, interpolation: PreprocessConfig['interpolation']) {
  const [w, h] = resizedSize(W, H, short);
  const left = cropStart(w, size), top = cropStart(h, size);
  const xa = Math.max(0, left), xb = Math.min(w, left + size), ya = Math.max(0, top), yb = Math.min(h, top + size);
  const nearest = interpolation === 'nearest' && (w !== W || h !== H);
  const f = FILTERS[interpolation === 'nearest' ? 'bilinear' : interpolation]; // 'nearest' here: no resize at all
  const cx = !nearest && w !== W ? precomputeCoeffs(W, w, f, xa, xb) : undefined;
  const cy = !nearest && h !== H ? precomputeCoeffs(H, h, f, ya, yb) : undefined;
  const span = (c: Coeffs | undefined, a: number, b: number, all: number): [number, number] => {
    if (nearest) return [0, all];
    if (!c) return [a, b];
    let lo = all, hi = 0;
    for (let i = 0; i < c.bounds.length; i += 2) {
      lo = Math.min(lo, c.bounds[i]!);
      hi = Math.max(hi, c.bounds[i]! + c.bounds[i + 1]!);
    }
    return [lo, hi];
  };
  const [c0, c1] = span(cx, xa, xb, W), [r0, r1] = span(cy, ya, yb, H);
  return { w, h, left, top, xa, xb, ya, yb, nearest, cx, cy, c0, c1, r0, r1 };
}

/**
 * The pixels of a `width` x `height` image that its preprocessing with `cfg` reads (the resize's filter support
 * around the centre crop; the whole image for nearest-neighbour): a `PixelBuffer` may hold only these (`window`).
 */
export function cropWindow(width: number, height: number, cfg: CropFor): PixelWindow {
  const p = cropPlan(width, height, Math.floor(cfg.size / cfg.cropFraction), cfg.size, cfg.interpolation);
  return { left: p.c0, top: p.r0, width: Math.max(0, p.c1 - p.c0), height: Math.max(0, p.r1 - p.r0) };
}

/**
 * The 8-bit RGB `size` x `size` centre crop of `src` resized so its shorter side is `short` (torchvision's
 * `CenterCrop(size)(Resize(short, interpolation)(img))` on a PIL image, zero padding included).
 */
export function resizeCropPixels(src: PixelBuffer, short: number, size: number, interpolation: PreprocessConfig['interpolation']): Uint8Array {
  const { width: W, height: H } = src;
  const { w, h, left, top, xa, xb, ya, yb, nearest, cx, cy, c0, c1, r0, r1 } = cropPlan(W, H, short, size, interpolation);
  const win = src.window ?? { left: 0, top: 0, width: W, height: H };
  if (c0 < win.left || r0 < win.top || c1 > win.left + win.width || r1 > win.top + win.height) {
    throw new CnnZooError(`preprocess: the pixel buffer holds columns ${win.left}..${win.left + win.width - 1} and rows ${win.top}..${win.top + win.height - 1} ` +
      `of the ${W}x${H} image, but this preprocessing reads columns ${c0}..${c1 - 1} and rows ${r0}..${r1 - 1}. Pass the whole image.`, 'BAD_IMAGE');
  }
  const nx = xb - xa, ny = yb - ya;
  let rows: Uint8Array; // ny rows of nx RGB pixels: the resized image's crop window
  if (nearest) {
    rows = resizeNearestWindow(src, w, h, xa, xb, ya, yb);
  } else if (cy) {
    rows = (cx && resampleSimd(src.data, win.width, src.channels, r0, r1, cx, cy, win.left, win.top)) ||
      vertical(horizontal(src, win, r0, r1, nx, cx, xa), nx * 3, r0, cy);
  } else {
    rows = horizontal(src, win, ya, yb, nx, cx, xa);
  }
  if (nx === size && ny === size) return rows;
  const out = new Uint8Array(size * size * 3); // zero padding around the window
  for (let y = 0; y < ny; y++) out.set(rows.subarray(y * nx * 3, (y + 1) * nx * 3), ((ya - top + y) * size + (xa - left)) * 3);
  return out;
}

/** PIL's nearest-neighbour resize (resample.ts) restricted to a window of the output. */
function resizeNearestWindow(src: PixelBuffer, w: number, h: number, xa: number, xb: number, ya: number, yb: number): Uint8Array {
  // (src holds the whole image: cropWindow asks for it, resizeCropPixels checks it)
  if (src.channels === 3 && xa === 0 && ya === 0 && xb === w && yb === h) {
    return resizeNearest(src as RgbImage, w, h).data;
  }
  const ax = src.width / w, ay = src.height / h, ch = src.channels;
  const coord = (v: number): number => (v < 0 ? -1 : Math.trunc(v));
  // Same accumulation as ImagingScaleAffine (xo += ax from ax / 2), so the window's columns match the full image's.
  const xin = new Int32Array(w);
  let xo = ax * 0.5;
  for (let x = 0; x < w; x++, xo += ax) xin[x] = Math.min(coord(xo), src.width - 1);
  const nx = xb - xa, out = new Uint8Array((yb - ya) * nx * 3);
  let o = 0;
  for (let y = ya; y < yb; y++) {
    const row = Math.min(coord(ay * (y + 0.5)), src.height - 1) * src.width;
    for (let x = xa; x < xb; x++, o += 3) {
      const s = (row + xin[x]!) * ch;
      out[o] = src.data[s]!;
      out[o + 1] = src.data[s + 1]!;
      out[o + 2] = src.data[s + 2]!;
    }
  }
  return out;
}

/**
 * Per output channel, the float32 value of each 8-bit level: `((v * scale) - mean) / std` in float32 steps, as
 * torchvision's `ToTensor` + `Normalize` (channel `c` reads input channel `order[c]`: RGB or BGR).
 */
export function normalizeTable(cfg: Pick<PreprocessConfig, 'scale' | 'mean' | 'std'>): Float32Array {
  const f = Math.fround;
  const scale = f(cfg.scale);
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = f(cfg.mean[c]!), std = f(cfg.std[c]!);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(v * scale) - mean) / std);
  }
  return lut;
}

/** Writes the normalised HWC values of 8-bit RGB `pixels` into `out` at `offset`. */
export function normalizeInto(pixels: Uint8Array, cfg: Pick<PreprocessConfig, 'scale' | 'mean' | 'std' | 'channelOrder'>, out: Float32Array, offset = 0): void {
  const bgr = cfg.channelOrder === 'BGR';
  if (normalizeSimd(pixels, cfg.scale, cfg.mean, cfg.std, bgr, out, offset)) return;
  const lut = normalizeTable(cfg);
  const i0 = bgr ? 2 : 0, i2 = bgr ? 0 : 2;
  for (let p = 0, o = offset; p < pixels.length; p += 3, o += 3) {
    out[o] = lut[pixels[p + i0]!]!;
    out[o + 1] = lut[256 + pixels[p + 1]!]!;
    out[o + 2] = lut[512 + pixels[p + i2]!]!;
  }
}

/**
 * The whole eval preprocessing of one image into `out` (NHWC float32) at `offset`: what `normalize(resizeAndCrop(img,
 * cfg), cfg)` gives. The config is assumed checked (`checkPreprocessConfig`).
 */
export function preprocessInto(src: PixelBuffer, cfg: PreprocessConfig, out: Float32Array, offset = 0): void {
  const crop = resizeCropPixels(src, Math.floor(cfg.size / cfg.cropFraction), cfg.size, cfg.interpolation);
  normalizeInto(crop, cfg, out, offset);
}
