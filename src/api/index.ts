/**
 * The high-level API: `list`, `info`, `load`, `create`. Everything returns plain JS objects or a `ZooModel`.
 */
import type * as tf from '@tensorflow/tfjs';
import { CREATE_OPTIONS, create as build, familyNames, getSpec, listSpecs, resolveOptions } from '../zoo/registry.js';
import { withoutInitialisation } from '../zoo/ops.js';
import type { CreateOptions, ModelSpec } from '../zoo/types.js';
import { cardOf, type Card } from './cards.js';
import { countFlops, countParams } from '../zoo/count.js';
import { announce, ensureBackend, noteUnchosenBackend, useBackend, type BackendChoice, type BackendName } from '../backend.js';
import { buildFromArtifacts, readArtifacts, type WeightsSource } from '../artifacts/read.js';
import { HUB_KINDS, HUB_OPTIONS, type HubOptions } from '../pretrained/fetch.js';
import { checkpointFileOf, identifyCheckpointFile, isCheckpointFile, unnamedCheckpoint, type CheckpointIdentity } from '../pretrained/index.js';
import { holdCheckpointReads } from '../pretrained/local.js';
import { modelMetadata } from '../artifacts/metadata.js';
import { intoInference } from '../inference/index.js';
import { CnnZooError, checkOptionKinds, checkOptionNames, meant, shown } from '../errors.js';
import { archOfWeights, modelAndWeights, randomMetadata } from './weights.js';
import { checkRuntime, startRuntime, type RuntimeContext } from './runtime.js';
import type { RuntimeName } from '../onnx/runtime.js';
import { ZooModel } from './zoo-model.js';
import { isNode, nodeModules } from '../platform.js';
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
  if (opts.family !== undefined && !familyNames().includes(opts.family)) {
    const best = meant(String(opts.family), familyNames());
    throw new CnnZooError(`list(): no family ${JSON.stringify(opts.family)}.${best ? ` Did you mean ${best}?` : ''} ` +
      `Families: ${familyNames().join(', ')}.`, 'BAD_OPTION');
  }
  if (opts.maxParams !== undefined && !(typeof opts.maxParams === 'number' && opts.maxParams > 0)) {
    throw new CnnZooError(`list(): maxParams must be a positive number of parameters (e.g. 5e6), got ${shown(opts.maxParams)}.`, 'BAD_OPTION');
  }
  return listSpecs({ family: opts.family, maxParams: opts.maxParams })
    .map(cardOf)
    .filter((c) => want === undefined || (want === 'shipped' ? c.weights.shipped : c.weights.published.length > 0));
}

/** A model's card with its params/FLOPs counted on the built model (at `inputSize` and with `numClasses`, default the card's). */
export function info(name: string, opts: { inputSize?: number; numClasses?: number; globalPool?: boolean } = {}):
  Card & { counted: { inputSize: number; numClasses: number; params: number; flops: number; macs: number } } {
  if (typeof name === 'string' && (/[\\/]/.test(name) || /^[a-z][a-z0-9+.-]*:/i.test(name))) {
    // A path or URL is not a model name; its closest names said nothing useful.
    throw new CnnZooError(`info("${name}") counts a model of the registry by its name; for weights in a folder or at a URL, ` +
      `const m = await load("${name}") has them in m.card and m.metadata, and info(m.name) counts that model (cnn-zoo info DIR prints both).`, 'UNKNOWN_MODEL');
  }
  const spec = getSpec(name);
  checkOptionNames(`info("${spec.name}")`, opts, ['inputSize', 'numClasses', 'globalPool']);
  const size = opts.inputSize ?? spec.inputSize;
  const ctx = resolveOptions(spec, { inputSize: size, numClasses: opts.numClasses, ...(opts.globalPool !== undefined ? { globalPool: opts.globalPool } : {}) });
  // Counted by shapes: the weights are never drawn (VGG-16's 138 M random numbers took 5 s of `cnn-zoo info`).
  const model = withoutInitialisation(() => spec.build(ctx));
  try {
    const flops = countFlops(model);
    return { ...cardOf(spec), counted: { inputSize: size, numClasses: ctx.numClasses, params: countParams(model), flops, macs: flops / 2 } };
  } finally {
    model.dispose();
  }
}

