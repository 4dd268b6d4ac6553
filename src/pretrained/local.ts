/**
 * A checkpoint file the user already has (downloaded elsewhere, copied from an offline machine), used as the
 * weights of a model: `load('resnet50', { weights: 'resnet50-11ad3fa6.pth' })`, `--weights FILE`. The file is
 * recognised by its hash against the published-weights table (the published checkpoint then gives the format,
 * preprocessing, build options and licence), or as cnn-zoo's own ONNX export (the metadata it carries: classes,
 * preprocessing, licence), or else read by its format (magic bytes, extension) with the architecture's defaults;
 * either way it is converted once into the cache, like `fetch` does. Node only.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, tildeHint } from '../errors.js';
import { isNode, nodeModules } from '../platform.js';
import { checkDtype, cacheConverted, type FetchRecord, type HubOptions } from './fetch.js';
import { saveConverted } from '../artifacts/save.js';
import { cacheRoot, exists, inCache, makeCacheDir, modelDir, readRecord, remove, safeName } from './cache.js';
import { downloadToPart, htmlPage, notACheckpoint } from './download.js';
import { withCacheLock } from './lock.js';
import { convertDownloaded } from './convert-download.js';
import { digestBytes, type HashAlgorithm } from './hash.js';
import { checkpointId, PUBLISHED } from './table.js';
import type { PublishedCheckpoint } from './types.js';
import { readCheckpoint } from '../checkpoints/read.js';
import { corrupt } from '../checkpoints/bytes.js';
import { onnxMetadata } from '../checkpoints/onnx-metadata.js';
import { checkMetadata, type CnnZooMetadata } from '../artifacts/metadata.js';
import type { OnnxIo } from '../onnx/export.js';
import { EXTENSIONS, sniffCheckpointFormat } from '../checkpoints/sniff.js';
import { HEIC_FILE, IMAGE_FILE } from '../image/files.js';
import { convertCheckpoint, type Converted } from '../convert/convert.js';
import { getSpec } from '../zoo/registry.js';
import type { SourceFormat } from '../checkpoints/files.js';

export interface LocalCheckpoint {
  /** The cached tfjs artifacts (give them to `load(name, { weights })`). */
  dir: string;
  /** The published checkpoint the file is, when its hash says so. */
  checkpoint?: PublishedCheckpoint;
  format: string;
  sha256: string;
  /** True when the file had been converted before (nothing was converted now). */
  fromCache: boolean;
  record: FetchRecord;
}

