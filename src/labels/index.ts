/** Class names shipped with the package (no data files needed at run time). */
import { CnnZooError } from '../errors.js';
import { IMAGENET_SYNSETS } from './imagenet-classes.js';

export interface ClassLabel {
  /** WordNet id, e.g. n03763968. */
  wnid: string;
  /** The first synonym, e.g. "military uniform". */
  label: string;
  /** Every synonym as synset_words.txt lists them. */
  names: string;
}

/** Label sets a model's metadata can name by id. */
export type LabelSetId = 'imagenet1k';

let imagenet: readonly ClassLabel[] | undefined;

/** The 1000 ImageNet-1k classes in the standard order (index = class id). */
export function imagenetLabels(): readonly ClassLabel[] {
  imagenet ??= IMAGENET_SYNSETS.map((line) => {
    const space = line.indexOf(' ');
    const names = line.slice(space + 1);
    return { wnid: line.slice(0, space), label: names.split(',')[0]!.trim(), names };
  });
  return imagenet;
}

/** The labels of a label-set id. */
export function labelSet(id: string): readonly ClassLabel[] {
  if (id === 'imagenet1k') return imagenetLabels();
  throw new CnnZooError(`Unknown label set "${id}". Known: imagenet1k.`, 'UNKNOWN_LABELS');
}

/**
 * The output index of class 0 for a classifier with `numOutputs` outputs when its weights do not say: 1 for TF's
 * 1001-class models (index 0 is "background"), else 0.
 */
export function classOffsetFor(numOutputs: number): number {
  return numOutputs === 1001 ? 1 : 0;
}