/**
 * `name` built with random weights (a bare `tf.LayersModel`) at any valid input size, on the backend in use
 * (`await useBackend()` first: in Node, with none chosen, tfjs starts its plain-JavaScript cpu, and a line says so).
 * It carries random weights' metadata, so that trained and saved (`model.save(nodeFileSystem(dir))`), `load(dir)` reads it.
 */
export function create(name: string, opts: CreateOptions = {}): tf.LayersModel {
  noteUnchosenBackend('create()');
  const model = build(name, opts);
  // Its metadata (random weights, architecture, size), so that saved after training it loads back with load(dir).
  const spec = getSpec(name);
  model.setUserDefinedMetadata({ cnnZoo: randomMetadata(spec, resolveOptions(spec, opts)) });
  return model;
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
  /**
   * What classify/embed/features run on: `'onnxruntime'` (the model exported to ONNX, on onnxruntime-node in Node
   * or onnxruntime-web in browsers: optional peers), `'tfjs'`, or `'auto'` (default: the fastest installed, see
   * docs/PERFORMANCE.md; the training form stays on tfjs). `model.model` is the tfjs model either way.
   */
  runtime?: RuntimeName;
}

const LOAD_OPTIONS = [...CREATE_OPTIONS, 'weights', 'backend', 'cache', 'hub', 'inference', 'classes', 'runtime'] as const satisfies readonly (keyof LoadModelOptions)[];

/** load()'s option names, and those inside `hub` and `cache` (a misspelt `hub.mirror` went online unnoticed). */
function checkLoadOptions(where: string, opts: LoadModelOptions): void {
  checkOptionNames(where, opts, LOAD_OPTIONS);
  if (opts.hub !== undefined) {
    checkOptionNames(`${where}, hub`, opts.hub, HUB_OPTIONS);
    checkOptionKinds(`${where}, hub`, opts.hub, HUB_KINDS);
  }
  if (opts.cache !== undefined) checkOptionNames(`${where}, cache`, opts.cache, ['indexedDB']);
}

/** A name that is not a registry name but a place holding converted weights (a path or a URL). */
const looksLikeWeights = (name: string): boolean => /[\\/]/.test(name) || /^(\.|file:|https?:)/.test(name);

/**
 * Whether `name` is the place of weights rather than a registry name (or alias, which wins): a path or URL, or in
 * Node a file or folder of that name in the working folder (`save('classifier')` then `load('classifier')`).
 */
export async function isWeightsPlace(name: string): Promise<boolean> {
  try { getSpec(name); return false; } catch { /* not a registry name */ }
  if (looksLikeWeights(name)) return true;
  return isNode && (await (await nodeModules()).stat(name).then(() => true, () => false));
}

/**
 * Load a model ready for images: `name` is a registry name (weights by the rule of src/api/weights.ts) or the
 * place of converted weights (a folder or URL: the architecture comes from their metadata). Preprocessing and
 * labels come from the weights' metadata. Returns a `ZooModel`.
 */
