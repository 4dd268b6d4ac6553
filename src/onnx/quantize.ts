/**
 * Static int8 quantization of an ONNX export, in the QDQ form onnxruntime fuses into QLinearConv / QGemm:
 * weights int8 per output channel (symmetric), biases int32 at scale x_scale * w_scale, and every activation
 * that enters or leaves a conv/dense layer uint8 per tensor (asymmetric), with ranges calibrated in tfjs on
 * images (`calibrate`: min/max over the batches given, or clipped at a percentile). Rounding the weights shifts
 * each output channel's mean by (W_int8 - W) · E[x], the same for every image: bias correction (Nagel et al. 2019,
 * "Data-Free Quantization", section 4.2, with E[x] measured per input channel on the calibration images) subtracts
 * that shift from the bias. `exportOnnx(model, { int8: await calibrate(model, batches) })` writes it.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, shown } from '../errors.js';

/** Layers whose weights are quantized and whose input/output activations are calibrated. */
export const QUANTIZED_CLASSES: ReadonlySet<string> = new Set(['Conv2D', 'DepthwiseConv2D', 'GroupedConv2D', 'FusedConv2D', 'Dense', 'FusedDense']);

/** [min, max] of each calibrated activation, by the name of the layer that outputs it. */
export type ActivationRanges = Readonly<Record<string, readonly [number, number]>>;

/** What `calibrate` measured on the calibration images, by the name of the layer that outputs each activation. */
export interface Int8Calibration {
  /** [min, max] of each activation (uint8 range of its QuantizeLinear). */
  ranges: ActivationRanges;
  /**
   * Mean of each activation per channel (last axis, over batch and positions): the E[x] of bias correction for the
   * layers it enters. A layer whose input has no entry keeps its bias as it is.
   */
  means: Readonly<Record<string, Float32Array>>;
}

/** uint8 quantization of an activation range (0 always representable, so zero padding stays exact). */
export interface ActivationQuant { scale: number; zeroPoint: number }

export function activationQuant([lo, hi]: readonly [number, number]): ActivationQuant {
  const min = Math.min(lo, 0), max = Math.max(hi, 0);
  const scale = max > min ? (max - min) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-min / scale))) };
}

/**
 * Symmetric int8 quantization of `w` along `axis` of `dims` (one scale per index of that axis), as
 * DequantizeLinear takes it: q = round(w / scale), scale = max|w| / 127.
 */
export function quantizePerChannel(w: Float32Array, dims: readonly number[], axis: number): { q: Int8Array; scales: Float32Array } {
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % channels;
    scales[c] = Math.max(scales[c]!, Math.abs(w[i]!));
  }
  for (let c = 0; c < channels; c++) scales[c] = scales[c]! > 0 ? scales[c]! / 127 : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.round(w[i]! / scales[Math.floor(i / inner) % channels]!);
  return { q, scales };
}

/**
 * The bias correction of a layer whose float weights `w` (dims `dims`, output channels along `axis`: 0 for ONNX
 * OIHW conv weights, 1 for Gemm's [in, out]) were rounded to `q` * `scales`: per output channel, the mean over
 * images and output positions of what the rounding adds, i.e. the sum over its inputs of (q * scale - w) * mean of
 * that input channel, each conv tap weighted by the share of output positions where it reads the input rather than
 * the zero padding (`taps`, row-major [kh, kw], from `tapCoverage`; default 1). A conv's `group` groups of input
 * channels each feed dims[0] / group outputs. Subtract it from the bias.
 */
