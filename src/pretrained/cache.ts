/**
 * The Node cache of downloads and converted models: `$CNN_ZOO_CACHE` or `~/.cache/cnn-zoo`, holding
 * `downloads/<file>` (verified checkpoints, kept on request) and `models/<arch>/<publisher>-<tag>-<dtype>/`
 * (tfjs artifacts + fetch.json), `models/<arch>/file-<sha256>-<dtype>-v<n>/` (a checkpoint file converted), `onnx/<arch>/`
 * (ONNX exports `<key>.onnx`, and onnxruntime's optimized forms of them for this machine, folders `<key>.ort-<version>-<cpu>/`); `cacheContents` lists them, `removeFromCache` deletes them. Every write goes to a temporary name
 * inside the cache and is renamed into place, and every path is checked to stay inside the cache.
 */
import { CnnZooError, refuseTildePath } from '../errors.js';
import { nodeModules } from '../platform.js';
import type { WeightDtype } from '../artifacts/metadata.js';
import type { PublishedCheckpoint } from './types.js';
import type { FetchRecord } from './fetch.js';
import { PUBLISHED } from './table.js';

const node = nodeModules;

/** A file-name-safe version of `text`. */
export const safeName = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');

/** The cache root: `cacheDir`, else `$CNN_ZOO_CACHE`, else `~/.cache/cnn-zoo`. */
export async function cacheRoot(cacheDir?: string): Promise<string> {
  const { resolve, join, homedir } = await node();
  // An empty CNN_ZOO_CACHE is unset (it made the working folder the cache).
  const given = cacheDir ?? (process.env.CNN_ZOO_CACHE || undefined);
  const named = cacheDir !== undefined ? 'cacheDir' : 'CNN_ZOO_CACHE';
  if (given !== undefined) refuseTildePath(`use as the cache (${named})`, given);
  if (given !== undefined && /^[a-z][a-z0-9+.-]+:\/\//i.test(given)) {
    throw new CnnZooError(`The cache (${named}) is a folder on this machine, got the URL ${given}; downloads come from a mirror ` +
      '(--mirror URL / load(name, { hub: { mirror: URL } })).', 'BAD_PATH');
  }
  return resolve(given ?? join(homedir(), '.cache', 'cnn-zoo'));
}

/** `root`-relative path parts joined, refusing anything that would leave the cache. */
export async function inCache(root: string, ...parts: string[]): Promise<string> {
  const { resolve, sep } = await node();
  const p = resolve(root, ...parts);
  if (!p.startsWith(root + sep)) throw new CnnZooError(`Refusing to write outside the cache: ${p} is not inside ${root}.`, 'BAD_PATH');
  return p;
}

export const modelDirName = (c: PublishedCheckpoint, dtype: WeightDtype): string => safeName(`${c.publisher}-${c.tag}-${dtype}`);

export async function modelDir(root: string, c: PublishedCheckpoint, dtype: WeightDtype): Promise<string> {
  return inCache(root, 'models', safeName(c.arch), modelDirName(c, dtype));
}

/** Where the ONNX export of a model is kept when it has no writable folder of its own: `onnx/<arch>/<key>.onnx`. */
export async function onnxCachePath(root: string, arch: string, key: string): Promise<string> {
  return inCache(root, 'onnx', safeName(arch), `${safeName(key)}.onnx`);
}

export async function downloadPath(root: string, c: PublishedCheckpoint): Promise<string> {
  return inCache(root, 'downloads', safeName(c.file));
}

export const exists = async (p: string): Promise<boolean> => (await (await node()).stat(p).catch(() => undefined)) !== undefined;

/**
 * Make folder `dir` of the cache, or fail naming the cache and the fix (a read-only home, a cache path under a file)
 * rather than with mkdir's bare error.
 */
export async function makeCacheDir(dir: string): Promise<void> {
  try {
    await (await node()).mkdir(dir, { recursive: true });
  } catch (e) {
    throw cacheUnwritable(dir, e);
  }
}

/** The error for a cache folder that cannot be written: where, why (the errno), and how to point the cache elsewhere. */
export function cacheUnwritable(path: string, e: unknown): CnnZooError {
  const err = e as NodeJS.ErrnoException;
  return new CnnZooError(`Cannot write the cnn-zoo cache at ${path} (${err.code ?? err.message}). Point it at a writable folder ` +
    'with CNN_ZOO_CACHE=DIR.', 'CACHE_UNWRITABLE');
}

/** A fresh temporary directory next to `finalDir` (same file system, so the rename is atomic). */
export async function tempDirFor(finalDir: string): Promise<string> {
  const { mkdtemp, dirname, join, basename } = await node();
  await makeCacheDir(dirname(finalDir));
  try {
    return await mkdtemp(join(dirname(finalDir), `.tmp-${basename(finalDir)}-`));
  } catch (e) {
    throw cacheUnwritable(dirname(finalDir), e);
  }
}

/**
 * Move a completed temporary directory to `finalDir` in one rename. If another process finished first, keep
 * its copy and drop ours.
 */
export async function publishDir(tmp: string, finalDir: string): Promise<void> {
  const { rename, rm } = await node();
  try {
    await rename(tmp, finalDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') && await exists(`${finalDir}/model.json`)) {
      await rm(tmp, { recursive: true, force: true });
      return;
    }
    throw e;
  }
}

