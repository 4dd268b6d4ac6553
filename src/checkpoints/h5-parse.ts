/**
 * Parsing Keras HDF5 weights (`model.save('x.h5')` or `save_weights`) with h5wasm, in the calling thread
 * (`readKerasH5` in h5.ts runs this in a worker with a CPU-time limit): layer groups in `layer_names` order,
 * each with its `weight_names`, converted to a PyTorch-layout StateDict. The file is opened in h5wasm's in-memory file system (its ESM build), never the real one, so HDF5
 * external links, external raw storage and virtual datasets cannot reach the user's files. Datasets
 * must be plain numbers whose stored bytes fit the file (or, compressed, the decode budget).
 */
import { CnnZooError } from '../errors.js';
import { DecodeBudget, corrupt, numelOf } from './bytes.js';
import { kerasStateDict } from './keras.js';
import type { NamedArray, StateDict } from '../arrays.js';


interface H5Attr { value: unknown }
interface H5Node { attrs: Record<string, H5Attr>; get(path: string): H5Node | null; shape?: number[] | null; value?: unknown }
interface H5Meta { type: number; size: number; vlen: boolean; virtual_sources?: unknown[] }
interface H5Dataset extends H5Node { metadata: H5Meta; filters: unknown[] }
export interface H5Module {
  ready: Promise<{ activate_throwing_error_handler(): number }>;
  FS: { writeFile(p: string, d: Uint8Array): void; unlink(p: string): void };
  File: new (name: string, mode: string) => H5Node & { close(): void };
  Group: abstract new (...args: never[]) => H5Node;
  Dataset: abstract new (...args: never[]) => H5Dataset;
}
/** HDF5 type classes that hold plain numbers (H5T_INTEGER, H5T_FLOAT). */
const NUMERIC_CLASSES = new Set([0, 1]);

const strings = (v: unknown): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : v && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function' ? [...(v as Iterable<unknown>)] : []).map(String);

export interface KerasH5 {
  stateDict: StateDict;
  /** The model config's input size, when the file holds one. */
  inputSize?: number;
}

let counter = 0;
let throwing = false;

/** The innermost HDF5 error of a thrown HDF5 error stack (`... in H5F__super_read(): truncated file: ...`). */
function hdf5Message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = [...text.matchAll(/#\d+: .* in (\w+\(\)): (.*)$/gm)];
  const last = lines[lines.length - 1];
  return last ? `${last[2]} in ${last[1]}` : text.slice(0, 300);
}

/** h5wasm, loaded and set to throw HDF5 errors. */
export async function loadH5wasm(): Promise<H5Module> {
  // The ESM build keeps files in memory (MEMFS); 'h5wasm/node' would use the real file system.
  const h5wasm = (await import('h5wasm')) as unknown as H5Module;
  const module = await h5wasm.ready;
  // HDF5 errors become exceptions instead of pages of HDF5-DIAG on the user's stderr.
  if (!throwing) { module.activate_throwing_error_handler(); throwing = true; }
  return h5wasm;
}

/** Parse a Keras `.h5` file here. Any failure inside HDF5 is a CnnZooError naming the file. */
export async function parseKerasH5(bytes: Uint8Array, source: string): Promise<KerasH5> {
  const h5wasm = await loadH5wasm();
  const name = `/tmp/cnn-zoo-${counter++}.h5`;
  h5wasm.FS.writeFile(name, bytes);
  let file: (H5Node & { close(): void }) | undefined;
  try {
    try {
      file = new h5wasm.File(name, 'r');
    } catch (e) {
      throw corrupt(source, `HDF5 does not open (${hdf5Message(e)})`);
    }
    return readWeights(h5wasm, file, bytes.length, source);
  } catch (e) {
    if (e instanceof CnnZooError) throw e;
    throw corrupt(source, `HDF5 failed while reading it (${hdf5Message(e)})`);
  } finally {
    try { file?.close(); } catch { /* HDF5 already failed */ }
    try { h5wasm.FS.unlink(name); } catch { /* already gone */ }
  }
}

/** One weight dataset as float32, after checking it holds plain numbers whose bytes the file can hold. */
function readDataset(h5wasm: H5Module, ds: H5Node | null, fileBytes: number, budget: DecodeBudget, what: string, source: string): NamedArray {
  if (!(ds instanceof h5wasm.Dataset) || !ds.shape) throw corrupt(source, `${what} is missing or not a dataset (links to other files are not followed)`);
  const meta = ds.metadata;
  if (!NUMERIC_CLASSES.has(meta.type) || meta.vlen || !(meta.size >= 1 && meta.size <= 8)) throw corrupt(source, `${what} does not hold plain numbers`);
  if (meta.virtual_sources?.length) throw corrupt(source, `${what} is a virtual dataset (data from other files is not read)`);
  const shape = ds.shape.map(Number);
  const n = numelOf(shape, source, what);
  if (ds.filters.length === 0 && n * meta.size > fileBytes) {
    throw corrupt(source, `${what} claims ${n * meta.size} bytes (shape [${shape}]) but the file has ${fileBytes}`);
  }
  budget.take(n, what);
  const v = ds.value;
  const data = v instanceof Float32Array ? v.slice() : Float32Array.from(v as ArrayLike<number>);
  if (data.length !== n) throw corrupt(source, `${what} holds ${data.length} values, shape [${shape}] needs ${n}`);
  return { shape, data };
}

function readWeights(h5wasm: H5Module, file: H5Node, fileBytes: number, source: string): KerasH5 {
  const root = file.get('model_weights') ?? file;
  if (!(root instanceof h5wasm.Group)) throw corrupt(source, '"model_weights" is not a group');
  const layerNames = strings(root.attrs['layer_names']?.value);
  if (layerNames.length === 0) throw corrupt(source, 'no "layer_names" attribute: not a Keras weights file');
  const budget = new DecodeBudget(source, fileBytes);
  const named: [string, NamedArray][] = [];
  for (const layer of layerNames) {
    const g = root.get(layer);
    if (!g) throw corrupt(source, `layer group "${layer}" is missing`);
    if (!(g instanceof h5wasm.Group)) throw corrupt(source, `layer "${layer}" is not a group (links to other files are not followed)`);
    for (const w of strings(g.attrs['weight_names']?.value)) {
      const array = readDataset(h5wasm, g.get(w), fileBytes, budget, `weight "${layer}/${w}"`, source);
      // `conv1/kernel:0` lies in group `conv1` (the group names the layer); in a nested model's group the weight
      // is `<nested model>/conv1/kernel:0` and the layer is the segment before the role.
      named.push([w.split('/').length > 2 ? w : `${layer}/${w.slice(w.lastIndexOf('/') + 1)}`, array]);
    }
  }
  let inputSize: number | undefined;
  const config = file.attrs['model_config']?.value;
  if (typeof config === 'string') {
    const m = /"batch_input_shape":\s*\[null,\s*(\d+),\s*(\d+),\s*3\]/.exec(config);
    if (m && m[1] === m[2]) inputSize = Number(m[1]);
  }
  return { stateDict: kerasStateDict(named, source), inputSize };
}
