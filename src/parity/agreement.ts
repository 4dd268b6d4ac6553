/**
 * Agreement of a converted checkpoint with its original runtime, on labelled images: top-1 agreement, the largest
 * probability difference, and the Top-1 accuracy of both. Both sides see the same preprocessing:
 * - ONNX (onnxruntime-node): the converted model's preprocessing (resize, crop, normalisation), NCHW for ONNX
 *   when its input is [N, 3, H, W];
 * - TFLite (the interpreter in Chromium, src/parity/runtimes.ts): the same uint8 pixels (resize and crop of the
 *   converted model's preprocessing); the float model gets them as the TFLite input quantization defines them,
 *   `(q - zero_point) * scale`, and the interpreter's uint8 output is dequantized by its output quantization.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { decodeImage } from '../image/decode.js';
import { normalize, resizeAndCrop } from '../image/preprocess.js';
import type { CnnZooMetadata } from '../artifacts/metadata.js';
import { readTflite } from '../checkpoints/tflite.js';
import { OnnxRunner, TfliteInChromium } from './runtimes.js';
import { maxRelError } from './run.js';

export type OriginalRuntime = 'onnxruntime-node' | 'tflite-chromium';

/** The runtime that runs a checkpoint format in JavaScript, if any. */
export function runtimeFor(format: string): OriginalRuntime | undefined {
  return format === 'onnx' ? 'onnxruntime-node' : format === 'tflite' ? 'tflite-chromium' : undefined;
}

export interface LabelledImage { path: string; label: number }

export interface Agreement {
  runtime: OriginalRuntime;
  /** The original checkpoint file(s) run by that runtime. */
  original: string[];
  images: number;
  /** Fraction of images whose top-1 class is the same in both. */
  top1Agreement: number;
  /** Largest |p_ours - p_original| over all images and classes (softmax probabilities). */
  maxProbDiff: number;
  /**
   * ONNX: the outputs compared as the parity fixtures compare logits, max|ours - original| / max|original| per image,
   * the worst image (probabilities of random weights are all about 1/classes: this tells wrong weights from right).
   */
  maxRelErr?: number;
  /** Top-1 accuracy (fraction) of the converted model and of the original runtime on the labelled images. */
  top1: { ours: number; original: number };
}

const argmax = (a: ArrayLike<number>): number => { let b = 0; for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i; return b; };

/** Whether a row is probabilities already (non-negative, summing to 1). */
function isProbabilities(row: Float32Array): boolean {
  let sum = 0, min = Infinity;
  for (const v of row) { sum += v; min = Math.min(min, v); }
  return min >= 0 && Math.abs(sum - 1) < 1e-3;
}

/** Probabilities of a row: softmax unless it is one already (`isSoftmax`, or `isProbabilities`). */
function probabilities(row: Float32Array, isSoftmax = false): Float32Array {
  if (isSoftmax || isProbabilities(row)) return row;
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

class Tally {
  private n = 0; private agree = 0; private ours = 0; private orig = 0; private worst = 0; private rel?: number;
  /** `softmax`: the original's output is a softmax already (a quantized one sums to 1 only within some 1/256 steps). */
  add(ours: Float32Array, original: Float32Array, label: number, softmax = false): void {
    if (ours.length !== original.length) {
      throw new CnnZooError(`The original runtime gives ${original.length} classes, the converted model ${ours.length}; they are not the same model.`, 'BAD_WEIGHTS');
    }
    if (!softmax && !isProbabilities(original)) this.rel = Math.max(this.rel ?? 0, maxRelError(ours, original));
    const p = probabilities(ours), q = probabilities(original, softmax);
    for (let i = 0; i < p.length; i++) this.worst = Math.max(this.worst, Math.abs(p[i]! - q[i]!));
    const a = argmax(p), b = argmax(q);
    this.n++;
    if (a === b) this.agree++;
    if (a === label) this.ours++;
    if (b === label) this.orig++;
  }
  result(runtime: OriginalRuntime, original: string[]): Agreement {
    return { runtime, original, images: this.n, top1Agreement: this.agree / this.n, maxProbDiff: this.worst, ...(this.rel === undefined ? {} : { maxRelErr: this.rel }),
      top1: { ours: this.ours / this.n, original: this.orig / this.n } };
  }
}

function predictRow(model: tf.LayersModel, x: Float32Array, size: number): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(x, [1, size, size, 3])) as tf.Tensor).dataSync() as Float32Array);
}

