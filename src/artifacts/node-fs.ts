/**
 * A Node file-system IOHandler for tfjs LayersModel artifacts that needs no tfjs-node: `load()` reads
 * model.json and its weight shards (each missing file named), `save()` writes model.json plus shards of
 * at most `shardBytes` (4 MB by default). Node modules are imported lazily, so importing this module is
 * harmless in browsers.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, fsProblem, refuseTildePath, tildeHint } from '../errors.js';
import { checkShardPath } from './manifest.js';

export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

export interface NodeFsOptions {
  /** Largest shard written by `save()`. */
  shardBytes?: number;
}

/** Concatenate a tfjs WeightData (one buffer or a list) into one ArrayBuffer. */
export function weightDataBuffer(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (!data) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

/** Parse model.json text, naming the file when it is not a tfjs layers model. */
export function parseModelJson(text: string, where: string): tf.io.ModelJSON {
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch (e) {
    throw new CnnZooError(`${where}: not valid JSON (${(e as Error).message}).`, 'BAD_ARTIFACT');
  }
  if (typeof json !== 'object' || json === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new CnnZooError(`${where}: not a tfjs model.json (it needs "modelTopology" and "weightsManifest").`, 'BAD_ARTIFACT');
  }
  for (const group of json.weightsManifest as unknown[]) {
    const g = group as { paths?: unknown; weights?: unknown } | null;
    if (typeof g !== 'object' || g === null || !Array.isArray(g.paths) || !Array.isArray(g.weights)) {
      throw new CnnZooError(`${where}: a weightsManifest group lacks its "paths" and "weights" lists.`, 'BAD_ARTIFACT');
    }
  }
  return json;
}

/** Where model.json lies, for a path that is model.json itself or its directory. */
async function modelJsonPath(path: string): Promise<string> {
  const { stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  try {
    if ((await stat(path)).isDirectory()) return join(path, 'model.json');
  } catch { /* not there: handled by the reader */ }
  return path;
}

/** The model.json of `path` (a directory, or the path of model.json) and where it lies; its shards are not read. */
export async function readModelJson(path: string): Promise<{ json: tf.io.ModelJSON; file: string }> {
  const { readFile } = await import('node:fs/promises');
  const file = await modelJsonPath(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code !== 'ENOENT' ? `Cannot read model.json at "${file}" (${code ?? (e as Error).message})`
      : file !== path ? `The folder "${path}" holds no model.json`
      : `Nothing is at "${path}"${tildeHint(path)}`;
    throw new CnnZooError(`${what}. Weights are a folder that holds model.json and its weight shards (from save() or cnn-zoo convert), ` +
      'or a checkpoint file (.pth, .safetensors, .h5, .tflite, .onnx, ...): check the path.', 'MISSING_FILE');
  }
  return { json: parseModelJson(text, file), file };
}

/** The shard files a manifest names, beside model.json `file`: checked to stay in its folder and to be regular files. */
async function shardFiles(manifest: tf.io.WeightsManifestConfig, file: string): Promise<{ path: string; size: number }[]> {
  const { realpath, stat } = await import('node:fs/promises');
  const { dirname, join, sep } = await import('node:path');
  const dir = dirname(file);
  const shards: { path: string; size: number }[] = [];
  const realDir = await realpath(dir);
  for (const group of manifest) {
    for (const p of group.paths) {
      const shard = join(dir, checkShardPath(p, file));
      try {
        // Symbolic links may not lead out of the model's directory either, and shards are regular files.
        const real = await realpath(shard);
        if (!real.startsWith(realDir + sep)) throw new CnnZooError(`${file}: weight shard "${p}" links to ${real}, outside ${realDir}. Copy the shard into the model's directory.`, 'UNSAFE_PATH');
        const info = await stat(real);
        if (!info.isFile()) throw new CnnZooError(`${file}: weight shard "${p}" is not a regular file.`, 'UNSAFE_PATH');
        shards.push({ path: real, size: info.size });
      } catch (e) {
        if (e instanceof CnnZooError) throw e;
        throw unreadableShard(shard, file, e);
      }
    }
  }
  return shards;
}

const unreadableShard = (shard: string, file: string, e: unknown) => new CnnZooError(`Weight shard "${shard}" named by ${file} cannot be read ` +
  `(${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Copy every file of the model directory.`, 'MISSING_FILE');
const changedShard = (shard: string, file: string, got: number, size: number) =>
  unreadableShard(shard, file, new Error(`it changed while being read: ${got} of ${size} bytes`));

/**
 * The weight shards of a model.json, read when asked, synchronously, into a buffer of the caller's: on wasm each
 * weight is read straight into its tensor's memory in the heap (`heapTensor`), where reading all shards into one
 * JavaScript buffer first touched every page of the weights twice (ResNet-50: 98 MB read, then copied in).
 */
export interface ShardReader {
  /** The shards' total size. */
  readonly byteLength: number;
  /** Fill `into` with the bytes at `offset` of the shards taken end to end. */
  readInto(offset: number, into: Uint8Array): void;
  /** Close the files (idempotent). */
  close(): void;
}

class NodeFileSystem implements tf.io.IOHandler {
  constructor(private readonly path: string, private readonly opts: NodeFsOptions) {}

  async load(): Promise<tf.io.ModelArtifacts> {
    const { open } = await import('node:fs/promises');
    const { json, file } = await readModelJson(this.path);
    return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
      // The shards, checked, then read into one buffer of their total size: reading each into its own array and
      // concatenating them copied the weights twice more (VGG-16: 528 MiB, each copy into fresh memory).
      const shards = await shardFiles(manifest, file);
      const data = new Uint8Array(shards.reduce((n, s) => n + s.size, 0));
      let at = 0;
      for (const s of shards) {
        let got = 0;
        try {
          const fh = await open(s.path, 'r');
          try {
            for (let n = -1; got < s.size && n !== 0; got += n) n = (await fh.read(data, at + got, s.size - got, got)).bytesRead;
          } finally {
            await fh.close();
          }
        } catch (e) {
          throw unreadableShard(s.path, file, e);
        }
        if (got !== s.size) throw changedShard(s.path, file, got, s.size);
        at += s.size;
      }
      return [manifest.flatMap((g) => g.weights), data.buffer];
    });
  }

  /** The artifacts without their weight data, and the shards (checked, opened) to read it from: close them when done. */
  async loadShardReader(): Promise<{ artifacts: tf.io.ModelArtifacts; shards: ShardReader }> {
    const { openSync, readSync, closeSync } = await import('node:fs');
    const { json, file } = await readModelJson(this.path);
    let files: { path: string; size: number }[] = [];
    const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
      files = await shardFiles(manifest, file);
      return [manifest.flatMap((g) => g.weights), new ArrayBuffer(0)];
    });
    delete artifacts.weightData;
    const fds: number[] = [];
    const close = () => { for (const fd of fds.splice(0)) closeSync(fd); };
    try {
      for (const s of files) fds.push(openSync(s.path, 'r'));
    } catch (e) {
      close();
      throw unreadableShard(files[fds.length]!.path, file, e);
    }
    const starts: number[] = [];
    let byteLength = 0;
    for (const s of files) { starts.push(byteLength); byteLength += s.size; }
    const readInto = (offset: number, into: Uint8Array): void => {
      let i = 0;
      while (i + 1 < starts.length && starts[i + 1]! <= offset) i++;
      for (let done = 0; done < into.length; i++) {
        const s = files[i];
        if (!s || fds.length === 0) throw new CnnZooError(`${file}: weights read past the shards' ${byteLength} bytes (or after they were closed).`, 'BAD_ARTIFACT');
        const from = offset + done - starts[i]!;
        const want = Math.min(into.length - done, s.size - from);
        let got = 0;
        try {
          for (let n = -1; got < want && n !== 0; got += n) n = readSync(fds[i]!, into, done + got, want - got, from + got);
        } catch (e) {
          throw unreadableShard(s.path, file, e);
        }
        if (got !== want) throw changedShard(s.path, file, from + got, s.size);
        done += want;
      }
    };
    return { artifacts, shards: { byteLength, readInto, close } };
  }

  async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    refuseTildePath('save the model to', this.path);
    try {
      return await this.write(artifacts);
    } catch (e) {
      const fs = fsProblem(e);
      if (!fs) throw e;
      throw new CnnZooError(`Cannot save the model to ${this.path}: ${fs}. Choose a folder you can write.`, 'CANNOT_WRITE');
    }
  }

  private async write(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { basename, dirname, join } = await import('node:path');
    const dir = this.path.endsWith('.json') ? dirname(this.path) : this.path;
    const jsonName = this.path.endsWith('.json') ? basename(this.path) : 'model.json';
    if (artifacts.modelTopology instanceof ArrayBuffer) throw new CnnZooError('Saving binary model topologies is not supported.', 'BAD_ARTIFACT');
    await mkdir(dir, { recursive: true });
    const previous = await shardsNamedBy(join(dir, jsonName));
    const data = new Uint8Array(weightDataBuffer(artifacts.weightData));
    const shardBytes = this.opts.shardBytes ?? DEFAULT_SHARD_BYTES;
    const count = Math.max(1, Math.ceil(data.length / shardBytes));
    const paths: string[] = [];
    // A model saved as NAME.json beside model.json (or another NAME.json) keeps shards of its own.
    const prefix = jsonName === 'model.json' ? '' : `${jsonName.slice(0, -'.json'.length)}.`;
    for (let i = 0; i < count; i++) {
      const name = `${prefix}group1-shard${i + 1}of${count}.bin`;
      await writeFile(join(dir, name), data.subarray(i * shardBytes, Math.min(data.length, (i + 1) * shardBytes)));
      paths.push(name);
    }
    const json: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology ?? {},
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: artifacts.convertedBy ?? 'cnn-zoo convert',
      weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
    if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
    await writeFile(join(dir, jsonName), JSON.stringify(json));
    // Saved over an earlier model: the shards only its model.json named go with it.
    const { unlink } = await import('node:fs/promises');
    for (const stale of previous.filter((p) => !paths.includes(p))) await unlink(join(dir, stale)).catch(() => undefined);
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }
}

/**
 * The shard files that the model.json at `file` names and that are named as tfjs names shards
 * (`[NAME.]groupG-shardIofN.bin`, in the folder itself); none when it is absent or unreadable.
 */
async function shardsNamedBy(file: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  try {
    const json = parseModelJson(await readFile(file, 'utf8'), file);
    return json.weightsManifest.flatMap((g) => g.paths).filter((p) => /^([\w.-]+\.)?group\d+-shard\d+of\d+\.bin$/.test(p));
  } catch {
    return [];
  }
}

/** Whether `handler` is `nodeFileSystem`'s (which reads its shards on demand with `loadShardReader`). */
export function isNodeFileSystem(handler: tf.io.IOHandler): handler is NodeFileSystem { return handler instanceof NodeFileSystem; }

/** An IOHandler reading/writing `path` (a directory, or the path of model.json). */
export function nodeFileSystem(path: string, opts: NodeFsOptions = {}): tf.io.IOHandler {
  return new NodeFileSystem(path, opts);
}
