/** `cnn-zoo/checkpoints`: one reader per checkpoint format, behind `readCheckpoint(format, bytes)` (and `readSource` for files and folders in Node). */
export { readCheckpoint, CHECKPOINT_FORMATS, type CheckpointFormat, type CheckpointArrays, type ReadCheckpointOptions } from './read.js';
export { readSource, SOURCE_FORMATS, type SourceFormat, type SourceWeights, type NpyLayout } from './files.js';
export { readTorch } from './torch.js';
export { readSafetensors } from './safetensors.js';
export { readNpy, writeNpy } from './npy.js';
export { readTflite, type TfliteModel } from './tflite.js';
export { readOnnx } from './onnx.js';
export { readKerasH5 } from './h5.js';
export { readCaffemodel, writeCaffemodel, readPrototxt } from './caffe.js';
export type { StateDict, NamedArray } from '../arrays.js';
export { sniffCheckpointFormat } from './sniff.js';
