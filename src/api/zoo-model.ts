/**
 * `ZooModel`: a loaded (or created) zoo model with its preprocessing and labels, and a high-level API that
 * takes images and returns plain JS objects (no tensors leak): classify, embed, features, preprocess.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, checkOptionKinds, checkOptionNames, shown } from '../errors.js';
import { IMAGENET_DEFAULT, preprocessBatch } from '../image/preprocess.js';
import type { PreprocessConfig } from '../image/types.js';
import { modelMetadata, type CnnZooMetadata } from '../artifacts/metadata.js';
import type { FeatureStage, ModelCard, ModelSpec } from '../zoo/types.js';
import { cardOf } from './cards.js';
import { warmUp } from '../inference/warmup.js';
import { classNames, predictions, type ClassNames, type ClassPrediction } from './predictions.js';
import { checkInputShape } from '../zoo/input-check.js';
import { embeddingLayer, embeddingModel, featureLayerNames, featureLayerReductions, featureStages, hasClassifier, noClassifier, outputsPooledFeatures } from '../zoo/heads.js';
import { toPixelBuffers, type ImageInput } from './inputs.js';
import { FIT_OPTIONS, registeredTrainer, type FitHistory, type FitOptions, type TrainingData } from './training.js';
import { saveHandler } from '../artifacts/read.js';
import { saveConverted } from '../artifacts/save.js';
import { OnnxSession, softmaxRows, type OrtOutput } from '../onnx/runtime.js';
import { runsOnTfjsOnly } from './runtime.js';

/** The onnxruntime a model runs on: its sessions are made on demand (main graph, embedding, feature stages). */
export interface OnnxRuntimeState {
  /** The package: onnxruntime-node or onnxruntime-web. */
  name: 'onnxruntime-node' | 'onnxruntime-web';
  /** The main graph's session (created by load()). */
  main: OnnxSession;
  /** Makes a session of a model sharing this one's layers (the embedding and feature-stage graphs; in memory). */
  open: (model: tf.LayersModel) => Promise<OnnxSession>;
}

/** A feature map as plain data: NHWC shape and values. */
export interface FeatureMap {
  layer: string;
  reduction: number;
  shape: number[];
  data: Float32Array;
}

export type { ClassPrediction };
/** Options of `ZooModel.classify`. */
export interface ClassifyOptions {
  /** Classes per image (default 5). */
  topK?: number;
  /** Images per forward pass for a list of images (default 8); the next ones are decoded while one runs. */
  batchSize?: number;
}

const DEFAULT_BATCH = 8;
const CLASSIFY_OPTIONS = ['topK', 'batchSize'] as const satisfies readonly (keyof ClassifyOptions)[];

/** An empty list of images (or a batch tensor of none) given to classify, embed, features or preprocess. */
const noImages = (model: string): CnnZooError =>
  new CnnZooError(`${model}: no images given (an empty list); pass an image or a list of one or more.`, 'BAD_INPUT');


/**
 * The model's outputs on `n` preprocessed images (NHWC `data`) on its runtime: `evaluate(zooModel, dataset)` measures
 * what classify runs (an int8 ONNX export as stored). Not part of the package's API (a static block sets it).
 */
export let runOnRuntime: (zoo: ZooModel, data: Float32Array, n: number) => Promise<OrtOutput[]>;

export class ZooModel {
  static {
    runOnRuntime = (zoo, data, n) => zoo.inFlight('evaluate', () => zoo.forward({ data, n }, zoo.model));
  }

  /** The tfjs model (use it for training, saving, or raw `predict` on preprocessed NHWC input). */
  readonly model: tf.LayersModel;
  readonly card: ModelCard;
  /** How images are turned into this model's input. */
  readonly preprocessing: PreprocessConfig;
  private meta?: CnnZooMetadata;
  private readonly spec?: ModelSpec;
  private readonly classes: ClassNames;
  private stagesCache?: FeatureStage[];
  private embedCache?: tf.LayersModel;
  private featuresCache = new Map<string, tf.LayersModel>();
  private ort?: OnnxRuntimeState;
  private ortSessions = new Map<tf.LayersModel, Promise<OnnxSession>>();
  private disposed = false;

