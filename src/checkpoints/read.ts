/**
 * The one switch over checkpoint formats: one file's bytes as PyTorch-layout arrays. Works without a file system
 * (browsers); folder inputs (npy folders, Caffe per-blob folders, tfjs artifacts, multi-file TFLite) are assembled
 * in files.ts (Node only) from these readers. Each reader (and the parser library it needs: protobufjs, flatbuffers,
 * fflate) is imported when its format is first read, not when cnn-zoo is.
 */
import { CnnZooError } from '../errors.js';
import { corrupt } from './bytes.js';
import type { StateDict } from '../arrays.js';
import { getSpec, resolveOptions } from '../zoo/registry.js';
import { withoutInitialisation } from '../zoo/ops.js';

/** Every format cnn-zoo reads (`npy` and `tfjs` are folders; `darknet` needs the architecture for its shapes). */
export const CHECKPOINT_FORMATS = ['torch', 'safetensors', 'keras', 'tflite', 'onnx', 'caffe', 'npy', 'tfjs', 'darknet'] as const;
export type CheckpointFormat = (typeof CHECKPOINT_FORMATS)[number];

/** Arrays read from a checkpoint, before they are matched to a model. */
export interface CheckpointArrays {
  /** PyTorch-layout arrays keyed `<source layer>.<suffix>`, in the source's layer order. */
  stateDict: StateDict;
  /** 'names': keys are meaningful layer names; 'order': only their order is (numeric ONNX names). */
  naming: 'names' | 'order';
  /** Input height = width the checkpoint states, if any. */
  inputSize?: number;
}

export interface ReadCheckpointOptions {
  /** Darknet: the registry architecture (and input size) whose shapes the file's flat arrays fill. */
  arch?: string;
  inputSize?: number;
  /** A regular expression source: keys it matches are dropped (heads the model has no place for). */
  dropKeys?: string;
}

async function readUnchecked(format: CheckpointFormat, bytes: Uint8Array, name: string, opts: ReadCheckpointOptions): Promise<CheckpointArrays> {
  switch (format) {
    case 'darknet': {
      if (!opts.arch) throw new CnnZooError(`${name}: a Darknet .weights file carries no shapes; the architecture is needed to read it.`, 'BAD_ARGS');
      const spec = getSpec(opts.arch);
      const model = withoutInitialisation(() => spec.build(resolveOptions(spec, { inputSize: opts.inputSize })));
      const { darknetStateDict } = await import('./darknet.js');
      try { return { stateDict: darknetStateDict(bytes, model, name), naming: 'names' }; } finally { model.dispose(); }
    }
    case 'torch': return { stateDict: (await import('./torch.js')).readTorch(bytes, name), naming: 'names' };
    case 'safetensors': return { stateDict: (await import('./safetensors.js')).readSafetensors(bytes, name), naming: 'names' };
    case 'keras': return { ...(await (await import('./h5.js')).readKerasH5(bytes, name)), naming: 'names' };
    case 'onnx': return (await import('./onnx.js')).readOnnx(bytes, name);
    case 'caffe': return { stateDict: (await import('./caffe.js')).readCaffemodel(bytes, name), naming: 'names' };
    case 'tflite': {
      const { readTflite, tfliteStateDict } = await import('./tflite.js');
      return { ...tfliteStateDict(readTflite(bytes, name), name), naming: 'names' };
    }
    case 'npy': case 'tfjs':
      throw new CnnZooError(`${name}: ${format} weights are a folder of files; read them with readSource('${format}', [folder]) (CLI: cnn-zoo convert --from ${format} FOLDER).`, 'BAD_ARGS');
    default:
      throw new CnnZooError(`${name}: ${String(format)} checkpoints cannot be read by cnn-zoo. Supported: ${CHECKPOINT_FORMATS.join(', ')}.`, 'UNSUPPORTED_CHECKPOINT');
  }
}

/** Read one checkpoint file's bytes as `format`. Any failure is a CnnZooError naming the file. */
export async function readCheckpoint(format: CheckpointFormat, bytes: Uint8Array, name: string, opts: ReadCheckpointOptions = {}): Promise<CheckpointArrays> {
  let r: CheckpointArrays;
  try {
    r = await readUnchecked(format, bytes, name, opts);
  } catch (e) {
    if (e instanceof CnnZooError) throw e;
    throw corrupt(name, `cannot be read as ${format} (${(e as Error).message})`);
  }
  if (!opts.dropKeys) return r;
  const re = new RegExp(opts.dropKeys);
  return { ...r, stateDict: new Map([...r.stateDict].filter(([k]) => !re.test(k))) };
}
