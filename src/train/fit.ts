/**
 * `fit()` of a classifier made by `load(base, { classes })`: the head on frozen backbone features (extracted once,
 * for each training image and its augmented copies), then with `fineTune: N` the backbone's last N layers with
 * weights and the head end to end on augmented images. Held-out images (a seeded per-class split) measure accuracy.
 *
 * The head is the part of the classifier that the architecture built without its classifier lacks; its leading
 * layers without weights that behave the same in training (pooling, reshapes) run once with the backbone, so the
 * stored features are small (1280 values per image for MobileNet v2). Batch norm of the backbone stays in inference
 * mode while fine-tuning (its moving statistics are kept, as Keras recommends).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, shown } from '../errors.js';
import type { FitHistory, FitOptions, FitProgress, EpochStats, TrainingContext, TrainingData } from '../api/training.js';
import type { TrainingInfo } from '../artifacts/metadata.js';
import { augment } from './augment.js';
import { labelledImages, splitPerClass, type LabelledImage } from './data.js';
import { Random } from './random.js';
import { batchGradients } from './step.js';
import { featureRunner } from './extract.js';

/** Kernels the backward pass of a CNN backbone needs. */
export const GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'] as const;

/** Throws, saying what to do instead, when `backend` (default: the current one) cannot compute convolution gradients. */
export function checkGradients(backend: string = tf.getBackend()): void {
  const missing = GRADIENT_KERNELS.filter((k) => !tf.getKernel(k, backend));
  if (missing.length) {
    throw new CnnZooError(`Fine-tuning (fineTune, --fine-tune) trains convolutions, but the ${backend} backend has no ${missing.join(', ')} ` +
      `kernel${missing.length > 1 ? 's' : ''}. Train the head only (fineTune 0, or leave out --fine-tune), or fine-tune on another backend ` +
      '(useBackend(NAME)): wasm (cnn-zoo registers its gradient kernels), cpu (slow), tensorflow (npm install @tensorflow/tfjs-node), or in a ' +
      'browser webgl or webgpu.', 'NO_GRADIENTS');
  }
}

/** Images per forward pass while extracting features and measuring held-out accuracy. */
const EXTRACT_BATCH = 8;

/**
 * Images per forward and backward pass while fine-tuning: a larger `batchSize` runs as micro-batches whose gradients
 * are summed before its one update (the same update: the backbone's batch norm stays in inference mode), so that it
 * fits wasm's 4 GB heap.
 */
const MICRO_BATCH = 8;

const FROZEN_SAFE = (l: tf.layers.Layer): boolean => l.weights.length === 0 && !/Dropout|Noise/.test(l.getClassName());

const ACTIVATIONS: Readonly<Record<string, (x: tf.Tensor) => tf.Tensor>> = { linear: (x) => x, relu: (x) => tf.relu(x), relu6: (x) => tf.relu6(x) };

/**
 * A 1x1 convolution, stride 1 (the classifier of MobileNet, SqueezeNet and others), in the channels-last layout with
 * a plain activation: computed as a matmul so that its gradient needs no Conv2DBackpropFilter kernel (stock
 * tfjs-wasm has none; cnn-zoo registers one when `useBackend('wasm')` starts it).
 */
function pointwise(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() !== 'Conv2D') return false;
  const c = layer.getConfig() as { kernelSize?: number[]; strides?: number[]; dilationRate?: number | number[]; dataFormat?: string; activation?: string; groups?: number };
  const ones = (v: unknown) => (Array.isArray(v) ? v : [v]).every((x) => x === 1);
  return ones(c.kernelSize) && ones(c.strides) && ones(c.dilationRate ?? 1) && (c.groups ?? 1) === 1 &&
    c.dataFormat !== 'channelsFirst' && Object.hasOwn(ACTIVATIONS, c.activation ?? 'linear');
}

function pointwiseConv(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const c = layer.getConfig() as { useBias?: boolean; activation?: string };
  const [kernel, bias] = layer.weights.map((w) => w.read());
  const [cin, cout] = kernel!.shape.slice(2) as [number, number];
  const flat = tf.matMul(x.reshape([-1, cin]), kernel!.reshape([cin, cout]));
  const y = c.useBias !== false && bias ? tf.add(flat, bias) : flat;
  return ACTIVATIONS[c.activation ?? 'linear']!(y.reshape([...x.shape.slice(0, -1), cout]));
}

