/**
 * Published pretrained weights: the table of every registry model's checkpoints (source, URL, hash, licence,
 * accuracy, preprocessing, and where each fact came from), and fetching them into a cache (Node: a directory;
 * browsers: IndexedDB) converted to tfjs artifacts. Node modules are imported lazily, so browsers can bundle this.
 */
import type * as tf from '@tensorflow/tfjs';
import { fetchWeightsBrowser } from './browser.js';
import { fetchWeights, type HubOptions } from './fetch.js';
import { isNode } from '../platform.js';

export { PUBLISHED, UNPUBLISHED, checkpointsFor, resolveCheckpoint, isWeightsSelector, checkpointId } from './table.js';
export { PUBLISHERS, type PublishedCheckpoint, type Publisher, type ExpectedHash, type HubFormat, type CheckpointBuild, type Unpublished } from './types.js';
export { fetchWeights, type HubOptions, type FetchResult, type FetchRecord } from './fetch.js';
export { fetchWeightsBrowser } from './browser.js';
export { checkpointFileOf, checkpointInMemory, convertCheckpointFile, fileHead, importCheckpoint, isCheckpointFile, isCheckpointUrl, identifyCheckpointFile, unnamedCheckpoint, withCheckpointReadsHeld, type CheckpointIdentity, type LocalCheckpoint, type LocalOptions } from './local.js';
export type { DownloadProgress } from './download.js';
export { cacheContents, cacheRoot, removeFromCache, type CacheEntry } from './cache.js';


/** Node: the cached model directory; browsers: an IndexedDB IOHandler. Fetches and converts on first use. */
export async function resolveHubWeights(arch: string, selector: string, opts: HubOptions = {}): Promise<string | tf.io.IOHandler> {
  if (isNode) return (await fetchWeights(arch, selector, opts)).dir;
  return fetchWeightsBrowser(arch, selector, opts);
}