export interface AgreementOptions {
  /** Called after each image with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** The runtime of `original` (default: the one of the metadata's source format). */
  runtime?: OriginalRuntime;
}

/**
 * `model` (converted weights, with their metadata `meta`) against `original` run by its runtime on `images`
 * (labels 0-based in the model's label set; the metadata's class offset is applied).
 */
export async function agreement(model: tf.LayersModel, meta: CnnZooMetadata, original: readonly string[], images: readonly LabelledImage[], opts: AgreementOptions = {}): Promise<Agreement> {
  const runtime = opts.runtime ?? runtimeFor(meta.source.format);
  if (!runtime) throw new CnnZooError(`No JavaScript runtime runs ${meta.source.format} checkpoints; agreement is checked for onnx and tflite.`, 'NO_RUNTIME');
  if (images.length === 0) throw new CnnZooError('No images to measure agreement on; give a labelled folder (--images DIR).', 'BAD_ARGS');
  const { readFile } = await import('node:fs/promises');
  const pre = meta.preprocessing, size = pre.size;
  const tally = new Tally();
  if (runtime === 'onnxruntime-node') {
    const runner = await OnnxRunner.open(original[0]!);
    try {
      const shape = runner.inputShape();
      const nchw = shape.length === 4 && shape[1] === 3;
      for (const [k, img] of images.entries()) {
        const x = normalize(resizeAndCrop(await decodeImage(img.path), pre), pre);
        const ours = predictRow(model, x, size);
        const input = nchw ? hwcToChw(x, size, size) : x;
        tally.add(ours, await runner.run(input, nchw ? [1, 3, size, size] : [1, size, size, 3]), img.label + meta.classOffset);
        opts.onProgress?.(k + 1, images.length);
      }
    } finally {
      await runner.close();
    }
    return tally.result(runtime, [...original]);
  }
  const bytes = await Promise.all(original.map((f) => readFile(f)));
  const first = readTflite(bytes[0]!, original[0]);
  const last = readTflite(bytes[bytes.length - 1]!, original[original.length - 1]);
  const inQ = first.tensors[first.inputs[0]!]!.quant;
  const outQ = last.tensors[last.outputs[0]!]!.quant;
  const endsInSoftmax = last.ops[last.ops.length - 1]?.op === 'SOFTMAX';
  const deq = (v: number, q: typeof inQ) => (q ? (v - q.zeroPoint[0]!) * q.scale[0]! : v);
  const interpreter = await TfliteInChromium.open(bytes.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
  try {
    for (const [k, img] of images.entries()) {
      const px = resizeAndCrop(await decodeImage(img.path), pre).data;
      // The float model sees the pixels as the interpreter's input quantization defines them (or its own preprocessing if unquantized).
      const x = inQ ? Float32Array.from(px, (q) => deq(q, inQ)) : normalize({ width: size, height: size, data: px }, pre);
      const ours = predictRow(model, x, size);
      const raw = await interpreter.run(px, size, size);
      // A quantized output comes as its uint8 values; a float one as probabilities already.
      const theirs = Math.max(...raw) > 1 ? raw.map((v) => deq(v, outQ)) : raw;
      tally.add(ours, theirs, img.label + meta.classOffset, endsInSoftmax);
      opts.onProgress?.(k + 1, images.length);
    }
  } finally {
    await interpreter.close();
  }
  return tally.result(runtime, [...original]);
}

function hwcToChw(x: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let y = 0; y < h; y++) for (let i = 0; i < w; i++) for (let c = 0; c < 3; c++) out[(c * h + y) * w + i] = x[(y * w + i) * 3 + c]!;
  return out;
}
