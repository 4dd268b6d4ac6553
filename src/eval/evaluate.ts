/**
 * `evaluate(model, dataset, options)`: Top-1 / Top-5 (overall and per class) and throughput of a classifier
 * on a labelled image folder. Images are decoded and preprocessed exactly as the model's training pipeline
 * (src/image), in batches; the next batch is decoded while the current one runs. Images that cannot be read
 * are counted in `failed` (with the reason) and left out of the accuracy, never silently dropped.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, checkLayersModel, checkOptionKinds, checkOptionNames, shown } from '../errors.js';
import { decodeImage } from '../image/decode.js';
import { resizeAndCrop } from '../image/preprocess.js';
import { normalizeInto } from '../image/resize-crop.js';
import type { PreprocessConfig } from '../image/types.js';
import type { DatasetItem, DatasetProblem, ImageDataset } from './dataset.js';
import { modelSettings } from './model-settings.js';
import { hasClassifier, noClassifier } from '../zoo/heads.js';
import { AccuracyMeter, topK, type ClassAccuracy } from './topk.js';
import { ZooModel, runOnRuntime } from '../api/zoo-model.js';

export interface EvaluateOptions {
  /** Images per forward pass (default 16). */
  batchSize?: number;
  /**
   * Evaluate `limit` images: the first ones in the dataset's sorted order (ImageNet val files are in no class order),
   * or, in one sub-folder per class, images spread evenly over the classes' sorted lists (every class in its share).
   */
  limit?: number;
  /** Override the model's preprocessing (default: its metadata, else torchvision's ImageNet pipeline). */
  preprocess?: PreprocessConfig;
  /** Override the logit index of class 0 (default: metadata, else 1 for 1001 outputs, else 0). */
  classOffset?: number;
  /** Called after each batch. */
  onProgress?: (p: EvalProgress) => void;
}

export interface EvalProgress {
  done: number;
  total: number;
  failed: number;
  /** Running Top-1 (%) over the images evaluated so far. */
  top1: number;
  imagesPerSec: number;
}

export interface FailedImage { file: string; error: string }

export interface EvalResult {
  kind: 'eval';
  model: string;
  /** Where the weights came from ('random' for an untrained model: reports then ignore its accuracy). */
  weights?: string;
  dataset: string;
  datasetLayout: ImageDataset['layout'];
  /** Images attempted (after `limit`). */
  images: number;
  /** Images that decoded and were classified: the accuracy's denominator. */
  evaluated: number;
  failed: FailedImage[];
  /** Problems found while reading the dataset's labels (see dataset.ts). */
  datasetProblems: DatasetProblem[];
  /** Percent over `evaluated`. */
  top1: number;
  top5: number;
  meanClassTop1: number;
  perClass: (ClassAccuracy & { wnid?: string; name?: string })[];
  batchSize: number;
  preprocess: PreprocessConfig;
  classOffset: number;
  /** The tfjs backend, or the onnxruntime package a ZooModel ran on. */
  backend: string;
  seconds: number;
  /** Evaluated images per second, end to end (decode + preprocess + inference). */
  imagesPerSec: number;
}

interface Batch { items: DatasetItem[]; input: Float32Array; ok: boolean[]; failed: FailedImage[] }

async function loadBatch(items: DatasetItem[], cfg: PreprocessConfig): Promise<Batch> {
  const per = cfg.size * cfg.size * 3;
  const input = new Float32Array(items.length * per);
  const failed: FailedImage[] = [];
  const ok = await Promise.all(items.map(async (it, i) => {
    try {
      const img = await decodeImage(it.path, { name: it.file });
      normalizeInto(resizeAndCrop(img, cfg).data, cfg, input, i * per); // straight into the batch array
      return true;
    } catch (e) {
      failed.push({ file: it.file, error: (e as Error).message });
      return false;
    }
  }));
  return { items, input, ok, failed };
}

const EVALUATE_OPTIONS = ['batchSize', 'limit', 'preprocess', 'classOffset', 'onProgress', 'name', 'weights'] as const satisfies
  readonly (keyof EvaluateOptions | 'name' | 'weights')[];

/**
 * Evaluates `model` on `dataset` (see the module comment). `model.name` is reported unless `name` is given. A
 * `ZooModel` (from `load()`) runs on its runtime, as its `classify` does: on onnxruntime, its export (an int8 or
 * float16 ONNX file given as weights: the file as stored); a `tf.LayersModel` on tfjs's backend.
 */
