/** Inference form of zoo models: batch norm folded, activations and residual adds fused (issue 9). */
export { toInference, intoInference, layerCensus, type InferenceOptions } from './transform.js';
export { createInference, foldStateDict } from './checkpoint.js';
export { FusedConv2D, type FusedConv2DConfig, type AbsorbedLayer, type ConvPadding } from '../layers/fused-conv2d.js';
export { FusedDense, type FusedDenseConfig } from '../layers/fused-dense.js';
export { FUSED_ACTIVATIONS, type FusedActivation } from '../layers/activation.js';
export { warmUp, type WarmUpTimes } from './warmup.js';
