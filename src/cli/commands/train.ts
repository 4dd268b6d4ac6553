/** `cnn-zoo train DATA --model NAME --out DIR`: a new classifier head (and optionally the last backbone layers) on a class-folder tree. */
import { CnnZooError } from '../../errors.js';
import { load } from '../../api/index.js';
import type { FitProgress } from '../../api/training.js';
import { checkGradients, readImageFolder, type UnusedEntry } from '../../train/index.js';
import { IMAGE_FORMATS } from '../../image/files.js';
import { progressBar, type ProgressBar } from '../../eval/progress.js';
import { startBackend } from '../backend.js';
import { archName, checkOutFolder, cliWeights, parse, positiveInt } from '../args.js';

export const usage = 'cnn-zoo train DATA --model NAME --out DIR [--weights W|random] [--fine-tune N] [--fine-tune-epochs 2] [--epochs 20] ' +
  '[--augment 2] [--validation-split 0.2 | --validation-data DIR] [--skip-unreadable] [--batch 32] [--learning-rate 0.001] [--fine-tune-learning-rate 1e-5] [--seed 1] [--input-size N] ' +
  '[--backend wasm|cpu|webgpu|tensorflow] [--threads 1] [--json]\n' +
  '  DATA: one sub-folder of images per class (DATA/cat/*.jpg, DATA/dog/*.jpg, ...; images in a class\'s sub-folders count);\n' +
  '  what is not used (stray files, folders without images, non-images) is listed. The head trains on the frozen\n' +
  '  backbone\'s features (extracted once; on onnxruntime-node where it is installed, with the layers before the\n' +
  '  fine-tuned ones); --fine-tune N then also trains the last N backbone layers end to end (on\n' +
  '  wasm through cnn-zoo\'s gradient kernels, or cpu, tensorflow, webgpu). --threads: wasm\'s threads (ResNet fine-tuning\n' +
  '  is 1.5x faster on 2 than on 1). --input-size: train (and later classify) at that square size instead of the\n' +
  '  weights\' (smaller is faster). --validation-data DIR: measure held-out accuracy on the images of DIR (sub-folders\n' +
  '  named as DATA\'s, e.g. data/val beside data/train) instead of holding out a split of DATA. --skip-unreadable:\n' +
  '  leave out images that cannot be decoded (listed at the end) instead of stopping at the first.\n' +
  '  --epochs: the head\'s epochs (Adam at --learning-rate, batches of --batch); --fine-tune-epochs: then the\n' +
  '  fine-tuning\'s (--fine-tune-learning-rate, batches of 8 unless --batch). --augment K: K randomly cropped and flipped\n' +
  '  copies of each training image besides itself. --validation-split: the fraction of each class held out to measure\n' +
  '  accuracy. --seed: the split, augmentation, shuffles and dropout, so that a run repeats. --out DIR: the classifier (tfjs\n' +
  '  artifacts whose metadata names the classes, the base weights and these settings). --json: the report as JSON.\n' +
  '  Then: cnn-zoo classify IMAGE --weights DIR';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    model: { type: 'string' }, arch: { type: 'string' }, weights: { type: 'string' }, out: { type: 'string' },
    'fine-tune': { type: 'string' }, 'fine-tune-epochs': { type: 'string' }, epochs: { type: 'string' }, augment: { type: 'string' },
    'validation-split': { type: 'string' }, 'validation-data': { type: 'string' }, 'skip-unreadable': { type: 'boolean' }, batch: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string' }, 'input-size': { type: 'string' }, json: { type: 'boolean' },
    'learning-rate': { type: 'string' }, 'fine-tune-learning-rate': { type: 'string' },
  }, usage);
  const name = archName(values);
  if (positionals.length > 1) {
    throw new CnnZooError(`train takes one DATA folder (one sub-folder of images per class), got ${positionals.join(', ')}.\nUsage: ${usage}`, 'BAD_ARGS');
  }
  const missing = [positionals.length === 0 && 'DATA (a folder with one sub-folder of images per class)', !name && '--model NAME', !values.out && '--out DIR'].filter(Boolean);
  if (missing.length > 0 || !name || !values.out) throw new CnnZooError(`train is missing ${missing.join(', ')}.\nUsage: ${usage}`, 'BAD_ARGS');
  const num = (flag: string, v: string | undefined, integer = true): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0) {
      throw new CnnZooError(`--${flag} must be a non-negative ${integer ? 'integer' : 'number'}, got "${v}".\nUsage: ${usage}`, 'BAD_ARGS');
    }
    return n;
  };
  const rate = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !(n > 0) || !Number.isFinite(n)) throw new CnnZooError(`--${flag} must be a positive number such as 0.001, got "${v}".\nUsage: ${usage}`, 'BAD_ARGS');
    return n;
  };
  const opts = {
    fineTune: num('fine-tune', values['fine-tune']), fineTuneEpochs: num('fine-tune-epochs', values['fine-tune-epochs']),
    epochs: num('epochs', values.epochs), augment: num('augment', values.augment), validationSplit: num('validation-split', values['validation-split'], false),
    batchSize: num('batch', values.batch), seed: num('seed', values.seed),
    learningRate: rate('learning-rate', values['learning-rate']), fineTuneLearningRate: rate('fine-tune-learning-rate', values['fine-tune-learning-rate']),
  };
  const validationData = values['validation-data'];
  if (validationData !== undefined && values['validation-split'] !== undefined) {
    throw new CnnZooError('--validation-data DIR holds the held-out images, so no split of DATA is held out: leave out --validation-split.', 'BAD_ARGS');
  }
  const threads = num('threads', values.threads);
  if (threads === 0) throw new CnnZooError(`--threads must be at least 1, got "${values.threads}".\nUsage: ${usage}`, 'BAD_ARGS');
  const inputSize = positiveInt(values['input-size'], 'input-size', usage);
  await checkOutFolder(values.out);
  const started = performance.now();
  const backend = await startBackend(values.backend!, threads);
  if (opts.fineTune) checkGradients();
  const data = await readImageFolder(positionals[0]!);
  const validation = validationData === undefined ? undefined : await readImageFolder(validationData, 'validationData'); // before the model loads
  const clf = await load(name, { classes: data.classes, ...(values.weights ? { weights: cliWeights(values.weights) } : {}), ...(inputSize ? { inputSize } : {}) });
  try {
    console.log(`${data.classes.length} classes (${data.classes.join(', ')}), ${data.items.length} images; base ${clf.name} ` +
      `(${clf.metadata?.training?.base.weights} weights) on ${backend.detail}`);
    for (const line of unusedLines(data.unused, positionals[0]!)) console.log(line);
    if (validation) for (const line of unusedLines(validation.unused, validationData!)) console.log(line);
    const bars = new Map<FitProgress['phase'], ProgressBar>();
    const bar = (phase: FitProgress['phase']): ProgressBar => {
      let b = bars.get(phase);
      if (!b) {
        for (const other of bars.values()) other.finish();
        b = progressBar(phase);
        bars.set(phase, b);
      }
      return b;
    };
    const history = await clf.fit(data, {
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)), ...(validationData ? { validationData } : {}), ...(values['skip-unreadable'] ? { skipUnreadable: true } : {}),
      onProgress: (p) => {
        if (p.phase === 'features') bar(p.phase).update(p.done, p.total, 'images');
        else if (p.phase === 'head') bar(p.phase).update(p.epoch, p.epochs, `loss ${p.loss.toFixed(4)}${p.valAccuracy === null ? '' : `  held-out ${(100 * p.valAccuracy).toFixed(1)}%`}`);
        else bar(p.phase).update(p.done, p.total, `epoch ${p.epoch}/${p.epochs}  loss ${p.loss.toFixed(4)}${p.valAccuracy === null ? '' : `  held-out ${(100 * p.valAccuracy).toFixed(1)}%`}`);
      },
    });
    for (const b of bars.values()) b.finish();
    const { seconds: s } = history;
    console.log(`${history.trainImages} training images (${history.trainExamples} examples with augmented copies), ${history.validationImages} held out; ` +
      `features ${s.features.toFixed(1)} s${history.featuresRuntime === 'tfjs' ? '' : ` (${history.featuresRuntime})`}, head ${s.head.toFixed(1)} s${s.fineTune ? `, fine-tuning ${s.fineTune.toFixed(1)} s` : ''}`);
    if (history.skipped.length) {
      console.log(`left out ${history.skipped.length} unreadable image${history.skipped.length > 1 ? 's' : ''} (--skip-unreadable; remove or re-save them):`);
      for (const k of history.skipped.slice(0, 10)) console.log(`  ${k.error}`);
      if (history.skipped.length > 10) console.log(`  ... ${history.skipped.length - 10} more (--json lists them all)`);
    }
    const acc = history.validationAccuracy;
    const chance = `chance ${(100 / data.classes.length).toFixed(1)}%`;
    if (acc === null) console.log(`held-out accuracy: none (--validation-split 0); ${chance}`);
    else {
      if (opts.fineTune) console.log(`held-out accuracy of the head before fine-tuning: ${(100 * history.headValidationAccuracy!).toFixed(1)}%`);
      console.log(`held-out accuracy${validationData ? ` on ${validationData}` : ''}: ${(100 * acc).toFixed(1)}% (${Math.round(acc * history.validationImages)}/${history.validationImages}; ${chance})`);
    }
    await clf.save(values.out);
    console.log(`saved to ${values.out} in ${((performance.now() - started) / 1000).toFixed(1)} s; use it: cnn-zoo classify IMAGE --weights ${values.out}`);
    if (values.json) console.log(JSON.stringify(history));
  } finally {
    clf.dispose();
  }
  return 0;
}

const WHY: Record<UnusedEntry['why'], [string, string]> = {
  'top-level file': ['file beside the class folders', 'an image goes in the folder of its class'],
  'no images': ['folder without images', 'not a class'],
  'not an image': ['file that is not an image', `images are ${IMAGE_FORMATS}`],
  'HEIC photo': ['HEIC photo', 'no decoder here reads HEIC: convert to JPEG, on macOS sips -s format jpeg IN.heic --out OUT.jpg'],
};

/** What a data folder holds that is not trained on, a line per reason (at most 3 paths each). */
function unusedLines(unused: readonly UnusedEntry[], dir: string): string[] {
  const lines: string[] = [];
  for (const [why, [what, note]] of Object.entries(WHY) as [UnusedEntry['why'], [string, string]][]) {
    const paths = unused.filter((u) => u.why === why).map((u) => u.path);
    if (paths.length === 0) continue;
    const shown = paths.slice(0, 3).join(', ') + (paths.length > 3 ? `, ... ${paths.length - 3} more` : '');
    lines.push(`not used in ${dir}: ${paths.length} ${what}${paths.length > 1 ? 's' : ''} (${shown}; ${note})`);
  }
  return lines;
}
