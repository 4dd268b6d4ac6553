/**
 * The high-level API: `list`, `info`, `load`. Everything returns plain JS objects or a `ZooModel`.
 */
import { CREATE_OPTIONS, getSpec, listSpecs, resolveOptions } from '../zoo/registry.js';
import type { CreateOptions, ModelSpec } from '../zoo/types.js';
import { cardOf, type Card } from './cards.js';
import { countFlops, countParams } from '../zoo/count.js';
import { ensureBackend, useBackend, type BackendName } from '../backend.js';
import { buildFromArtifacts, readArtifacts, type WeightsSource } from '../artifacts/read.js';
import type { HubOptions } from '../pretrained/fetch.js';
import { isCheckpointFile, recogniseCheckpoint } from '../pretrained/index.js';
import { modelMetadata } from '../artifacts/metadata.js';
import { toInference } from '../inference/index.js';
import { CnnZooError, checkOptionNames } from '../errors.js';
import { modelWithWeights } from './weights.js';
import { ZooModel } from './zoo-model.js';
import { checkClasses, withNewHead } from './training.js';

export interface ListOptions {
  family?: string;
  /** Only models with at most this many parameters. */
  maxParams?: number;
  /** Only models with weights shipped in the package ('shipped') or published checkpoints to fetch ('published'). */
  weights?: 'shipped' | 'published';
  /** @deprecated `weights: 'shipped'`. */
  hasWeights?: boolean;
}

const LIST_OPTIONS = ['family', 'maxParams', 'weights', 'hasWeights'] as const satisfies readonly (keyof ListOptions)[];

/** Model cards (plain objects), in family order, with the weights each model has. */
export function list(opts: ListOptions = {}): Card[] {
  checkOptionNames('list()', opts, LIST_OPTIONS);
  const want = opts.weights ?? (opts.hasWeights ? 'shipped' : undefined);
  if (want !== undefined && want !== 'shipped' && want !== 'published') {
    throw new CnnZooError(`list(): weights must be 'shipped' or 'published', got ${JSON.stringify(want)}.`, 'BAD_OPTION');
  }
  return listSpecs({ family: opts.family, maxParams: opts.maxParams })
    .map(cardOf)
    .filter((c) => want === undefined || (want === 'shipped' ? c.weights.shipped : c.weights.published.length > 0));
}

/** A model's card with its params/FLOPs counted on the built model (at `inputSize`, default the card's). */
export function info(name: string, opts: { inputSize?: number } = {}): Card & { counted: { inputSize: number; params: number; flops: number; macs: number } } {
  const spec = getSpec(name);
  const size = opts.inputSize ?? spec.inputSize;
  const model = spec.build(resolveOptions(spec, { inputSize: size }));
  try {
    const flops = countFlops(model);
    return { ...cardOf(spec), counted: { inputSize: size, params: countParams(model), flops, macs: flops / 2 } };
  } finally {
    model.dispose();
  }
}

export interface LoadModelOptions extends CreateOptions {
  /**
   * `undefined`: the weights shipped with the package (if the model has them); `null`: random initialisation;
   * `'imagenet'` or `'<publisher>[:<tag>]'`: a published checkpoint (downloaded once, cached); or converted weights:
   * a directory, `file://` or `http(s)://` URL, a map of files, or a tf IOHandler; or (Node) a checkpoint file
   * (`.pth`, `.safetensors`, ...), recognised by its hash or read by its format, converted once into the cache.
   */
  weights?: WeightsSource | null;
  /** Backend to switch to first (default: keep the current one). */
  backend?: BackendName;
  /** Browsers: cache downloaded weights in IndexedDB under this key. */
  cache?: { indexedDB: string };
  /** With `weights: 'imagenet' | '<publisher>[:<tag>]'` (published checkpoints): mirror, cache directory, dtype, sha256, progress. */
  hub?: HubOptions;
  /**
   * Inference form (batch norm folded, activations fused, dropout removed): default true with `includeTop`
   * and no new `numClasses`; pass false to keep the training form for transfer learning.
   */
  inference?: boolean;
  /**
   * Class names of a new classifier head on the model's pretrained backbone (its weights by the rule above), in the
   * training form: train it with `model.fit(folder)`, keep it with `model.save(dir)`.
   */
  classes?: readonly string[];
}

