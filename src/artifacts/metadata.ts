/**
 * `userDefinedMetadata.cnnZoo`: what converted weights carry beside their tensors (architecture, input size, classes,
 * preprocessing, labels, class offset, source files with sha256, licence, storage dtype), and the one reader of it.
 */
import type * as tf from '@tensorflow/tfjs';
import type { PreprocessConfig } from '../image/types.js';
import type { BuildContext, Pooling } from '../zoo/types.js';
import { CnnZooError } from '../errors.js';

export type WeightDtype = 'float32' | 'float16' | 'uint8';
export const WEIGHT_DTYPES: readonly WeightDtype[] = ['float32', 'float16', 'uint8'];

/** Where a converted model's weights came from. */
export interface WeightsSourceInfo {
  /** Checkpoint format (`tflite`, `torch`, ...). */
  format: string;
  files: { name: string; bytes: number; sha256: string }[];
  /** Origin of the original weights (repository, paper), when known. */
  origin?: string;
}

/** `userDefinedMetadata.cnnZoo` of a converted model. */
export interface CnnZooMetadata {
  format: 'cnn-zoo-weights/1';
  /** Registry name of the architecture. */
  arch: string;
  /** Input height (and width, unless `inputWidth` says otherwise). */
  inputSize: number;
  /** Present when the input is not square (`create(name, { inputSize: [height, width] })`): its width. */
  inputWidth?: number;
  numClasses: number;
  preprocessing: PreprocessConfig;
  /** A label-set id (`imagenet1k`) or the class names themselves. */
  labels: string | string[];
  /** Output index of label 0 (1 for TF's 1001-class models, whose index 0 is "background"). */
  classOffset: number;
  source: WeightsSourceInfo;
  licence: string;
  /** How weights are stored (tfjs quantization). */
  dtype: WeightDtype;
  /** Present when the model was saved without its classifier (`includeTop: false`): it loads back that way. */
  includeTop?: false;
  /** With `includeTop: false`, the global pooling it was saved with (null: the last feature map). */
  pooling?: Pooling | null;
  /** Present when the model was built with `globalPool: true` (a global average pool for the reference's fixed window): it loads back that way. */
  globalPool?: true;
  /** A classifier trained by cnn-zoo (`load(base, { classes })` + `fit()`): its base checkpoint and training settings. */
  training?: TrainingInfo;
}

/** How a fine-tuned classifier was made: the base checkpoint and the settings of its last `fit()`. */
export interface TrainingInfo {
  /** The pretrained model the new head was put on: its registry name, which weights ('shipped', 'imagenet', a folder...) and their source. */
  base: { arch: string; weights: string; source?: WeightsSourceInfo };
  /** Settings and outcome of the last `fit()`, absent until then. */
  fit?: {
    epochs: number;
    fineTune: number;
    fineTuneEpochs: number;
    augment: number;
    validationSplit: number;
    /** The folder the held-out images came from (`validationData`; 'images' when given in memory), instead of a split. */
    validationData?: string;
    batchSize: number;
    learningRate: number;
    fineTuneLearningRate: number;
    seed: number;
    trainImages: number;
    validationImages: number;
    /** Images of the data left out because they could not be decoded. */
    skippedImages?: number;
    /** Held-out accuracy after the last phase (null without held-out images). */
    validationAccuracy: number | null;
    backend: string;
    /** onnxruntime-node when it computed the frozen features (tfjs otherwise: absent). */
    featuresRuntime?: 'onnxruntime-node';
  };
}

/** The cnn-zoo metadata of a model (loaded or converted), or undefined. */
export function modelMetadata(model: tf.LayersModel): CnnZooMetadata | undefined {
  const meta = model.getUserDefinedMetadata() as { cnnZoo?: CnnZooMetadata } | undefined;
  return meta?.cnnZoo;
}

/**
 * `meta` describing a model built with these options (`includeTop`, `pooling`, `globalPool`, a non-square input), so
 * that it saves and loads back as built.
 */
export function withBuildOptions(meta: CnnZooMetadata, built: BuildContext): CnnZooMetadata {
  const { includeTop: _top, pooling: _pooling, globalPool: _global, inputWidth: _width, ...rest } = meta;
  return {
    ...rest, inputSize: built.inputHeight,
    ...(built.inputWidth !== built.inputHeight ? { inputWidth: built.inputWidth } : {}),
    ...(built.includeTop ? {} : { includeTop: false as const, pooling: built.pooling }),
    ...(built.globalPool ? { globalPool: true as const } : {}),
  };
}

/** What model.json says of the model beside its metadata: enough to tell a tfjs model that cnn-zoo did not write. */
interface ArtifactKind { format?: string; modelTopology?: unknown }

/** Validate metadata read from an artifact; `artifacts` (its model.json) names what it is when it has none. */
export function checkMetadata(value: unknown, where: string, artifacts?: ArtifactKind): CnnZooMetadata {
  const m = (value as { cnnZoo?: CnnZooMetadata } | undefined)?.cnnZoo;
  if (!m || m.format !== 'cnn-zoo-weights/1' || typeof m.arch !== 'string' || !m.preprocessing) {
    type Named = { config?: { name?: unknown } };
    const topology = artifacts?.modelTopology as (Named & { node?: unknown; model_config?: Named }) | undefined;
    const graph = artifacts?.format === 'graph-model' || (topology !== undefined && 'node' in topology);
    const name = (topology?.model_config ?? topology)?.config?.name; // Keras' model.json, or tfjs' own
    const what = graph
      ? 'a tfjs graph model (tensorflowjs_converter\'s output of a SavedModel or frozen graph), which has no layers to build a zoo model ' +
        'from and no cnn-zoo metadata (userDefinedMetadata.cnnZoo): run it with tf.loadGraphModel, or convert the original checkpoint ' +
        '(Keras .h5, TFLite, ONNX, PyTorch, ...) with `cnn-zoo convert --arch NAME CHECKPOINT --out DIR`.'
      : `${artifacts ? `a tfjs layers model${typeof name === 'string' ? ` ("${name}")` : ''} that cnn-zoo did not write: ` : ''}no cnn-zoo ` +
        'metadata (userDefinedMetadata.cnnZoo) names its architecture and preprocessing. To use its weights in a zoo model: `cnn-zoo ' +
        'convert --arch NAME --from tfjs MODEL.json --out DIR` (its layers matched by name or order); to run it as it is, tf.loadLayersModel.';
    throw new CnnZooError(`${where}: ${what}`, 'BAD_ARTIFACT');
  }
  return m;
}