  /**
   * Wrap a tfjs model: `spec` is its registry entry (or a card, for a model built elsewhere), `metadata` its weights'
   * (`modelMetadata(model)` by default).
   */
  constructor(model: tf.LayersModel, spec: ModelSpec | ModelCard, metadata: CnnZooMetadata | undefined = modelMetadata(model)) {
    this.model = model;
    this.spec = 'build' in spec ? spec : undefined;
    this.card = 'build' in spec ? cardOf(spec) : spec;
    this.meta = metadata;
    const size = model.inputs[0]!.shape[1] as number;
    this.preprocessing = metadata?.preprocessing ?? { ...IMAGENET_DEFAULT, size };
    const out = model.outputs[0]!.shape;
    this.classes = classNames(metadata, out[out.length - 1] as number);
  }

  get name(): string { return this.card.name; }

  /** `call` on a disposed model: a CnnZooError (tfjs would say a layer is disposed, deep inside the call). */
  private checkAlive(call: string): void {
    if (this.disposed) throw new CnnZooError(`${this.name}.${call}(): the model was disposed (model.dispose()); load it again to use it.`, 'DISPOSED');
  }

  /** Calls running now: `dispose()` while some run (a server shutting down) frees the model when the last one ends. */
  private running = 0;
  private fitting = false;

  /** Run call `call` (refused on a disposed model), counted in `running`. */
  private async inFlight<T>(call: string, f: () => Promise<T>): Promise<T> {
    this.checkAlive(call);
    this.running++;
    try {
      return await f();
    } finally {
      if (--this.running === 0 && this.disposed) this.release();
    }
  }

  /**
   * What classify, embed and features run on: `'onnxruntime-node'` / `'onnxruntime-web'` (the exported model) or
   * `'tfjs'` (`model.model` on tfjs's backend). `load(name, { runtime })` chooses it; `model.model` is always tfjs.
   */
  get runtime(): 'onnxruntime-node' | 'onnxruntime-web' | 'tfjs' { return this.ort?.name ?? 'tfjs'; }

  /** Run on onnxruntime from now on (load() does this); `null` goes back to tfjs and releases the sessions. */
  useOnnxRuntime(state: OnnxRuntimeState | null): void {
    this.releaseSessions();
    this.ort = state ?? undefined;
  }

  private releaseSessions(): void {
    this.ort?.main.release();
    for (const s of this.ortSessions.values()) s.then((x) => x.release(), () => undefined);
    this.ortSessions.clear();
  }

  /** The onnxruntime session of `model` (the main graph, or one made once for an embedding/features model). */
  private session(model: tf.LayersModel): Promise<OnnxSession> {
    const ort = this.ort!;
    if (model === this.model) return Promise.resolve(ort.main);
    let s = this.ortSessions.get(model);
    if (!s) {
      s = ort.open(model);
      this.ortSessions.set(model, s);
    }
    return s;
  }

  /**
   * `model` on a chunk of preprocessed images, on this model's runtime; outputs as plain data. `stored`: outputs of
   * the main session to fetch instead (the feature maps of an ONNX export run as stored, `OnnxSession.outputsOf`).
   */
  private async forward({ data, n }: { data: Float32Array; n: number }, model: tf.LayersModel, stored?: readonly string[]): Promise<OrtOutput[]> {
    const s = this.preprocessing.size;
    if (this.ort) {
      checkInputShape(this.model, [n, s, s, 3]);
      if (stored) return this.ort.main.run(data, [n, s, s, 3], stored);
      return (await this.session(model)).run(data, [n, s, s, 3]);
    }
    return this.predictArray({ data, n }, model, (outs) => Promise.all(outs.map(async (t) => ({ data: (await t.data()) as Float32Array, shape: t.shape }))));
  }

  /** Metadata of the weights (source, licence, classes, preprocessing; a trained classifier's base and settings). */
  get metadata(): CnnZooMetadata | undefined { return this.meta; }

  /** The class names, in the order of `classify()`'s `index` (empty without a classifier). */
  get labels(): string[] { return hasClassifier(this.model) ? [...this.classes.names] : []; }

  /** The training form (batch norm kept): not the fused inference form, which has other layers. */
  private get trainingForm(): boolean {
    return !this.model.layers.some((l) => l.getClassName().startsWith('Fused'));
  }