/** The `fetch.json` of a cached model folder, when the folder also holds its model.json (else it is not finished). */
export async function readRecord(dir: string): Promise<FetchRecord | undefined> {
  const { readFile } = await node();
  try {
    const r = JSON.parse(await readFile(`${dir}/fetch.json`, 'utf8')) as FetchRecord;
    return (await exists(`${dir}/model.json`)) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Remove a path inside the cache, ignoring absence. */
export async function remove(p: string): Promise<void> {
  await (await node()).rm(p, { recursive: true, force: true });
}

/** One thing the cache holds (`cacheContents`). */
export interface CacheEntry {
  /**
   * `model`: converted tfjs artifacts (with their `fetch.json`; an ONNX export beside them counts in its size);
   * `onnx`: an ONNX export kept in the cache; `optimized`: onnxruntime's optimized form of an export, for this machine;
   * `download`: a kept checkpoint file; `unfinished`: a download (`.part`) or a conversion (`.tmp-*`) that did not
   * finish, or is still being written.
   */
  kind: 'model' | 'onnx' | 'optimized' | 'download' | 'unfinished';
  /** The architecture (a download's: that of its published checkpoint); undefined when unknown. */
  arch?: string;
  /** Relative to the cache root, `/`-separated. */
  path: string;
  bytes: number;
  /** A converted model: the checkpoint it was converted from (`fetch.json`), its dtype and when. */
  checkpoint?: string;
  dtype?: string;
  written?: string;
  /** Why `removeFromCache` leaves it (a fetch holds its lock, or it was written in the last minutes). */
  busy?: string;
}

/** How recently an unfinished conversion was written for it to count as still being written. */
const BUSY_MS = 15 * 60_000;

/** What the cache at `root` holds: converted models, ONNX exports, downloads and leftovers, by path. */
export async function cacheContents(root: string): Promise<CacheEntry[]> {
  const { readdir, lstat, join } = await node();
  const list = async (dir: string): Promise<string[]> => (await readdir(dir).catch(() => [] as string[])).sort();
  const size = async (p: string): Promise<number> => {
    const s = await lstat(p).catch(() => undefined);
    if (!s?.isDirectory()) return s?.size ?? 0;
    let sum = 0;
    for (const f of await list(p)) sum += await size(join(p, f));
    return sum;
  };
  const recent = async (p: string): Promise<boolean> => Date.now() - ((await lstat(p).catch(() => undefined))?.mtimeMs ?? 0) < BUSY_MS;
  const entries: CacheEntry[] = [];
  for (const arch of await list(join(root, 'models'))) {
    for (const name of await list(join(root, 'models', arch))) {
      const dir = join(root, 'models', arch, name);
      const path = `models/${arch}/${name}`;
      if (name.startsWith('.tmp-')) {
        entries.push({ kind: 'unfinished', arch, path, bytes: await size(dir), ...(await recent(dir) ? { busy: 'a conversion may still be writing it' } : {}) });
        continue;
      }
      const record = await readRecord(dir);
      entries.push(record ? { kind: 'model', arch, path, bytes: await size(dir), checkpoint: record.checkpoint, dtype: record.dtype, written: record.fetchedAt }
        : { kind: 'unfinished', arch, path, bytes: await size(dir) }); // no model.json and fetch.json: not a finished conversion
    }
  }
  for (const arch of await list(join(root, 'onnx'))) {
    for (const name of await list(join(root, 'onnx', arch))) {
      const file = join(root, 'onnx', arch, name);
      // An optimized form is a folder `<key>.ort-<version>-<cpu>` (earlier builds wrote a file `<key>.ort-<version>-<cpu>.onnx`).
      const done = !name.includes('.tmp-') && (name.endsWith('.onnx') || /\.ort-[^/]*$/.test(name));
      entries.push({ kind: !done ? 'unfinished' : /\.ort-/.test(name) ? 'optimized' : 'onnx', arch, path: `onnx/${arch}/${name}`, bytes: await size(file),
        ...(!done && await recent(file) ? { busy: 'an export may still be writing it' } : {}) });
    }
  }
  const downloads = await list(join(root, 'downloads'));
  for (const name of downloads) {
    if (/\.(lock|takeover)$/.test(name)) continue;
    const file = name.replace(/\.part$/, '');
    const arch = PUBLISHED.find((c) => safeName(c.file) === file)?.arch;
    const locked = downloads.includes(`${file}.lock`);
    entries.push({ kind: name === file ? 'download' : 'unfinished', ...(arch ? { arch } : {}), path: `downloads/${name}`,
      bytes: await size(join(root, 'downloads', name)), ...(locked ? { busy: `a fetch holds downloads/${file}.lock` } : {}) });
  }
  return entries;
}

/** Delete `entries` of the cache at `root`, except those busy; returns what was removed. */
export async function removeFromCache(root: string, entries: readonly CacheEntry[]): Promise<CacheEntry[]> {
  const removed: CacheEntry[] = [];
  for (const e of entries) {
    if (e.busy) continue;
    await remove(await inCache(root, ...e.path.split('/')));
    removed.push(e);
  }
  return removed;
}
