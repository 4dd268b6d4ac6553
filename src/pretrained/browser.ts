/**
 * The browser side of `load(name, { weights: 'imagenet' })`: download with progress (mirror-aware), verify with
 * WebCrypto, convert in-process with the readers, and cache the tfjs artifacts in IndexedDB
 * (`indexeddb://cnn-zoo/<arch>/<publisher>-<tag>-<dtype>`), which later loads reuse without a request.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { saveConverted } from '../artifacts/save.js';
import { convertDownloaded } from './convert-download.js';
import { modelDirName } from './cache.js';
import { expectedHash } from './expected.js';
import { checkDtype, checkFetchable, downloadUrl, type HubOptions } from './fetch.js';
import { digestBytes, digestMatches, hashMismatch } from './hash.js';
import { resolveCheckpoint } from './table.js';

async function download(url: string, file: string, opts: HubOptions): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url);
  } catch (e) {
    throw new CnnZooError(`Cannot download ${file} from ${url} (${(e as Error).message}). The browser may be offline, or the server does not allow ` +
      'cross-origin requests: serve the file from your own origin and pass hub: { mirror }.', 'NETWORK');
  }
  if (!res.ok || !res.body) throw new CnnZooError(`Download of ${file} failed: ${url} answered ${res.status} ${res.statusText}.`, 'HTTP_ERROR');
  const total = Number(res.headers.get('content-length') ?? NaN);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    opts.onProgress?.({ file, received, total: Number.isFinite(total) ? total : undefined });
  }
  if (Number.isFinite(total) && received !== total) throw new CnnZooError(`The download of ${file} ended after ${received} of ${total} bytes. Try again.`, 'DOWNLOAD_FAILED');
  const out = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

/** An IOHandler over the IndexedDB copy of a published checkpoint of `arch`, fetching and converting it first if needed. */
export async function fetchWeightsBrowser(arch: string, selector = 'imagenet', opts: HubOptions = {}): Promise<tf.io.IOHandler> {
  if (typeof indexedDB === 'undefined') throw new CnnZooError('Published weights in a browser need IndexedDB for their cache, and this environment has none.', 'NO_INDEXEDDB');
  const c = resolveCheckpoint(arch, selector);
  const dtype = checkDtype(opts.dtype ?? 'float32');
  const key = `indexeddb://${opts.indexedDBPrefix ?? 'cnn-zoo'}/${c.arch}/${modelDirName(c, dtype)}`;
  const models = await tf.io.listModels().catch(() => ({} as Record<string, unknown>));
  const handler = tf.io.getLoadHandlers(key)[0];
  if (!handler) throw new CnnZooError('tfjs has no IndexedDB handler in this environment.', 'NO_INDEXEDDB');
  if (key in models) return handler;

  checkFetchable(c, opts.mirror);
  const url = await downloadUrl(c, opts.mirror);
  const expected = await expectedHash(c, opts);
  opts.onStatus?.(`downloading ${url}`);
  const raw = await download(url, c.file, opts);
  const sha256 = await digestBytes(raw, 'sha256');
  if (expected) {
    const hex = expected.algorithm === 'sha256' ? sha256 : await digestBytes(raw, expected.algorithm);
    if (!digestMatches(hex, expected)) throw hashMismatch(`${c.file} (from ${url})`, hex, expected);
  }
  const { model, metadata } = await convertDownloaded(c, raw, sha256, dtype);
  try {
    const save = tf.io.getSaveHandlers(key)[0];
    if (!save) throw new CnnZooError('tfjs has no IndexedDB handler in this environment.', 'NO_INDEXEDDB');
    await saveConverted(model, save, metadata);
  } finally {
    model.dispose();
  }
  return handler;
}