  /**
   * Train a classifier made by `load(base, { classes })`: its head on frozen backbone features (extracted once),
   * and with `fineTune: N` then also the backbone's last N layers end to end. `data` is a folder with one
   * sub-folder of images per class (Node) or labelled images. Returns the history, with held-out accuracy.
   */
  async fit(data: TrainingData, opts: FitOptions = {}): Promise<FitHistory> {
    return this.inFlight('fit', async () => {
      checkOptionNames(`${this.name}.fit()`, opts, FIT_OPTIONS);
      checkOptionKinds(`${this.name}.fit()`, opts, { onProgress: 'function', skipUnreadable: 'boolean' });
      const labels = this.meta?.labels;
      if (!this.spec || !this.trainingForm || !Array.isArray(labels) || this.classes.offset !== 0) {
        throw new CnnZooError(`${this.name}: fit() trains a classifier with its own classes in its training form; ` +
          `make one with load('${this.name}', { classes: [...] }) (or load a saved one with { inference: false }).`, 'NOT_TRAINABLE');
      }
      const size = this.model.inputs[0]!.shape[1] as number;
      // The exported graph holds the weights before training: from now on this model runs on tfjs.
      this.useOnnxRuntime(null);
      // Two fits at once would interleave their steps on the same weights.
      if (this.fitting) throw new CnnZooError(`${this.name}.fit(): another fit() of this model is running; await it first.`, 'BUSY');
      this.fitting = true;
      const { history, settings } = await registeredTrainer()({
        name: this.name, model: this.model, featureLayers: featureLayerNames(this.spec, size), classes: labels,
        preprocess: (images) => this.preprocess(images), featuresRuntime: runsOnTfjsOnly(this) ? 'tfjs' : 'auto',
      }, data, opts).finally(() => { this.fitting = false; });
      const training = this.meta!.training ?? { base: { arch: this.spec.name, weights: 'unknown' } };
      this.meta = { ...this.meta!, training: { ...training, fit: settings } };
      this.model.setUserDefinedMetadata({ cnnZoo: this.meta });
      return history;
    });
  }

  /**
   * Save the model (training form) as tfjs artifacts with its metadata (classes as labels, preprocessing, and for
   * a trained classifier its base checkpoint and training settings): a folder (Node), `indexeddb://NAME` or
   * `downloads://NAME` (browsers), an http(s) URL to upload it to (a POST, as `tf.LayersModel.save(url)`), or an
   * IOHandler. `load(dir)`, `load(arch, { weights: dir })`, `cnn-zoo classify --weights dir` and, in a browser,
   * `load('indexeddb://NAME')` read it back.
   */
  async save(dest: string | tf.io.IOHandler): Promise<void> {
    return this.inFlight('save', async () => {
      if (!this.spec || !this.meta) throw new CnnZooError(`${this.name}: save() needs a registry model with weights metadata (from load()).`, 'BAD_ARGS');
      if (!this.trainingForm) {
        throw new CnnZooError(`${this.name} is in its inference form (fused layers), which load() cannot refill; ` +
          `load it with { inference: false } to save it.`, 'BAD_ARGS');
      }
      if (typeof dest !== 'string' && typeof (dest as tf.io.IOHandler | null)?.save !== 'function') {
        throw new CnnZooError(`${this.name}.save(dest): dest is a folder path (Node), "indexeddb://NAME" or "downloads://NAME" (browsers), ` +
          `an http(s) URL to upload to, or a tf.io.IOHandler with save(); got ${shown(dest)}.`, 'BAD_ARGS');
      }
      await saveConverted(this.model, await saveHandler(dest), { ...this.meta, dtype: 'float32' });
    });
  }

  /** Feature stages: for each reduction (2, 4, 8, 16, 32), the layer whose output is the network's map there (a block's output, `featureStages`). */
  get stages(): FeatureStage[] {
    this.stagesCache ??= featureStages(this.model, this.spec && featureLayerNames(this.spec, this.model.inputs[0]!.shape[1] as number),
      this.spec && featureLayerReductions(this.spec));
    return this.stagesCache;
  }

  /** Preprocess images into a batch tensor [N, size, size, 3] (the caller disposes it). */
  async preprocess(input: ImageInput | readonly ImageInput[]): Promise<tf.Tensor4D> {
    const { data, n } = await this.inputArray(input);
    const s = this.preprocessing.size;
    return tf.tensor4d(data, [n, s, s, 3], 'float32');
  }