export async function load(name: string, opts: LoadModelOptions = {}): Promise<ZooModel> {
  let spec: ModelSpec;
  let model;
  let source: WeightsSource | null = name;
  let shipped = false;
  let choice: BackendChoice | null = null;
  let onnxFile: RuntimeContext['onnxFile'];
  if (typeof name !== 'string') {
    throw new CnnZooError(`load(name): name is a model name such as "resnet50" or the folder or URL of converted weights, got ${shown(name)}.`, 'UNKNOWN_MODEL');
  }
  checkLoadOptions(`load("${name}")`, opts);
  if (opts.inference !== undefined && typeof opts.inference !== 'boolean') {
    throw new CnnZooError(`load("${name}"): inference must be true or false, got ${shown(opts.inference)}.`, 'BAD_OPTION');
  }
  checkRuntime(opts.runtime, `load("${name}")`);
  const startBackend = async () => { if (opts.backend) await useBackend(opts.backend); else choice = await ensureBackend({ announce: false }); };
  if (await isWeightsPlace(name)) {
    if (opts.weights !== undefined) throw new CnnZooError(`load("${name}") reads the weights from "${name}"; give either a model name with weights, or the weights alone.`, 'BAD_OPTION');
    await startBackend();
    const file = await checkpointFileOf(name, opts.hub); // a checkpoint file, or its URL (downloaded once)
    const release = file ? holdCheckpointReads() : () => {}; // read (and hashed) once: to name its model, then to convert it
    try {
      // A checkpoint file names its architecture only when it is a published one (by its hash) or cnn-zoo's ONNX export.
      const id = file ? await identifyCheckpointFile(file) : undefined;
      if (file && !id) {
        throw await unnamedCheckpoint(file, `its architecture is unknown: name it, load(NAME, { weights: "${name}" }).`, `"${name}"`);
      }
      // A new head on them (a trained classifier given new classes): the weights name the architecture it goes on.
      if (opts.classes !== undefined) return await load(id?.arch ?? (await archOfWeights(name)).name, { ...opts, weights: file ?? name });
      if (file && id) {
        spec = getSpec(id.arch);
        ({ model, source, onnxFile } = await withFileWeights(spec, file, opts, id));
      } else ({ spec, model } = await fromArtifacts(name, opts));
    } finally {
      release();
    }
  } else if (opts.classes !== undefined) {
    spec = getSpec(name);
    const where = `load("${spec.name}", { classes })`;
    const classes = checkClasses(opts.classes, where);
    const clash = (['numClasses', 'includeTop', 'pooling'] as const).find((k) => opts[k] !== undefined && !(k === 'numClasses' && opts[k] === classes.length));
    if (clash || opts.inference) {
      throw new CnnZooError(`${where}: a new head has one output per class, in the training form; leave out ${clash ?? 'inference'}.`, 'BAD_OPTION');
    }
    await startBackend();
    const { model: trainable, meta } = await withNewHead(spec, classes, opts);
    return onRuntime(new ZooModel(trainable, spec, meta), opts, { trainingForm: true, source: null, shipped: false }, choice);
  } else {
    spec = getSpec(name);
    await startBackend();
    const file = typeof opts.weights === 'string' && await isCheckpointFile(opts.weights) ? opts.weights : undefined;
    if (file) {
      const release = holdCheckpointReads(); // read once: to convert it, then to see whether it is cnn-zoo's export
      try {
        ({ model, source, onnxFile } = await withFileWeights(spec, file, opts));
      } finally {
        release();
      }
    } else ({ model, source, shipped } = await modelAndWeights(spec, opts));
  }
  const meta = modelMetadata(model);
  const inference = opts.inference ?? (meta?.includeTop !== false && opts.includeTop !== false && opts.numClasses === undefined);
  if (inference) {
    model = intoInference(model); // the training form disposed as it is folded
    if (meta) model.setUserDefinedMetadata({ cnnZoo: meta });
  }
  return onRuntime(new ZooModel(model, spec, meta), opts, { trainingForm: !inference, source, shipped, ...(inference && onnxFile ? { onnxFile } : {}) }, choice);
}

/**
 * The architecture that converted weights at `place` name, built with them. In a function of its own so that the weights'
 * bytes as read (ResNet-50: 98 MB) are garbage once it returns, not held by load()'s frame while the session opens.
 */
