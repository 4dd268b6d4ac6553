/**
 * Transfer learning with cnn-zoo in Node: freeze a pretrained backbone (the package's MobileNet v2, loaded with
 * `includeTop: false` in its training form), train a new classifier head on a small labelled image folder
 * (augmented), report accuracy on held-out images, save the whole classifier with the package's file-system
 * handler, load it again and check that it predicts exactly the same.
 *
 *   npx tsx examples/transfer-learning/train.ts DATA_DIR [--out DIR] [--backend wasm] [--epochs 60] [--augment 2]
 *       [--test-fraction 0.25] [--seed 1] [--arch NAME --weights DIR] [--fine-tune N --fine-tune-epochs 2] [--json]
 *
 * DATA_DIR holds one sub-folder of images per class (make-folder.ts builds one from ImageNet samples).
 * By default only the head trains (the backbone's features are computed once per augmented image); `--fine-tune N`
 * also trains the backbone's last N layers with weights, which needs convolution gradients (wasm through cnn-zoo's
 * kernels, cpu, tensorflow, webgl, webgpu; see README.md).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getSpec, load, modelMetadata, nodeFileSystem, toCard, useBackend, ZooModel, type BackendName, type CnnZooMetadata } from 'cnn-zoo';
import { augment } from './augment.js';
import { readImageFolder, type LabelledImage } from './dataset.js';
import { checkGradients, fineTune } from './fine-tune.js';
import { Random } from './random.js';

export interface TrainOptions {
  data: string;
  /** Where the trained classifier is saved (default: a new temporary folder). */
  out?: string;
  backend?: BackendName;
  /** Backbone architecture and its converted weights (default: the embedded tf_mobilenet_v2_100). */
  arch?: string;
  weights?: string;
  testFraction?: number;
  /** Augmented copies of each training image, besides the image itself. */
  augment?: number;
  epochs?: number;
  seed?: number;
  /** Also train the backbone's last N layers with weights, end to end (0: head only). */
  fineTune?: number;
  fineTuneEpochs?: number;
  log?: (line: string) => void;
}

export interface TrainReport {
  backend: string;
  arch: string;
  classes: string[];
  trainImages: number;
  trainExamples: number;
  testImages: number;
  /** Held-out accuracy of the trained head (and after fine-tuning, when asked). */
  accuracy: number;
  fineTunedAccuracy?: number;
  chance: number;
  savedTo: string;
  /** Largest |p_before - p_after| over the held-out images, saved vs reloaded classifier. */
  reloadMaxDiff: number;
  reloadSamePredictions: boolean;
  seconds: { features: number; head: number; fineTune?: number; saveAndReload: number; total: number };
}

const BATCH = 8;

/** Backbone features of `images` (and of `copies` augmented versions of each), in batches. */
async function featuresOf(zoo: ZooModel, images: readonly LabelledImage[], copies: number, rng: Random): Promise<{ x: tf.Tensor2D; labels: number[] }> {
  const rows: tf.Tensor2D[] = [];
  const labels: number[] = [];
  for (let i = 0; i < images.length; i += BATCH) {
    const batch = images.slice(i, i + BATCH);
    const x = await zoo.preprocess(batch.map((b) => b.path));
    for (let c = 0; c <= copies; c++) {
      rows.push(tf.tidy(() => zoo.model.predict(c === 0 ? x : augment(x, rng)) as tf.Tensor2D));
      labels.push(...batch.map((b) => b.label));
    }
    x.dispose();
  }
  const x = tf.concat(rows);
  tf.dispose(rows);
  return { x, labels };
}

/** Every tensor is read asynchronously: WebGPU in Node has no synchronous readback. */
async function read(t: tf.Tensor): Promise<ArrayLike<number>> {
  try { return await t.data(); } finally { t.dispose(); }
}

/** Fraction of rows of `logits` whose argmax is the label. */
async function accuracyOf(logits: tf.Tensor2D, labels: readonly number[]): Promise<number> {
  const predicted = await read(logits.argMax(1));
  return labels.filter((l, i) => predicted[i] === l).length / labels.length;
}

