/**
 * Reading a checkpoint of any supported format from disk into PyTorch-layout arrays (`SourceWeights`),
 * plus the preprocessing each source format's training pipeline used. Node only (file system).
 */
import { CnnZooError } from '../errors.js';
import type { PresetName } from '../image/presets.js';
import { nodeModules } from '../platform.js';
import { corrupt } from './bytes.js';
import { tfjsStateDict } from './tfjs.js';
import { nodeFileSystem } from '../artifacts/node-fs.js';
import { checkShardPath } from '../artifacts/manifest.js';
import { transpose } from '../arrays.js';
import { readNpy } from './npy.js';
import { readCheckpoint } from './read.js';
import type { NamedArray, StateDict } from '../arrays.js';
import type { WeightsSourceInfo } from '../artifacts/metadata.js';

export const SOURCE_FORMATS = ['torch', 'safetensors', 'keras', 'tflite', 'onnx', 'caffe', 'npy', 'tfjs'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

/** How rank-4 `.npy` weights are laid out: PyTorch/ONNX OIHW, TFLite OHWI, TF/Keras HWIO. */
export type NpyLayout = 'oihw' | 'ohwi' | 'hwio';

export interface SourceWeights {
  /** PyTorch-layout arrays keyed `<source layer>.<suffix>`, in the source's layer order. */
  stateDict: StateDict;
  /** 'names': keys are meaningful layer names; 'order': only their order is (numeric ONNX names). */
  naming: 'names' | 'order';
  /** Input height = width the checkpoint states, if any. */
  inputSize?: number;
  info: WeightsSourceInfo;
  /**
   * The arrays are a model's inference form (cnn-zoo's ONNX export of it): each batch norm folded into the conv before
   * it, or stored alone as a per-channel scale and shift (`unfoldBiases` puts them back into the training form).
   */
  foldedBatchNorms?: boolean;
}

export interface ReadSourceOptions {
  npyLayout?: NpyLayout;
}

const node = nodeModules;

/** A checkpoint path that could not be read (`e` from fs), as every reader says it. */
export const unreadablePath = (path: string, e: unknown): CnnZooError =>
  new CnnZooError(`Cannot read "${path}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Check the path.`, 'MISSING_FILE');

async function readBytes(path: string): Promise<Uint8Array> {
  const { readFile } = await node();
  try {
    return await readFile(path);
  } catch (e) {
    throw unreadablePath(path, e);
  }
}

const isDir = async (path: string): Promise<boolean> => (await (await node()).stat(path).catch(() => undefined))?.isDirectory() ?? false;
const isFile = async (path: string): Promise<boolean> => (await (await node()).stat(path).catch(() => undefined))?.isFile() ?? false;

async function listFiles(dir: string, depth = 0): Promise<string[]> {
  const { readdir, join } = await node();
  if (depth > 8) return [];
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await listFiles(p, depth + 1));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** One entry for a file; one combined hash (over relative names and contents) for a folder. */
async function describe(paths: string[]): Promise<WeightsSourceInfo['files']> {
  const { createHash, basename, relative } = await node();
  const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
  const out: WeightsSourceInfo['files'] = [];
  for (const p of paths) {
    if (await isDir(p)) {
      const h = createHash('sha256');
      let bytes = 0;
      for (const f of await listFiles(p)) {
        const b = await readBytes(f);
        h.update(relative(p, f)).update(b);
        bytes += b.length;
      }
      out.push({ name: `${basename(p)}/`, bytes, sha256: h.digest('hex') });
    } else {
      const b = await readBytes(p);
      out.push({ name: basename(p), bytes: b.length, sha256: sha256(b) });
    }
  }
  return out;
}

const NPY_ROLES: readonly [RegExp, string][] = [
  [/_(weight|kernel|filter|weights)$/, 'weight'], [/(_Conv2D|_BiasAdd|_MatMul)?_(bias|biases)$/, 'bias'],
  [/_(running_mean|moving_mean|mean)$/, 'running_mean'], [/_(running_var|moving_variance|variance|var)$/, 'running_var'],
  [/_gamma$/, 'weight'], [/_beta$/, 'bias'],
];

const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** A folder (or list) of `.npy` files named `<layer>_<role>.npy`. */
async function readNpyFiles(paths: string[], layout: NpyLayout): Promise<StateDict> {
  const { readdir, join, basename } = await node();
  let files: string[] = [];
  for (const p of paths) {
    if (await isDir(p)) {
      const sub = (await isDir(join(p, 'weights'))) ? join(p, 'weights') : p;
      files.push(...(await readdir(sub)).filter((f) => f.endsWith('.npy')).map((f) => join(sub, f)));
    } else files.push(p);
  }
  files = files.sort((a, b) => natural(basename(a), basename(b)));
  if (files.length === 0) throw new CnnZooError(`No .npy files in ${paths.join(', ')}.`, 'MISSING_FILE');
  const out: StateDict = new Map();
  for (const f of files) {
    const name = basename(f, '.npy');
    const role = NPY_ROLES.find(([re]) => re.test(name));
    if (!role) throw new CnnZooError(`${f}: cannot tell the role of "${name}" (expected <layer>_weight, _bias, _kernel, _running_mean, ...).`, 'UNSUPPORTED_CHECKPOINT');
    let a: NamedArray = readNpy(await readBytes(f), f);
    const s = a.shape;
    if (role[1] === 'weight' && s.length === 4 && layout !== 'oihw') {
      a = layout === 'ohwi'
        ? { shape: [s[0]!, s[3]!, s[1]!, s[2]!], data: transpose(a.data, s, [0, 3, 1, 2]) }
        : { shape: [s[3]!, s[2]!, s[0]!, s[1]!], data: transpose(a.data, s, [3, 2, 0, 1]) };
    }
    if (role[1] === 'weight' && s.length === 2 && layout === 'hwio') a = { shape: [s[1]!, s[0]!], data: transpose(a.data, s, [1, 0]) };
    out.set(`${name.replace(role[0], '')}.${role[1]}`, a);
  }
  return out;
}

/** Caffe: a `.caffemodel`, or a folder with deploy.prototxt and per-blob `weights/`. */
async function readCaffe(paths: string[]): Promise<{ stateDict: StateDict; inputSize?: number }> {
  const { join, dirname } = await node();
  const model = paths.find((p) => p.endsWith('.caffemodel'));
  const protoPath = paths.find((p) => p.endsWith('.prototxt')) ?? (await (async () => {
    for (const p of paths) {
      const dir = (await isDir(p)) ? p : dirname(p);
      if (await isFile(join(dir, 'deploy.prototxt'))) return join(dir, 'deploy.prototxt');
    }
    return undefined;
  })());
  const { readCaffeBlobs, readCaffemodel, readPrototxt } = await import('./caffe.js');
  const net = protoPath ? readPrototxt(new TextDecoder().decode(await readBytes(protoPath)), protoPath) : undefined;
  if (model) return { stateDict: readCaffemodel(await readBytes(model), model), inputSize: net?.inputSize };
  if (!net || !protoPath) throw new CnnZooError(`Caffe weights need a .caffemodel, or a folder with deploy.prototxt and per-blob weights (got ${paths.join(', ')}).`, 'MISSING_FILE');
  const root = paths.find((p) => !p.endsWith('.prototxt')) ?? dirname(protoPath);
  const dir = (await isDir(join(root, 'weights'))) ? join(root, 'weights') : root;
  const stateDict = await readCaffeBlobs(net, async (p) => {
    // Layer names come from the prototxt: "../" in one may not reach files outside the weights folder.
    const f = join(dir, checkShardPath(p, protoPath));
    return (await isFile(f)) ? readBytes(f) : undefined;
  }, dir);
  return { stateDict, inputSize: net.inputSize };
}

/** Read `paths` (files or folders) as a checkpoint of `format`. Any failure is a CnnZooError naming the input. */
export async function readSource(format: SourceFormat, paths: string[], opts: ReadSourceOptions = {}): Promise<SourceWeights> {
  try {
    return await readSourceUnchecked(format, paths, opts);
  } catch (e) {
    if (e instanceof CnnZooError) throw e;
    throw corrupt(paths.join(' + '), `cannot be read as ${format} (${(e as Error).message})`);
  }
}

async function readSourceUnchecked(format: SourceFormat, paths: string[], opts: ReadSourceOptions): Promise<SourceWeights> {
  if (paths.length === 0) throw new CnnZooError('No checkpoint given.', 'BAD_ARGS');
  const info: WeightsSourceInfo = { format, files: await describe(paths) };
  const src = paths.join(' + ');
  switch (format) {
    case 'tfjs': { const r = await tfjsStateDict(await nodeFileSystem(paths[0]!).load!(), src); return { ...r, naming: 'names', info }; }
    case 'npy': return { stateDict: await readNpyFiles(paths, opts.npyLayout ?? 'oihw'), naming: 'names', info };
    case 'caffe': if (!(paths.length === 1 && paths[0]!.endsWith('.caffemodel'))) return { ...(await readCaffe(paths)), naming: 'names', info }; break;
    case 'tflite': return { ...(await readTfliteFiles(paths)), naming: 'names', info };
    default: break;
  }
  if (paths.length !== 1) throw new CnnZooError(`--from ${format} / { from: '${format}' } takes one file, got ${paths.length}.`, 'BAD_ARGS');
  return { ...(await readCheckpoint(format, await readBytes(paths[0]!), src)), info };
}

/** TFLite: one file, or a body and a head (`.tflite` each) whose tensors are merged. */
async function readTfliteFiles(paths: string[]): Promise<{ stateDict: StateDict; inputSize?: number }> {
  const stateDict: StateDict = new Map();
  let inputSize: number | undefined;
  for (const p of paths) {
    const r = await readCheckpoint('tflite', await readBytes(p), p);
    inputSize ??= r.inputSize;
    for (const [k, v] of r.stateDict) {
      if (stateDict.has(k)) throw new CnnZooError(`${p}: tensor "${k}" also appears in an earlier file.`, 'BAD_CHECKPOINT');
      stateDict.set(k, v);
    }
  }
  return { stateDict, inputSize };
}

/** The preprocessing convention a format implies. */
export function defaultPreprocess(format: SourceFormat, npyLayout?: NpyLayout): PresetName {
  if (format === 'tflite' || format === 'keras' || format === 'tfjs') return 'tf';
  if (format === 'caffe') return 'caffe';
  if (format === 'npy' && npyLayout && npyLayout !== 'oihw') return 'tf';
  return 'torch';
}

