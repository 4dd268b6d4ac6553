/**
 * Model cards as users see them: the registry's card plus which weights the model has (shipped in the package,
 * published checkpoints with their selectors) and the accuracy of the checkpoint that `weights: 'imagenet'` gets.
 * Accuracy and licence of published weights live in src/pretrained; the card shows its default checkpoint's.
 */
import { toCard } from '../zoo/registry.js';
import type { ModelCard, ModelSpec } from '../zoo/types.js';
import { SHIPPED } from '../artifacts/shipped.js';
import { checkpointId, checkpointsFor } from '../pretrained/table.js';

/** The weights a model has. */
export interface WeightsInfo {
  /** Weights ship inside the package (`load(name)` works offline). */
  shipped: boolean;
  /** Selectors of its published checkpoints (`load(name, { weights: selector })`), default first. */
  published: string[];
  /** The checkpoint `weights: 'imagenet'` gets: its selector, publisher's accuracy and licence. */
  imagenet?: { id: string; top1?: number; top5?: number; licence: string };
}

export type Card = ModelCard & { weights: WeightsInfo };

/** The user-facing card of `spec`. */
export function cardOf(spec: ModelSpec): Card {
  const card = toCard(spec);
  const published = checkpointsFor(spec.name);
  const def = published[0];
  const weights: WeightsInfo = { shipped: spec.name in SHIPPED, published: published.map(checkpointId) };
  if (!def) return { ...card, weights };
  weights.imagenet = { id: checkpointId(def), ...(def.accuracy ? { top1: def.accuracy.top1, top5: def.accuracy.top5 } : {}), licence: def.licence };
  const meta = def.accuracy
    ? { ...card.meta, top1: def.accuracy.top1, top5: def.accuracy.top5, accuracySource: `${checkpointId(def)} (the default published checkpoint)` }
    : card.meta;
  return { ...card, meta, weights };
}
