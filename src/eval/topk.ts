/** Top-k predictions and accuracy bookkeeping (overall and per class). */

export { topK } from '../api/predictions.js';

export interface ClassAccuracy {
  label: number;
  images: number;
  /** Percent. */
  top1: number;
  top5: number;
}

export interface AccuracySummary {
  images: number;
  /** Percent, over `images`. */
  top1: number;
  top5: number;
  /** Classes that had at least one image. */
  perClass: ClassAccuracy[];
  /** Mean of the per-class Top-1 (balanced accuracy), percent. */
  meanClassTop1: number;
}

/** Accumulates Top-1 / Top-5 hits, overall and per class. */
export class AccuracyMeter {
  private readonly total: Uint32Array;
  private readonly hit1: Uint32Array;
  private readonly hit5: Uint32Array;

  constructor(readonly numClasses: number) {
    this.total = new Uint32Array(numClasses);
    this.hit1 = new Uint32Array(numClasses);
    this.hit5 = new Uint32Array(numClasses);
  }

  /** Records one image: its label and the predicted classes, best first (at least 5 for Top-5). */
  add(label: number, predicted: readonly number[]): void {
    if (!Number.isInteger(label) || label < 0 || label >= this.numClasses) {
      throw new RangeError(`label ${label} is outside 0..${this.numClasses - 1}`);
    }
    this.total[label]!++;
    if (predicted[0] === label) this.hit1[label]!++;
    if (predicted.slice(0, 5).includes(label)) this.hit5[label]!++;
  }

  get images(): number {
    return this.total.reduce((a, b) => a + b, 0);
  }

  summary(): AccuracySummary {
    const pct = (a: number, b: number): number => (b === 0 ? 0 : (100 * a) / b);
    const n = this.images;
    const perClass: ClassAccuracy[] = [];
    for (let c = 0; c < this.numClasses; c++) {
      if (this.total[c]! > 0) perClass.push({ label: c, images: this.total[c]!, top1: pct(this.hit1[c]!, this.total[c]!), top5: pct(this.hit5[c]!, this.total[c]!) });
    }
    return {
      images: n,
      top1: pct(this.hit1.reduce((a, b) => a + b, 0), n),
      top5: pct(this.hit5.reduce((a, b) => a + b, 0), n),
      perClass,
      meanClassTop1: perClass.length ? perClass.reduce((a, c) => a + c.top1, 0) / perClass.length : 0,
    };
  }
}
