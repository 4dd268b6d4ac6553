/**
 * `fetchWeights(arch, selector)` in Node: resolve the published checkpoint, download it (mirror-aware, resumable),
 * verify its hash, convert it in-process with the readers, and cache the tfjs artifacts; later calls reuse the
 * cache without any request.
 */
import { CnnZooError, checkOptionKinds, checkOptionNames, tildeHint, type OptionKind } from '../errors.js';
import { isNode, nodeModules } from '../platform.js';
import { saveConverted } from '../artifacts/save.js';
import type * as tf from '@tensorflow/tfjs';
import { WEIGHT_DTYPES, type CnnZooMetadata, type WeightDtype } from '../artifacts/metadata.js';
import { nodeFileSystem } from '../artifacts/node-fs.js';
import { convertDownloaded } from './convert-download.js';
import { cacheRoot, downloadPath, exists, inCache, makeCacheDir, modelDir, publishDir, readRecord, remove, tempDirFor } from './cache.js';
import { downloadToPart, htmlPage, notACheckpoint, type DownloadOptions } from './download.js';
import { expectedHash, type ExpectedOptions } from './expected.js';
import { withCacheLock } from './lock.js';
import { digestFile, digestMatches, hashMismatch, type Expected } from './hash.js';
import { checkpointId, resolveCheckpoint } from './table.js';
import type { PublishedCheckpoint } from './types.js';

export interface HubOptions extends ExpectedOptions, Omit<DownloadOptions, 'fetch'> {
  /** Base URL that serves the table's file names (`<mirror>/<file>`); default `$CNN_ZOO_MIRROR`. */
  mirror?: string;
  /** Node cache directory (default `$CNN_ZOO_CACHE` or `~/.cache/cnn-zoo`). */
  cacheDir?: string;
  /** How the converted weights are stored (default float32). */
  dtype?: WeightDtype;
  /** Keep the verified download in `<cache>/downloads` (default: delete it after conversion). */
  keepDownload?: boolean;
  /** Progress messages ("downloading", "verified", "converting"). */
  onStatus?: (message: string) => void;
  /** Browsers: IndexedDB key prefix (default `cnn-zoo`). */
  indexedDBPrefix?: string;
}

/** Every option of `HubOptions`, for refusing a misspelt one (the record makes TypeScript keep it complete). */
const HUB_KEYS: Record<keyof HubOptions, true> = {
  mirror: true, cacheDir: true, dtype: true, keepDownload: true, onStatus: true, indexedDBPrefix: true, sha256: true,
  trustUnpinned: true, hfEndpoint: true, fetch: true, timeoutMs: true, retries: true, retryDelayMs: true, onProgress: true,
};
export const HUB_OPTIONS: readonly string[] = Object.keys(HUB_KEYS);
/** The kinds of the hub options that are read loosely or called (checked with their names). */
export const HUB_KINDS: Readonly<Partial<Record<keyof HubOptions, OptionKind>>> = {
  mirror: 'string', cacheDir: 'string', keepDownload: 'boolean', onStatus: 'function', indexedDBPrefix: 'string', sha256: 'string',
  trustUnpinned: 'boolean', hfEndpoint: 'string', fetch: 'function', timeoutMs: 'positive number', onProgress: 'function',
};

/** What `fetch.json` in a cached model directory records. */
export interface FetchRecord {
  checkpoint: string;
  arch: string;
  url: string;
  file: string;
  sha256: string;
  verified: string;
  dtype: WeightDtype;
  fetchedAt: string;
}

export interface FetchResult {
  /** The directory holding model.json (give it to `load(name, { weights })`). */
  dir: string;
  checkpoint: PublishedCheckpoint;
  /** True when nothing was downloaded or converted. */
  fromCache: boolean;
  record: FetchRecord;
}

/**
 * A mirror as a base URL: an http(s) or file:// URL as given, a folder path (Node) as its file:// URL. The mirror
 * serves (or holds) the table's file names: `<mirror>/<file>`.
 */
