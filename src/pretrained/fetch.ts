/**
 * `fetchWeights(arch, selector)` in Node: resolve the published checkpoint, download it (mirror-aware, resumable),
 * verify its hash, convert it in-process with the readers, and cache the tfjs artifacts; later calls reuse the
 * cache without any request.
 */
import { CnnZooError } from '../errors.js';
import { saveConverted } from '../artifacts/save.js';
import { WEIGHT_DTYPES, type WeightDtype } from '../artifacts/metadata.js';
import { nodeFileSystem } from '../artifacts/node-fs.js';
import { convertDownloaded } from './convert-download.js';
import { cacheRoot, downloadPath, exists, inCache, modelDir, publishDir, remove, tempDirFor } from './cache.js';
import { downloadToPart, type DownloadOptions } from './download.js';
import { expectedHash, type ExpectedOptions } from './expected.js';
import { digestFile, digestMatches, hashMismatch } from './hash.js';
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

/** The download URL: the mirror's `<base>/<file>` when a mirror is set. */
export function downloadUrl(c: PublishedCheckpoint, mirror?: string): string {
  if (!mirror) return c.url;
  if (!/^https?:\/\//.test(mirror)) throw new CnnZooError(`Mirror "${mirror}" is not an http(s) URL.`, 'BAD_ARGS');
  return `${mirror.replace(/\/+$/, '')}/${encodeURIComponent(c.file)}`;
}

export function checkDtype(dtype: string): WeightDtype {
  if (!(WEIGHT_DTYPES as readonly string[]).includes(dtype)) throw new CnnZooError(`dtype must be one of ${WEIGHT_DTYPES.join(', ')}; got "${dtype}".`, 'BAD_ARGS');
  return dtype as WeightDtype;
}

/** Checks that need no network: the format is readable and the file can be downloaded from here. */
export function checkFetchable(c: PublishedCheckpoint, mirror: string | undefined): void {
  if (c.manual && !mirror) throw new CnnZooError(`${c.arch} (${checkpointId(c)}) cannot be downloaded automatically: ${c.manual}. Source: ${c.url}`, 'MANUAL_DOWNLOAD');
}

async function readRecord(dir: string): Promise<FetchRecord | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const r = JSON.parse(await readFile(`${dir}/fetch.json`, 'utf8')) as FetchRecord;
    return (await exists(`${dir}/model.json`)) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Download + verify into `dest` (via `<dest>.part`); returns the file's sha256 and what verified it. */
async function downloadVerified(c: PublishedCheckpoint, url: string, dest: string, opts: HubOptions): Promise<{ sha256: string; verified: string }> {
  const { mkdir, rename } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const mirror = opts.mirror ?? process.env.CNN_ZOO_MIRROR;
  const expected = await expectedHash(c, { ...opts, mirror });
  const check = async (path: string): Promise<{ sha256: string; verified: string }> => {
    const sha256 = await digestFile(path, 'sha256');
    if (!expected) return { sha256, verified: 'unverified (publisher publishes no hash; accepted with trustUnpinned)' };
    const hex = expected.algorithm === 'sha256' ? sha256 : await digestFile(path, expected.algorithm);
    if (!digestMatches(hex, expected)) {
      await remove(path);
      throw hashMismatch(`${c.file} (from ${url})`, hex, expected);
    }
    return { sha256, verified: `${expected.algorithm} ${expected.prefix ? 'prefix ' : ''}${expected.hex} (${expected.from})` };
  };
  if (await exists(dest)) {
    try { return await check(dest); } catch { /* a stale or foreign file: download again */ }
  }
  await mkdir(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  opts.onStatus?.(`downloading ${url}`);
  await downloadToPart(url, part, c.file, { ...opts, fetch: opts.fetch });
  const result = await check(part);
  await rename(part, dest);
  opts.onStatus?.(`verified ${c.file}: ${result.verified}`);
  return result;
}

/**
 * The cached tfjs artifacts of a published checkpoint of `arch` (`selector`: imagenet, a publisher, or
 * publisher:tag), downloading, verifying and converting them first if needed.
 */
export async function fetchWeights(arch: string, selector = 'imagenet', opts: HubOptions = {}): Promise<FetchResult> {
  const c = resolveCheckpoint(arch, selector);
  const dtype = checkDtype(opts.dtype ?? 'float32');
  const mirror = opts.mirror ?? process.env.CNN_ZOO_MIRROR;
  const root = await cacheRoot(opts.cacheDir);
  const dir = await modelDir(root, c, dtype);
  const cached = await readRecord(dir);
  if (cached) return { dir, checkpoint: c, fromCache: true, record: cached };
  checkFetchable(c, mirror);

  const url = downloadUrl(c, mirror);
  const dest = await downloadPath(root, c);
  const { sha256, verified } = await downloadVerified(c, url, dest, { ...opts, mirror });
  const { readFile, writeFile } = await import('node:fs/promises');
  let tmp: string | undefined;
  try {
    opts.onStatus?.(`converting ${c.file} into ${c.arch} (${dtype})`);
    const raw = new Uint8Array(await readFile(dest));
    const { model, metadata } = await convertDownloaded(c, raw, sha256, dtype);
    try {
      tmp = await tempDirFor(dir);
      await saveConverted(model, nodeFileSystem(tmp), metadata);
    } finally {
      model.dispose();
    }
    const record: FetchRecord = { checkpoint: checkpointId(c), arch: c.arch, url, file: c.file, sha256, verified, dtype, fetchedAt: new Date().toISOString() };
    await writeFile(await inCache(root, tmp.slice(root.length + 1), 'fetch.json'), JSON.stringify(record, null, 2));
    await publishDir(tmp, dir);
    tmp = undefined;
    return { dir, checkpoint: c, fromCache: false, record };
  } finally {
    if (tmp) await remove(tmp);
    if (!opts.keepDownload) await remove(dest);
  }
}
