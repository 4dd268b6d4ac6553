/**
 * Reading converted tfjs artifacts from a directory, a `file://` or `http(s)://` URL, an in-memory map of files, or
 * any tf IOHandler (in browsers optionally through an IndexedDB cache), and filling a built model from them by
 * (layer name, role). Missing files and mismatched shapes name the file and the tensor. Which weights a model gets
 * (shipped, published, given, random) is decided in src/api/weights.ts, not here.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, proxyNote, shown } from '../errors.js';
import { getSpec, resolveOptions } from '../zoo/registry.js';
import { withoutInitialisation } from '../zoo/ops.js';
import type { CreateOptions, ModelSpec } from '../zoo/types.js';
import { checkMetadata, withBuildOptions, type CnnZooMetadata } from './metadata.js';
import { isNodeFileSystem, nodeFileSystem, parseModelJson, readModelJson, weightDataBuffer, type ShardReader } from './node-fs.js';
import { checkBuildMetadata, checkShardPath, checkWeightSpecs, shardUrl, weightOffsets } from './manifest.js';
import { isNode } from '../platform.js';
import { heapTensor } from '../kernels/wasm-copy.js';

/** Where converted weights come from. */
export type WeightsSource = string | URL | Readonly<Record<string, ArrayBuffer | Uint8Array>> | tf.io.IOHandler;

const isHandler = (w: unknown): w is tf.io.IOHandler => typeof w === 'object' && w !== null && typeof (w as tf.io.IOHandler).load === 'function';

/** An IOHandler over an in-memory map { 'model.json': bytes, 'group1-shard1of1.bin': bytes, ... }. */
export function fromFileMap(files: Readonly<Record<string, ArrayBuffer | Uint8Array>>): tf.io.IOHandler {
  const bytes = (v: ArrayBuffer | Uint8Array): Uint8Array => (v instanceof Uint8Array ? v : new Uint8Array(v));
  return {
    async load() {
      const jsonKey = Object.keys(files).find((k) => k === 'model.json' || k.endsWith('/model.json'));
      if (!jsonKey) throw new CnnZooError(`The weights map has no "model.json" (keys: ${Object.keys(files).join(', ') || 'none'}).`, 'MISSING_FILE');
      const json = parseModelJson(new TextDecoder().decode(bytes(files[jsonKey]!)), jsonKey);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const parts = manifest.flatMap((g) => g.paths).map((p) => {
          checkShardPath(p, jsonKey);
          const own = (k: string) => (Object.hasOwn(files, k) ? files[k] : undefined);
          const v = own(p) ?? own(p.slice(p.lastIndexOf('/') + 1));
          if (!v) throw new CnnZooError(`The weights map lacks "${p}", a shard named by model.json.`, 'MISSING_FILE');
          const b = bytes(v);
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        });
        return [manifest.flatMap((g) => g.weights), tf.io.concatenateArrayBuffers(parts)];
      });
    },
  };
}

/** tfjs's own storage URLs (browsers): `indexeddb://name`, `localstorage://name`; `downloads://name` saves only. */
const STORAGE_URL = /^(indexeddb|localstorage|downloads):\/\//i;

/** The tfjs handler registered for a storage URL, or a CnnZooError naming where such URLs work. */
function storageHandler(url: string, save: boolean): tf.io.IOHandler {
  const handler = (save ? tf.io.getSaveHandlers(url) : tf.io.getLoadHandlers(url))[0];
  if (handler) return handler;
  const where = isNode ? 'in Node, which has no IndexedDB, localStorage or downloads: pass a folder path' :
    /^downloads:/i.test(url) ? 'downloads:// only saves: load the downloaded files by URL or as a file map' : 'this browser has none for it';
  throw new CnnZooError(`"${url}": tfjs has no ${save ? 'save' : 'load'} handler for this URL ${where}.`, 'BAD_ARGS');
}

