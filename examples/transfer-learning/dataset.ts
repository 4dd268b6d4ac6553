/** A labelled image folder (`DIR/<class>/<image>`), split per class into training and held-out images. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from './random.js';

export interface LabelledImage {
  path: string;
  /** Index into `classes`. */
  label: number;
}

export interface ImageFolder {
  classes: string[];
  train: LabelledImage[];
  test: LabelledImage[];
}

const IMAGE = /\.(jpe?g|png|bmp|webp|gif|tiff?)$/i;

/**
 * Read `dir` and hold out `testFraction` of each class (at least one image; a seeded shuffle picks which).
 * Throws when there are fewer than two classes or a class has fewer than two images.
 */
export function readImageFolder(dir: string, testFraction: number, seed: number): ImageFolder {
  const classes = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
  if (classes.length < 2) throw new Error(`${dir} needs one sub-folder per class (at least two); found ${classes.length}.`);
  const rng = new Random(seed);
  const train: LabelledImage[] = [], test: LabelledImage[] = [];
  classes.forEach((c, label) => {
    const files = readdirSync(join(dir, c)).filter((f) => IMAGE.test(f)).sort().map((f) => ({ path: join(dir, c, f), label }));
    if (files.length < 2) throw new Error(`${join(dir, c)} has ${files.length} image(s); each class needs at least two (one to train, one to test).`);
    rng.shuffle(files);
    const nTest = Math.min(files.length - 1, Math.max(1, Math.round(files.length * testFraction)));
    test.push(...files.slice(0, nTest));
    train.push(...files.slice(nTest));
  });
  return { classes, train, test };
}
