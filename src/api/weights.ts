/**
 * The weights rule, in one place: what `load(name, { weights })` (and so every CLI command) fills a model with.
 * - `undefined`: the weights shipped in the package for that model, else an error naming the ways to get some;
 * - `null`: random initialisation;
 * - `'imagenet'` or `'<publisher>[:<tag>]'`: a published checkpoint, downloaded and converted once into the cache;
 * - a directory, `file://`/`http(s)://` URL (relative URLs resolve against the page in browsers), a map of files or
 *   an IOHandler: converted tfjs artifacts;
 * - a checkpoint file (Node: `.pth`, `.safetensors`, `.h5`, `.tflite`, `.onnx`, ...), or its http(s) URL (downloaded
 *   once into the cache): recognised by its hash as a published checkpoint, or else read by its format, and converted
 *   once into the cache (src/pretrained/local.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, meant } from '../errors.js';
import { isNode, nodeModules } from '../platform.js';
import { getSpec, resolveOptions } from '../zoo/registry.js';
import type { BuildContext, CreateOptions, ModelSpec } from '../zoo/types.js';
import { IMAGENET_DEFAULT } from '../image/preprocess.js';
import { classOffsetFor } from '../labels/index.js';
import { withBuildOptions, type CnnZooMetadata } from '../artifacts/metadata.js';
import { buildFromArtifacts, readArtifacts, readArtifactsMetadata, type WeightsSource } from '../artifacts/read.js';
import { SHIPPED, noShippedWeights, shippedLocation, shippedWeightsUnreadable } from '../artifacts/shipped.js';
import { checkpointFileOf, checkpointId, checkpointInMemory, checkpointsFor, importCheckpoint, isWeightsSelector, resolveHubWeights, type HubOptions } from '../pretrained/index.js';

export interface WeightsOptions extends CreateOptions {
  weights?: WeightsSource | null;
  cache?: { indexedDB: string };
  hub?: HubOptions;
}

/** A description of where a model's weights came from: 'shipped', 'random', the selector or the source. */
export function weightsOrigin(spec: ModelSpec, weights: WeightsSource | null | undefined): string {
  if (weights === null) return 'random';
  if (weights === undefined) return spec.name in SHIPPED ? 'shipped' : 'none';
  return typeof weights === 'string' || weights instanceof URL ? weights.toString() : 'given artifacts';
}

/**
 * `spec` built with random weights, with the metadata random weights have (so that `save()` and `exportOnnx()` of a
 * model trained from scratch carry its architecture, size and preprocessing like any other).
 */
function randomModel(spec: ModelSpec, opts: CreateOptions): tf.LayersModel {
  const ctx = resolveOptions(spec, opts);
  const model = spec.build(ctx);
  model.setUserDefinedMetadata({ cnnZoo: randomMetadata(spec, ctx) });
  return model;
}

/** The metadata of `spec` built with random weights as `ctx` says (ImageNet's default preprocessing; classes numbered). */
export function randomMetadata(spec: ModelSpec, ctx: BuildContext): CnnZooMetadata {
  const offset = classOffsetFor(ctx.numClasses);
  const meta: CnnZooMetadata = {
    format: 'cnn-zoo-weights/1', arch: spec.name, inputSize: ctx.inputHeight, numClasses: ctx.numClasses,
    preprocessing: { ...IMAGENET_DEFAULT, size: ctx.inputHeight },
    labels: ctx.numClasses - offset === 1000 ? 'imagenet1k' : Array.from({ length: ctx.numClasses }, (_, i) => `class ${i}`),
    classOffset: ctx.numClasses - offset === 1000 ? offset : 0,
    source: { format: 'random', files: [] }, licence: 'none: random weights', dtype: 'float32',
  };
  return withBuildOptions(meta, ctx);
}

/** `spec` built and filled by the weights rule (the training form, with the weights' metadata when it has any). */
export async function modelWithWeights(model: ModelSpec | string, opts: WeightsOptions = {}): Promise<tf.LayersModel> {
  return (await modelAndWeights(model, opts)).model;
}

/** `modelWithWeights`, with the artifacts the weights were read from (null: random; the shipped folder; the cache's). */
export async function modelAndWeights(model: ModelSpec | string, opts: WeightsOptions = {}): Promise<{ model: tf.LayersModel; source: WeightsSource | null; shipped: boolean }> {
  const spec = typeof model === 'string' ? getSpec(model) : model;
  let weights = opts.weights;
  if (weights === null) return { model: randomModel(spec, opts), source: null, shipped: false };
  if (opts.numClasses !== undefined) {
    throw new CnnZooError(`${spec.name}: numClasses comes from the weights; for a new head with your classes, load(name, { classes }) ` +
      'and fit() it (see Transfer learning in the README), or pass weights: null for a random model of that shape.', 'BAD_OPTION');
  }
  const shipped = weights === undefined;
  if (weights === undefined) {
    if (!(spec.name in SHIPPED)) throw noShippedWeights(spec.name);
    weights = await shippedLocation(spec.name);
  }
  if (typeof weights === 'string' && isWeightsSelector(weights)) weights = await resolveHubWeights(spec.name, weights, opts.hub);
  else if (typeof weights === 'string') {
    const file = await checkpointFileOf(weights, opts.hub); // a checkpoint file, or its URL (downloaded once)
    if (file) {
      try {
        weights = (await importCheckpoint(spec.name, file, opts.hub)).dir;
      } catch (e) {
        // Nowhere to keep the conversion (a read-only home): convert in memory, on every load.
        if ((e as { code?: string }).code !== 'CACHE_UNWRITABLE') throw e;
        opts.hub?.onStatus?.(`${(e as Error).message} Converting ${file} in memory instead (again on every load).`);
        weights = tf.io.fromMemory(await checkpointInMemory(spec.name, file, opts.hub));
      }
    } else await checkMisspeltSelector(spec, weights);
  }
  const where = weights;
  const read = await readArtifacts(weights, { cache: opts.cache, shardReader: true }).catch((e: unknown) => {
    const unreadable = shipped && ['MISSING_FILE', 'WEIGHTS_UNREACHABLE', undefined].includes((e as { code?: string }).code);
    throw unreadable ? shippedWeightsUnreadable(spec.name, String(where), e) : e;
  });
  return { model: buildFromArtifacts(spec, read, opts), source: weights, shipped };
}

/**
 * Node: a weights string that is no path here but close to a weights name (`imagenett`, `torchvison`) is a misspelt
 * name, not a folder to read (it said: Cannot read model.json at "imagenett" (ENOENT)).
 */
async function checkMisspeltSelector(spec: ModelSpec, weights: string): Promise<void> {
  if (!isNode || /^[a-z][a-z0-9+.-]*:/i.test(weights) || /[\\/]/.test(weights)) return;
  if (await (await nodeModules()).stat(weights).then(() => true, () => false)) return;
  const published = checkpointsFor(spec.name);
  const names = ['imagenet', ...new Set(published.map((c) => c.publisher)), ...published.map(checkpointId)];
  const best = meant(weights, names);
  if (best) {
    throw new CnnZooError(`${spec.name}: weights "${weights}" is neither a weights name nor a path here. Did you mean "${best}"? ` +
      `Weights names: ${names.join(', ')}.`, 'NO_WEIGHTS');
  }
}

/** The registry model that converted weights were made for (their metadata's `arch`). */
export async function archOfWeights(weights: WeightsSource): Promise<ModelSpec> {
  return getSpec((await readArtifactsMetadata(weights)).meta.arch);
}
