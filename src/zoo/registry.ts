/**
 * The model registry: stable names (and aliases) -> model specs, filters, and `create()`.
 * Unknown names fail with the closest valid names.
 */
import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import { CnnZooError, checkOptionNames, closest, shown } from '../errors.js';
import { checkInputShape } from './input-check.js';
import { FAMILIES } from './families.js';
import { MAX_INPUT_SIDE, type BuildContext, type CreateOptions, type ModelCard, type ModelSpec } from './types.js';

const BY_NAME = new Map<string, ModelSpec>();
const ALIASES = new Map<string, string>();
for (const fam of FAMILIES) {
  for (const spec of fam.models) {
    if (BY_NAME.has(spec.name) || ALIASES.has(spec.name)) throw new Error(`registry: duplicate model name "${spec.name}"`);
    BY_NAME.set(spec.name, spec);
  }
}
for (const spec of BY_NAME.values()) {
  for (const alias of spec.aliases ?? []) {
    if (BY_NAME.has(alias) || ALIASES.has(alias)) throw new Error(`registry: alias "${alias}" of ${spec.name} is taken`);
    ALIASES.set(alias, spec.name);
  }
}

export interface ListFilter {
  family?: string;
  maxParams?: number;
}

/** Every model, in family table order, optionally filtered. */
export function listSpecs(filter: ListFilter = {}): ModelSpec[] {
  return [...BY_NAME.values()].filter((s) =>
    (filter.family === undefined || s.family === filter.family) &&
    (filter.maxParams === undefined || (s.meta.params ?? Infinity) <= filter.maxParams));
}

/** Family names, in order. */
export const familyNames = (): string[] => FAMILIES.filter((f) => f.models.length > 0).map((f) => f.name);

/** The spec named `name` (or an alias of it); throws with the closest names when unknown. */
export function getSpec(name: string): ModelSpec {
  if (typeof name !== 'string') {
    throw new CnnZooError(`A model is named by a string such as "resnet50", got ${shown(name)}. All ${BY_NAME.size} models: \`cnn-zoo list\` / list().`, 'UNKNOWN_MODEL');
  }
  const spec = BY_NAME.get(name) ?? BY_NAME.get(ALIASES.get(name) ?? '');
  if (spec) return spec;
  const names = [...BY_NAME.keys(), ...ALIASES.keys()];
  throw new CnnZooError(`Unknown model "${name}". Closest names: ${closest(name, names).join(', ')}. ` +
    `All ${BY_NAME.size} models: \`cnn-zoo list\` / list().`, 'UNKNOWN_MODEL');
}

/** The plain card (no builder) of a spec. */
export function toCard(spec: ModelSpec): ModelCard {
  const { build: _b, keyRules: _k, fixtures: _f, ...card } = spec;
  return card;
}

/** Resolve `CreateOptions` against a spec's defaults, validating each. */
export function resolveOptions(spec: ModelSpec, opts: CreateOptions = {}): BuildContext {
  const size: unknown = opts.inputSize ?? spec.inputSize;
  // A string ("128", from a query string or an environment variable) was read as the sides "1" and "2".
  if (typeof size !== 'number' && !(Array.isArray(size) && size.length === 2 && size.every((v) => typeof v === 'number'))) {
    throw new CnnZooError(`${spec.name}: inputSize must be a number of pixels (${spec.inputSize}) or [height, width] in pixels, got ${shown(size)}.`, 'BAD_INPUT_SIZE');
  }
  const [h, w] = typeof size === 'number' ? [size, size] : [size[0] as number, size[1] as number];
  for (const v of [h, w]) {
    if (!Number.isInteger(v) || v < spec.minInputSize) {
      throw new CnnZooError(`${spec.name}: input size ${h}x${w} is invalid; it needs integer sides of at least ` +
        `${spec.minInputSize} px: pass inputSize: ${spec.minInputSize} or larger (its default is ${spec.inputSize}).`, 'BAD_INPUT_SIZE');
    }
    if (v > MAX_INPUT_SIDE) {
      throw new CnnZooError(`${spec.name}: input size ${h}x${w} is too large; sides of up to ${MAX_INPUT_SIDE} px are built (at that size one ` +
        `image's feature maps take gigabytes): pass inputSize: ${MAX_INPUT_SIDE} or smaller (its default is ${spec.inputSize}).`, 'BAD_INPUT_SIZE');
    }
  }
  const numClasses = opts.numClasses ?? spec.numClasses;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new CnnZooError(`${spec.name}: numClasses must be a positive integer, got ${shown(numClasses)}.`, 'BAD_OPTION');
  }
  const pooling = opts.pooling ?? null;
  if (pooling !== null && pooling !== 'avg' && pooling !== 'max') {
    throw new CnnZooError(`${spec.name}: pooling must be 'avg', 'max' or null, got ${shown(pooling)}.`, 'BAD_OPTION');
  }
  const includeTop = opts.includeTop ?? true;
  if (typeof includeTop !== 'boolean') {
    throw new CnnZooError(`${spec.name}: includeTop must be true or false, got ${shown(includeTop)}.`, 'BAD_OPTION');
  }
  // Keras ignores pooling with the classifier kept; here it would be a silent no-op where features were meant.
  if (pooling !== null && includeTop) {
    throw new CnnZooError(`${spec.name}: pooling ${shown(pooling)} applies to the features of a model without its classifier; pass ` +
      'includeTop: false with it (pooled features, as embed() gives), or leave out pooling (the classifier pools its own way).', 'BAD_OPTION');
  }
  const globalPool = opts.globalPool ?? false;
  if (typeof globalPool !== 'boolean') {
    throw new CnnZooError(`${spec.name}: globalPool must be true or false, got ${shown(globalPool)}.`, 'BAD_OPTION');
  }
  if (globalPool && !spec.fixedPoolHead) {
    throw new CnnZooError(`${spec.name}: globalPool only applies to models whose reference head pools a fixed window; ` +
      `${spec.name}'s head already takes every input size of at least ${spec.minInputSize} px. Drop globalPool.`, 'BAD_OPTION');
  }
  return { inputHeight: h, inputWidth: w, numClasses, includeTop, pooling, globalPool };
}

/**
 * Build `name` with random weights at any valid input size, on the tfjs backend in use (synchronous, so it picks none:
 * `await useBackend()` first, or tfjs starts its plain-JavaScript `cpu`).
 */
export function create(name: string, opts: CreateOptions = {}): tf.LayersModel {
  const spec = getSpec(name);
  checkOptionNames(`create("${spec.name}")`, opts, CREATE_OPTIONS);
  return withCheckedPredict(spec.build(resolveOptions(spec, opts)));
}

/** The keys of `CreateOptions`. */
export const CREATE_OPTIONS = ['inputSize', 'numClasses', 'includeTop', 'pooling', 'globalPool'] as const satisfies readonly (keyof CreateOptions)[];

/**
 * `model.predict(x)` with one tensor checks its shape first (`checkInputShape`): NCHW, a missing batch axis, RGBA or
 * another size fail with the fix instead of tfjs's generic shape error. The model stays a plain `tf.LayersModel`.
 */
function withCheckedPredict(model: tf.LayersModel): tf.LayersModel {
  const predict = model.predict.bind(model);
  model.predict = (x, args) => {
    if (x instanceof tf.Tensor && model.inputs.length === 1) checkInputShape(model, x.shape);
    return predict(x, args);
  };
  return model;
}