const LOAD_OPTIONS = [...CREATE_OPTIONS, 'weights', 'backend', 'cache', 'hub', 'inference', 'classes'] as const satisfies readonly (keyof LoadModelOptions)[];

/** A name that is not a registry name but a place holding converted weights (a path or a URL). */
const looksLikeWeights = (name: string): boolean => /[\\/]/.test(name) || /^(\.|file:|https?:)/.test(name);

/**
 * Load a model ready for images: `name` is a registry name (weights by the rule of src/api/weights.ts) or the
 * place of converted weights (a folder or URL: the architecture comes from their metadata). Preprocessing and
 * labels come from the weights' metadata. Returns a `ZooModel`.
 */
export async function load(name: string, opts: LoadModelOptions = {}): Promise<ZooModel> {
  let spec: ModelSpec;
  let model;
  if (looksLikeWeights(name) && !listSpecs({}).some((s) => s.name === name)) {
    checkOptionNames(`load("${name}")`, opts, LOAD_OPTIONS);
    if (opts.weights !== undefined) throw new CnnZooError(`load("${name}") reads the weights from "${name}"; give either a model name with weights, or the weights alone.`, 'BAD_OPTION');
    if (opts.classes !== undefined) {
      throw new CnnZooError(`load("${name}", { classes }): a new head goes on a model named by the registry; ` +
        `load(ARCH, { weights: "${name}", classes }) with the architecture of those weights.`, 'BAD_OPTION');
    }
    await (opts.backend ? useBackend(opts.backend) : ensureBackend());
    if (await isCheckpointFile(name)) {
      // A checkpoint file names its architecture only when it is a published one (by its hash).
      const published = await recogniseCheckpoint(name);
      if (!published) {
        throw new CnnZooError(`"${name}" is a checkpoint file that is not a published checkpoint cnn-zoo knows, so its architecture ` +
          `is unknown: name it, load(NAME, { weights: "${name}" }).`, 'NEEDS_ARCH');
      }
      spec = getSpec(published.arch);
      model = await modelWithWeights(spec, { ...opts, weights: name });
    } else {
      const read = await readArtifacts(name, { cache: opts.cache });
      spec = getSpec(read.meta.arch);
      model = buildFromArtifacts(spec, read, opts);
    }
  } else if (opts.classes !== undefined) {
    spec = getSpec(name);
    const where = `load("${spec.name}", { classes })`;
    checkOptionNames(where, opts, LOAD_OPTIONS);
    const classes = checkClasses(opts.classes, where);
    const clash = (['numClasses', 'inputSize', 'includeTop', 'pooling'] as const).find((k) => opts[k] !== undefined && !(k === 'numClasses' && opts[k] === classes.length));
    if (clash || opts.inference) {
      throw new CnnZooError(`${where}: a new head has one output per class at the weights' input size, in the training form; leave out ${clash ?? 'inference'}.`, 'BAD_OPTION');
    }
    await (opts.backend ? useBackend(opts.backend) : ensureBackend());
    const { model: trainable, meta } = await withNewHead(spec, classes, opts);
    return new ZooModel(trainable, spec, meta);
  } else {
    spec = getSpec(name);
    checkOptionNames(`load("${spec.name}")`, opts, LOAD_OPTIONS);
    await (opts.backend ? useBackend(opts.backend) : ensureBackend());
    model = await modelWithWeights(spec, opts);
  }
  const meta = modelMetadata(model);
  const inference = opts.inference ?? (opts.includeTop !== false && opts.numClasses === undefined);
  if (inference) {
    const fast = toInference(model);
    if (meta) fast.setUserDefinedMetadata({ cnnZoo: meta });
    model.dispose();
    model = fast;
  }
  return new ZooModel(model, spec, meta);
}

export { ZooModel };
export type { FitHistory, FitOptions, FitProgress, EpochStats, LabelledImages, TrainingData } from './training.js';
export type { Card, WeightsInfo } from './cards.js';
