/**
 * cnn-zoo: the public API (one screen). Everything else is behind documented subpaths:
 * `cnn-zoo/zoo` (registry, specs, building blocks), `cnn-zoo/layers` (custom layers), `cnn-zoo/checkpoints` (readers),
 * `cnn-zoo/convert` (mapping, conversion, the inference form), `cnn-zoo/pretrained` (publisher tables, download),
 * `cnn-zoo/image` (decoding, preprocessing), `cnn-zoo/eval` (evaluation, profiling, reports), `cnn-zoo/parity` (fixtures).
 */
// Models
export { list, info, load, create, ZooModel, type ListOptions, type LoadModelOptions } from './api/index.js';
export type { FitHistory, FitOptions, FitProgress, EpochStats, LabelledImages, TrainingData, TrainingImage } from './api/index.js';
// Training: importing it registers ZooModel.fit()'s trainer.
export { checkGradients } from './train/index.js';
export type { ClassPrediction } from './api/predictions.js';
export type { ClassifyOptions, FeatureMap } from './api/zoo-model.js';
export type { ImageInput } from './api/inputs.js';
export { getSpec } from './zoo/registry.js';
export type { CreateOptions, ModelCard, Pooling } from './zoo/types.js';
export { countParams, countFlops } from './zoo/count.js';
export { predictChecked } from './zoo/input-check.js';
export { toInference } from './inference/index.js';
export { CnnZooError } from './errors.js';
// Backends
export { useBackend, pickBackend, type BackendName, type BackendChoice } from './backend.js';
export { setOnnxRuntime, type RuntimeName } from './onnx/runtime.js';
// Weights
export { nodeFileSystem } from './artifacts/node-fs.js';
export { fromFileMap, type WeightsSource } from './artifacts/read.js';
export { modelMetadata, type CnnZooMetadata } from './artifacts/metadata.js';
export { convertCheckpoint, type ConvertOptions } from './convert/convert.js';
export { fetchWeights, checkpointsFor, type PublishedCheckpoint } from './pretrained/index.js';
// Images and evaluation
export { decodeImage } from './image/decode.js';
export { preprocess } from './image/preprocess.js';
// ONNX
export { exportOnnx, type OnnxExportOptions } from './onnx/export.js';
export { calibrate as calibrateInt8, type Int8Calibration } from './onnx/quantize.js';
// Training
export { registerWasmGradients } from './kernels/wasm-gradients.js';
export type { RgbImage, PreprocessConfig } from './image/types.js';
export { imagenetLabels } from './labels/index.js';
export { evaluate, type EvalResult } from './eval/evaluate.js';
export { openDataset } from './eval/dataset.js';