/** A path, or the path of a `file://` URL (Node). */
async function localPath(text: string): Promise<string> {
  if (!text.startsWith('file://')) return text;
  const { fileURLToPath } = await import('node:url');
  return fileURLToPath(text);
}

/**
 * Where `save(dest)` writes: an IOHandler as given; `indexeddb://`, `localstorage://` and `downloads://` URLs
 * through tfjs's own handlers (browsers); an http(s) URL by a POST of model.json and the weights (tfjs's `tf.io.http`,
 * as `tf.LayersModel.save(url)` does); in Node a folder path (or `file://` URL).
 */
export async function saveHandler(dest: string | tf.io.IOHandler): Promise<tf.io.IOHandler> {
  if (typeof dest !== 'string') return dest;
  if (dest.trim() === '') {
    throw new CnnZooError('save(dest): dest is empty; give a folder path (Node), "indexeddb://NAME" or "downloads://NAME" (browsers), ' +
      'or an http(s) URL to upload the model to.', 'BAD_ARGS');
  }
  if (STORAGE_URL.test(dest)) return storageHandler(dest, true);
  // It made a folder named "http:" in the working folder.
  if (/^https?:\/\//i.test(dest)) {
    const http = tf.io.http(dest);
    return {
      save: async (artifacts) => {
        try {
          return await http.save!(artifacts);
        } catch (e) {
          throw new CnnZooError(`Cannot upload the model to ${dest} (${(e as Error).message}). save(URL) POSTs model.json and its weights ` +
            'there as a multipart form (tf.io.http); check the URL and that the server takes the upload, or save to a folder.', 'CANNOT_WRITE');
        }
      },
    };
  }
  if (!isNode) {
    throw new CnnZooError(`save("${dest}"): a browser saves to "indexeddb://NAME" (then load("indexeddb://NAME")), ` +
      '"downloads://NAME" (files the user downloads), an http(s) URL to upload to, or an IOHandler.', 'BAD_ARGS');
  }
  return nodeFileSystem(await localPath(dest));
}

/** Resolve a weights source to an IOHandler. */
export async function weightsHandler(weights: WeightsSource): Promise<{ handler: tf.io.IOHandler; where: string; modelJson?: () => Promise<tf.io.ModelJSON> }> {
  if (isHandler(weights)) return { handler: weights, where: 'the given IOHandler' };
  if (typeof weights === 'string' || weights instanceof URL) {
    const text = weights.toString();
    if (STORAGE_URL.test(text)) return { handler: storageHandler(text, false), where: text };
    // In a page, relative and root-relative URLs resolve against the page, as `fetch` and `<img src>` do.
    const base = !isNode && typeof location !== 'undefined' && !/^[a-z][a-z0-9+.-]*:/i.test(text) ? location.href : undefined;
    const absolute = base ? new URL(text, base).href : text;
    if (/^https?:\/\//.test(absolute)) {
      const url = absolute.endsWith('.json') ? absolute : `${absolute.replace(/\/$/, '')}/model.json`;
      // Shards must come from the model's own directory on the same host.
      return { handler: tf.io.http(url, { weightUrlConverter: async (p) => shardUrl(p, url) }), where: url, modelJson: () => fetchModelJson(url) };
    }
    if (!isNode) throw new CnnZooError(`"${text}" is not an http(s) URL; in a browser pass a URL (relative ones resolve against the page), an indexeddb:// URL, a file map or an IOHandler.`, 'BAD_ARGS');
    const path = await localPath(text);
    return { handler: nodeFileSystem(path), where: path, modelJson: async () => (await readModelJson(path)).json };
  }
  if (typeof weights === 'object' && weights !== null) return { handler: fromFileMap(weights as Record<string, ArrayBuffer>), where: 'the weights map' };
  throw new CnnZooError(`Unsupported weights source ${String(weights)}: pass a directory, a file:// or http(s):// URL, a map of files or an IOHandler.`, 'BAD_ARGS');
}

/**
 * What tfjs's loaders throw (its http handler: a 404, JSON that is not a model, a refused connection through fetch)
 * as a CnnZooError that says what failed where, and what the URL should be.
 */
