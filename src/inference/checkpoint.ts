/**
 * Folded checkpoints. TFLite (and `torch.ao` fusion) store a conv's weight and bias with the batch norm
 * already folded in; the inference form loads those directly with `loadStateDict`, since its fused layers
 * keep the conv's name and role table. `foldStateDict` turns an ordinary PyTorch state_dict into that form.
 */
import type * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { create } from '../zoo/registry.js';
import type { CreateOptions, KeyRule } from '../zoo/types.js';
import type { NamedArray, StateDict } from '../arrays.js';
import { foldTorchPair } from './fold.js';
import { FusedConv2D } from '../layers/fused-conv2d.js';
import { FusedDense } from '../layers/fused-dense.js';
import { intoInference, type InferenceOptions } from './transform.js';

/** Build `name` (random weights) directly in its inference form, e.g. to load a folded checkpoint into. */
export function createInference(name: string, options: CreateOptions = {}, inference: InferenceOptions = {}): tf.LayersModel {
  return intoInference(create(name, options), inference); // the training form folded in place and disposed
}

const BOOKKEEPING = /(^|\.)num_batches_tracked$/;

/**
 * The folded state_dict for `inferenceModel` (made by `toInference`/`createInference`): for every fused layer
 * that absorbed a batch norm, `<layer>.weight`/`<layer>.bias` become the folded pair (float64 arithmetic) and
 * the batch norm's keys go. `rule` renames the checkpoint's keys into our layer names first.
 */
export function foldStateDict(inferenceModel: tf.LayersModel, stateDict: StateDict, rule?: KeyRule): StateDict {
  const keyed: StateDict = new Map();
  for (const [key, value] of stateDict) {
    if (BOOKKEEPING.test(key)) continue;
    const ours = rule ? rule(key) : key;
    if (ours !== null) keyed.set(ours, value);
  }
  const need = (key: string, bn: string): NamedArray => {
    const v = keyed.get(key);
    if (!v) throw new CnnZooError(`foldStateDict: the checkpoint lacks "${key}", needed to fold batch norm "${bn}". Is it the checkpoint of this model?`, 'WEIGHTS_MISMATCH');
    return v;
  };
  for (const layer of inferenceModel.layers) {
    if (!(layer instanceof FusedConv2D) && !(layer instanceof FusedDense)) continue;
    const bn = layer.absorbed.find((a) => a.role === 'batchnorm');
    if (!bn) continue;
    // A lone batch norm (the layer bears its name) folds into an identity depthwise 1x1 conv, weight [C, 1, 1, 1].
    const alone = layer instanceof FusedConv2D && layer.isBatchNorm;
    const weight = alone ? { shape: [layer.filters, 1, 1, 1], data: new Float32Array(layer.filters).fill(1) } : need(`${layer.name}.weight`, bn.name);
    const folded = foldTorchPair(weight, alone ? undefined : keyed.get(`${layer.name}.bias`), {
      weight: keyed.get(`${bn.name}.weight`), bias: keyed.get(`${bn.name}.bias`),
      runningMean: need(`${bn.name}.running_mean`, bn.name), runningVar: need(`${bn.name}.running_var`, bn.name),
      eps: bn.epsilon ?? 1e-5,
    });
    for (const suffix of ['weight', 'bias', 'running_mean', 'running_var']) keyed.delete(`${bn.name}.${suffix}`);
    keyed.set(`${layer.name}.weight`, folded.weight);
    keyed.set(`${layer.name}.bias`, folded.bias);
  }
  return keyed;
}
