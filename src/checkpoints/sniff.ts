/**
 * Which checkpoint format a file is, from its first bytes (magic numbers) and else its extension: how a checkpoint
 * given as `--weights FILE` is read when it is not a published file cnn-zoo recognises by its hash.
 */
import { CnnZooError } from '../errors.js';
import type { CheckpointFormat } from './read.js';

const ascii = (b: Uint8Array, at: number, n: number): string => String.fromCharCode(...b.subarray(at, at + n));

/** Formats recognised by their first bytes (checked in this order). */
const MAGIC: readonly { format: CheckpointFormat; test: (b: Uint8Array) => boolean }[] = [
  { format: 'keras', test: (b) => b[0] === 0x89 && ascii(b, 1, 3) === 'HDF' },
  { format: 'tflite', test: (b) => ascii(b, 4, 4) === 'TFL3' },
  // torch.save: a ZIP archive (PK\3\4), or the legacy pickle stream (protocol 2: 0x80 0x02).
  { format: 'torch', test: (b) => (b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4) || (b[0] === 0x80 && b[1] === 0x02) },
  // safetensors: an 8-byte little-endian header length, then the JSON header.
  { format: 'safetensors', test: (b) => b.length > 9 && b[8] === 0x7b && new DataView(b.buffer, b.byteOffset, 8).getUint32(4, true) === 0 },
];

/** Formats with no magic number, recognised by their extension (and what makes a URL a checkpoint file's). */
export const EXTENSIONS: Readonly<Record<string, CheckpointFormat>> = {
  '.onnx': 'onnx', '.caffemodel': 'caffe', '.weights': 'darknet',
  '.pth': 'torch', '.pt': 'torch', '.bin': 'torch', '.ckpt': 'torch',
  '.safetensors': 'safetensors', '.h5': 'keras', '.hdf5': 'keras', '.keras': 'keras', '.tflite': 'tflite',
};

/** The format that the first bytes of a file (16 are enough) show, if they show one. */
export const formatByMagic = (bytes: Uint8Array): CheckpointFormat | undefined => MAGIC.find((m) => m.test(bytes))?.format;

/** The format of checkpoint file `name` with content `bytes`; a CnnZooError naming the formats read when unknown. */
export function sniffCheckpointFormat(bytes: Uint8Array, name: string): CheckpointFormat {
  const byMagic = formatByMagic(bytes);
  if (byMagic) return byMagic;
  const ext = /\.[A-Za-z0-9]+$/.exec(name)?.[0]?.toLowerCase();
  const byExt = ext ? EXTENSIONS[ext] : undefined;
  if (byExt) return byExt;
  throw new CnnZooError(`${name}: cannot tell which checkpoint format this is (no known magic number or extension). ` +
    `Formats read: PyTorch .pth/.pt, .safetensors, Keras .h5, .tflite, .onnx, .caffemodel, Darknet .weights; ` +
    'give the file its usual extension, or convert it with `cnn-zoo convert --from FORMAT`.', 'UNKNOWN_FORMAT');
}
