/**
 * A fine-tuned model is a zoo model: `load(base, { classes })` puts a new head for those classes on the base's
 * pretrained backbone (the registry's own classifier layers, so saved weights load back by the registry build),
 * and `ZooModel.fit()` trains it through the trainer that src/train registers here (src/train sits above src/api
 * in the tree, so this file holds the contract and src/train the implementation).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { IMAGENET_DEFAULT } from '../image/preprocess.js';
import { resolveOptions } from '../zoo/registry.js';
import { withoutInitialisation } from '../zoo/ops.js';
import type { ModelSpec } from '../zoo/types.js';
import { modelMetadata, withBuildOptions, type CnnZooMetadata, type TrainingInfo } from '../artifacts/metadata.js';
import { modelWithWeights, weightsOrigin, type WeightsOptions } from './weights.js';
import { featureLayerNames } from '../zoo/heads.js';
import type { ImageInput } from './inputs.js';

/** Labelled images in memory: `label` indexes `classes`. */
export interface LabelledImages {
  classes: readonly string[];
  items: readonly { image: ImageInput; label: number }[];
}

/** An image labelled with the name of one of the model's classes (or its index in `model.labels`). */
export interface TrainingImage {
  image: ImageInput;
  label: string | number;
}

/**
 * What `fit()` trains on: a folder with one sub-folder of images per class (Node), labelled images as a list
 * (labels are the model's class names), or `{ classes, items }` (labels index `classes`).
 */
export type TrainingData = string | readonly TrainingImage[] | LabelledImages;

/** Progress of `fit()`: features extracted (images), head epochs, fine-tuning steps (images; held-out accuracy at each epoch's end). */
export type FitProgress =
  | { phase: 'features'; done: number; total: number }
  | { phase: 'head'; epoch: number; epochs: number; loss: number; accuracy: number; valAccuracy: number | null }
  | { phase: 'fine-tune'; epoch: number; epochs: number; done: number; total: number; loss: number; valAccuracy: number | null };

export interface FitOptions {
  /** Epochs of the head on frozen features (default 20). */
  epochs?: number;
  /** Also train the backbone's last N layers with weights, end to end after the head (default 0: head only). */
  fineTune?: number;
  /** Epochs of end-to-end fine-tuning when `fineTune` > 0 (default 2). */
  fineTuneEpochs?: number;
  /** Augmented copies (random resized crop + flip) of each training image, besides the image itself (default 2). */
  augment?: number;
  /** Fraction of each class held out to measure accuracy (default 0.2; 0: none). */
  validationSplit?: number;
  /**
   * Images to measure accuracy on instead of a split (Keras' `validation_data`): a folder with a sub-folder per class
   * (e.g. `data/val` beside `data/train`), a list of `{ image, label }`, or `{ classes, items }`. Every image of the training data then trains.
   */
  validationData?: TrainingData;
  /**
   * Images per step (default 32 for the head, 8 for fine-tuning unless given). A fine-tuning step of more than 8 images
   * runs as micro-batches of at most 8 whose gradients are summed before its one update (the same update; less memory).
   */
  batchSize?: number;
  /** Adam learning rate of the head (default 1e-3) and of fine-tuning (default 1e-5, as Keras' transfer-learning guide). */
  learningRate?: number;
  fineTuneLearningRate?: number;
  /** Seed of the split, the augmentation, the shuffles and the head's dropout (default 1): the same seed repeats a run. */
  seed?: number;
  /**
   * Leave out images that cannot be decoded (corrupt or truncated files), listed in `history.skipped`, instead of
   * stopping at the first one (default false: the error names the file).
   */
  skipUnreadable?: boolean;
  onProgress?: (p: FitProgress) => void;
}

export const FIT_OPTIONS = ['epochs', 'fineTune', 'fineTuneEpochs', 'augment', 'validationSplit', 'validationData', 'batchSize', 'learningRate',
  'fineTuneLearningRate', 'seed', 'skipUnreadable', 'onProgress'] as const satisfies readonly (keyof FitOptions)[];

/** One epoch of `fit()`: mean training loss and accuracy, and held-out accuracy when measured. */
export interface EpochStats {
  phase: 'head' | 'fine-tune';
  epoch: number;
  loss: number;
  accuracy: number;
  valAccuracy: number | null;
}

/** What `fit()` returns: plain numbers. */
export interface FitHistory {
  classes: string[];
  backend: string;
  /**
   * What computed the frozen backbone's features (and, fine-tuning, the outputs of the layers before the fine-tuned
   * ones): onnxruntime-node where it is installed (Node, tfjs on wasm or cpu, 32 images or more), else tfjs.
   */
  featuresRuntime: 'onnxruntime-node' | 'tfjs';
  trainImages: number;
  /** Training examples of the head: each training image and its augmented copies. */
  trainExamples: number;
  validationImages: number;
  /** Images left out because they could not be decoded (corrupt, truncated, not an image): the file (or its index) and why. */
  skipped: { image: string; error: string }[];
  epochs: EpochStats[];
  /** Held-out accuracy after the head (and after fine-tuning, when asked); null without held-out images. */
  headValidationAccuracy: number | null;
  validationAccuracy: number | null;
  seconds: { features: number; head: number; fineTune: number; total: number };
}

