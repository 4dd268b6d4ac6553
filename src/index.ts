/** cnn-zoo public API. */
export { list, info, load, ZooModel, type ListOptions, type LoadModelOptions } from './api/index.js';
export type { ClassPrediction, FeatureMap } from './api/zoo-model.js';
export type { ImageInput } from './api/inputs.js';
export { create, getSpec, listSpecs, findByFixture, familyNames, toCard } from './zoo/registry.js';
export type { BuildContext, CreateOptions, Family, FeatureStage, FixtureRef, KeyRule, ModelCard, ModelMeta, ModelSpec, Pooling } from './zoo/types.js';
export { useBackend, pickBackend, BACKENDS, type BackendName, type BackendChoice, type BackendOptions, type PickOptions } from './backend.js';
export { toInference, createInference, foldStateDict, layerCensus, FusedConv2D, FusedDense, type InferenceOptions, type FusedActivation } from './inference/index.js';
export { CnnZooError } from './errors.js';
export { det } from './parity/det.js';
export { loadFixture, parseFixture, type Fixture } from './parity/fixture.js';
export { runParity, type ParityResult } from './parity/run.js';
export { loadStateDict, registerRoleTable, type MappingReport, type RoleTable } from './weights/mapping.js';
export type { StateDict, NamedArray } from './weights/state-dict.js';
export { countParams, countFlops, layerTable } from './analysis/count.js';
export * as layers from './layers/index.js';
export { checkInputShape, predictChecked } from './zoo/input-check.js';
export { loadLayersModel, nodeFileSystem, fromFileMap, convertCheckpoint, saveConverted, modelMetadata, classify, readTorch, readSafetensors, readNpy, writeNpy, readTflite, readOnnx, readKerasH5, readCaffemodel, readSource, SOURCE_FORMATS, type CnnZooMetadata, type ConvertOptions, type SourceFormat, type WeightDtype, type WeightsSource, type Prediction } from './weights/index.js';
export { imagenetLabels, labelSet, type ClassLabel } from './labels/index.js';