  /** Decode and preprocess into one NHWC Float32Array (typed-array pipeline, no tensors); `first`: a list part's place. */
  private async inputArray(input: ImageInput | readonly ImageInput[], first?: number): Promise<{ data: Float32Array; n: number }> {
    const [, h, w] = this.model.inputs[0]!.shape;
    if (h !== w) {
      throw new CnnZooError(`${this.name} takes ${h}x${w} inputs, and the preprocessing of classify(), embed(), features() and preprocess() ` +
        `crops squares: run model.model.predict() on [N, ${h}, ${w}, 3] tensors preprocessed your way, or build the model with one inputSize.`, 'NON_SQUARE_INPUT');
    }
    const images = await toPixelBuffers(input, this.preprocessing, first);
    if (images.length === 0) throw noImages(this.name);
    return { data: preprocessBatch(images, this.preprocessing), n: images.length };
  }

  /**
   * Preprocess, predict, and read the outputs with `read`. Reads are asynchronous (`data()`/`array()`): WebGPU has
   * no synchronous readback in Node (Dawn) and a slow one in browsers.
   */
  private async predictArray<T>({ data, n }: { data: Float32Array; n: number }, model: tf.LayersModel, read: (outs: tf.Tensor[]) => Promise<T>): Promise<T> {
    const s = this.preprocessing.size;
    const x = tf.tensor4d(data, [n, s, s, 3], 'float32');
    try {
      checkInputShape(this.model, x.shape);
      const y = model.predict(x);
      const outs = Array.isArray(y) ? y : [y];
      try { return await read(outs); } finally { tf.dispose(outs); }
    } finally {
      x.dispose();
    }
  }

