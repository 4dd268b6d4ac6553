/** A tfjs layers artifact (model.json + shards, Keras-style weight names) read as a checkpoint. */
import type * as tf from '@tensorflow/tfjs';
import { artifactArrays } from '../artifacts/save.js';
import { kerasStateDict } from './keras.js';
import type { StateDict } from '../arrays.js';

/** A tfjs layers artifact (Keras-style weight names) as a PyTorch-layout StateDict, plus its input size. */
export async function tfjsStateDict(artifacts: tf.io.ModelArtifacts, source: string): Promise<{ stateDict: StateDict; inputSize?: number }> {
  const stateDict = kerasStateDict(artifacts.weightSpecs ? await artifactArrays(artifacts, source) : new Map(), source);
  const text = JSON.stringify(artifacts.modelTopology ?? {});
  const m = /"batch_input_shape":\s*\[null,\s*(\d+),\s*(\d+),\s*3\]/.exec(text);
  return { stateDict, inputSize: m && m[1] === m[2] ? Number(m[1]) : undefined };
}
