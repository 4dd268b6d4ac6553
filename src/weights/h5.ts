/**
 * Keras HDF5 weights (`model.save('x.h5')` or `save_weights`) through h5wasm: layer groups in
 * `layer_names` order, each with its `weight_names`, converted to a PyTorch-layout StateDict.
 */
import { corrupt, numelOf } from './bytes.js';
import { kerasStateDict } from './keras.js';
import type { NamedArray, StateDict } from './state-dict.js';

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
export const isHdf5 = (bytes: Uint8Array): boolean => HDF5_MAGIC.every((b, i) => bytes[i] === b);

interface H5Attr { value: unknown }
interface H5Node { keys?(): string[]; attrs: Record<string, H5Attr>; get(path: string): H5Node | null; shape?: number[]; value?: unknown; type?: string }

const strings = (v: unknown): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : v && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function' ? [...(v as Iterable<unknown>)] : []).map(String);

export interface KerasH5 {
  stateDict: StateDict;
  /** The model config's input size, when the file holds one. */
  inputSize?: number;
}

let counter = 0;

/** Read a Keras `.h5` file. */
export async function readKerasH5(bytes: Uint8Array, source = 'model.h5'): Promise<KerasH5> {
  if (!isHdf5(bytes)) throw corrupt(source, 'no HDF5 signature: not a Keras .h5 file');
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const FS = (h5wasm as unknown as { FS: { writeFile(p: string, d: Uint8Array): void; unlink(p: string): void } }).FS;
  const name = `/cnn-zoo-${process.pid}-${counter++}.h5`;
  FS.writeFile(name, bytes);
  let file: (H5Node & { close(): void }) | undefined;
  try {
    try {
      file = new h5wasm.File(name, 'r') as unknown as H5Node & { close(): void };
    } catch (e) {
      throw corrupt(source, `HDF5 does not open (${(e as Error).message})`);
    }
    const root = (file.get('model_weights') ?? file) as H5Node;
    const layerNames = strings(root.attrs['layer_names']?.value);
    if (layerNames.length === 0) throw corrupt(source, 'no "layer_names" attribute: not a Keras weights file');
    const named: [string, NamedArray][] = [];
    for (const layer of layerNames) {
      const g = root.get(layer);
      if (!g) throw corrupt(source, `layer group "${layer}" is missing`);
      for (const w of strings(g.attrs['weight_names']?.value)) {
        const ds = g.get(w);
        if (!ds || !ds.shape) throw corrupt(source, `weight "${layer}/${w}" is missing`);
        const shape = ds.shape.map(Number);
        const n = numelOf(shape, source, `weight "${w}"`);
        const v = ds.value;
        const data = v instanceof Float32Array ? v.slice() : Float32Array.from(v as ArrayLike<number>);
        if (data.length !== n) throw corrupt(source, `weight "${w}" holds ${data.length} values, shape [${shape}] needs ${n}`);
        named.push([`${layer}/${w.slice(w.lastIndexOf('/') + 1)}`, { shape, data }]);
      }
    }
    let inputSize: number | undefined;
    const config = file.attrs['model_config']?.value;
    if (typeof config === 'string') {
      const m = /"batch_input_shape":\s*\[null,\s*(\d+),\s*(\d+),\s*3\]/.exec(config);
      if (m && m[1] === m[2]) inputSize = Number(m[1]);
    }
    return { stateDict: kerasStateDict(named, source), inputSize };
  } finally {
    file?.close();
    try { FS.unlink(name); } catch { /* already gone */ }
  }
}
