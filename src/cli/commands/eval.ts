/** `cnn-zoo eval --model NAME [--weights imagenet|FILE|DIR|random] --data DIR`: Top-1/Top-5, per-class accuracy and images/s on a labelled folder. */
import { CnnZooError } from '../../errors.js';
import { selectBackend } from '../backend.js';
import { checkDatasetPaths, openDataset, summarizeProblems } from '../../eval/dataset.js';
import { evaluate } from '../../eval/evaluate.js';
import { modelSettings } from '../../eval/model-settings.js';
import type { PreprocessConfig } from '../../image/types.js';
import { modelWithWeights } from '../../api/weights.js';
import { identifyCheckpointFile, isCheckpointFile, withCheckpointReadsHeld } from '../../pretrained/local.js';
import { load } from '../../api/index.js';
import { RUNTIMES, exportRunAsStored } from '../../api/runtime.js';
import type { RuntimeName } from '../../onnx/runtime.js';
import { SHIPPED } from '../../artifacts/shipped.js';
import { modelMetadata } from '../../artifacts/metadata.js';
import { getSpec } from '../../zoo/registry.js';
import { progressBar } from '../../eval/progress.js';
import { checkOutFile, modelAndWeightsArgs, parse, positiveInt, SIZE_FLAGS, sizeOptions, writeOutFile } from '../args.js';
import { table } from '../format.js';