export async function mirrorBase(mirror: string): Promise<string> {
  if (/^(https?|file):\/\//i.test(mirror)) return mirror;
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(mirror) || !isNode) {
    throw new CnnZooError(`Mirror "${mirror}" is neither an http(s) URL nor a file:// URL${isNode ? ' nor a folder' : ''}.`, 'BAD_ARGS');
  }
  const { pathToFileURL } = await import('node:url');
  const { resolve, stat } = await nodeModules();
  // A folder that is not there is said as such, not as one that lacks the file (`~/mirror`, quoted or from code, is a
  // folder named ~ in the working folder: the hint says so).
  const st = await stat(resolve(mirror)).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new CnnZooError(`The mirror folder "${mirror}" ${st ? 'is a file, not a folder' : 'does not exist'}${tildeHint(mirror)}.`, 'MIRROR_MISSING');
  }
  return pathToFileURL(resolve(mirror)).href;
}

/** The download URL: the mirror's `<base>/<file>` when a mirror is set. */
export async function downloadUrl(c: PublishedCheckpoint, mirror?: string): Promise<string> {
  if (!mirror) return c.url;
  return `${(await mirrorBase(mirror)).replace(/\/+$/, '')}/${encodeURIComponent(c.file)}`;
}

export function checkDtype(dtype: string): WeightDtype {
  if (!(WEIGHT_DTYPES as readonly string[]).includes(dtype)) throw new CnnZooError(`dtype must be one of ${WEIGHT_DTYPES.join(', ')}; got "${dtype}".`, 'BAD_ARGS');
  return dtype as WeightDtype;
}

/** Checks that need no network: the format is readable and the file can be downloaded from here. */
export function checkFetchable(c: PublishedCheckpoint, mirror: string | undefined): void {
  if (c.manual && !mirror) throw new CnnZooError(`${c.arch} (${checkpointId(c)}) cannot be downloaded automatically: ${c.manual}. Source: ${c.url}`, 'MANUAL_DOWNLOAD');
}


/** The report on a cached download whose hash is not the published one: which file, both hashes, what to do. */
function cachedMismatch(path: string, hex: string, expected: Expected): CnnZooError {
  return new CnnZooError(`The cached download ${path} is not the published file: its ${expected.algorithm} is ${hex}, but ` +
    `${expected.from} says ${expected.prefix ? `it starts with ${expected.hex}` : expected.hex} (a corrupt or truncated download, or ` +
    'another file put there by hand). Delete it and fetch again; or, if it is a checkpoint you trust, use it directly: ' +
    '--weights FILE / load(name, { weights: FILE }) converts it by its format.', 'HASH_MISMATCH');
}

/** Download + verify into `dest` (via `<dest>.part`); returns the file's sha256 and what verified it. */
async function downloadVerified(c: PublishedCheckpoint, url: string, dest: string, opts: HubOptions): Promise<{ sha256: string; verified: string }> {
  const { rename } = await import('node:fs/promises');
  const mirror = opts.mirror ?? process.env.CNN_ZOO_MIRROR;
  const expected = await expectedHash(c, { ...opts, mirror });
  const check = async (path: string): Promise<{ sha256: string; verified: string } | { hex: string; expected: Expected }> => {
    const sha256 = await digestFile(path, 'sha256');
    if (!expected) return { sha256, verified: 'unverified (publisher publishes no hash; accepted with trustUnpinned)' };
    const hex = expected.algorithm === 'sha256' ? sha256 : await digestFile(path, expected.algorithm);
    if (!digestMatches(hex, expected)) return { hex, expected };
    return { sha256, verified: `${expected.algorithm} ${expected.prefix ? 'prefix ' : ''}${expected.hex} (${expected.from})` };
  };
  // A file already in the download cache (kept from an earlier fetch, or put there by hand): used if it verifies,
  // else reported (it is left in place, and replaced only by a download that verifies).
  let stale: CnnZooError | undefined;
  if (await exists(dest)) {
    const r = await check(dest);
    if ('sha256' in r) return r;
    stale = cachedMismatch(dest, r.hex, r.expected);
    opts.onStatus?.(stale.message);
  }
  const part = `${dest}.part`;
  opts.onStatus?.(`downloading ${url}`);
  try {
    await downloadToPart(url, part, c.file, { ...opts, fetch: opts.fetch });
  } catch (e) {
    if (stale && e instanceof CnnZooError) throw new CnnZooError(`${stale.message} Downloading it again failed too: ${e.message}`, e.code);
    throw e;
  }
  const result = await check(part);
  const page = await htmlPage(part); // also where no hash is published (trustUnpinned): a page is never a checkpoint
  if (!('sha256' in result) || page) {
    await remove(part);
    if ('sha256' in result) throw notACheckpoint(`${c.file} (from ${url})`, page!);
    const e = hashMismatch(`${c.file} (from ${url})`, result.hex, result.expected);
    throw page ? new CnnZooError(`${e.message} ${page}`, e.code) : e;
  }
  await rename(part, dest);
  opts.onStatus?.(`verified ${c.file}: ${result.verified}`);
  return result;
}

