/**
 * Coverage-guided fuzz target for @jazzer.js (optional, not a dependency): feeds each input to the reader named
 * by FUZZ_FORMAT and fails on anything but success or a CnnZooError. Uses the compiled package (npm run build).
 * See tools/fuzz/README.md.
 */
import { CnnZooError } from '../../dist/errors.js';
import { readTorch, readSafetensors, readNpy, readTflite, readOnnx, readCaffemodel, readKerasH5 } from '../../dist/weights/index.js';
import { readPrototxt } from '../../dist/weights/caffe.js';

const READERS = {
  torch: readTorch, safetensors: readSafetensors, npy: readNpy, tflite: readTflite, onnx: readOnnx, caffe: readCaffemodel,
  keras: readKerasH5, prototxt: (b, s) => readPrototxt(new TextDecoder().decode(b), s),
};
const format = process.env.FUZZ_FORMAT ?? 'torch';
const read = READERS[format];
if (!read) throw new Error(`FUZZ_FORMAT must be one of ${Object.keys(READERS).join(', ')}`);

export async function fuzz(data) {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  try {
    await read(bytes, 'fuzz-input');
  } catch (e) {
    if (!(e instanceof CnnZooError)) throw e;
    if (!e.message.includes('fuzz-input')) throw new Error(`CnnZooError without the file name: ${e.message}`);
  }
}
