/**
 * The high-level API: `list`, `info`, `create`, `load`. Everything returns plain JS objects or a `ZooModel`.
 */
import * as tf from '@tensorflow/tfjs';
import { CREATE_OPTIONS, getSpec, listSpecs, resolveOptions, toCard } from '../zoo/registry.js';
import type { CreateOptions, ModelCard } from '../zoo/types.js';
import { countFlops, countParams } from '../zoo/count.js';
import { useBackend, type BackendName } from '../backend.js';
import { EMBEDDED, noEmbeddedWeights } from '../artifacts/shipped.js';
import { load as loadLayersModel, type WeightsSource } from '../artifacts/read.js';
import type { HubOptions } from '../pretrained/fetch.js';
import { modelMetadata } from '../artifacts/metadata.js';
import { toInference } from '../inference/index.js';
import { CnnZooError, checkOptionNames } from '../errors.js';
import { ZooModel } from './zoo-model.js';

export interface ListOptions {
  family?: string;
  /** Only models with at most this many parameters. */
  maxParams?: number;
  /** Only models whose weights ship with the package. */
  hasWeights?: boolean;
}

/** Model cards (plain objects), in family order. */
export function list(opts: ListOptions = {}): ModelCard[] {
  return listSpecs({ family: opts.family, maxParams: opts.maxParams })
    .filter((s) => !opts.hasWeights || s.name in EMBEDDED)
    .map(toCard);
}

/** A model's card with its params/FLOPs counted on the built model (at `inputSize`, default the card's). */
export function info(name: string, opts: { inputSize?: number } = {}): ModelCard & { counted: { inputSize: number; params: number; flops: number; macs: number } } {
  const spec = getSpec(name);
  const size = opts.inputSize ?? spec.inputSize;
  const model = spec.build(resolveOptions(spec, { inputSize: size }));
  try {
    const flops = countFlops(model);
    return { ...toCard(spec), counted: { inputSize: size, params: countParams(model), flops, macs: flops / 2 } };
  } finally {
    model.dispose();
  }
}

export interface LoadModelOptions extends CreateOptions {
  /**
   * Converted weights: a directory, `file://` or `http(s)://` URL, a map of files, or a tf IOHandler; `null` for
   * random initialisation. Default: the weights shipped with the package, if the model has them.
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
}

const LOAD_OPTIONS = [...CREATE_OPTIONS, 'weights', 'backend', 'cache', 'hub', 'inference'] as const satisfies readonly (keyof LoadModelOptions)[];

/** The names of the feature layers of `name` (its layers built with `includeTop: false`). */
function featureLayerNames(name: string, size: number): Set<string> {
  const spec = getSpec(name);
  const m = spec.build(resolveOptions(spec, { inputSize: size, includeTop: false }));
  const names = new Set(m.layers.map((l) => l.name));
  m.dispose();
  return names;
}

/**
 * Load a model ready for images: weights (embedded default, converted artifacts, or none), preprocessing and
 * labels from the weights' metadata. Returns a `ZooModel`.
 */
export async function load(name: string, opts: LoadModelOptions = {}): Promise<ZooModel> {
  const spec = getSpec(name);
  checkOptionNames(`load("${spec.name}")`, opts, LOAD_OPTIONS);
  if (opts.backend) await useBackend(opts.backend);
  let model: tf.LayersModel;
  if (opts.weights === null || (opts.weights === undefined && !(spec.name in EMBEDDED))) {
    if (opts.weights === undefined) {
      throw noEmbeddedWeights(spec.name);
    }
    model = spec.build(resolveOptions(spec, opts));
  } else {
    model = await loadLayersModel(spec.name, { weights: opts.weights, includeTop: opts.includeTop, pooling: opts.pooling, cache: opts.cache, hub: opts.hub });
    if (opts.numClasses !== undefined || opts.inputSize !== undefined) {
      model.dispose();
      throw new CnnZooError(`${spec.name}: numClasses/inputSize come from the converted weights; for a new head load with includeTop: false and add one (see examples/transfer-learning).`, 'BAD_OPTION');
    }
  }
  const meta = modelMetadata(model);
  const inference = opts.inference ?? (opts.includeTop !== false && opts.numClasses === undefined);
  if (inference) {
    const fast = toInference(model);
    if (meta) fast.setUserDefinedMetadata({ cnnZoo: meta });
    model.dispose();
    model = fast;
  }
  const size = model.inputs[0]!.shape[1] as number;
  return new ZooModel(model, toCard(spec), { weights: meta, featureLayers: featureLayerNames(spec.name, size) });
}

export { ZooModel };