/** What the trainer gets from a `ZooModel`. */
export interface TrainingContext {
  name: string;
  /** The classifier in its training form. */
  model: tf.LayersModel;
  /** Layer names of the backbone (the architecture built without its classifier). */
  featureLayers: ReadonlySet<string>;
  classes: readonly string[];
  preprocess(images: readonly ImageInput[]): Promise<tf.Tensor4D>;
  /** 'tfjs' when load() was told runtime: 'tfjs' or given a tfjs backend: the frozen features are computed by tfjs too. */
  featuresRuntime: 'auto' | 'tfjs';
}

export type Trainer = (ctx: TrainingContext, data: TrainingData, opts: FitOptions) => Promise<{ history: FitHistory; settings: NonNullable<TrainingInfo['fit']> }>;

let trainer: Trainer | undefined;

/** src/train registers its `fit` here (importing `cnn-zoo` does it). */
export function registerTrainer(t: Trainer): void {
  trainer = t;
}

export function registeredTrainer(): Trainer {
  if (!trainer) throw new CnnZooError('fit() needs the trainer of src/train: import it from "cnn-zoo" (not a subpath).', 'NO_TRAINER');
  return trainer;
}

/** The class names of a new head, checked: at least two, unique, non-empty strings. */
export function checkClasses(classes: unknown, where: string): string[] {
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string' && c.trim() !== '')) {
    // Keras' `classes` is a count: a number here is read as one.
    const count = typeof classes === 'number' ? ` Got the number ${classes}: ${Number.isInteger(classes) && classes >= 2 ? `name the ${classes} classes ` +
      `(e.g. Array.from({ length: ${classes} }, (_, i) => \`class \${i}\`)), or for a random model of ${classes} outputs pass weights: null, numClasses: ${classes}.` : 'give their names.'}` : '';
    throw new CnnZooError(`${where}: classes must be a list of class names (non-empty strings), e.g. ['cat', 'dog'].${count}`, 'BAD_OPTION');
  }
  if (classes.length < 2) {
    throw new CnnZooError(`${where}: a classifier needs at least two classes, got ${classes.length}${classes.length ? ` (${classes[0]})` : ''}. ` +
      'Add images of another class (one sub-folder per class).', 'BAD_CLASSES');
  }
  const dup = classes.find((c, i) => classes.indexOf(c) !== i);
  if (dup !== undefined) throw new CnnZooError(`${where}: class "${dup}" is named twice; class names must be unique.`, 'BAD_CLASSES');
  return [...classes] as string[];
}

/**
 * `spec` with a new classifier for `classes` on the backbone of its pretrained weights (by the weights rule), in
 * its training form. Backbone layers take the base's weights; the classifier layers are initialised with a fixed
 * seed (Glorot uniform kernels, zero biases) so runs repeat. The metadata names the base checkpoint.
 */
export async function withNewHead(spec: ModelSpec, classes: readonly string[], opts: WeightsOptions): Promise<{ model: tf.LayersModel; meta: CnnZooMetadata }> {
  const { inputSize, globalPool } = opts;
  const base = await modelWithWeights(spec, { weights: opts.weights, cache: opts.cache, hub: opts.hub, inputSize, globalPool });
  const baseMeta = modelMetadata(base);
  const size = base.inputs[0]!.shape[1] as number;
  const ctx = resolveOptions(spec, { inputSize: size, numClasses: classes.length, globalPool });
  const model = withoutInitialisation(() => spec.build(ctx)); // every weight is set below: the base's, or the head's seeded draw
  try {
    const backbone = featureLayerNames(spec, size);
    let seed = 1;
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      if (backbone.has(layer.name)) layer.setWeights(base.getLayer(layer.name).getWeights());
      else {
        const init = layer.weights.map((w) => {
          const shape = w.shape as number[];
          return shape.length >= 2 ? tf.initializers.glorotUniform({ seed: seed++ }).apply(shape) : tf.zeros(shape);
        });
        layer.setWeights(init);
        tf.dispose(init);
      }
    }
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    base.dispose();
  }
  const training: TrainingInfo = { base: { arch: spec.name, weights: weightsOrigin(spec, opts.weights), ...(baseMeta ? { source: baseMeta.source } : {}) } };
  const meta = withBuildOptions({
    format: 'cnn-zoo-weights/1', arch: spec.name, inputSize: size, numClasses: classes.length,
    preprocessing: baseMeta?.preprocessing ?? { ...IMAGENET_DEFAULT, size }, labels: [...classes], classOffset: 0,
    source: baseMeta?.source ?? { format: 'random', files: [] }, licence: baseMeta?.licence ?? 'unknown', dtype: 'float32', training,
  }, ctx);
  model.setUserDefinedMetadata({ cnnZoo: meta });
  return { model, meta };
}
