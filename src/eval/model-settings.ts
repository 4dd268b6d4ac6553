/**
 * What evaluation needs to know about a model beyond its graph: its preprocessing and class offset. Taken from
 * the options, else from the artifacts' `userDefinedMetadata` (written by the weight converters:
 * `{ preprocess: PreprocessConfig, classOffset: number, labels: ... }`), else torchvision's ImageNet defaults at
 * the model's input size (class offset 1 for 1001-class TF models, whose class 0 is "background").
 */
import type * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { IMAGENET_DEFAULT, checkPreprocessConfig } from '../image/preprocess.js';
import type { PreprocessConfig } from '../image/types.js';
import { modelMetadata, type CnnZooMetadata } from '../artifacts/metadata.js';
import { classOffsetFor } from '../labels/index.js';

export interface ModelSettings {
  preprocess: PreprocessConfig;
  /** Logit index of class 0 (1 when the model has an extra background class first). */
  classOffset: number;
  /** Logits per image. */
  numOutputs: number;
  /** Where `preprocess` came from. */
  source: 'options' | 'metadata' | 'default';
}

/** Input height and width of a model ([batch, H, W, 3] input). */
export function inputSizeOf(model: tf.LayersModel): [number, number] {
  const shape = model.inputs[0]!.shape;
  if (shape.length !== 4 || shape[3] !== 3) {
    throw new CnnZooError(`Expected a model taking [batch, height, width, 3] images, its input is [${shape.join(', ')}].`, 'BAD_MODEL');
  }
  return [shape[1] ?? 224, shape[2] ?? 224];
}

/** Resolves preprocessing and class offset for `model` (see the module comment). */
export function modelSettings(model: tf.LayersModel, opts: { preprocess?: PreprocessConfig; classOffset?: number } = {}): ModelSettings {
  const meta: Partial<CnnZooMetadata> = modelMetadata(model) ?? {};
  const [h, w] = inputSizeOf(model);
  const out = model.outputs[0]!.shape;
  const numOutputs = out[out.length - 1] ?? 0;
  const preprocess = opts.preprocess ?? meta.preprocessing ?? { ...IMAGENET_DEFAULT, size: h };
  checkPreprocessConfig(preprocess);
  if (preprocess.size !== h || preprocess.size !== w) {
    throw new CnnZooError(`Preprocessing makes ${preprocess.size}x${preprocess.size} inputs but the model takes ${h}x${w}. ` +
      `Set preprocess.size to ${h} or build the model with inputSize ${preprocess.size}.`, 'BAD_PREPROCESS_CONFIG');
  }
  const classOffset = opts.classOffset ?? meta.classOffset ?? classOffsetFor(numOutputs);
  return { preprocess, classOffset, numOutputs, source: opts.preprocess ? 'options' : meta.preprocessing ? 'metadata' : 'default' };
}