export function weightRoundingShift(w: Float32Array, q: Int8Array, scales: Float32Array, dims: readonly number[], axis: 0 | 1,
  inputMean: Float32Array, group = 1, taps?: Float32Array): Float32Array {
  const shift = new Float64Array(scales.length);
  if (axis === 0) {
    const out = dims[0]!, inPerGroup = dims[1]!, kernel = w.length / (out * inPerGroup), outPerGroup = out / group;
    if (inputMean.length !== inPerGroup * group) throw new CnnZooError(`bias correction: ${inputMean.length} input channel means for a conv with ${inPerGroup * group} input channels.`, 'BAD_INPUT');
    if (taps && taps.length !== kernel) throw new CnnZooError(`bias correction: ${taps.length} tap weights for a ${kernel}-tap kernel.`, 'BAD_INPUT');
    for (let o = 0; o < out; o++) {
      const first = Math.floor(o / outPerGroup) * inPerGroup;
      let d = 0;
      for (let i = 0; i < inPerGroup; i++) {
        const m = inputMean[first + i]!, base = (o * inPerGroup + i) * kernel;
        for (let k = 0; k < kernel; k++) d += (q[base + k]! * scales[o]! - w[base + k]!) * m * (taps ? taps[k]! : 1);
      }
      shift[o] = d;
    }
  } else {
    const [inputs, outputs] = dims as [number, number];
    if (inputMean.length !== inputs) throw new CnnZooError(`bias correction: ${inputMean.length} input means for a dense layer with ${inputs} inputs.`, 'BAD_INPUT');
    for (let i = 0; i < inputs; i++) {
      const m = inputMean[i]!;
      for (let o = 0; o < outputs; o++) shift[o] += (q[i * outputs + o]! * scales[o]! - w[i * outputs + o]!) * m;
    }
  }
  return Float32Array.from(shift);
}

/**
 * For each tap of a conv kernel (row-major [kh, kw]), the share of the output positions where it reads the input
 * rather than zero padding: `input`/`output` [height, width], `kernel`, `strides`, `dilations`, and the top and left
 * padding (`before`).
 */
export function tapCoverage(input: readonly [number, number], output: readonly [number, number], kernel: readonly [number, number],
  strides: readonly [number, number], dilations: readonly [number, number], before: readonly [number, number]): Float32Array {
  const axis = (a: 0 | 1) => Array.from({ length: kernel[a] }, (_, t) => {
    let inside = 0;
    for (let o = 0; o < output[a]; o++) {
      const at = o * strides[a] - before[a] + t * dilations[a];
      if (at >= 0 && at < input[a]) inside++;
    }
    return inside / output[a];
  });
  const rows = axis(0), cols = axis(1);
  return Float32Array.from({ length: kernel[0] * kernel[1] }, (_, k) => rows[Math.floor(k / kernel[1])]! * cols[k % kernel[1]]!);
}

/** The tensors calibrated: inputs and outputs of the quantized layers (one name per producing layer). */
export function calibrationTensors(model: tf.LayersModel): tf.SymbolicTensor[] {
  const byLayer = new Map<string, tf.SymbolicTensor>();
  for (const layer of model.layers) {
    if (!QUANTIZED_CLASSES.has(layer.getClassName())) continue;
    const nodes = (layer as unknown as { inboundNodes: { inputTensors: tf.SymbolicTensor[]; outputTensors: tf.SymbolicTensor[] }[] }).inboundNodes;
    for (const t of [...nodes[0]!.inputTensors, ...nodes[0]!.outputTensors]) byLayer.set(t.sourceLayer.name, t);
  }
  return [...byLayer.values()];
}

/** How `calibrate` turns activations into ranges. */
export interface CalibrateOptions {
  /**
   * Clip each range at this percentile of the values (and at 100 - it below), averaged over the batches, instead of
   * the min/max over all of them: outliers then no longer stretch the uint8 step (e.g. 99.99). Default: min/max.
   */
  percentile?: number;
}

/** Values sampled for a percentile: at most this many per tensor and batch (an even stride through the tensor). */
const PERCENTILE_SAMPLES = 1 << 18;

/** The `p`-th and `(100 - p)`-th percentiles of `v` (nearest rank, on an even-strided sample of at most PERCENTILE_SAMPLES values). */
function percentileRange(v: Float32Array, p: number): [number, number] {
  const stride = Math.max(1, Math.ceil(v.length / PERCENTILE_SAMPLES));
  const s = new Float32Array(Math.ceil(v.length / stride));
  for (let i = 0, j = 0; i < v.length; i += stride, j++) s[j] = v[i]!;
  s.sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1))]!;
  return [at(100 - p), at(p)];
}