export async function train(o: TrainOptions): Promise<TrainReport> {
  const log = o.log ?? console.log;
  const started = performance.now();
  const seed = o.seed ?? 1;
  const rng = new Random(seed);
  await useBackend(o.backend ?? 'wasm');
  const backend = tf.getBackend();
  if (o.fineTune) checkGradients(backend);

  // 1. The data, and the frozen backbone (training form: batch norm kept, so it could be fine-tuned).
  const data = readImageFolder(o.data, o.testFraction ?? 0.25, seed);
  const arch = o.arch ?? 'tf_mobilenet_v2_100';
  const backbone = await load(arch, { weights: o.weights, includeTop: false, pooling: 'avg', inference: false });
  backbone.model.trainable = false;
  log(`${data.classes.length} classes (${data.classes.join(', ')}): ${data.train.length} training and ${data.test.length} held-out images; ` +
    `backbone ${arch} on ${backend}`);

  // 2. Features: each training image plus `augment` augmented copies; held-out images as they are.
  let t = performance.now();
  const trainSet = await featuresOf(backbone, data.train, o.augment ?? 2, rng);
  const testSet = await featuresOf(backbone, data.test, 0, rng);
  const featureSeconds = (performance.now() - t) / 1000;
  log(`features: ${trainSet.labels.length} training examples, ${testSet.labels.length} held-out, ${featureSeconds.toFixed(1)} s`);

  // 3. The new head: dropout + a linear classifier returning logits, like the zoo's own classifiers.
  t = performance.now();
  const k = data.classes.length;
  const dim = trainSet.x.shape[1];
  const dropout = tf.layers.dropout({ rate: 0.2, seed, name: 'head.dropout' });
  const fc = tf.layers.dense({ units: k, kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'head.fc' });
  const featuresIn = tf.input({ shape: [dim], name: 'head.input' });
  const head = tf.model({ inputs: featuresIn, outputs: fc.apply(dropout.apply(featuresIn)) as tf.SymbolicTensor, name: 'head' });
  head.compile({ optimizer: tf.train.adam(1e-3), loss: (y: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, logits), metrics: ['accuracy'] });
  const order = rng.shuffle([...trainSet.labels.keys()]);
  const xs = tf.gather(trainSet.x, order);
  const ys = tf.oneHot(order.map((i) => trainSet.labels[i]!), k);
  const history = await head.fit(xs, ys, { epochs: o.epochs ?? 60, batchSize: 32, shuffle: false, verbose: 0 });
  tf.dispose([xs, ys, trainSet.x]);
  const headSeconds = (performance.now() - t) / 1000;
  const testLogits = head.predict(testSet.x) as tf.Tensor2D;
  const accuracy = await accuracyOf(testLogits, testSet.labels);
  tf.dispose([testLogits, testSet.x]);
  const lastLoss = history.history.loss!.at(-1) as number;
  log(`head: ${history.epoch.length} epochs, final training loss ${lastLoss.toFixed(4)}, ${headSeconds.toFixed(1)} s`);
  log(`held-out accuracy: ${(100 * accuracy).toFixed(1)}% (${Math.round(accuracy * data.test.length)}/${data.test.length}; chance ${(100 / k).toFixed(1)}%)`);

  // 4. The whole classifier: image -> backbone -> head, with metadata naming the new classes.
  const classifier = tf.model({ inputs: backbone.model.inputs, outputs: fc.apply(dropout.apply(backbone.model.outputs[0]!)) as tf.SymbolicTensor, name: `${arch}_transfer` });
  const meta: CnnZooMetadata = { ...backbone.weights!, numClasses: k, labels: data.classes, classOffset: 0, dtype: 'float32' };
  classifier.setUserDefinedMetadata({ cnnZoo: meta });

  let fineTunedAccuracy: number | undefined, fineTuneSeconds: number | undefined;
  if (o.fineTune) {
    t = performance.now();
    const zoo = new ZooModel(classifier, toCard(getSpec(arch)), { weights: meta });
    const trainable = await fineTune(zoo, backbone.model, data.train, { layers: o.fineTune, epochs: o.fineTuneEpochs ?? 2, rng, log });
    const x = await zoo.preprocess(data.test.map((i) => i.path));
    const logits = classifier.predict(x) as tf.Tensor2D;
    fineTunedAccuracy = await accuracyOf(logits, testSet.labels);
    tf.dispose([x, logits]);
    fineTuneSeconds = (performance.now() - t) / 1000;
    log(`fine-tuned ${trainable} backbone layers + head: held-out accuracy ${(100 * fineTunedAccuracy).toFixed(1)}%, ${fineTuneSeconds.toFixed(1)} s`);
  }

  // 5. Save with the package's file-system handler, load again, compare predictions on the held-out images.
  t = performance.now();
  const savedTo = resolve(o.out ?? mkdtempSync(join(tmpdir(), 'cnn-zoo-transfer-')));
  await classifier.save(nodeFileSystem(savedTo));
  const reloaded = await tf.loadLayersModel(nodeFileSystem(savedTo));
  const card = toCard(getSpec(arch));
  const before = new ZooModel(classifier, card, { weights: meta });
  const after = new ZooModel(reloaded, card, { weights: modelMetadata(reloaded) });
  const x = await before.preprocess(data.test.map((i) => i.path));
  const [p0, p1] = tf.tidy(() => [tf.softmax(classifier.predict(x) as tf.Tensor2D), tf.softmax(reloaded.predict(x) as tf.Tensor2D)]);
  const reloadMaxDiff = (await read(tf.tidy(() => p0!.sub(p1!).abs().max())))[0]!;
  const reloadSamePredictions = (await read(tf.tidy(() => p0!.argMax(1).equal(p1!.argMax(1)).all())))[0] === 1;
  tf.dispose([x, p0, p1]);
  const example = data.test[0]!;
  const [top] = await after.classify(example.path, { topK: 1 });
  const saveSeconds = (performance.now() - t) / 1000;
  log(`saved to ${savedTo}; reloaded: ${reloadSamePredictions ? 'same' : 'DIFFERENT'} predictions (largest probability difference ${reloadMaxDiff}), ` +
    `e.g. ${example.path.split('/').slice(-2).join('/')} -> ${top!.label} ${(100 * top!.probability).toFixed(1)}%`);

  after.dispose();
  classifier.dispose();
  head.dispose();
  const total = (performance.now() - started) / 1000;
  return {
    backend, arch, classes: data.classes, trainImages: data.train.length, trainExamples: trainSet.labels.length, testImages: data.test.length,
    accuracy, ...(fineTunedAccuracy === undefined ? {} : { fineTunedAccuracy }), chance: 1 / k, savedTo, reloadMaxDiff, reloadSamePredictions,
    seconds: { features: featureSeconds, head: headSeconds, ...(fineTuneSeconds === undefined ? {} : { fineTune: fineTuneSeconds }), saveAndReload: saveSeconds, total },
  };
}

