/** The weights API: checkpoint readers, conversion, tfjs artifacts (save/load/IO), classification. */
export { load as loadLayersModel, fromFileMap, weightsHandler, type LoadOptions, type WeightsSource } from '../artifacts/read.js';
export { nodeFileSystem, DEFAULT_SHARD_BYTES } from '../artifacts/node-fs.js';
export { convertCheckpoint, type ConvertOptions, type ConvertReport, type Converted } from '../convert/convert.js';
export { saveConverted, quantizeArtifacts } from '../artifacts/save.js';
export { modelMetadata, WEIGHT_DTYPES, type CnnZooMetadata, type WeightDtype, type WeightsSourceInfo } from '../artifacts/metadata.js';
export { classify, type Prediction } from '../api/classify-legacy.js';
export { compareWithReference, type ReferenceResult } from '../convert/reference.js';
export { readSource, SOURCE_FORMATS, type SourceFormat, type SourceWeights, type NpyLayout } from '../checkpoints/files.js';
export { readTorch } from '../checkpoints/torch.js';
export { readSafetensors } from '../checkpoints/safetensors.js';
export { readNpy, writeNpy } from '../checkpoints/npy.js';
export { readTflite, type TfliteModel } from '../checkpoints/tflite.js';
export { readOnnx } from '../checkpoints/onnx.js';
export { readKerasH5 } from '../checkpoints/h5.js';
export { readCaffemodel, writeCaffemodel, readPrototxt } from '../checkpoints/caffe.js';
export { DEFAULT_ARCH, EMBEDDED } from '../artifacts/shipped.js';