/** The classifier split at the end of its frozen part: the features to extract, and the head as a function of them. */
interface HeadSplit {
  /** Backbone (plus leading weightless head layers) -> the head's inputs. */
  extractor: tf.LayersModel;
  /** Head layers with weights or training behaviour, in topological order. */
  layers: tf.layers.Layer[];
  /**
   * The head on concrete features (no graph nodes are added to the layers). With `rng`, in training, its dropout
   * draws its masks from `rng` (tfjs's Dropout layer draws from an unseeded generator), so that a seed repeats a run.
   */
  run(features: readonly tf.Tensor[], training: boolean, rng?: Random): tf.Tensor2D;
}

/** A Dropout layer's own step, its mask seeded from `rng`; undefined for any other layer (or a noise shape). */
function seededDropout(layer: tf.layers.Layer, x: tf.Tensor, rng: Random): tf.Tensor | undefined {
  if (layer.getClassName() !== 'Dropout') return undefined;
  const c = layer.getConfig() as { rate?: number; noiseShape?: number[] | null };
  if (c.noiseShape) return undefined;
  const rate = c.rate ?? 0;
  return rate > 0 ? tf.dropout(x, rate, undefined, Math.floor(rng.next() * 2 ** 31)) : x;
}

/**
 * `featureLayers` without the layers from `first` on (those layers and every layer that reads their outputs): what
 * stays frozen while they are fine-tuned.
 */
function before(model: tf.LayersModel, featureLayers: ReadonlySet<string>, first: readonly tf.layers.Layer[]): Set<string> {
  const after = new Set(first.map((l) => l.name));
  for (const layer of model.layers) {
    if (layer.inboundNodes[0]?.inboundLayers.some((l) => after.has(l.name))) after.add(layer.name);
  }
  return new Set([...featureLayers].filter((name) => !after.has(name)));
}

/**
 * `pointwiseAsMatMul`: the head's 1x1 convolutions as matmuls, whose gradients every backend has (head-only training
 * needs no convolution gradients). Fine-tuning, where the backend has them (`checkGradients`), passes false: on wasm
 * MobileNet v2's last blocks trained 5x faster with their 1x1 layers as convolutions (an epoch's steps 4.6 s, 23.7 s as matmuls).
 */
export function splitHead(model: tf.LayersModel, featureLayers: ReadonlySet<string>, pointwiseAsMatMul = true): HeadSplit {
  const frozen = new Set<string>();
  const layers: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    if (featureLayers.has(layer.name) || (FROZEN_SAFE(layer) && inbound.every((l) => frozen.has(l.name)))) frozen.add(layer.name);
    else layers.push(layer);
  }
  if (layers.length === 0) throw new CnnZooError(`${model.name} has no classifier layers to train.`, 'NOT_TRAINABLE');
  const boundary: tf.SymbolicTensor[] = [];
  for (const layer of layers) {
    for (const [i, t] of layer.inboundNodes[0]!.inputTensors.entries()) {
      if (frozen.has(layer.inboundNodes[0]!.inboundLayers[i]!.name) && !boundary.some((b) => b.id === t.id)) boundary.push(t);
    }
  }
  const extractor = tf.model({ inputs: model.inputs, outputs: boundary, name: `${model.name}.backbone` });
  const outputId = model.outputs[0]!.id;
  return {
    extractor, layers,
    run(features, training, rng) {
      const values = new Map<number, tf.Tensor>(boundary.map((b, i) => [b.id, features[i]!]));
      for (const layer of layers) {
        const node = layer.inboundNodes[0]!;
        const ins = node.inputTensors.map((t) => values.get(t.id)!);
        const single = ins.length === 1 ? ins[0]! : undefined;
        const out = (single && pointwiseAsMatMul && pointwise(layer) ? pointwiseConv(layer, single) : undefined) ??
          (single && training && rng ? seededDropout(layer, single, rng) : undefined) ??
          layer.apply(single ?? ins, { training }) as tf.Tensor | tf.Tensor[];
        (Array.isArray(out) ? out : [out]).forEach((t, i) => values.set(node.outputTensors[i]!.id, t));
      }
      return values.get(outputId)! as tf.Tensor2D;
    },
  };
}