/**
 * Convert (`convert()`) and save tfjs artifacts + fetch.json into the cache folder `dir`: written to a temporary
 * folder and renamed into place, so a failure leaves nothing.
 */
export async function cacheConverted(root: string, dir: string, record: FetchRecord, convert: () => Promise<{ model: tf.LayersModel; metadata: CnnZooMetadata }>): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  let tmp: string | undefined;
  try {
    tmp = await tempDirFor(dir); // first: a cache that cannot be written fails before the conversion's work
    const { model, metadata } = await convert();
    try {
      await saveConverted(model, nodeFileSystem(tmp), metadata);
    } finally {
      model.dispose();
    }
    await writeFile(await inCache(root, tmp.slice(root.length + 1), 'fetch.json'), JSON.stringify(record, null, 2));
    await publishDir(tmp, dir);
    tmp = undefined;
  } finally {
    if (tmp) await remove(tmp);
  }
}

/**
 * The cached tfjs artifacts of a published checkpoint of `arch` (`selector`: imagenet, a publisher, or
 * publisher:tag), downloading, verifying and converting them first if needed.
 */
export async function fetchWeights(arch: string, selector = 'imagenet', opts: HubOptions = {}): Promise<FetchResult> {
  checkOptionNames('fetchWeights(arch, selector, options)', opts, HUB_OPTIONS);
  checkOptionKinds('fetchWeights(arch, selector, options)', opts, HUB_KINDS);
  const c = resolveCheckpoint(arch, selector);
  const dtype = checkDtype(opts.dtype ?? 'float32');
  const mirror = opts.mirror ?? process.env.CNN_ZOO_MIRROR;
  const root = await cacheRoot(opts.cacheDir);
  const dir = await modelDir(root, c, dtype);
  const cached = await readRecord(dir);
  if (cached) return { dir, checkpoint: c, fromCache: true, record: cached };
  checkFetchable(c, mirror);

  const url = await downloadUrl(c, mirror);
  const dest = await downloadPath(root, c);
  const { readFile } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  await makeCacheDir(dirname(dest));
  // One download and conversion at a time per checkpoint (lock.ts); whoever waited finds the result cached.
  return withCacheLock(dest, async () => {
    const done = await readRecord(dir);
    if (done) return { dir, checkpoint: c, fromCache: true, record: done };
    const { sha256, verified } = await downloadVerified(c, url, dest, { ...opts, mirror });
    try {
      opts.onStatus?.(`converting ${c.file} into ${c.arch} (${dtype})`);
      const b = await readFile(dest);
      const raw = new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // viewed, not copied (as readFileBytes in local.ts)
      const record: FetchRecord = { checkpoint: checkpointId(c), arch: c.arch, url, file: c.file, sha256, verified, dtype, fetchedAt: new Date().toISOString() };
      await cacheConverted(root, dir, record, () => convertDownloaded(c, raw, sha256, dtype));
      return { dir, checkpoint: c, fromCache: false, record };
    } finally {
      if (!opts.keepDownload) await remove(dest);
    }
  }, { onWait: opts.onStatus });
}
