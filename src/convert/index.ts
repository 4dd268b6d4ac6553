/** `cnn-zoo/convert`: checkpoint arrays onto zoo models (key rules, matching, transposes), tfjs artifacts, the inference form. */
export { convertCheckpoint, type ConvertOptions, type ConvertReport, type Converted } from './convert.js';
export { loadStateDict, registerRoleTable, type MappingReport, type RoleTable } from './mapping.js';
export { compareWithReference, type ReferenceResult } from './reference.js';
export { saveConverted, quantizeArtifacts } from '../artifacts/save.js';
export { modelMetadata, WEIGHT_DTYPES, type CnnZooMetadata, type WeightDtype, type WeightsSourceInfo } from '../artifacts/metadata.js';
export { nodeFileSystem, DEFAULT_SHARD_BYTES } from '../artifacts/node-fs.js';
export { fromFileMap, weightsHandler, readArtifacts, buildFromArtifacts, type WeightsSource } from '../artifacts/read.js';
export { DEFAULT_ARCH, SHIPPED } from '../artifacts/shipped.js';
export { toInference, createInference, foldStateDict, layerCensus, warmUp, type InferenceOptions, type WarmUpTimes } from '../inference/index.js';