function unreachable(where: string, e: unknown): CnnZooError {
  const message = String((e as Error)?.message ?? e);
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  const http = /Request to (\S+) failed with status code (\d+)/.exec(message);
  const why = http ? `HTTP ${http[2]} for ${http[1]}` : cause?.code ?? cause?.message ?? message.split('\n')[0];
  return new CnnZooError(`Cannot load the weights at ${where} (${why}). Check the URL: it is the folder, or its model.json, of ` +
    `weights converted by \`cnn-zoo convert\` or saved by model.save().${!http && cause?.code ? proxyNote() : ''}`, 'WEIGHTS_UNREACHABLE');
}

/** model.json at `url`, fetched as tfjs's http handler fetches it (a failure said as `unreachable` says it). */
async function fetchModelJson(url: string): Promise<tf.io.ModelJSON> {
  let text: string;
  try {
    const res = await tf.env().platform.fetch(url, undefined, { isBinary: false });
    if (!res.ok) throw new Error(`Request to ${url} failed with status code ${res.status}.`);
    text = await res.text();
  } catch (e) {
    throw unreachable(url, e);
  }
  return parseModelJson(text, url);
}

/** Load artifacts, through the IndexedDB cache when asked (browsers). */
async function loadArtifacts(handler: tf.io.IOHandler, where: string, cache?: { indexedDB: string }): Promise<tf.io.ModelArtifacts> {
  const idb = cache && typeof indexedDB !== 'undefined' ? tf.io.getLoadHandlers(`indexeddb://${cache.indexedDB}`)[0] : undefined;
  if (idb) {
    try { return await idb.load!(); } catch { /* not cached yet */ }
  }
  if (!handler.load) throw new CnnZooError(`${where} cannot load.`, 'BAD_ARGS');
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await handler.load();
  } catch (e) {
    throw e instanceof CnnZooError ? e : unreachable(where, e);
  }
  if (idb && cache) {
    const save = tf.io.getSaveHandlers(`indexeddb://${cache.indexedDB}`)[0];
    await save?.save?.(artifacts).catch(() => undefined);
  }
  return artifacts;
}

/**
 * Fill `model`'s weights from artifacts by (layer name, role), naming file and tensor on any mismatch; their weight
 * data, or (`shards`) the shards to read it from.
 */
