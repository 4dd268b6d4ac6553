/**
 * Transfer learning with cnn-zoo in Node, over the package's training API: a new head for the classes of a labelled
 * image folder on a pretrained backbone (`load(arch, { classes })`), trained on the frozen backbone's features
 * (augmented; optionally the last backbone layers too), held-out accuracy, `save(dir)`, and a reload that must
 * predict exactly the same. `cnn-zoo train` does the same from the command line.
 *
 *   npx tsx examples/transfer-learning/train.ts DATA_DIR [--out DIR] [--backend wasm] [--epochs 60] [--augment 2]
 *       [--test-fraction 0.25] [--seed 1] [--arch NAME --weights W] [--fine-tune N --fine-tune-epochs 2] [--json]
 *
 * DATA_DIR holds one sub-folder of images per class (make-folder.ts builds one from ImageNet samples).
 * `--fine-tune N` also trains the backbone's last N layers with weights, on every backend (wasm through cnn-zoo's
 * convolution gradient kernels; see README.md).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkGradients, load, useBackend, type BackendName, type FitProgress } from 'cnn-zoo';

export interface TrainOptions {
  data: string;
  /** Where the trained classifier is saved (default: a new temporary folder). */
  out?: string;
  backend?: BackendName;
  /** Backbone architecture and its weights (default: the shipped tf_mobilenet_v2_100). */
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
  /** Largest |p_before - p_after| over the first image of each class, trained vs reloaded classifier. */
  reloadMaxDiff: number;
  reloadSamePredictions: boolean;
  seconds: { features: number; head: number; fineTune?: number; saveAndReload: number; total: number };
}

export async function train(o: TrainOptions): Promise<TrainReport> {
  const log = o.log ?? console.log;
  const started = performance.now();
  await useBackend(o.backend ?? 'wasm');
  if (o.fineTune) checkGradients(); // before any work: wasm has no convolution gradients

  // 1. A new head for the folder's classes on the pretrained backbone (training form).
  const classes = readdirSync(o.data, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const arch = o.arch ?? 'tf_mobilenet_v2_100';
  const clf = await load(arch, { classes, ...(o.weights ? { weights: o.weights } : {}) });

  // 2. Train: features of each training image and its augmented copies once, the head on them, then (--fine-tune)
  //    the last backbone layers too.
  let quarter = -1;
  const onProgress = (p: FitProgress) => {
    if (p.phase === 'features' && Math.floor((4 * p.done) / p.total) !== quarter) {
      quarter = Math.floor((4 * p.done) / p.total);
      log(`features: ${p.done}/${p.total} images`);
    } else if (p.phase === 'head' && (p.epoch % 20 === 0 || p.epoch === p.epochs)) {
      log(`head epoch ${p.epoch}/${p.epochs}: training loss ${p.loss.toFixed(4)}`);
    } else if (p.phase === 'fine-tune' && p.done === p.total && (p.valAccuracy !== null || o.testFraction === 0)) {
      const held = p.valAccuracy === null ? '' : `, held-out accuracy ${(100 * p.valAccuracy).toFixed(1)}%`;
      log(`fine-tune epoch ${p.epoch}/${p.epochs}: training loss ${p.loss.toFixed(4)}${held}`);
    }
  };
  const h = await clf.fit(o.data, {
    epochs: o.epochs ?? 60, augment: o.augment ?? 2, validationSplit: o.testFraction ?? 0.25, seed: o.seed ?? 1,
    fineTune: o.fineTune ?? 0, fineTuneEpochs: o.fineTuneEpochs ?? 2, onProgress,
  });
  const k = classes.length;
  const accuracy = h.headValidationAccuracy ?? NaN;
  log(`${k} classes (${classes.join(', ')}): ${h.trainImages} training and ${h.validationImages} held-out images; backbone ${arch} on ${h.backend}` +
    `${h.featuresRuntime === 'tfjs' ? '' : ` (its frozen features on ${h.featuresRuntime}, ${h.seconds.features.toFixed(1)} s)`}`);
  for (const skipped of h.skipped) log(`left out: ${skipped.error}`);
  log(`held-out accuracy: ${(100 * accuracy).toFixed(1)}% (${Math.round(accuracy * h.validationImages)}/${h.validationImages}; chance ${(100 / k).toFixed(1)}%)`);
  if (o.fineTune) log(`fine-tuned ${o.fineTune} backbone layers + head: held-out accuracy ${(100 * h.validationAccuracy!).toFixed(1)}%, ${h.seconds.fineTune.toFixed(1)} s`);

  // 3. Save, load again (training form: the same layers), compare predictions.
  const t = performance.now();
  const savedTo = resolve(o.out ?? mkdtempSync(join(tmpdir(), 'cnn-zoo-transfer-')));
  await clf.save(savedTo);
  const reloaded = await load(savedTo, { inference: false });
  const images = classes.map((c) => join(o.data, c, readdirSync(join(o.data, c)).sort()[0]!));
  const [before, after] = [await clf.classify(images, { topK: k }), await reloaded.classify(images, { topK: k })];
  let reloadMaxDiff = 0;
  before.forEach((row, i) => row.forEach((p) => {
    reloadMaxDiff = Math.max(reloadMaxDiff, Math.abs(p.probability - after[i]!.find((q) => q.index === p.index)!.probability));
  }));
  const reloadSamePredictions = before.every((row, i) => row[0]!.index === after[i]![0]!.index);
  const saveSeconds = (performance.now() - t) / 1000;
  log(`saved to ${savedTo}; reloaded: ${reloadSamePredictions ? 'same' : 'DIFFERENT'} predictions (largest probability difference ${reloadMaxDiff}), ` +
    `e.g. ${images[0]!.split('/').slice(-2).join('/')} -> ${after[0]![0]!.label} ${(100 * after[0]![0]!.probability).toFixed(1)}%`);
  clf.dispose();
  reloaded.dispose();

  return {
    backend: h.backend, arch, classes, trainImages: h.trainImages, trainExamples: h.trainExamples, testImages: h.validationImages,
    accuracy, ...(o.fineTune ? { fineTunedAccuracy: h.validationAccuracy! } : {}), chance: 1 / k, savedTo, reloadMaxDiff, reloadSamePredictions,
    seconds: { features: h.seconds.features, head: h.seconds.head, ...(o.fineTune ? { fineTune: h.seconds.fineTune } : {}), saveAndReload: saveSeconds,
      total: (performance.now() - started) / 1000 },
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
  if (positional.length !== 1) throw new Error('usage: train.ts DATA_DIR [--out DIR] [--backend wasm] [--epochs 60] [--augment 2] [--test-fraction 0.25] [--seed 1] [--arch NAME --weights W] [--fine-tune N] [--json]');
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
