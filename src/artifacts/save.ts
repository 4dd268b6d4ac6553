/**
 * tfjs LayersModel artifacts as cnn-zoo writes them: the model's own topology and weights, weights optionally
 * quantized in tfjs's format (`{dtype: 'uint8', min, scale}` or float16, read back by `tf.loadLayersModel` itself),
 * and `userDefinedMetadata.cnnZoo` (see metadata.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import type { NamedArray } from '../arrays.js';
import type { CnnZooMetadata, WeightDtype } from './metadata.js';
import { weightDataBuffer } from './node-fs.js';
import { checkWeightSpecs } from './manifest.js';

/**
 * If `values` already lie on a grid of at most 256 levels (weights dequantized from a uint8/int8
 * checkpoint), that grid's min and step, so re-quantizing them is exact.
 */
export function uint8Grid(values: Float32Array): { min: number; scale: number } | undefined {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  if (distinct.length < 2 || distinct.length > 256) return undefined;
  let step = Infinity;
  for (let i = 1; i < distinct.length; i++) step = Math.min(step, distinct[i]! - distinct[i - 1]!);
  const min = distinct[0]!, range = distinct[distinct.length - 1]! - min;
  // The closest pair carries float32 rounding; the whole range gives the step to ~1e-7.
  const levels = Math.round(range / step);
  if (levels > 255) return undefined;
  step = range / levels;
  for (const v of distinct) {
    const q = (v - min) / step;
    if (Math.abs(q - Math.round(q)) > 0.01) return undefined;
  }
  return { min, scale: step };
}

/**
 * Quantize one float tensor in tfjs's affine uint8 format (value = q * scale + min). Values already on a
 * 256-level grid keep it exactly; others use min..max in 255 steps.
 */
export function quantizeUint8(values: Float32Array): { bytes: Uint8Array; min: number; scale: number } {
  let min = Infinity, max = -Infinity;
  for (const v of values) { if (v < min) min = v; if (v > max) max = v; }
  if (!Number.isFinite(min)) { min = 0; max = 0; }
  const grid = uint8Grid(values);
  const scale = grid ? grid.scale : max > min ? (max - min) / 255 : 1;
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) bytes[i] = Math.min(255, Math.max(0, Math.round((values[i]! - min) / scale)));
  return { bytes, min, scale };
}

function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1), mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  e = 0;
  return half;
}

/**
 * Re-encode artifacts' float32 weights as `dtype`. Only tensors of rank >= 2 (kernels) are quantized;
 * biases and batch-norm vectors stay float32 (tiny, and the most sensitive).
 */
export function quantizeArtifacts(artifacts: tf.io.ModelArtifacts, dtype: WeightDtype): tf.io.ModelArtifacts {
  if (dtype === 'float32') return artifacts;
  const specs = artifacts.weightSpecs ?? [];
  const buffer = weightDataBuffer(artifacts.weightData);
  const parts: Uint8Array[] = [];
  const out: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype !== 'float32' || spec.quantization) throw new CnnZooError(`Weight ${spec.name} is ${spec.dtype}${spec.quantization ? ' (already quantized)' : ''}; only float32 weights can be quantized.`, 'BAD_ARTIFACT');
    const values = new Float32Array(buffer.slice(offset, offset + 4 * n));
    offset += 4 * n;
    if (spec.shape.length < 2) {
      parts.push(new Uint8Array(values.buffer));
      out.push(spec);
    } else if (dtype === 'uint8') {
      const q = quantizeUint8(values);
      parts.push(q.bytes);
      out.push({ ...spec, quantization: { dtype: 'uint8', min: q.min, scale: q.scale } });
    } else {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) h[i] = floatToHalf(values[i]!);
      parts.push(new Uint8Array(h.buffer));
      out.push({ ...spec, quantization: { dtype: 'float16' } });
    }
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { data.set(p, at); at += p.length; }
  return { ...artifacts, weightSpecs: out, weightData: data.buffer };
}

/** The artifacts of `model` (topology, float32 weights, metadata) without writing anything. */
export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    captured = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!captured) throw new Error('model.save produced no artifacts');
  return captured;
}

/** Save `model` with `meta` as tfjs artifacts through `handler`, weights stored as `dtype`. */
export async function saveConverted(model: tf.LayersModel, handler: tf.io.IOHandler, meta: CnnZooMetadata): Promise<tf.io.ModelArtifacts> {
  if (!handler.save) throw new CnnZooError('The IOHandler cannot save.', 'BAD_ARGS');
  model.setUserDefinedMetadata({ cnnZoo: meta });
  const artifacts = quantizeArtifacts(await modelArtifacts(model), meta.dtype);
  await handler.save({ ...artifacts, userDefinedMetadata: { cnnZoo: meta } });
  return artifacts;
}

/**
 * The largest quantization error of any weight, relative to that tensor's RMS (max|stored - original| / rms):
 * per-tensor uint8 suits tensors without outliers, and this exposes those it does not (folded depthwise kernels).
 */
export async function quantizationError(model: tf.LayersModel, artifacts: tf.io.ModelArtifacts): Promise<{ relToRms: number; weight: string }> {
  const stored = await artifactArrays(artifacts);
  let worst = { relToRms: 0, weight: '' };
  for (const w of model.weights) {
    const q = stored.get(w.originalName);
    if (!q) continue;
    const v = (await w.read().data()) as Float32Array;
    let d = 0, sq = 0;
    for (let i = 0; i < v.length; i++) { d = Math.max(d, Math.abs(v[i]! - q.data[i]!)); sq += v[i]! * v[i]!; }
    const rms = Math.sqrt(sq / Math.max(1, v.length));
    const rel = rms > 0 ? d / rms : d;
    if (rel > worst.relToRms) worst = { relToRms: rel, weight: w.originalName };
  }
  return worst;
}

/**
 * Decode artifacts' weights (dequantizing) into named float32 arrays keyed by weight name (`layer/role`). Read
 * asynchronously, so it runs on every backend (WebGPU in Node has no synchronous readback).
 */
export async function artifactArrays(artifacts: tf.io.ModelArtifacts, where = 'the model artifacts'): Promise<Map<string, NamedArray>> {
  const data = weightDataBuffer(artifacts.weightData);
  checkWeightSpecs(artifacts.weightSpecs ?? [], data.byteLength, where);
  const tensors = tf.io.decodeWeights(data, artifacts.weightSpecs ?? []);
  const out = new Map<string, NamedArray>();
  try {
    for (const [name, t] of Object.entries(tensors)) out.set(name, { shape: t.shape, data: (await t.data()) as Float32Array });
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return out;
}