export function assignArtifactWeights(model: tf.LayersModel, artifacts: tf.io.ModelArtifacts, where: string, shards?: ShardReader): void {
  const specs = artifacts.weightSpecs ?? [];
  const byName = new Map(specs.map((s) => [s.name, s]));
  const missing: string[] = [];
  for (const layer of model.layers) for (const w of layer.weights) if (!byName.has(w.originalName)) missing.push(w.originalName);
  if (missing.length) {
    throw new CnnZooError(`${where} lacks ${missing.length} weights of ${model.name}: ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}. ` +
      'Were these weights converted for another architecture?', 'WEIGHTS_MISMATCH');
  }
  const data = weightDataBuffer(artifacts.weightData);
  checkWeightSpecs(specs, shards?.byteLength ?? data.byteLength, where);
  const at = weightOffsets(specs);
  /** A weight's bytes, in a buffer of their own. */
  const bytesAt = (offset: number, bytes: number): ArrayBuffer => {
    if (!shards) return data.slice(offset, offset + bytes);
    const b = new Uint8Array(bytes);
    shards.readInto(offset, b);
    return b.buffer;
  };
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const { spec } = at.get(w.originalName)!;
      if (spec.shape.join() !== w.shape.join()) {
        throw new CnnZooError(`${where}: tensor "${w.originalName}" has shape [${spec.shape}] but ${model.name} needs [${w.shape}]. ` +
          'The weights were converted for another input size, class count or architecture.', 'SHAPE_MISMATCH');
      }
    }
  }
  // A layer's tensors are made just before it takes them, so that the memory of what they replace (the shared
  // zeros of withoutInitialisation) is reused as the layers go; on wasm, which copies a tensor's values into its
  // heap when it is made, a float32 weight is read through a view of the shards rather than a copy of its bytes,
  // and a uint8/uint16 one is dequantized straight into the heap (tfjs's decodeWeights makes a float32 copy in
  // JavaScript first: the shipped MobileNet v2's 14 MB of fresh pages); read from `shards`, a float32 weight goes
  // from the file straight into its tensor's memory in the heap.
  const wasm = tf.getBackend() === 'wasm';
  const tensorOf = (name: string): tf.Tensor => {
    const { spec, offset, bytes } = at.get(name)!;
    if (wasm && spec.dtype === 'float32' && !spec.quantization && offset % 4 === 0) {
      const read = shards && heapTensor(spec.shape, (out) => shards.readInto(offset, new Uint8Array(out.buffer, out.byteOffset, bytes)));
      return read || tf.tensor(new Float32Array(data, offset, bytes / 4), spec.shape, 'float32');
    }
    const q = spec.quantization;
    if (spec.dtype === 'float32' && q && q.scale !== undefined && q.min !== undefined &&
      (q.dtype === 'uint8' || (q.dtype === 'uint16' && offset % 2 === 0))) {
      const n = tf.util.sizeFromShape(spec.shape);
      const [buffer, start] = shards ? [bytesAt(offset, n * (q.dtype === 'uint8' ? 1 : 2)), 0] : [data, offset];
      const codes = q.dtype === 'uint8' ? new Uint8Array(buffer, start, n) : new Uint16Array(buffer, start, n);
      const { scale, min } = q;
      const made = heapTensor(spec.shape, (out) => { for (let i = 0; i < n; i++) out[i] = codes[i]! * scale + min; }); // decodeWeights', to the bit
      if (made) return made;
    }
    return tf.io.decodeWeights(bytesAt(offset, bytes), [spec])[spec.name]!;
  };
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((w) => tensorOf(w.originalName));
    try {
      layer.setWeights(values);
    } finally {
      tf.dispose(values);
    }
  }
}

/** Artifacts read from a weights source, with their checked cnn-zoo metadata. */
export interface ReadArtifacts {
  artifacts: tf.io.ModelArtifacts;
  meta: CnnZooMetadata;
  /** The source, for messages. */
  where: string;
  /** Where the weight data is read from when `artifacts` has none (`readArtifacts(..., { shardReader: true })`). */
  shards?: ShardReader;
}

/**
 * Read converted artifacts (through the IndexedDB cache in browsers when asked) and check their metadata. With
 * `shardReader` and a folder in Node on wasm, the weight data is left in the shards, opened, for `buildFromArtifacts`
 * to read into the model's tensors (and close).
 */
export async function readArtifacts(weights: WeightsSource, opts: { cache?: { indexedDB: string }; shardReader?: boolean } = {}): Promise<ReadArtifacts> {
  const { handler, where } = await weightsHandler(weights);
  if (opts.shardReader && isNodeFileSystem(handler) && tf.getBackend() === 'wasm') {
    const { artifacts, shards } = await handler.loadShardReader();
    try {
      return { artifacts, meta: checkMetadata(artifacts.userDefinedMetadata, where, artifacts), where, shards };
    } catch (e) {
      shards.close();
      throw e;
    }
  }
  const artifacts = await loadArtifacts(handler, where, opts.cache);
  return { artifacts, meta: checkMetadata(artifacts.userDefinedMetadata, where, artifacts), where };
}

/**
 * The checked cnn-zoo metadata of converted weights, from model.json alone where the source has one to read (a
 * folder or model.json in Node, an http(s) URL): naming the model of weights does not read their shards.
 */
export async function readArtifactsMetadata(weights: WeightsSource): Promise<{ meta: CnnZooMetadata; where: string }> {
  const { modelJson, where } = await weightsHandler(weights);
  if (!modelJson) return readArtifacts(weights);
  const json = await modelJson();
  return { meta: checkMetadata(json.userDefinedMetadata, where, json), where };
}

