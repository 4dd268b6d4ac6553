/**
 * A downloaded checkpoint (bytes) as PyTorch-layout arrays, by format, with the keys the model has no place for
 * removed. Works without a file system (browsers).
 */
import { CnnZooError } from '../errors.js';
import { corrupt } from './bytes.js';
import { readCaffemodel } from './caffe.js';
import { readKerasH5 } from './h5.js';
import { readOnnx } from './onnx.js';
import { readSafetensors } from './safetensors.js';
import type { SourceWeights } from './files.js';
import type { StateDict } from './state-dict.js';
import { readTflite, tfliteStateDict } from './tflite.js';
import { readTorch } from './torch.js';
import { getSpec, resolveOptions } from '../zoo/registry.js';
import { withoutInitialisation } from '../zoo/ops.js';
import { darknetStateDict } from './darknet.js';
import type { HubFormat } from '../pretrained/types.js';

type Read = Omit<SourceWeights, 'info'>;

async function readAny(format: HubFormat, bytes: Uint8Array, name: string, arch?: string, inputSize?: number): Promise<Read> {
  switch (format) {
    case 'darknet': {
      if (!arch) throw new CnnZooError(`${name}: a Darknet .weights file carries no shapes; the architecture is needed to read it.`, 'BAD_ARGS');
      const spec = getSpec(arch);
      const model = withoutInitialisation(() => spec.build(resolveOptions(spec, { inputSize })));
      try { return { stateDict: darknetStateDict(bytes, model, name), naming: 'names' }; } finally { model.dispose(); }
    }
    case 'torch': return { stateDict: readTorch(bytes, name), naming: 'names' };
    case 'safetensors': return { stateDict: readSafetensors(bytes, name), naming: 'names' };
    case 'keras': return { ...(await readKerasH5(bytes, name)), naming: 'names' };
    case 'onnx': return readOnnx(bytes, name);
    case 'caffe': return { stateDict: readCaffemodel(bytes, name), naming: 'names' };
    case 'tflite': { const r = tfliteStateDict(readTflite(bytes, name), name); return { ...r, naming: 'names' }; }
    default:
      throw new CnnZooError(`${name}: ${format} checkpoints cannot be read by cnn-zoo yet. Convert it elsewhere to a supported format ` +
        '(torch, safetensors, keras, tflite, onnx, caffe) and use `cnn-zoo convert`.', 'UNSUPPORTED_CHECKPOINT');
  }
}

/**
 * Read one downloaded file as `format`; `dropKeys` (a regular expression source) removes keys. Darknet files need
 * the architecture (`arch`, at `inputSize`) for their shapes.
 */
export async function readCheckpointBytes(format: HubFormat, bytes: Uint8Array, name: string, info: SourceWeights['info'],
  dropKeys?: string, arch?: string, inputSize?: number): Promise<SourceWeights> {
  let r: Read;
  try {
    r = await readAny(format, bytes, name, arch, inputSize);
  } catch (e) {
    if (e instanceof CnnZooError) throw e;
    throw corrupt(name, `cannot be read as ${format} (${(e as Error).message})`);
  }
  let stateDict: StateDict = r.stateDict;
  if (dropKeys) {
    const re = new RegExp(dropKeys);
    stateDict = new Map([...stateDict].filter(([k]) => !re.test(k)));
  }
  return { ...r, stateDict, info };
}