async function fromArtifacts(place: string, opts: LoadModelOptions): Promise<{ spec: ModelSpec; model: tf.LayersModel }> {
  const read = await readArtifacts(place, { cache: opts.cache, shardReader: true });
  let spec: ModelSpec;
  try {
    spec = getSpec(read.meta.arch);
  } catch (e) {
    read.shards?.close();
    throw e;
  }
  return { spec, model: buildFromArtifacts(spec, read, opts) };
}

/**
 * `spec` with the weights of checkpoint file `file` (`id`: what the file says of itself, when already read), and, when
 * it is cnn-zoo's ONNX export that computes this model, the file for onnxruntime to run as stored.
 */
async function withFileWeights(spec: ModelSpec, file: string, opts: LoadModelOptions, id?: CheckpointIdentity):
  Promise<{ model: tf.LayersModel; source: WeightsSource | null; onnxFile?: RuntimeContext['onnxFile'] }> {
  const { model, source } = await modelAndWeights(spec, { ...opts, weights: file });
  const known = id ?? await identifyCheckpointFile(file);
  return { model, source, onnxFile: known ? runsAsExported(known, file, model, opts) : undefined };
}

/**
 * cnn-zoo's ONNX export given as weights, when onnxruntime can run the file itself: it computes what the built model
 * does (its logits first, then any feature maps, `--features`; input "input" of the model's size, NHWC or NCHW; no
 * option that builds the model otherwise).
 */
function runsAsExported(id: CheckpointIdentity, file: string, model: tf.LayersModel, opts: LoadModelOptions): RuntimeContext['onnxFile'] {
  const io = id.exportedIo;
  if (!id.exported || !id.exportedAs || !io || io.outputs[0]?.name !== 'logits') return undefined;
  if (io.input.name !== 'input' || (io.input.layout !== 'NHWC' && io.input.layout !== 'NCHW')) return undefined;
  // An inputSize builds the model at that size: the file runs when it is the file's (the shapes below).
  if ((['includeTop', 'pooling', 'numClasses', 'globalPool'] as const).some((k) => opts[k] !== undefined)) return undefined;
  const [h, w, c] = model.inputs[0]!.shape.slice(1);
  const want = (io.input.layout === 'NCHW' ? [c, h, w] : [h, w, c]).join();
  return io.input.shape.slice(1).join() === want ? { path: file, as: id.exportedAs, io, sha256: id.sha256 } : undefined;
}

/** `zoo` put on its runtime (src/api/runtime.ts), with the one line that says what runs when load() chose it. */
async function onRuntime(zoo: ZooModel, opts: LoadModelOptions, ctx: Pick<RuntimeContext, 'trainingForm' | 'source' | 'shipped' | 'onnxFile'>,
  choice: BackendChoice | null): Promise<ZooModel> {
  let r;
  try {
    r = await startRuntime(zoo, { ...ctx, runtime: opts.runtime, backend: opts.backend !== undefined, cacheDir: opts.hub?.cacheDir });
  } catch (e) {
    zoo.dispose();
    throw e;
  }
  if (choice && opts.runtime === undefined) {
    const tail = '(choose with load(name, { runtime }) and useBackend(name); CNN_ZOO_QUIET=1 silences this line)';
    const c: BackendChoice = choice;
    announce(r.runtime === 'onnxruntime'
      ? `cnn-zoo: running on onnxruntime (${r.detail}); tfjs on ${c.name} (${c.detail}) holds model.model ${tail}`
      : `${c.message}; onnxruntime: ${r.detail} ${tail}`);
  } else if (choice) {
    announce(`${(choice as BackendChoice).message} (choose with useBackend(name); CNN_ZOO_QUIET=1 silences this line)`);
  }
  return zoo;
}

export { ZooModel };
export type { FitHistory, FitOptions, FitProgress, EpochStats, LabelledImages, TrainingData, TrainingImage } from './training.js';
export type { Card, WeightsInfo } from './cards.js';