/** Whether `weights` is the http(s) URL of a checkpoint file: its path ends in a checkpoint format's extension. */
export function isCheckpointUrl(weights: string): boolean {
  if (!/^https?:\/\//i.test(weights)) return false;
  let path: string;
  try { path = new URL(weights).pathname.toLowerCase(); } catch { return false; } // (URL.canParse: not in Safari 16)
  return Object.keys(EXTENSIONS).some((ext) => path.endsWith(ext));
}

/**
 * The checkpoint file `weights` names, on disk: the file itself, or for the URL of one (`isCheckpointUrl`: as
 * torch.hub's `load_state_dict_from_url` takes), its download in the cache (`downloads/url-<hash of the URL>/<name>`,
 * once; retried and resumed like published checkpoints). Undefined for anything else (converted weights).
 */
export async function checkpointFileOf(weights: string, opts: HubOptions = {}): Promise<string | undefined> {
  // An image given as weights (`--weights photo.jpg IMG`, load('photo.jpg')): it was read as a checkpoint of unknown format.
  let path = weights;
  try { if (/^https?:\/\//i.test(weights)) path = new URL(weights).pathname; } catch { /* not a URL after all */ }
  if (IMAGE_FILE.test(path) || HEIC_FILE.test(path)) {
    throw new CnnZooError(`"${weights}" is an image, not weights. Weights are converted weights (a folder with model.json, from save() or ` +
      "cnn-zoo convert), a checkpoint file (.pth, .safetensors, .h5, .tflite, .onnx, ...), 'imagenet', or null for random ones; " +
      'an image goes to model.classify(image).', 'NOT_WEIGHTS');
  }
  if (await isCheckpointFile(weights)) return weights;
  if (!isCheckpointUrl(weights)) return undefined;
  if (!isNode) {
    throw new CnnZooError(`${weights} is a checkpoint file; in a browser, weights are converted tfjs artifacts: convert it once ` +
      '(cnn-zoo convert, or load() in Node, which keeps the conversion in its cache) and serve that folder.', 'BAD_ARGS');
  }
  const { basename, dirname, rename } = await nodeModules();
  const name = safeName(basename(decodeURIComponent(new URL(weights).pathname)));
  const key = (await digestBytes(new TextEncoder().encode(weights), 'sha256')).slice(0, 16);
  const file = await inCache(await cacheRoot(opts.cacheDir), 'downloads', `url-${key}`, name);
  if (await exists(file)) return file;
  await makeCacheDir(dirname(file));
  return withCacheLock(file, async () => {
    if (await exists(file)) return file; // another caller downloaded it while this one waited
    opts.onStatus?.(`downloading ${weights}`);
    await downloadToPart(weights, `${file}.part`, name, opts);
    // Nothing verifies an unpublished file's hash: at least an HTML page in its place is not kept as the checkpoint.
    const page = await htmlPage(`${file}.part`);
    if (page) {
      await remove(`${file}.part`);
      throw notACheckpoint(weights, page);
    }
    await rename(`${file}.part`, file);
    return file;
  }, { onWait: opts.onStatus });
}

/** Whether a weights string is a checkpoint file on disk (not a folder, model.json or URL of converted weights). */
export async function isCheckpointFile(weights: string): Promise<boolean> {
  if (!isNode || /^[a-z][a-z0-9+.-]+:\/\//i.test(weights) || /\.json$/i.test(weights)) return false;
  return (await (await nodeModules()).stat(weights).catch(() => undefined))?.isFile() ?? false;
}

/** The first 16 bytes of `path` (empty for a folder or a file that cannot be read: what reads it next names those). */
export async function fileHead(path: string): Promise<Uint8Array> {
  const file = await (await nodeModules()).open(path, 'r').catch(() => null);
  if (!file) return new Uint8Array(0);
  try {
    const b = new Uint8Array(16);
    const { bytesRead } = await file.read(b, 0, 16, 0).catch(() => ({ bytesRead: 0 }));
    return b.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * The error for checkpoint file `path` (named `shownAs`: what the user gave) that `identifyCheckpointFile` does not name
 * a model of: `so` says what then (the fix). A file in no checkpoint format at all (README.md given as weights) is
 * said to be none instead.
 */
export async function unnamedCheckpoint(path: string, so: string, shownAs = path): Promise<CnnZooError> {
  sniffCheckpointFormat(await fileHead(path), shownAs);
  return new CnnZooError(`${shownAs} is a checkpoint file that is not a published checkpoint cnn-zoo knows (by its sha256), so ${so}`, 'NEEDS_ARCH');
}

/** Digests already taken, by the bytes they are of (a file read once under `holdCheckpointReads` is hashed once). */
const digests = new WeakMap<Uint8Array, Map<HashAlgorithm, Promise<string>>>();

function digestOnce(bytes: Uint8Array, algorithm: HashAlgorithm): Promise<string> {
  let known = digests.get(bytes);
  if (!known) digests.set(bytes, known = new Map());
  let d = known.get(algorithm);
  if (!d) known.set(algorithm, d = digestBytes(bytes, algorithm));
  return d;
}

/** The published checkpoints whose hash (full digest, or the sha256 prefix in the publisher's file name) the bytes have. */
export async function publishedWithHash(bytes: Uint8Array, table: readonly PublishedCheckpoint[] = PUBLISHED): Promise<{ sha256: string; matches: PublishedCheckpoint[] }> {
  const sha256 = await digestOnce(bytes, 'sha256');
  const sha1 = table.some((c) => c.hash && 'hex' in c.hash && c.hash.algorithm === 'sha1') ? await digestOnce(bytes, 'sha1') : '';
  const matches = table.filter((c) => {
    const h = c.hash;
    if (!h) return false;
    if ('hex' in h) return (h.algorithm === 'sha1' ? sha1 : sha256) === h.hex.toLowerCase();
    if ('prefix' in h) return sha256.startsWith(h.prefix.toLowerCase());
    return false; // Hub LFS hashes are looked up online, not listed
  });
  return { sha256, matches };
}

/** Checkpoint files read while a `holdCheckpointReads` is open, by stamp (absolute path, size, modification time). */
let onceRead: Map<string, Uint8Array> | undefined;

/**
 * Until the returned release is called, each checkpoint file is read (and hashed) once: naming a file's model and
 * then converting it (`load(FILE)`, `cnn-zoo convert FILE`) read and hashed it twice. The bytes are held until the
 * outermost hold is released; a file changed in between (another size or modification time) is read again.
 */
export function holdCheckpointReads(): () => void {
  if (onceRead) return () => {};
  const mine = onceRead = new Map();
  return () => { if (onceRead === mine) onceRead = undefined; };
}

/**
 * Let go of the bytes held so far while the hold stays open: for work that goes on long after its file was loaded
 * (`cnn-zoo verify --weights FILE` runs fixtures and images after it; VGG-19's checkpoint is 548 MiB).
 */
export function forgetCheckpointReads(): void { onceRead?.clear(); }

/** Bytes of checkpoint files held now by an open `holdCheckpointReads` (tests count them). */
export function heldCheckpointBytes(): number {
  let n = 0;
  for (const b of onceRead?.values() ?? []) n += b.byteLength;
  return n;
}

/** `work` under `holdCheckpointReads`, released when it ends (returns or throws). */
export async function withCheckpointReadsHeld<T>(work: () => Promise<T>): Promise<T> {
  const release = holdCheckpointReads();
  try {
    return await work();
  } finally {
    release();
  }
}

async function readFileBytes(path: string): Promise<Uint8Array> {
  const { readFile, stat, resolve } = await nodeModules();
  try {
    const held = onceRead;
    let stamp = '';
    if (held) {
      const s = await stat(path);
      stamp = `${resolve(path)}\0${s.size}\0${s.mtimeMs}`;
      const known = held.get(stamp);
      if (known) return known;
    }
    const b = await readFile(path); // viewed, not copied: a second checkpoint-sized array (548 MiB for VGG-19) was the copy
    const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    held?.set(stamp, bytes);
    return bytes;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CnnZooError(`Cannot read the checkpoint "${path}" (${code ?? (e as Error).message}). Check the path${code === 'ENOENT' ? tildeHint(path) : ''}.`, 'MISSING_FILE');
  }
}

/** What a checkpoint file says of itself: the published checkpoint it is (by its hash), or the model cnn-zoo exported it from. */
export interface CheckpointIdentity {
  arch: string;
  published?: PublishedCheckpoint;
  /** cnn-zoo's own ONNX export (`cnn-zoo export`, exportOnnx): the metadata it carries (classes, preprocessing, source). */
  exported?: CnnZooMetadata;
  /** How that export stores its weights. */
  exportedAs?: 'float32' | 'float16' | 'int8 QDQ';
  /** Its graph's input and outputs (`metadata_props` "cnnZoo.io"), when it says. */
  exportedIo?: OnnxIo;
  /** The file's sha256 (hex), what recognised it. */
  sha256: string;
}

/**
 * The architecture a checkpoint file names by itself, or undefined: a published checkpoint (by its hash; `table`
 * defaults to the published-weights table), or an ONNX file that cnn-zoo exported. What `load(FILE)` uses.
 */
export async function identifyCheckpointFile(path: string, table?: readonly PublishedCheckpoint[]): Promise<CheckpointIdentity | undefined> {
  const raw = await readFileBytes(path);
  const { sha256, matches: [published] } = await publishedWithHash(raw, table);
  if (published) return { arch: published.arch, published, sha256 };
  const exported = exportedModel(raw, path);
  return exported ? { arch: exported.meta.arch, exported: exported.meta, exportedAs: exported.as, ...(exported.io ? { exportedIo: exported.io } : {}), sha256 } : undefined;
}

/**
 * The cnn-zoo metadata an ONNX file carries when cnn-zoo exported it (`metadata_props` "cnnZoo"), checked, and how it
 * stores its weights; undefined for any other file.
 */
function exportedModel(raw: Uint8Array, path: string): { meta: CnnZooMetadata; as: NonNullable<CheckpointIdentity['exportedAs']>; io?: OnnxIo } | undefined {
  try {
    if (sniffCheckpointFormat(raw, path) !== 'onnx') return undefined;
  } catch {
    return undefined;
  }
  const props = onnxMetadata(raw);
  if (props.cnnZoo === undefined) return undefined;
  const where = `${path} (its metadata_props "cnnZoo")`;
  let value: unknown;
  try { value = JSON.parse(props.cnnZoo); } catch (e) { throw corrupt(where, `not valid JSON (${(e as Error).message})`); }
  const meta = checkMetadata({ cnnZoo: value }, where);
  getSpec(meta.arch);
  let io: OnnxIo | undefined;
  try { io = props['cnnZoo.io'] === undefined ? undefined : JSON.parse(props['cnnZoo.io']) as OnnxIo; } catch { /* described by its graph alone */ }
  return { meta, as: props['cnnZoo.int8'] ? 'int8 QDQ' : props['cnnZoo.fp16'] ? 'float16' : 'float32', ...(io ? { io } : {}) };
}

export interface LocalOptions extends Pick<HubOptions, 'cacheDir' | 'dtype' | 'onStatus'> {
  /** The table files are recognised against (default: the published-weights table). */
  table?: readonly PublishedCheckpoint[];
}

/** A checkpoint file read and recognised for `arch`: its bytes, hash, and the published checkpoint it is (if any). */
async function identify(arch: string, path: string, opts: LocalOptions) {
  const spec = getSpec(arch);
  const dtype = checkDtype(opts.dtype ?? 'float32');
  const { resolve, basename } = await nodeModules();
  const file = resolve(path);
  const raw = await readFileBytes(file);
  const { sha256, matches } = await publishedWithHash(raw, opts.table);
  const mine = matches.filter((c) => c.arch === spec.name);
  if (matches.length > 0 && mine.length === 0) {
    const c = matches[0]!;
    throw new CnnZooError(`${path} is the published checkpoint of ${c.arch} (${checkpointId(c)}), not of ${spec.name}: ` +
      `use it with that model, load('${c.arch}', { weights: '${path}' }).`, 'WRONG_ARCH');
  }
  const c = mine[0];
  const format = c?.format ?? sniffCheckpointFormat(raw, file);
  const name = basename(file);
  const { meta: exported, as: exportedAs } = (c ? undefined : exportedModel(raw, path)) ?? {};
  if (exported && getSpec(exported.arch).name !== spec.name) {
    throw new CnnZooError(`${path} is cnn-zoo's ONNX export of ${exported.arch}, not of ${spec.name}: use it with that model, ` +
      `load('${exported.arch}', { weights: '${path}' }) (or load('${path}'), which it names).`, 'WRONG_ARCH');
  }
  const built = exported && [exported.includeTop === false && 'includeTop: false', exported.globalPool && 'globalPool', exported.inputWidth !== undefined && 'a non-square input'].filter(Boolean);
  if (built && built.length > 0) {
    throw new CnnZooError(`${path} is cnn-zoo's ONNX export of ${exported!.arch} built with ${built.join(', ')}, which its weights are not read back as: ` +
      'load the tfjs folder it was exported from (save() or cnn-zoo convert wrote it), or run the file on onnxruntime.', 'UNSUPPORTED_CHECKPOINT');
  }
  /** The conversion: by the publisher's table entry when the hash is a published one, else by the file's format. */
  const convert = async (): Promise<Converted> => {
    if (c) {
      opts.onStatus?.(`${name} is ${c.arch} ${checkpointId(c)} (sha256 ${sha256.slice(0, 12)}...); converting (${dtype})`);
      return convertDownloaded(c, raw, sha256, dtype);
    }
    const arrays = await readCheckpoint(format, raw, name, { arch: spec.name });
    const files = [{ name, bytes: raw.length, sha256 }];
    if (exported) {
      // cnn-zoo's own export: its weights, with the classes, preprocessing and history of the model it was exported from.
      opts.onStatus?.(`${name} is cnn-zoo's ONNX export of ${spec.name} (${exported.numClasses} classes); reading its weights (${dtype})`);
      const origin = `${exported.source.origin ?? `${exported.source.format} weights`}, through cnn-zoo's ONNX export ${name} (${exportedAs} weights)`;
      const converted = await convertCheckpoint({
        arch: spec.name, from: 'onnx', inputs: [name], source: { ...arrays, info: { format, files, origin }, foldedBatchNorms: true }, dtype, origin,
        inputSize: exported.inputSize, numClasses: exported.numClasses, preprocess: exported.preprocessing, licence: exported.licence,
      });
      // The weights are those the export was made from (rounded to its storage): their source, through the file.
      const metadata: CnnZooMetadata = { ...exported, source: { ...exported.source, origin }, dtype: converted.metadata.dtype };
      converted.model.setUserDefinedMetadata({ cnnZoo: metadata });
      return { ...converted, metadata };
    }
    opts.onStatus?.(`${name} is not a published checkpoint cnn-zoo knows (sha256 ${sha256.slice(0, 12)}...); reading it as ${format} for ${spec.name} (${dtype})`);
    const source = { ...arrays, info: { format, files, origin: file } };
    const from: SourceFormat = format === 'darknet' ? 'torch' : format;
    return convertCheckpoint({ arch: spec.name, from, inputs: [name], source, dtype, origin: file });
  };
  return { spec, dtype, file, name, sha256, c, exported, format, convert };
}

/**
 * Bump when reading a checkpoint file changes what it converts to, so conversions cached by an older reader are not
 * reused (the folder's name carries it). 2: a dense layer reading an NHWC-flattened feature map in an ONNX file
 * (cnn-zoo's own export of VGG or AlexNet) keeps its column order; version 1 reordered it as PyTorch's NCHW flatten.
 * (cnn-zoo's exports whose batch norms do not all fold into a conv were refused before, so none is cached.)
 */
const FILE_CONVERSION = 2;

/** Convert checkpoint file `path` for `arch` into the cache (once) and return where its tfjs artifacts are. */
export async function importCheckpoint(arch: string, path: string, opts: LocalOptions = {}): Promise<LocalCheckpoint> {
  const { spec, dtype, file, name, sha256, c, exported, format, convert } = await identify(arch, path, opts);
  const root = await cacheRoot(opts.cacheDir);
  const dir = c ? await modelDir(root, c, dtype) : await inCache(root, 'models', safeName(spec.name), `file-${sha256.slice(0, 16)}-${dtype}-v${FILE_CONVERSION}`);
  const cached = await readRecord(dir);
  if (cached && cached.sha256 === sha256) return { dir, checkpoint: c, format, sha256, fromCache: true, record: cached };
  const record: FetchRecord = {
    ...(c ? { checkpoint: checkpointId(c), arch: c.arch, verified: `its hash is the published one (${c.hash && 'from' in c.hash ? c.hash.from : 'table'})` }
      : { checkpoint: `file:${name}`, arch: spec.name, verified: exported ? "not a published checkpoint (cnn-zoo's ONNX export, read with the metadata it carries)" : 'not a published checkpoint (read by its format)' }),
    url: `file://${file}`, file: name, sha256, dtype, fetchedAt: new Date().toISOString(),
  };
  await cacheConverted(root, dir, record, convert);
  return { dir, checkpoint: c, format, sha256, fromCache: false, record };
}

/**
 * Checkpoint file `path` converted for `arch` in memory, as `importCheckpoint` converts it: by its publisher's table
 * entry (preprocessing, build options, licence) when its hash is a published one (`checkpoint`), else by its format
 * with the architecture's defaults.
 */
export async function convertCheckpointFile(arch: string, path: string, opts: LocalOptions = {}): Promise<Converted & { checkpoint?: PublishedCheckpoint }> {
  const id = await identify(arch, path, opts);
  return { ...(await id.convert()), ...(id.c ? { checkpoint: id.c } : {}) };
}

/**
 * A checkpoint file converted for `arch` in memory, for when the cache cannot be written (a read-only home, as in
 * serverless functions): the tfjs artifacts with their metadata, converted again on every load.
 */
export async function checkpointInMemory(arch: string, path: string, opts: LocalOptions = {}): Promise<tf.io.ModelArtifacts> {
  const { model, metadata } = await convertCheckpointFile(arch, path, opts);
  let saved: tf.io.ModelArtifacts | undefined;
  try {
    await saveConverted(model, tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }), metadata);
  } finally {
    model.dispose();
  }
  return saved!;
}
