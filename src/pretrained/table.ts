/**
 * The published-weights table (every registry model's checkpoints, plus the models that have none) and how a
 * weights selector resolves: `imagenet` (the model's default checkpoint), `<publisher>` (that publisher's first
 * checkpoint for the model) or `<publisher>:<tag>`.
 */
import { CnnZooError, closest, meant, shown } from '../errors.js';
import { getSpec } from '../zoo/registry.js';
import { OTHER_WEIGHTS } from './table-others.js';
import { TIMM_WEIGHTS } from './table-timm.js';
import { TORCHVISION } from './table-torchvision.js';
import { PUBLISHERS, type PublishedCheckpoint, type Publisher } from './types.js';
import { UNPUBLISHED } from './unpublished.js';

export const PUBLISHED: readonly PublishedCheckpoint[] = [...TORCHVISION, ...TIMM_WEIGHTS, ...OTHER_WEIGHTS];
export { UNPUBLISHED };

const SELECTOR = new RegExp(`^(imagenet|(${PUBLISHERS.join('|')})(:[A-Za-z0-9_.-]+)?)$`);

/** Whether a weights string names a published checkpoint (rather than a path or URL). */
export function isWeightsSelector(text: string): boolean {
  return SELECTOR.test(text);
}

/** `<publisher>:<tag>`, the selector that names exactly this checkpoint. */
export const checkpointId = (c: Pick<PublishedCheckpoint, 'publisher' | 'tag'>): string => `${c.publisher}:${c.tag}`;

/** Every published checkpoint of `arch` (a registry name or alias), default first. */
export function checkpointsFor(arch: string): PublishedCheckpoint[] {
  const name = getSpec(arch).name;
  const all = PUBLISHED.filter((c) => c.arch === name);
  return [...all.filter((c) => c.default), ...all.filter((c) => !c.default)];
}

/** The checkpoint a selector names for `arch`; a clear error when there is none. */
export function resolveCheckpoint(arch: string, selector = 'imagenet'): PublishedCheckpoint {
  const name = getSpec(arch).name;
  if (!isWeightsSelector(selector)) {
    const best = typeof selector === 'string' ? meant(selector, ['imagenet', ...PUBLISHERS]) : undefined;
    throw new CnnZooError(`${typeof selector === 'string' ? `"${selector}"` : shown(selector)} is not a weights source.${best ? ` Did you mean "${best}"?` : ''} ` +
      `Use imagenet, a publisher (${PUBLISHERS.join(', ')}) or publisher:tag` +
      `${typeof selector === 'string' ? '' : ' (fetchWeights(arch, selector, options): options come third)'}.`, 'BAD_ARGS');
  }
  const mine = checkpointsFor(name);
  if (mine.length === 0) {
    const why = UNPUBLISHED.find((u) => u.arch === name)?.reason ?? 'none is listed in cnn-zoo\'s weights table.';
    throw new CnnZooError(`${name} has no published pretrained weights: ${why} Use weights: null for random initialisation, or convert your own checkpoint.`, 'NO_WEIGHTS');
  }
  const ids = mine.map(checkpointId);
  let hit: PublishedCheckpoint | undefined;
  if (selector === 'imagenet') hit = mine[0];
  else if (!selector.includes(':')) hit = mine.find((c) => c.publisher === (selector as Publisher));
  else hit = mine.find((c) => checkpointId(c) === selector);
  if (!hit) {
    throw new CnnZooError(`${name} has no "${selector}" weights. Published: ${ids.join(', ')}` +
      (selector.includes(':') ? ` (closest: ${closest(selector, ids, 2).join(', ')}).` : '.'), 'NO_WEIGHTS');
  }
  return hit;
}