interface Settings {
  epochs: number; fineTune: number; fineTuneEpochs: number; augment: number; validationSplit: number; batchSize: number;
  learningRate: number; fineTuneLearningRate: number; seed: number;
}

function settingsOf(o: FitOptions, where: string): Settings {
  const int = (v: number | undefined, def: number, min: number, name: string): number => {
    const x = v ?? def;
    if (!Number.isInteger(x) || x < min) throw new CnnZooError(`${where}: ${name} must be an integer of at least ${min}, got ${shown(v)}.`, 'BAD_OPTION');
    return x;
  };
  const positive = (v: number | undefined, def: number, name: string): number => {
    const x = v ?? def;
    if (!(typeof x === 'number' && x > 0 && Number.isFinite(x))) throw new CnnZooError(`${where}: ${name} must be a positive number, got ${shown(v)}.`, 'BAD_OPTION');
    return x;
  };
  if (o.validationData !== undefined && o.validationSplit !== undefined && o.validationSplit !== 0) {
    throw new CnnZooError(`${where}: validationData holds the images to measure accuracy on, so no split of the training data is held out: ` +
      'leave out validationSplit.', 'BAD_OPTION');
  }
  const validationSplit = o.validationData !== undefined ? 0 : o.validationSplit ?? 0.2;
  if (!(typeof validationSplit === 'number' && validationSplit >= 0 && validationSplit < 1)) {
    throw new CnnZooError(`${where}: validationSplit must be a fraction from 0 to below 1, got ${shown(o.validationSplit)}.`, 'BAD_OPTION');
  }
  return {
    epochs: int(o.epochs, 20, 1, 'epochs'), fineTune: int(o.fineTune, 0, 0, 'fineTune'), fineTuneEpochs: int(o.fineTuneEpochs, 2, 1, 'fineTuneEpochs'),
    augment: int(o.augment, 2, 0, 'augment'), validationSplit, batchSize: int(o.batchSize, 32, 1, 'batchSize'),
    learningRate: positive(o.learningRate, 1e-3, 'learningRate'), fineTuneLearningRate: positive(o.fineTuneLearningRate, 1e-5, 'fineTuneLearningRate'),
    seed: int(o.seed, 1, 0, 'seed'),
  };
}

/** Read a scalar asynchronously (WebGPU in Node has no synchronous readback) and dispose it. */
async function scalar(t: tf.Tensor): Promise<number> {
  try { return (await t.data())[0]!; } finally { t.dispose(); }
}

/** Number of rows whose argmax equals the label. */
const correct = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor => tf.tidy(() => logits.argMax(1).equal(labels).sum());