  /**
   * `run` for outputs with one row per image, over a list of images in chunks of `batchSize`: chunk k + 1 is
   * decoded (sharp works on libuv's threads; in browsers, the image decoder's) while the model runs on chunk k, and
   * at most two chunks of decoded images are held. Each image's row is what a call on that image alone gives.
   * `stored`: as `forward`'s.
   */
  private async runRows<T>(input: ImageInput | readonly ImageInput[], model: tf.LayersModel, batchSize: number,
    read: (outs: OrtOutput[]) => T[], stored?: readonly string[]): Promise<T[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new CnnZooError(`${this.name}: batchSize must be a positive integer (images per forward pass), got ${shown(batchSize)}.`, 'BAD_OPTION');
    }
    const items = Array.isArray(input) ? (input as readonly ImageInput[]) : [input as ImageInput];
    if (items.length === 0) throw noImages(this.name);
    const rows: T[] = [];
    const prepare = (k: number) => {
      const p = Array.isArray(input) ? this.inputArray(items.slice(k, k + batchSize), k) : this.inputArray(input as ImageInput);
      p.catch(() => undefined); // awaited below; a failure while the previous chunk runs must not be unhandled
      return p;
    };
    let next = prepare(0);
    for (let k = 0; k < items.length; k += batchSize) {
      const chunk = await next;
      if (k + batchSize < items.length) next = prepare(k + batchSize); // decode ahead while the model runs
      rows.push(...read(await this.forward(chunk, model, stored)));
    }
    return rows;
  }

  /**
   * Top-k classes of one image (or of each image of a batch, when given an array or a batch tensor).
   * Probabilities are a softmax over the model's outputs.
   */
  async classify(input: ImageInput, opts?: ClassifyOptions): Promise<ClassPrediction[]>;
  async classify(input: readonly ImageInput[], opts?: ClassifyOptions): Promise<ClassPrediction[][]>;
  async classify(input: ImageInput | readonly ImageInput[], opts: ClassifyOptions = {}): Promise<ClassPrediction[] | ClassPrediction[][]> {
    return this.inFlight('classify', async () => {
      if (!hasClassifier(this.model)) throw noClassifier(this.name, 'use embed() or features(), or load weights that have a classifier.');
      checkOptionNames(`${this.name}.classify()`, opts, CLASSIFY_OPTIONS);
      const k = opts.topK ?? 5;
      if (!Number.isInteger(k) || k < 1) {
        throw new CnnZooError(`${this.name}.classify(): topK must be a positive integer (classes per image; more than the model has gives all), got ${shown(k)}.`, 'BAD_OPTION');
      }
      const rows = await this.runRows(input, this.model, opts.batchSize ?? DEFAULT_BATCH,
        ([logits]) => softmaxRows(logits!.data, logits!.shape[1]!).map((row) => predictions(row, this.classes, k)));
      const batch = Array.isArray(input) || (input instanceof tf.Tensor && input.rank === 4);
      return batch ? rows : rows[0]!;
    });
  }

  /**
   * Pooled features (the classifier's input: the fixtures' `pre_logits`), one row per image; of a model loaded with
   * `includeTop: false` and `pooling`, its output.
   */
  async embed(input: ImageInput | readonly ImageInput[], opts: { batchSize?: number } = {}): Promise<number[][]> {
    return this.inFlight('embed', async () => {
      checkOptionNames(`${this.name}.embed()`, opts, ['batchSize']);
      // The main session's graph gives it where it outputs it (load()'s export of a classifier, a `--features` file run
      // as stored); else an embedding model.
      const layer = embeddingLayer(this.model, () => this.stages);
      const stored = layer === undefined ? undefined : this.ort?.main.outputsOf([layer]);
      if (!stored) this.embedCache ??= outputsPooledFeatures(this.model) ? this.model : embeddingModel(this.model, () => this.stages);
      return this.runRows(input, this.embedCache ?? this.model, opts.batchSize ?? DEFAULT_BATCH, ([e]) => {
        const k = e!.shape[1]!;
        return Array.from({ length: e!.shape[0]! }, (_, r) => Array.from(e!.data.subarray(r * k, (r + 1) * k)));
      }, stored);
    });
  }

  /**
   * Feature maps at the named stages (indices into `stages`, default all), like timm's `features_only`.
   * One list per call, images batched along the first axis.
   */
  async features(input: ImageInput | readonly ImageInput[], opts: { stages?: readonly number[] } = {}): Promise<FeatureMap[]> {
    return this.inFlight('features', async () => {
      checkOptionNames(`${this.name}.features()`, opts, ['stages']);
      const all = this.stages;
      const picks = opts.stages ?? all.map((_, i) => i);
      if (!Array.isArray(picks) || picks.length === 0) {
        throw new CnnZooError(`${this.name}.features(): stages must be an array of stage indices (0..${all.length - 1}; leave it out for all), ` +
          `got ${Array.isArray(picks) ? 'an empty one' : shown(picks)}.`, 'BAD_OPTION');
      }
      for (const [k, i] of picks.entries()) {
        if (picks.indexOf(i) !== k) throw new CnnZooError(`${this.name}.features(): stage ${i} is named twice in stages [${picks.join(', ')}]; name each once.`, 'BAD_OPTION');
        if (!Number.isInteger(i) || i < 0 || i >= all.length) {
          throw new CnnZooError(`${this.name}: feature stage ${shown(i)} ${typeof i === 'number' ? 'does not exist' : 'is not a stage index'}; valid stages are 0..${all.length - 1} ` +
            `(${all.map((s) => `${s.layer} /${s.reduction}`).join(', ')}).`, 'BAD_OPTION');
        }
      }
      const layers = picks.map((i) => all[i]!.layer);
      // An ONNX export run as stored that outputs these feature maps (`--features`) gives them; else a features model.
      const stored = this.ort?.main.outputsOf(layers);
      const key = picks.join(',');
      let fm = stored ? undefined : this.featuresCache.get(key);
      if (!stored && !fm) {
        fm = tf.model({ inputs: this.model.inputs, outputs: layers.map((l) => this.model.getLayer(l).output as tf.SymbolicTensor), name: `${this.model.name}.features` });
        this.featuresCache.set(key, fm);
      }
      const outs = await this.forward(await this.inputArray(input), fm ?? this.model, stored);
      return outs.map((t, j) => ({ layer: all[picks[j]!]!.layer, reduction: all[picks[j]!]!.reduction, shape: t.shape, data: t.data }));
    });
  }

  /** Run once on a blank input so kernels compile / allocate before timing-sensitive calls. */
  async warmup(): Promise<void> {
    return this.inFlight('warmup', async () => {
      if (this.ort) {
        const n = this.preprocessing.size;
        await this.ort.main.run(new Float32Array(n * n * 3), [1, n, n, 3]);
        return;
      }
      await warmUp(this.model);
    });
  }

  /**
   * Free the model's weights (and its onnxruntime sessions); calls still running finish first (then it frees them).
   * Again: nothing; any call after it: an error.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.running === 0) this.release();
  }

  /** Free the tfjs model, the onnxruntime sessions and the derived models. */
  private release(): void {
    this.useOnnxRuntime(null);
    this.model.dispose();
    this.embedCache = undefined;
    this.featuresCache.clear();
  }
}
