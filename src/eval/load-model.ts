/**
 * The model to evaluate: `load(name, { weights })` (src/artifacts/read.ts) from converted artifacts, the package's
 * embedded weights when the model has them and no folder is given, else the architecture with random weights
 * (useful for smoke tests and timing; reports ignore the accuracy of random weights).
 */
import type * as tf from '@tensorflow/tfjs';
import { EMBEDDED } from '../artifacts/shipped.js';
import { load } from '../artifacts/read.js';
import { create, getSpec } from '../zoo/registry.js';

export interface LoadedModel {
  model: tf.LayersModel;
  /** The weights folder, 'embedded', or 'random'. */
  weights: string;
}

/** `name` with the weights in `weightsDir`, else its embedded weights, else random weights. */
export async function loadModelForEval(name: string, weightsDir?: string): Promise<LoadedModel> {
  const spec = getSpec(name);
  if (weightsDir !== undefined) return { model: await load(spec.name, { weights: weightsDir }), weights: weightsDir };
  if (EMBEDDED[spec.name]) return { model: await load(spec.name), weights: 'embedded' };
  return { model: create(spec.name), weights: 'random' };
}