/** Train the classifier of `ctx` on `data`; the trainer that `ZooModel.fit()` calls. */
export async function fit(ctx: TrainingContext, data: TrainingData, opts: FitOptions): Promise<{ history: FitHistory; settings: NonNullable<TrainingInfo['fit']> }> {
  const started = performance.now();
  const where = `${ctx.name}.fit()`;
  const s = settingsOf(opts, where);
  const backend = tf.getBackend();
  const progress = (p: FitProgress) => opts.onProgress?.(p);
  const backboneLayers = ctx.model.layers.filter((l) => ctx.featureLayers.has(l.name) && l.weights.length > 0);
  if (s.fineTune > backboneLayers.length) {
    throw new CnnZooError(`${where}: fineTune ${s.fineTune} is more than the ${backboneLayers.length} backbone layers with weights of ${ctx.name}.`, 'BAD_OPTION');
  }
  if (s.fineTune > 0) checkGradients(backend);

  const items = await labelledImages(data, ctx.classes);
  const split0 = splitPerClass(items, ctx.classes, s.validationSplit, s.seed);
  let { train } = split0;
  let test = opts.validationData === undefined ? split0.test : await labelledImages(opts.validationData, ctx.classes, 'validationData');
  const rng = new Random(s.seed);
  const split = splitHead(ctx.model, ctx.featureLayers);
  const k = ctx.classes.length;

  // 1. Features, once: each training image and `augment` augmented copies; held-out images as they are.
  let t0 = performance.now();
  const total = train.length * (1 + s.augment) + test.length;
  let done = 0;
  progress({ phase: 'features', done, total });
  // Images that cannot be decoded (a corrupt or truncated file in a folder of thousands): the error names the file
  // and the option; with `skipUnreadable` they are left out and named in the history.
  const skipped: { image: string; error: string }[] = [];
  const readable = async (batch: LabelledImage[], first: number, which: string): Promise<{ x?: tf.Tensor4D; kept: LabelledImage[] }> => {
    const unreadable = (e: unknown) => {
      if (!(e instanceof CnnZooError && e.code === 'BAD_IMAGE')) return false;
      if (opts.skipUnreadable === true) return true;
      throw new CnnZooError(`${e.message} To leave unreadable images out of the training instead (listed in history.skipped), ` +
        'pass skipUnreadable: true.', 'BAD_IMAGE');
    };
    try {
      return { x: await ctx.preprocess(batch.map((b) => b.image)), kept: batch };
    } catch (e) {
      if (!unreadable(e)) throw e;
    }
    const parts: tf.Tensor4D[] = [];
    const kept: LabelledImage[] = [];
    for (const [j, b] of batch.entries()) {
      try {
        parts.push(await ctx.preprocess([b.image]));
        kept.push(b);
      } catch (e) {
        if (!unreadable(e)) throw e;
        skipped.push({ image: typeof b.image === 'string' ? b.image : `${which} image ${first + j}`, error: (e as Error).message });
      }
    }
    const x = parts.length ? tf.concat(parts) : undefined;
    tf.dispose(parts);
    return x ? { x, kept } : { kept };
  };
  const extract = async (images: readonly LabelledImage[], copies: number, which: string): Promise<{ x: tf.Tensor[]; y: number[]; kept: LabelledImage[] }> => {
    const parts: tf.Tensor[][] = [];
    const y: number[] = [];
    const keptAll: LabelledImage[] = [];
    try {
      for (let i = 0; i < images.length; i += EXTRACT_BATCH) {
        const size = Math.min(EXTRACT_BATCH, images.length - i);
        const { x, kept: batch } = await readable(images.slice(i, i + size), i, which);
        keptAll.push(...batch);
        if (!x) {
          done += size * (copies + 1);
          progress({ phase: 'features', done, total });
          continue;
        }
        try {
          for (let c = 0; c <= copies; c++) {
            const input = c === 0 ? x : augment(x, rng);
            const out = await features.run(input).finally(() => { if (input !== x) input.dispose(); });
            parts.push(out);
            y.push(...batch.map((b) => b.label));
            done += size;
            // A read per batch keeps the work in step with the progress shown.
            await out[0]!.data();
            progress({ phase: 'features', done, total });
          }
        } finally {
          x.dispose();
        }
      }
    } catch (e) {
      tf.dispose(parts.flat()); // an unreadable image stops the run: nothing extracted before it stays
      throw e;
    }
    const n = parts[0]?.length ?? 0;
    const x = Array.from({ length: n }, (_, j) => tf.concat(parts.map((p) => p[j]!)));
    tf.dispose(parts.flat());
    return { x, y, kept: keptAll };
  };
  // onnxruntime-node computes them where it is installed (src/train/extract.ts); the rest of fit() runs on tfjs.
  const features = await featureRunner(split.extractor, { allowOnnx: ctx.featuresRuntime !== 'tfjs', images: total, backend });
  let trainSet: Awaited<ReturnType<typeof extract>>, testSet: Awaited<ReturnType<typeof extract>> | undefined;
  try {
    trainSet = await extract(train, s.augment, 'training');
    train = trainSet.kept;
    const unread = ctx.classes.filter((_, label) => !train.some((t) => t.label === label));
    if (unread.length) {
      tf.dispose(trainSet.x);
      throw new CnnZooError(`${where}: no training image of ${unread.join(', ')} could be read (${skipped.length} unreadable: ` +
        `${skipped.slice(0, 3).map((k) => k.error).join(' ')}${skipped.length > 3 ? ' ...' : ''}).`, 'BAD_DATASET');
    }
    testSet = test.length ? await extract(test, 0, 'held-out').catch((e: unknown) => { tf.dispose(trainSet.x); throw e; }) : undefined;
  } finally {
    features.release();
  }
  if (testSet) test = testSet.kept;
  const testLabels = testSet && tf.tensor1d(testSet.y, 'int32');
  const featureSeconds = (performance.now() - t0) / 1000;

  const epochs: EpochStats[] = [];
  const headAccuracy = async (): Promise<number | null> => {
    if (!testSet || !testLabels) return null;
    const n = await scalar(tf.tidy(() => correct(split.run(testSet.x, false), testLabels)));
    return n / test.length;
  };

  // 2. The head on the stored features: seeded shuffles, Adam.
  t0 = performance.now();
  const headVars = split.layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const optimizer = tf.train.adam(s.learningRate);
  const m = trainSet.y.length;
  const labelsAll = tf.tensor1d(trainSet.y, 'int32');
  try {
    for (let epoch = 1; epoch <= s.epochs; epoch++) {
      const order = rng.shuffle([...Array(m).keys()]);
      let lossSum = 0, right = 0;
      for (let i = 0; i < m; i += s.batchSize) {
        const idx = tf.tensor1d(order.slice(i, i + s.batchSize), 'int32');
        const xb = trainSet.x.map((x) => tf.gather(x, idx));
        const yb = tf.gather(labelsAll, idx);
        const oneHot = tf.oneHot(yb, k);
        let hits: tf.Tensor | undefined;
        const cost = optimizer.minimize(() => {
          const logits = split.run(xb, true, rng);
          hits = tf.keep(correct(logits, yb as tf.Tensor1D));
          return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
        }, true, headVars)!;
        lossSum += (await scalar(cost)) * idx.shape[0];
        right += await scalar(hits!);
        tf.dispose([idx, ...xb, yb, oneHot]);
      }
      const valAccuracy = await headAccuracy();
      const stats = { phase: 'head' as const, epoch, loss: lossSum / m, accuracy: right / m, valAccuracy };
      epochs.push(stats);
      progress({ ...stats, epochs: s.epochs });
    }
  } finally {
    optimizer.dispose();
    tf.dispose([labelsAll, ...trainSet.x, ...(testSet?.x ?? []), ...(testLabels ? [testLabels] : [])]);
  }
  const headSeconds = (performance.now() - t0) / 1000;
  const headValidationAccuracy = epochs.at(-1)?.valAccuracy ?? null;

  // 3. Fine-tuning: the backbone's last N layers with weights and the head, end to end on augmented images; held-out
  // accuracy of the whole model after each epoch. The layers before the fine-tuned ones do not change: where
  // onnxruntime computed the features, it computes their outputs too (`trunk`), and tfjs runs the rest with gradients.
  let validationAccuracy = headValidationAccuracy;
  t0 = performance.now();
  if (s.fineTune > 0) {
    const unfrozen = backboneLayers.slice(-s.fineTune);
    const vars = [...unfrozen, ...split.layers].flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
    const batchSize = opts.batchSize ?? 8;
    const cut = features.runtime === 'tfjs' ? undefined : splitHead(ctx.model, before(ctx.model, ctx.featureLayers, unfrozen), false);
    const tail = cut?.extractor.layers.some((l) => l.weights.length > 0) ? cut : undefined; // nothing frozen: no trunk
    const trunk = tail && await featureRunner(tail.extractor, { allowOnnx: true, images: (train.length + test.length) * s.fineTuneEpochs, backend });
    const ft = tf.train.adam(s.fineTuneLearningRate);
    /** The model's logits on `x`, given the trunk's outputs on it when it runs elsewhere. */
    const logitsOf = (x: tf.Tensor4D, outside: readonly tf.Tensor[] | undefined): tf.Tensor2D =>
      (outside ? tail!.run(outside, false) : ctx.model.apply(x, { training: false }) as tf.Tensor2D);
    const outsideOf = async (x: tf.Tensor4D): Promise<tf.Tensor[] | undefined> => (trunk?.runtime === 'tfjs' ? undefined : trunk?.run(x));
    const modelAccuracy = async (): Promise<number | null> => {
      if (!test.length) return null;
      let right = 0;
      for (let i = 0; i < test.length; i += EXTRACT_BATCH) {
        const batch = test.slice(i, i + EXTRACT_BATCH);
        const x = await ctx.preprocess(batch.map((b) => b.image));
        const outside = await outsideOf(x);
        const yb = tf.tensor1d(batch.map((b) => b.label), 'int32');
        right += await scalar(tf.tidy(() => correct(logitsOf(x, outside), yb)));
        tf.dispose([x, yb, ...(outside ?? [])]);
      }
      return right / test.length;
    };
    try {
      for (let epoch = 1; epoch <= s.fineTuneEpochs; epoch++) {
        const order = rng.shuffle([...train]);
        let lossSum = 0, right = 0;
        for (let i = 0; i < order.length; i += batchSize) {
          const batch = order.slice(i, i + batchSize);
          const raw = await ctx.preprocess(batch.map((b) => b.image));
          const x = s.augment > 0 ? augment(raw, rng) : raw;
          const yb = tf.tensor1d(batch.map((b) => b.label), 'int32');
          const oneHot = tf.oneHot(yb, k);
          const outside = await outsideOf(x);
          const hits: tf.Tensor[] = [];
          const step = batchGradients(ctx.model, vars, batch.length, MICRO_BATCH, (begin, size) => {
            const part = <T extends tf.Tensor>(t: T): T => (size === batch.length ? t : t.slice(begin, size));
            const logits = logitsOf(part(x), outside?.map(part));
            hits.push(tf.keep(correct(logits, part(yb))));
            return tf.losses.softmaxCrossEntropy(part(oneHot), logits) as tf.Scalar;
          });
          ft.applyGradients(Object.entries(step.grads).map(([name, tensor]) => ({ name, tensor })));
          tf.dispose(Object.values(step.grads));
          lossSum += (await scalar(step.loss)) * batch.length;
          for (const h of hits) right += await scalar(h);
          tf.dispose([raw, x, yb, oneHot, ...(outside ?? [])]);
          progress({ phase: 'fine-tune', epoch, epochs: s.fineTuneEpochs, done: Math.min(i + batchSize, order.length), total: order.length, loss: lossSum / Math.min(i + batchSize, order.length), valAccuracy: null });
        }
        const stats = { phase: 'fine-tune' as const, epoch, loss: lossSum / order.length, accuracy: right / order.length, valAccuracy: await modelAccuracy() };
        epochs.push(stats);
        if (stats.valAccuracy !== null) progress({ ...stats, epochs: s.fineTuneEpochs, done: order.length, total: order.length });
      }
    } finally {
      ft.dispose();
      trunk?.release();
    }
    validationAccuracy = epochs.at(-1)!.valAccuracy;
  }
  const fineTuneSeconds = s.fineTune > 0 ? (performance.now() - t0) / 1000 : 0;

  const history: FitHistory = {
    classes: [...ctx.classes], backend, featuresRuntime: features.runtime, trainImages: train.length, trainExamples: m, validationImages: test.length, skipped, epochs,
    headValidationAccuracy, validationAccuracy,
    seconds: { features: featureSeconds, head: headSeconds, fineTune: fineTuneSeconds, total: (performance.now() - started) / 1000 },
  };
  const validationData = opts.validationData === undefined ? {} : { validationData: typeof opts.validationData === 'string' ? opts.validationData : 'images' };
  return { history, settings: { ...s, ...validationData, trainImages: train.length, validationImages: test.length, ...(skipped.length ? { skippedImages: skipped.length } : {}), validationAccuracy, backend,
    ...(features.runtime === 'tfjs' ? {} : { featuresRuntime: features.runtime }) } };
}
