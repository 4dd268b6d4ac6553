/**
 * The model to evaluate or benchmark: converted weights from a folder of tfjs artifacts (model.json with
 * `userDefinedMetadata.cnnZoo`, as `cnn-zoo convert` writes), or the registry architecture with random weights.
 */
import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import { CnnZooError } from '../errors.js';
import { checkMetadata } from '../weights/artifacts.js';
import { nodeFileSystem } from '../weights/io-node.js';
import { create, getSpec } from '../zoo/registry.js';

export interface LoadedModel {
  model: tf.LayersModel;
  /** 'random' when no weights were given. */
  weights: string;
}

/** `name` with the weights in `weightsDir`, or with random weights when `weightsDir` is undefined. */
export async function loadModelForEval(name: string, weightsDir?: string): Promise<LoadedModel> {
  const spec = getSpec(name);
  if (weightsDir === undefined) return { model: create(spec.name), weights: 'random' };
  const model = await tf.loadLayersModel(nodeFileSystem(weightsDir));
  const meta = checkMetadata(model.getUserDefinedMetadata(), weightsDir);
  if (meta.arch !== spec.name) {
    model.dispose();
    throw new CnnZooError(`${weightsDir} holds weights for "${meta.arch}", not "${spec.name}". Pass --model ${meta.arch}.`, 'WEIGHTS_MISMATCH');
  }
  return { model, weights: weightsDir };
}