export async function evaluate(given: tf.LayersModel | ZooModel, dataset: ImageDataset, options: EvaluateOptions & { name?: string; weights?: string } = {}): Promise<EvalResult> {
  const zoo = given instanceof ZooModel ? given : undefined;
  const model = zoo ? zoo.model : given as tf.LayersModel;
  checkLayersModel('evaluate(model, dataset)', model, 'evaluate(zooModel.model, dataset)', true);
  if (typeof (dataset as ImageDataset | null)?.items !== 'object') {
    throw new CnnZooError(`evaluate(model, dataset): dataset comes from openDataset(dir), got ${shown(dataset)}.`, 'BAD_DATASET');
  }
  checkOptionNames('evaluate(model, dataset, options)', options, EVALUATE_OPTIONS);
  checkOptionKinds('evaluate(model, dataset, options)', options, { onProgress: 'function', name: 'string', weights: 'string' });
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new CnnZooError(`batchSize must be a positive integer, got ${shown(batchSize)}.`, 'BAD_OPTION');
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
    throw new CnnZooError(`limit must be a positive integer, got ${shown(options.limit)}.`, 'BAD_OPTION');
  }
  if (!hasClassifier(model)) throw noClassifier('evaluate(model, dataset): the model', 'evaluate weights that have a classifier.');
  const settings = modelSettings(model, options);
  const numClasses = dataset.classes.length;
  if (settings.numOutputs - settings.classOffset < numClasses) {
    throw new CnnZooError(`The model has ${settings.numOutputs} outputs (class offset ${settings.classOffset}) but the dataset has ` +
      `${numClasses} classes. Evaluate a ${numClasses}-class model, or pass classOffset.`, 'BAD_MODEL');
  }
  const items = limitItems(dataset, options.limit);
  const { preprocess: cfg, classOffset } = settings;
  const meter = new AccuracyMeter(numClasses);
  const failed: FailedImage[] = [];
  const t0 = performance.now();
  const batches: DatasetItem[][] = [];
  for (let i = 0; i < items.length; i += batchSize) batches.push(items.slice(i, i + batchSize));

  let next = batches.length ? loadBatch(batches[0]!, cfg) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const batch = await next!;
    next = b + 1 < batches.length ? loadBatch(batches[b + 1]!, cfg) : undefined; // decode ahead while we infer
    failed.push(...batch.failed);
    const good = batch.items.map((_, i) => i).filter((i) => batch.ok[i]);
    if (good.length > 0) {
      const per = cfg.size * cfg.size * 3;
      const input = good.length === batch.items.length ? batch.input : packRows(batch.input, good, per);
      let values: Float32Array;
      if (zoo) values = (await runOnRuntime(zoo, input, good.length))[0]!.data;
      else {
        const logits = tf.tidy(() => {
          const out = model.predict(tf.tensor4d(input, [good.length, cfg.size, cfg.size, 3]));
          const first = Array.isArray(out) ? out[0]! : out;
          return first.reshape([good.length, -1]);
        });
        values = await logits.data() as Float32Array;
        logits.dispose();
      }
      const width = settings.numOutputs;
      good.forEach((itemIdx, row) => {
        const pred = topK(values.subarray(row * width, (row + 1) * width), 5, classOffset, numClasses);
        meter.add(batch.items[itemIdx]!.label, pred);
      });
    }
    const s = meter.summary();
    const secs = (performance.now() - t0) / 1000;
    options.onProgress?.({ done: Math.min((b + 1) * batchSize, items.length), total: items.length, failed: failed.length, top1: s.top1, imagesPerSec: meter.images / secs });
  }

  const seconds = (performance.now() - t0) / 1000;
  const s = meter.summary();
  return {
    kind: 'eval',
    model: options.name ?? zoo?.name ?? model.name,
    ...(options.weights !== undefined ? { weights: options.weights } : {}),
    dataset: dataset.name,
    datasetLayout: dataset.layout,
    images: items.length,
    evaluated: s.images,
    failed,
    datasetProblems: dataset.problems,
    top1: s.top1,
    top5: s.top5,
    meanClassTop1: s.meanClassTop1,
    perClass: s.perClass.map((c) => ({ ...c, wnid: dataset.classes[c.label]?.wnid, name: dataset.classes[c.label]?.label })),
    batchSize,
    preprocess: cfg,
    classOffset,
    backend: zoo && zoo.runtime !== 'tfjs' ? zoo.runtime : tf.getBackend(),
    seconds,
    imagesPerSec: seconds > 0 ? s.images / seconds : 0,
  };
}

function packRows(src: Float32Array, rows: number[], per: number): Float32Array {
  const out = new Float32Array(rows.length * per);
  rows.forEach((r, i) => out.set(src.subarray(r * per, (r + 1) * per), i * per));
  return out;
}

/**
 * The images a `limit` keeps. Class sub-folders list class by class: their first N would all be the first class, so
 * each class gets its share of N (at least one image while N allows), taken evenly spaced from its sorted list.
 */
function limitItems(dataset: ImageDataset, limit: number | undefined): DatasetItem[] {
  const all = dataset.items;
  if (limit === undefined || limit >= all.length) return all.slice();
  if (dataset.layout !== 'class-folders') return all.slice(0, limit);
  const groups: DatasetItem[][] = [];
  for (const item of all) {
    if (groups.at(-1)?.[0]!.label === item.label) groups.at(-1)!.push(item);
    else groups.push([item]);
  }
  const k = groups.length;
  // Fewer images than classes: one image from each of `limit` classes spread over the list.
  const quota = groups.map((): number => (limit >= k ? 1 : 0));
  if (limit < k) for (let j = 0; j < limit; j++) quota[Math.floor((j * k) / limit)] = 1;
  let left = limit - quota.reduce((a, b) => a + b, 0);
  const room = groups.map((g, i) => g.length - quota[i]!);
  const total = room.reduce((a, b) => a + b, 0);
  const shares = room.map((r) => (total > 0 ? (left * r) / total : 0));
  shares.forEach((share, i) => { quota[i]! += Math.floor(share); });
  left -= shares.reduce((n, share) => n + Math.floor(share), 0);
  // The images still to place go to the classes with the largest fractional shares.
  for (const i of shares.map((share, i) => [share - Math.floor(share), i] as const).sort((a, b) => b[0] - a[0]).slice(0, left).map(([, i]) => i)) quota[i]!++;
  return groups.flatMap((g, i) => Array.from({ length: quota[i]! }, (_, j) => g[Math.floor((j * g.length) / quota[i]!)]!));
}
