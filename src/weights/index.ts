/** The weights API: checkpoint readers, conversion, tfjs artifacts (save/load/IO), classification. */
export { load as loadLayersModel, fromFileMap, weightsHandler, type LoadOptions, type WeightsSource } from './load.js';
export { nodeFileSystem, DEFAULT_SHARD_BYTES } from './io-node.js';
export { convertCheckpoint, type ConvertOptions, type ConvertReport, type Converted } from './convert.js';
export { saveConverted, modelMetadata, quantizeArtifacts, WEIGHT_DTYPES, type CnnZooMetadata, type WeightDtype, type WeightsSourceInfo } from './artifacts.js';
export { classify, type Prediction } from './classify.js';
export { compareWithReference, type ReferenceResult } from './reference.js';
export { readSource, SOURCE_FORMATS, PREPROCESS, type SourceFormat, type SourceWeights, type NpyLayout } from './sources.js';
export { readTorch } from './torch.js';
export { readSafetensors } from './safetensors.js';
export { readNpy, writeNpy } from './npy.js';
export { readTflite, type TfliteModel } from './tflite.js';
export { readOnnx } from './onnx.js';
export { readKerasH5 } from './h5.js';
export { readCaffemodel, writeCaffemodel, readPrototxt } from './caffe.js';
export { DEFAULT_ARCH, EMBEDDED } from './default-model.js';
