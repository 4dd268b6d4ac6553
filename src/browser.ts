/**
 * cnn-zoo for browsers: the model zoo, the high-level API (list/info/load, ZooModel), backends, the inference
 * form, weights loading (URL, file map, IOHandler, IndexedDB cache), labels and counting. Built into
 * `dist/browser/cnn-zoo.js` by `scripts/build-browser.mjs` (the package's `browser` export), with
 * `@tensorflow/tfjs` left to the app's bundler so model and app share one tfjs.
 *
 * Not here: the checkpoint converters, parity and evaluation tools (Node, see the main entry). Image files are
 * decoded by the browser (`createImageBitmap`), not by sharp; strings are fetched as URLs.
 */
export { list, info, load, ZooModel, type ListOptions, type LoadModelOptions } from './api/index.js';
export type { ClassPrediction, FeatureMap } from './api/zoo-model.js';
export type { ImageInput } from './api/inputs.js';
export { create, getSpec, listSpecs, familyNames, toCard } from './zoo/registry.js';
export type { CreateOptions, FeatureStage, ModelCard, ModelMeta, ModelSpec, Pooling } from './zoo/types.js';
export { useBackend, pickBackend, BACKENDS, type BackendName, type BackendChoice, type BackendOptions, type PickOptions } from './backend.js';
export { toInference, layerCensus, FusedConv2D, FusedDense, type InferenceOptions, type FusedActivation } from './inference/index.js';
export { CnnZooError } from './errors.js';
export { registerWasmGradients } from './train/wasm-gradients.js';
export { countParams, countFlops, layerTable } from './analysis/count.js';
export * as layers from './layers/index.js';
export { checkInputShape, predictChecked } from './zoo/input-check.js';
export { load as loadLayersModel, fromFileMap, type WeightsSource } from './weights/load.js';
export { modelMetadata, type CnnZooMetadata, type WeightDtype } from './weights/artifacts.js';
export { fetchWeightsBrowser, checkpointsFor, resolveCheckpoint, checkpointId, PUBLISHED as PUBLISHED_WEIGHTS, UNPUBLISHED as UNPUBLISHED_WEIGHTS, type PublishedCheckpoint, type Publisher, type HubOptions, type DownloadProgress } from './weights/hub/index.js';
export { imagenetLabels, labelSet, type ClassLabel } from './labels/index.js';
export { decodeImage } from './browser-image.js';