/**
 * Activation ranges of `model` over the calibration `batches` (preprocessed images, NHWC): min/max per tensor, or
 * with `percentile` the mean over batches of each batch's percentile range; and each activation's per-channel mean
 * (for bias correction). Each batch is read and left to the caller to dispose.
 */
export async function calibrate(model: tf.LayersModel, batches: Iterable<tf.Tensor4D> | AsyncIterable<tf.Tensor4D>, opts: CalibrateOptions = {}): Promise<Int8Calibration> {
  const p = opts.percentile;
  if (p !== undefined && !(p > 50 && p <= 100)) throw new CnnZooError(`calibrate: percentile must be above 50 and at most 100 (e.g. 99.99), got ${shown(p)}.`, 'BAD_OPTION');
  const tensors = calibrationTensors(model);
  const probe = tf.model({ inputs: model.inputs, outputs: tensors });
  const ranges: Record<string, [number, number]> = {};
  const sums: Record<string, Float64Array> = {};
  let seen = 0, images = 0;
  for await (const x of batches) {
    const outs = [probe.predict(x)].flat() as tf.Tensor[];
    try {
    // Per-channel sums over batch and positions (means below, weighted by images).
    const channelSums = tf.tidy(() => outs.map((t) => t.reshape([-1, t.shape[t.rank - 1]!]).sum(0)));
    for (const [i, t] of tensors.entries()) {
      const v = (await channelSums[i]!.data()) as Float32Array, name = t.sourceLayer.name;
      const acc = (sums[name] ??= new Float64Array(v.length));
      const positions = outs[i]!.size / outs[i]!.shape[0]! / v.length;
      v.forEach((s, c) => { acc[c] += s / positions; });
    }
    tf.dispose(channelSums);
    images += x.shape[0];
    if (p === undefined) {
      const mins = tf.tidy(() => tf.stack(outs.map((t) => tf.stack([t.min(), t.max()]))));
      const v = (await mins.data()) as Float32Array;
      mins.dispose();
      tensors.forEach((t, i) => {
        const name = t.sourceLayer.name;
        const [lo, hi] = ranges[name] ?? [Infinity, -Infinity];
        ranges[name] = [Math.min(lo, v[2 * i]!), Math.max(hi, v[2 * i + 1]!)];
      });
    } else {
      for (const [i, t] of tensors.entries()) {
        const [lo, hi] = percentileRange((await outs[i]!.data()) as Float32Array, p);
        const name = t.sourceLayer.name;
        const [sumLo, sumHi] = ranges[name] ?? [0, 0];
        ranges[name] = [sumLo + lo, sumHi + hi]; // sums; divided by the batch count below
      }
    }
    } finally {
      tf.dispose(outs);
    }
    seen++;
  }
  if (seen === 0) throw new CnnZooError('calibrate: no calibration images; pass at least one batch of preprocessed images.', 'BAD_INPUT');
  if (p !== undefined) for (const r of Object.values(ranges)) { r[0] /= seen; r[1] /= seen; }
  const means = Object.fromEntries(Object.entries(sums).map(([name, s]) => [name, Float32Array.from(s, (v) => v / images)]));
  return { ranges, means };
}

/** float32 -> IEEE float16 bits, round to nearest even (overflow to infinity, subnormals kept), as ONNX stores FLOAT16. */
export function toFloat16(a: Float32Array): Uint16Array {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; } // inf, NaN
    const e = exp - 127 + 15;
    if (e >= 0x1f) { out[i] = sign | 0x7c00; continue; } // overflow
    if (e <= 0) { // subnormal half (or zero)
      if (e < -10) { out[i] = sign; continue; }
      const m = mant | 0x800000, shift = 14 - e;
      let h = m >>> shift;
      const rest = m & ((1 << shift) - 1), half = 1 << (shift - 1);
      if (rest > half || (rest === half && (h & 1))) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // may carry into the exponent: still right
    out[i] = sign | h;
  }
  return out;
}

/** IEEE float16 bits -> float32 values. */
export function fromFloat16(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i]!, sign = x & 0x8000 ? -1 : 1, e = (x >>> 10) & 0x1f, m = x & 0x3ff;
    out[i] = e === 0 ? sign * m * 2 ** -24 : e === 0x1f ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}