function parseArgs(argv: string[]): TrainOptions & { json: boolean } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') flags.set('json', '1');
    else if (a.startsWith('--')) flags.set(a.slice(2), argv[++i] ?? '');
    else positional.push(a);
  }
  const num = (k: string): number | undefined => {
    if (!flags.has(k)) return undefined;
    const v = Number(flags.get(k));
    if (!Number.isFinite(v)) throw new Error(`--${k} needs a number, got "${flags.get(k)}".`);
    return v;
  };
  if (positional.length !== 1) throw new Error('usage: train.ts DATA_DIR [--out DIR] [--backend wasm] [--epochs 60] [--augment 2] [--test-fraction 0.25] [--seed 1] [--arch NAME --weights DIR] [--fine-tune N] [--json]');
  return {
    data: positional[0]!, out: flags.get('out'), backend: flags.get('backend') as BackendName | undefined, arch: flags.get('arch'), weights: flags.get('weights'),
    testFraction: num('test-fraction'), augment: num('augment'), epochs: num('epochs'), seed: num('seed'), fineTune: num('fine-tune'),
    fineTuneEpochs: num('fine-tune-epochs'), json: flags.has('json'),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const { json, ...opts } = parseArgs(process.argv.slice(2));
    const report = await train(opts);
    if (json) console.log(JSON.stringify(report));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  }
}
