/**
 * Darknet `.weights` files (pjreddie/darknet `save_weights`): a header (major, minor, revision as int32, then
 * images seen as int64 from format 0.2 on, else int32) and, for every `[convolutional]` section in cfg order,
 * float32 biases[n], then with batch_normalize scales[n], rolling_mean[n], rolling_variance[n], then
 * weights[n][c][k][k] (`load_convolutional_weights`). The file carries no shapes: they come from the model, whose
 * cfg sections are layers `layers.{i}` (src/zoo/darknet.ts). Darknet normalises by sqrt(var) + 1e-6, so the
 * variance is stored as (sqrt(var) + 1e-6)^2 for the model's epsilon-0 batch norm.
 */
import type * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import type { StateDict } from '../arrays.js';

const DARKNET_NORM_EPS = 1e-6;

/** The header size and format version of a .weights file. */
export function darknetHeader(bytes: Uint8Array, source: string): { major: number; minor: number; revision: number; headerBytes: number } {
  if (bytes.length < 16) throw new CnnZooError(`${source}: ${bytes.length} bytes is too short for a Darknet .weights file.`, 'BAD_CHECKPOINT');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = v.getInt32(0, true), minor = v.getInt32(4, true), revision = v.getInt32(8, true);
  if (major < 0 || minor < 0 || major > 1000 || minor > 1000) throw new CnnZooError(`${source}: not a Darknet .weights file (version ${major}.${minor}).`, 'BAD_CHECKPOINT');
  const wideSeen = major * 10 + minor >= 2;
  return { major, minor, revision, headerBytes: wideSeen ? 20 : 16 };
}

/** The arrays of a .weights file, named after `model`'s `layers.{i}.conv` / `layers.{i}.bn` layers. */
export function darknetStateDict(bytes: Uint8Array, model: tf.LayersModel, source: string): StateDict {
  const { headerBytes } = darknetHeader(bytes, source);
  const convs = model.layers
    .map((l) => ({ layer: l, index: /^layers\.(\d+)\.conv$/.exec(l.name)?.[1] }))
    .filter((x): x is { layer: tf.layers.Layer; index: string } => x.index !== undefined && x.layer.getClassName() === 'Conv2D')
    .sort((a, b) => Number(a.index) - Number(b.index));
  if (convs.length === 0) throw new CnnZooError(`${model.name} has no Darknet cfg layers (layers.{i}.conv); only the Darknet cfg models read .weights files.`, 'UNSUPPORTED_CHECKPOINT');
  const names = new Set(model.layers.map((l) => l.name));
  const floats = (bytes.length - headerBytes) / 4;
  let need = 0;
  const plan = convs.map(({ layer, index }) => {
    const [kh, kw, c, n] = layer.weights.find((w) => w.originalName.endsWith('/kernel'))!.shape as number[];
    const bn = names.has(`layers.${index}.bn`);
    need += n! * (bn ? 4 : 1) + n! * c! * kh! * kw!;
    return { index, n: n!, c: c!, kh: kh!, kw: kw!, bn };
  });
  if (!Number.isInteger(floats) || floats !== need) {
    throw new CnnZooError(`${source}: holds ${floats} weights after its header, but ${model.name} needs ${need}. Is it the .weights file of this cfg?`, 'SHAPE_MISMATCH');
  }
  const data = new Float32Array(bytes.slice(headerBytes).buffer);
  const out: StateDict = new Map();
  let at = 0;
  const take = (count: number) => { const a = data.subarray(at, at + count); at += count; return new Float32Array(a); };
  for (const p of plan) {
    const biases = take(p.n);
    if (p.bn) {
      const scales = take(p.n), mean = take(p.n), variance = take(p.n);
      for (let i = 0; i < p.n; i++) variance[i] = (Math.sqrt(variance[i]!) + DARKNET_NORM_EPS) ** 2;
      out.set(`layers.${p.index}.bn.weight`, { shape: [p.n], data: scales });
      out.set(`layers.${p.index}.bn.bias`, { shape: [p.n], data: biases });
      out.set(`layers.${p.index}.bn.running_mean`, { shape: [p.n], data: mean });
      out.set(`layers.${p.index}.bn.running_var`, { shape: [p.n], data: variance });
    } else {
      out.set(`layers.${p.index}.conv.bias`, { shape: [p.n], data: biases });
    }
    out.set(`layers.${p.index}.conv.weight`, { shape: [p.n, p.c, p.kh, p.kw], data: take(p.n * p.c * p.kh * p.kw) });
  }
  return out;
}

/** A .weights file for `model` from its arrays (tests and dev checks): the inverse of `darknetStateDict`. */
export function writeDarknetWeights(sd: StateDict, order: readonly string[]): Uint8Array {
  const parts: Float32Array[] = [];
  for (const index of order) {
    const bn = sd.get(`layers.${index}.bn.weight`);
    if (bn) {
      const v = sd.get(`layers.${index}.bn.running_var`)!.data.map((x) => (Math.sqrt(x) - DARKNET_NORM_EPS) ** 2);
      parts.push(sd.get(`layers.${index}.bn.bias`)!.data, bn.data, sd.get(`layers.${index}.bn.running_mean`)!.data, v);
    } else {
      parts.push(sd.get(`layers.${index}.conv.bias`)!.data);
    }
    parts.push(sd.get(`layers.${index}.conv.weight`)!.data);
  }
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(20 + 4 * n);
  const v = new DataView(out.buffer);
  v.setInt32(0, 0, true); v.setInt32(4, 2, true); v.setInt32(8, 0, true);
  let at = 20;
  for (const p of parts) { out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at); at += p.byteLength; }
  return out;
}
