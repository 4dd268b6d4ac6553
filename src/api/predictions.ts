/**
 * Predictions, in one shape: top-k over a row of outputs, mapped to a label set through the model's class offset
 * (TF's 1001-class models put "background" at index 0).
 */
import { classOffsetFor, labelSet } from '../labels/index.js';
import type { CnnZooMetadata } from '../artifacts/metadata.js';

/** One class of a prediction. */
export interface ClassPrediction {
  /** Class index in the label set (0..999 for ImageNet; TF's background class is removed). */
  index: number;
  /** WordNet id when the label set has one. */
  wnid?: string;
  label: string;
  probability: number;
}

/** A model's classes: names (and WordNet ids), and the output index of class 0. */
export interface ClassNames {
  names: readonly string[];
  wnids?: readonly string[];
  offset: number;
}

/**
 * Indices of the `k` largest values of `row[offset .. offset + n)`, largest first, relative to `offset`;
 * ties go to the lower index. NaN ranks below every number.
 */
export function topK(row: ArrayLike<number>, k: number, offset = 0, n = row.length - offset): number[] {
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = row[offset + i]!;
    const x = Number.isNaN(v) ? -Infinity : v;
    if (idx.length === k && !(x > val[k - 1]!)) continue;
    let j = Math.min(idx.length, k - 1);
    if (idx.length < k) { idx.push(i); val.push(x); }
    while (j > 0 && x > val[j - 1]!) { idx[j] = idx[j - 1]!; val[j] = val[j - 1]!; j--; }
    idx[j] = i;
    val[j] = x;
  }
  return idx;
}

/** The classes of a model with `numOutputs` outputs: from its metadata, else ImageNet-1k for 1000/1001 outputs. */
export function classNames(meta: Pick<CnnZooMetadata, 'labels' | 'classOffset'> | undefined, numOutputs: number): ClassNames {
  if (meta) {
    if (typeof meta.labels === 'string') {
      const set = labelSet(meta.labels);
      return { names: set.map((l) => l.label), wnids: set.map((l) => l.wnid), offset: meta.classOffset };
    }
    return { names: meta.labels, offset: meta.classOffset };
  }
  const offset = classOffsetFor(numOutputs);
  if (numOutputs - offset === 1000) {
    const set = labelSet('imagenet1k');
    return { names: set.map((l) => l.label), wnids: set.map((l) => l.wnid), offset };
  }
  return { names: Array.from({ length: numOutputs }, (_, i) => `class ${i}`), offset: 0 };
}

/** The `k` most probable classes of one row of probabilities. */
export function predictions(probs: ArrayLike<number>, classes: ClassNames, k: number): ClassPrediction[] {
  const n = Math.min(classes.names.length, probs.length - classes.offset);
  return topK(probs, k, classes.offset, n).map((index) => {
    const wnid = classes.wnids?.[index];
    return { index, ...(wnid ? { wnid } : {}), label: classes.names[index]!, probability: probs[index + classes.offset]! };
  });
}