/**
 * Build `spec` as the artifacts' metadata says (input size, classes) and fill it from them. The metadata must
 * describe the same architecture and fit the weights before anything is built. `inputSize` builds it at another
 * (square) size, as timm and Keras allow for pretrained weights: the preprocessing crops that size (its crop fraction
 * kept), and a head that pools a fixed window says which sizes fit (or `globalPool`). Shards read on demand (`read.shards`)
 * are closed when it returns.
 */
export function buildFromArtifacts(spec: ModelSpec, read: ReadArtifacts,
  opts: Pick<CreateOptions, 'includeTop' | 'pooling' | 'inputSize' | 'globalPool'> = {}): tf.LayersModel {
  try {
    return buildFilled(spec, read, opts);
  } finally {
    read.shards?.close();
  }
}

function buildFilled(spec: ModelSpec, read: ReadArtifacts, opts: Pick<CreateOptions, 'includeTop' | 'pooling' | 'inputSize' | 'globalPool'>): tf.LayersModel {
  const { artifacts, where, shards } = read;
  checkBuildMetadata(read.meta, artifacts.weightSpecs ?? [], shards?.byteLength ?? weightDataBuffer(artifacts.weightData).byteLength, where);
  if (getSpec(read.meta.arch).name !== spec.name) {
    throw new CnnZooError(`${where} holds weights for "${read.meta.arch}", not "${spec.name}". Load them as "${read.meta.arch}" (or give only the weights).`, 'WEIGHTS_MISMATCH');
  }
  const meta = atInputSize(read.meta, opts.inputSize, spec.name);
  // Saved without a classifier (includeTop: false): built that way, with its pooling, unless the caller says otherwise.
  const headless = meta.includeTop === false;
  if (headless && opts.includeTop === true) {
    throw new CnnZooError(`${where} holds ${spec.name} without its classifier (saved with includeTop: false), so there are no ` +
      'classifier weights to load: leave out includeTop, or load weights that have the classifier.', 'WEIGHTS_MISMATCH');
  }
  const includeTop = opts.includeTop ?? !headless;
  const pooling = headless && opts.includeTop === undefined && opts.pooling === undefined ? meta.pooling : opts.pooling;
  // Built with globalPool (the reference's fixed-window head swapped for a global pool): built so again, unless told.
  const globalPool = opts.globalPool ?? meta.globalPool;
  const inputSize = meta.inputWidth !== undefined ? [meta.inputSize, meta.inputWidth] as const : meta.inputSize;
  const ctx = resolveOptions(spec, { inputSize, numClasses: meta.numClasses, includeTop, pooling, globalPool });
  const model = withoutInitialisation(() => spec.build(ctx)); // every weight is assigned below (or the load fails)
  try {
    assignArtifactWeights(model, artifacts, where, shards);
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.setUserDefinedMetadata({ cnnZoo: withBuildOptions(meta, ctx) });
  return model;
}

/** `meta` for the model built at `inputSize` (one number, or a square [size, size]: the preprocessing crops squares). */
function atInputSize(meta: CnnZooMetadata, inputSize: CreateOptions['inputSize'], name: string): CnnZooMetadata {
  if (inputSize === undefined) return meta;
  const size = Array.isArray(inputSize) && inputSize.length === 2 && inputSize[0] === inputSize[1] ? inputSize[0] : inputSize;
  if (typeof size !== 'number') {
    throw new CnnZooError(`${name}: with pretrained weights, inputSize is one number (the preprocessing crops a square), got ` +
      `${Array.isArray(inputSize) ? JSON.stringify(inputSize) : shown(inputSize)}. For other shapes, pass images already at that size to model.model.predict().`, 'BAD_OPTION');
  }
  if (size === meta.inputSize && meta.inputWidth === undefined) return meta;
  const { inputWidth: _width, ...square } = meta;
  return { ...square, inputSize: size, preprocessing: { ...meta.preprocessing, size } };
}
