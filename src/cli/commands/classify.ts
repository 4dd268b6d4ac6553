/** `cnn-zoo classify IMAGE... [--weights W] [--model NAME]`: top-k ImageNet classes, offline with the shipped model. */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CnnZooError } from '../../errors.js';
import { load } from '../../api/index.js';
import type { ClassPrediction } from '../../api/predictions.js';
import { DEFAULT_ARCH } from '../../artifacts/shipped.js';
import { isWeightsSelector } from '../../pretrained/index.js';
import { startBackend } from '../backend.js';
import { checkRuntime } from '../../api/runtime.js';
import { IMAGE_FILE, IMAGE_FORMATS } from '../../image/files.js';
import { archName, cliWeights, parse, positiveInt } from '../args.js';

export const usage = 'cnn-zoo classify IMAGE... [--model NAME (or --arch)] [--weights imagenet|PUBLISHER[:TAG]|FILE|DIR|URL|random] ' +
  '[--mirror URL|DIR] [--top K] [--input-size N] [--runtime auto|onnxruntime|tfjs] [--backend wasm|cpu|webgpu|tensorflow] [--json]\n' +
  '  IMAGE: a file, an http(s) URL, or a folder (its image files, in name order).\n' +
  '  Without --model and --weights: the shipped MobileNet v2 (offline). --weights imagenet downloads the model\'s published\n' +
  '  checkpoint once into the cache ($CNN_ZOO_CACHE; offline: --mirror DIR, or --weights FILE with the checkpoint file).\n' +
  '  --input-size: the weights at another square size (the preprocessing crops it).\n' +
  '  --runtime: auto (default) runs on onnxruntime-node when it is installed, else tfjs; --backend alone means tfjs on it.';

/** A folder's image files (not its sub-folders), in name order; null for anything that is not a folder. */
async function folderImages(path: string): Promise<string[] | null> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || !(await stat(path).then((s) => s.isDirectory(), () => false))) return null;
  return (await readdir(path)).filter((f) => IMAGE_FILE.test(f) && !f.startsWith('.')).sort().map((f) => join(path, f));
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    weights: { type: 'string' }, arch: { type: 'string' }, model: { type: 'string' }, top: { type: 'string', default: '5' },
    backend: { type: 'string' }, runtime: { type: 'string' }, json: { type: 'boolean' }, mirror: { type: 'string' }, 'input-size': { type: 'string' },
  }, usage);
  if (positionals.length === 0) throw new CnnZooError(`classify needs at least one image.\nUsage: ${usage}`, 'BAD_ARGS');
  const k = positiveInt(values.top, 'top', usage)!;
  const inputSize = positiveInt(values['input-size'], 'input-size', usage);
  const runtimeName = values.runtime ?? (values.backend ? 'tfjs' : 'auto');
  try {
    checkRuntime(runtimeName, '--runtime');
  } catch {
    throw new CnnZooError(`--runtime must be auto, onnxruntime or tfjs, got "${runtimeName}".`, 'BAD_ARGS');
  }
  const backend = await startBackend(values.backend ?? 'wasm');
  const arch = archName(values);
  if (!arch && values.weights && (isWeightsSelector(values.weights) || values.weights === 'random')) {
    throw new CnnZooError(`--weights ${values.weights} needs the model: add --model NAME.`, 'BAD_ARGS');
  }
  const hub = { ...(values.mirror ? { hub: { mirror: values.mirror } } : {}), ...(inputSize ? { inputSize } : {}), runtime: runtimeName };
  // Converted weights alone name their architecture in their metadata (a checkpoint file: when it is a published one).
  const model = arch ? await load(arch, values.weights ? { weights: cliWeights(values.weights), ...hub } : hub)
    : values.weights ? await load(/^[a-z]+:\/\//i.test(values.weights) ? values.weights : resolve(values.weights), hub) : await load(DEFAULT_ARCH, hub);
  const runtime = model.runtime === 'tfjs' ? `${backend.name} (${backend.detail})` : `${model.runtime} (CPU)`;
  const source = model.metadata ? `${model.metadata.training ? `trained on ${model.metadata.training.base.arch}'s ` : ''}${model.metadata.source.format} ${model.metadata.dtype}` : 'random weights';
  const results: { image: string; model: string; backend: string; top: ClassPrediction[] }[] = [];
  if (!values.json) console.log(`${model.name} (${source}) on ${runtime}${inputSize ? `, at ${model.preprocessing.size} px` : ''}`);
  let failed = 0;
  const images: string[] = [];
  for (const path of positionals) {
    const inFolder = await folderImages(path);
    if (inFolder === null) images.push(path);
    else if (inFolder.length) images.push(...inFolder);
    else {
      failed++;
      console.error(`cnn-zoo: ${path}: a folder without image files (${IMAGE_FORMATS}). Pass image files, URLs or folders of images.`);
    }
  }
  try {
    for (const path of images) {
      let top: ClassPrediction[];
      try {
        top = await model.classify(path, { topK: k });
      } catch (e) {
        if (!(e instanceof CnnZooError)) throw e;
        failed++;
        // The decoders' errors start with the file name already.
        console.error(`cnn-zoo: ${e.message.startsWith(path) ? '' : `${path}: `}${e.message}`);
        continue;
      }
      results.push({ image: path, model: model.name, backend: runtime, top });
      if (!values.json) {
        console.log(`${path}  (${model.name}, ${source})`);
        top.forEach((p, i) => console.log(`  ${i + 1}. ${(100 * p.probability).toFixed(2).padStart(6)}%  ${String(p.index).padStart(4)}  ${p.label}`));
      }
    }
  } finally {
    model.dispose();
  }
  if (values.json) console.log(JSON.stringify(results, null, 2));
  return failed ? 1 : 0;
}
