/**
 * cnn-zoo for browsers: the model zoo, the high-level API (list/info/load, ZooModel), backends, the inference
 * form, weights loading (URL, file map, IOHandler, IndexedDB cache), labels and counting. Built into
 * `dist/browser/cnn-zoo.js` by `tools/build-browser.mjs` (the package's `browser` export), with
 * `@tensorflow/tfjs` left to the app's bundler so model and app share one tfjs.
 *
 * Not here: the checkpoint converters, parity and evaluation tools (Node, see the main entry). Image files are
 * decoded by the browser (`createImageBitmap`), not by sharp; strings are fetched as URLs.
 */
export { list, info, load, create, ZooModel, type ListOptions, type LoadModelOptions } from './api/index.js';
export type { FitHistory, FitOptions, FitProgress, EpochStats, LabelledImages, TrainingData, TrainingImage } from './api/index.js';
// Training (fit() on labelled images; folders are Node-only): importing it registers ZooModel.fit()'s trainer.
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
export { useBackend, pickBackend, type BackendName, type BackendChoice } from './backend.js';
export { setOnnxRuntime, type RuntimeName } from './onnx/runtime.js';
export { fromFileMap, type WeightsSource } from './artifacts/read.js';
export { modelMetadata, type CnnZooMetadata } from './artifacts/metadata.js';
export { fetchWeightsBrowser, checkpointsFor, type PublishedCheckpoint } from './pretrained/index.js';
export { imagenetLabels } from './labels/index.js';
export { decodeImage } from './image/browser-decode.js';
export { registerWasmGradients } from './kernels/wasm-gradients.js';
export * as layers from './layers/index.js';
