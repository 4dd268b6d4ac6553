/**
 * The Node cache of downloads and converted models: `$CNN_ZOO_CACHE` or `~/.cache/cnn-zoo`, holding
 * `downloads/<file>` (verified checkpoints, kept on request) and `models/<arch>/<publisher>-<tag>-<dtype>/`
 * (tfjs artifacts + fetch.json). Every write goes to a temporary name inside the cache and is renamed into
 * place, and every path is checked to stay inside the cache.
 */
import { CnnZooError, refuseTildePath } from '../errors.js';
import { nodeModules } from '../platform.js';
import type { WeightDtype } from '../artifacts/metadata.js';
import type { PublishedCheckpoint } from './types.js';

const node = nodeModules;

/** A file-name-safe version of `text`. */
export const safeName = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');

/** The cache root: `cacheDir`, else `$CNN_ZOO_CACHE`, else `~/.cache/cnn-zoo`. */
export async function cacheRoot(cacheDir?: string): Promise<string> {
  const { resolve, join, homedir } = await node();
  const given = cacheDir ?? process.env.CNN_ZOO_CACHE;
  if (given !== undefined) refuseTildePath(`use as the cache (${cacheDir !== undefined ? 'cacheDir' : 'CNN_ZOO_CACHE'})`, given);
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

/** Remove a path inside the cache, ignoring absence. */
export async function remove(p: string): Promise<void> {
  await (await node()).rm(p, { recursive: true, force: true });
}