export const usage = 'cnn-zoo eval (--model NAME | NAME | --weights DIR) [--weights imagenet|FILE|DIR|random] --data DIR [--labels FILE] [--limit N] [--batch N] ' +
  '[--input-size N [--global-pool]] [--crop-fraction F] [--interpolation bilinear|bicubic|nearest] [--backend wasm|cpu|webgpu|tensorflow | --runtime tfjs|onnxruntime|auto] ' +
  '[--per-class] [--json FILE]\n' +
  '  --data: a folder with labels.txt ("file index [wnid]"), ImageNet val images (+ --labels ILSVRC2012_val_labels.txt),\n' +
  '          or one sub-folder per class named by wnid (a classifier from cnn-zoo train: named as its classes).\n' +
  '          Without --weights: the embedded weights if the model has them,\n' +
  '          else random weights (a smoke test; reports ignore its accuracy).\n' +
  '  --limit N: the first N images of a labels file; from class sub-folders, each class\'s share of N.\n' +
  '  --weights DIR alone, or DIR as the model: converted weights (from cnn-zoo convert or train) name their model;\n' +
  '  so do a published checkpoint file and an ONNX file from cnn-zoo export (--weights FILE alone).\n' +
  '  --input-size: evaluate the weights at another square size (the preprocessing crops it, crop fraction kept);\n' +
  '  --global-pool: a global average pool instead of a fixed-window head that does not fit it (not the reference).\n' +
  '  --crop-fraction, --interpolation: evaluate with another centre crop (timm\'s crop_pct: 0.875 resizes to size / 0.875)\n' +
  '  or resampling than the weights\' own preprocessing (the report says which ran).\n' +
  '  --runtime: auto (default, as classify: onnxruntime-node when it is installed, else tfjs; --backend alone means tfjs\n' +
  '  on it); onnxruntime evaluates what classify runs there: the model exported to ONNX, or an ONNX file from cnn-zoo\n' +
  '  export as stored (its int8 weights); tfjs: on --backend (wasm unless given). --batch N: images per call.\n' +
  '  --per-class: Top-1/Top-5 of each class too. --json FILE: the results as JSON, for cnn-zoo report.';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    model: { type: 'string' }, weights: { type: 'string' }, data: { type: 'string' }, labels: { type: 'string' },
    limit: { type: 'string' }, batch: { type: 'string' }, ...SIZE_FLAGS, backend: { type: 'string' }, runtime: { type: 'string' },
    'per-class': { type: 'boolean' }, json: { type: 'string' }, 'crop-fraction': { type: 'string' }, interpolation: { type: 'string' },
  }, usage);
  // The model by --model NAME or as the one positional argument (`cnn-zoo eval resnet50 --data DIR`).
  // Converted weights (a folder from cnn-zoo train or convert, or its URL) name their model: --weights DIR alone will do.
  const limit = positiveInt(values.limit, 'limit', usage);
  const batchSize = positiveInt(values.batch, 'batch', usage) ?? 16;
  const size = sizeOptions(values, usage);
  const crop = values['crop-fraction'] === undefined ? undefined : Number(values['crop-fraction']);
  if (crop !== undefined && !(crop > 0 && crop <= 1)) throw new CnnZooError(`--crop-fraction must be a number above 0 and at most 1 (0.875, 0.95), got "${values['crop-fraction']}".`, 'BAD_ARGS');
  const interpolation = values.interpolation as PreprocessConfig['interpolation'] | undefined;
  if (interpolation !== undefined && !['bilinear', 'bicubic', 'nearest'].includes(interpolation)) {
    throw new CnnZooError(`--interpolation must be bilinear, bicubic or nearest, got "${interpolation}".`, 'BAD_ARGS');
  }
  // A checkpoint file as --weights is read (and hashed) once: to name its model, then to load it.
  // As classify: onnxruntime-node where installed (several times faster), unless a tfjs backend is asked for.
  const runtime = values.runtime ?? (values.backend ? 'tfjs' : 'auto');
  if (!(RUNTIMES as readonly string[]).includes(runtime)) throw new CnnZooError(`--runtime must be tfjs, onnxruntime or auto, got "${runtime}".`, 'BAD_ARGS');
  if (runtime !== 'tfjs' && values.backend) throw new CnnZooError(`--backend is tfjs's; --runtime ${runtime} runs on onnxruntime. Give one of them.\nUsage: ${usage}`, 'BAD_ARGS');
  const { name, data, weightsFlag, backend, random, model, zoo, storedAs } = await withCheckpointReadsHeld(async () => {
    if (positionals.length > (values.model ? 0 : 1)) {
      const given = [...(values.model ? [`--model ${values.model}`] : []), ...positionals].join(', ');
      throw new CnnZooError(`eval evaluates one model, got ${given}: run one eval per model.\nUsage: ${usage}`, 'BAD_ARGS');
    }
    const { name, weights: weightsFlag } = await modelAndWeightsArgs(values.model ?? positionals[0], values.weights);
    if (!name) throw new CnnZooError(`eval needs a model: NAME, --model NAME, or --weights DIR of converted weights.\nUsage: ${usage}`, 'BAD_ARGS');
    if (!values.data) throw new CnnZooError(`eval needs --data DIR, the labelled images to evaluate ${name} on.\nUsage: ${usage}`, 'BAD_ARGS');
    await checkDatasetPaths(values.data, values.labels);
    if (values.json) await checkOutFile('--json', values.json, 'the results');
    const backend = await selectBackend(values.backend ?? 'wasm');
    // The weights rule of load(), except that a model with no weights anywhere runs with random ones (a smoke test).
    const spec = getSpec(name);
    const random = weightsFlag === 'random' || (weightsFlag === undefined && !(spec.name in SHIPPED));
    const weights = random ? null : weightsFlag;
    // An ONNX file from cnn-zoo export stores its weights as it does (int8, float16): tfjs runs them dequantized.
    const storedAs = weightsFlag && await isCheckpointFile(weightsFlag) ? (await identifyCheckpointFile(weightsFlag))?.exportedAs : undefined;
    if (runtime === 'tfjs') return { name, data: values.data, weightsFlag, backend, random, model: await modelWithWeights(spec, { weights, ...size }), storedAs };
    const zoo = await load(spec.name, { ...(weights === undefined ? {} : { weights }), runtime: runtime as RuntimeName, ...size });
    return { name, data: values.data, weightsFlag, backend, random, model: zoo.model, zoo, storedAs };
  });
  const weights = weightsFlag ?? (random ? 'random' : 'embedded');
  // A classifier trained on its own classes (cnn-zoo train): its class sub-folders are named as its classes.
  const meta = modelMetadata(model);
  const own = meta?.training && Array.isArray(meta.labels) ? meta.labels : undefined;
  const dataset = await openDataset(data, { ...(values.labels ? { labels: values.labels } : {}), ...(own ? { classes: own } : {}) });
  console.log(`dataset ${dataset.name} (${dataset.layout}): ${dataset.items.length} images` +
    (dataset.absent ? `, ${dataset.absent} labelled images of the full set absent` : '') + `, ${dataset.problems.length} problems`);
  for (const line of summarizeProblems(dataset)) console.log(`  ${line}`);
  const stored = zoo && exportRunAsStored(zoo);
  const runsOn = zoo && zoo.runtime !== 'tfjs' ? `runtime ${zoo.runtime}${stored ? ` (the file as stored, ${stored} weights)` : ''}` : `backend ${backend}`;
  console.log(`model ${name} (weights: ${weights}), input ${model.inputs[0]!.shape[1]} px, ${runsOn}, batch ${batchSize}`);
  if (weights === 'random') console.log('  note: random weights: the accuracy is meaningless; use it as a smoke test.');
  if (storedAs && storedAs !== 'float32' && !stored) {
    console.log(`  note: ${weights} stores ${storedAs} weights; tfjs evaluates them dequantized to float32. --runtime onnxruntime (without --backend) evaluates the file as stored.`);
  }
  const bar = progressBar('eval');
  const weightsOwn = modelSettings(model).preprocess;
  const preprocess: PreprocessConfig | undefined = crop !== undefined || interpolation
    ? { ...weightsOwn, cropFraction: crop ?? weightsOwn.cropFraction, interpolation: interpolation ?? weightsOwn.interpolation } : undefined;
  const r = await evaluate(zoo ?? model, dataset, {
    batchSize, ...(limit ? { limit } : {}), name, weights, ...(preprocess ? { preprocess } : {}),
    onProgress: (p) => bar.update(p.done, p.total, `top-1 ${p.top1.toFixed(2)}%  ${p.imagesPerSec.toFixed(1)} img/s${p.failed ? `  ${p.failed} failed` : ''}`),
  });
  bar.finish();
  (zoo ?? model).dispose();
  console.log(`preprocess: ${JSON.stringify(r.preprocess)}, class offset ${r.classOffset}`);
  if (values['per-class']) {
    // A classifier's own classes have names only (their "wnid" is the name): one column for them.
    const wnids = r.perClass.some((c) => c.wnid !== undefined && c.wnid !== c.name);
    console.log(table(['class', ...(wnids ? ['wnid'] : []), 'name', 'images', 'top-1 %', 'top-5 %'],
      r.perClass.map((c) => [String(c.label), ...(wnids ? [c.wnid ?? ''] : []), c.name ?? '', String(c.images), c.top1.toFixed(1), c.top5.toFixed(1)])));
  }
  for (const f of r.failed.slice(0, 10)) console.log(`  failed: ${f.file}: ${f.error}`);
  if (r.failed.length > 10) console.log(`  ... ${r.failed.length - 10} more failed images`);
  console.log(`${name} on ${r.dataset}: top-1 ${r.top1.toFixed(2)}%  top-5 ${r.top5.toFixed(2)}%  ` +
    `(${r.evaluated} of ${r.images} images evaluated, ${r.failed.length} failed; mean per-class top-1 ${r.meanClassTop1.toFixed(2)}%)  ` +
    `${r.imagesPerSec.toFixed(1)} images/s, ${r.seconds.toFixed(1)} s`);
  if (values.json) {
    await writeOutFile(values.json, JSON.stringify(r, null, 1));
    console.log(`wrote ${values.json}`);
  }
  return 0;
}
