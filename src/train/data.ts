/**
 * Training data: a folder with one sub-folder of images per class (`DIR/<class>/<image>`, class names from the
 * sub-folders, sorted), or labelled images in memory; and the seeded per-class split into training and held-out
 * images.
 */
import { CnnZooError, shown, tildeHint } from '../errors.js';
import { isNode, nodeModules } from '../platform.js';
import { filesBelow, type FilesBelow } from '../image/files.js';
import type { ImageInput } from '../api/inputs.js';
import type { LabelledImages, TrainingData } from '../api/training.js';
import { Random } from './random.js';

export interface LabelledImage {
  image: ImageInput;
  /** Index into the classes. */
  label: number;
}

/**
 * How errors name the images of `fit(data, { validationData })`, what fixes classes that do not match, and how many
 * classes each needs: training two or more, each with images; validation images of some of them.
 */
const ROLES = {
  data: { name: 'Training data', folder: 'Training folder', where: 'the training data', minClasses: 2,
    need: 'training needs one sub-folder of images per class, at least two classes (DIR/cat/*.jpg, DIR/dog/*.jpg, ...).',
    fix: 'Make the model with load(base, { classes }) for exactly the classes of the data.' },
  validationData: { name: 'validationData', folder: 'Validation folder', where: 'validationData', minClasses: 1,
    need: 'validation images go in sub-folders named as the classes (DIR/cat/*.jpg, DIR/dog/*.jpg, ...).',
    fix: 'Give validationData images of classes of the model only.' },
} as const;
type Role = keyof typeof ROLES;

/** What a class-folder tree holds that is not trained on, and why (`cnn-zoo train` lists it). */
export interface UnusedEntry {
  /** Relative to the folder, `/`-separated; a folder ends with `/`. */
  path: string;
  why: 'top-level file' | 'no images' | 'not an image' | 'HEIC photo';
}

/**
 * The images of a class-folder tree: each sub-folder is a class (sorted by name), its images those anywhere below it
 * (in sub-folders too, in path order, as torchvision's ImageFolder and Keras' image_dataset_from_directory take
 * them). Fails (naming the fix) without at least two classes holding images (one for validation), and for a
 * DATA/train/<class> layout given as DATA. `unused` lists what was left out: files beside the class folders, class
 * folders without images, files that are not images (HEIC photos apart, which no decoder here reads).
 */
export async function readImageFolder(dir: string, role: Role = 'data'): Promise<LabelledImages & { items: { image: string; label: number }[]; unused: UnusedEntry[] }> {
  if (!isNode) throw new CnnZooError(`"${dir}": folders are read in Node; in a browser pass labelled images: [{ image, label }] (label: one of the model's classes).`, 'BAD_DATASET');
  const fs = await import('node:fs');
  const { join } = await nodeModules();
  const isDir = (p: string) => { try { return fs.statSync(p).isDirectory(); } catch { return false; } };
  if (!isDir(dir)) throw new CnnZooError(`${ROLES[role].folder} ${dir} does not exist or is not a folder${tildeHint(dir)}.`, 'BAD_DATASET');
  const unused: UnusedEntry[] = [];
  const folders: { name: string; found: FilesBelow }[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    if (isDir(join(dir, name))) folders.push({ name, found: filesBelow(join(dir, name), fs, join) });
    else unused.push({ path: name, why: 'top-level file' });
  }
  // Sub-folders that hold folders, not images of their own (a DATA/train/<class> layout).
  const nested = folders.filter((f) => f.found.direct === 0 && f.found.folders > 0).map((f) => f.name);
  // Given as DATA it is no set of classes (train, val): the error below names the folder to give.
  const splitLayout = folders.every((f) => f.found.direct === 0) && nested.some((n) => SPLIT_NAME.test(n));
  const classes: string[] = [];
  const items: { image: string; label: number }[] = [];
  let heic = 0;
  for (const { name, found } of folders) {
    heic += found.heic.length;
    if (splitLayout) continue;
    if (found.images.length === 0) {
      unused.push({ path: `${name}/`, why: 'no images' });
      continue;
    }
    const label = classes.push(name) - 1;
    for (const f of found.images) items.push({ image: join(dir, name, ...f.split('/')), label });
    for (const f of found.other) unused.push({ path: `${name}/${f}`, why: 'not an image' });
    for (const f of found.heic) unused.push({ path: `${name}/${f}`, why: 'HEIC photo' });
  }
  if (classes.length < ROLES[role].minClasses) {
    throw new CnnZooError(`${dir} has ${classes.length === 0 ? 'no class sub-folders with images' : `images of one class only (${classes[0]})`}; ` +
      ROLES[role].need +
      (heic ? ` Its ${heic} HEIC photo(s) cannot be read here: convert them to JPEG (macOS: sips -s format jpeg IN.heic --out OUT.jpg).` : '') +
      (nested.length ? ` Its sub-folder${nested.length > 1 ? 's' : ''} ${nested.join(', ')} hold${nested.length > 1 ? '' : 's'} folders: give the one with the class folders (${join(dir, split(nested).train)})` +
        (split(nested).held && role === 'data' ? `, and validationData: '${join(dir, split(nested).held!)}' to measure accuracy on the other.` : '.') : ''), 'BAD_DATASET');
  }
  return { classes, items, unused };
}

/** The names of a train/val/test split's folders, and of its training part. */
const SPLIT_NAME = /^(train(ing)?|val|valid|validation|test)$/i;
const TRAIN_NAME = /^train(ing)?$/i;

/** Of a train/val split's folder names: the one to train on (train, else the first) and a held-out one (val, test), if any. */
function split(names: readonly string[]): { train: string; held?: string } {
  const train = names.find((n) => TRAIN_NAME.test(n)) ?? names[0]!;
  const held = names.find((n) => n !== train && SPLIT_NAME.test(n) && !TRAIN_NAME.test(n));
  return held ? { train, held } : { train };
}

/** Training (or validation) data as labelled images whose labels index `classes` (the model's), checked against them. */
export async function labelledImages(data: TrainingData, classes: readonly string[], role: Role = 'data'): Promise<LabelledImage[]> {
  const words = ROLES[role];
  const set = typeof data === 'string' ? await readImageFolder(data, role) : Array.isArray(data) ? byClassName(data, classes, words.where) : data as LabelledImages;
  if (typeof set !== 'object' || set === null || !Array.isArray(set.classes) || !Array.isArray(set.items)) {
    throw new CnnZooError(`${words.name} must be a folder (one sub-folder per class), a list of { image, label } (label: one of the model's ` +
      `classes), or { classes: string[], items: [{ image, label }] } (label: an index into classes); got ${shown(set)}.`, 'BAD_DATASET');
  }
  const where = typeof data === 'string' ? data : words.where;
  const extra = set.classes.filter((c) => !classes.includes(c));
  // Validation images may leave a class out (its accuracy is then over the others).
  const absent = role === 'data' ? classes.filter((c) => !set.classes.includes(c)) : [];
  if (extra.length || absent.length) {
    throw new CnnZooError(`${where} has classes ${JSON.stringify(set.classes)}, the model ${JSON.stringify(classes)}` +
      `${extra.length ? `; unknown to the model: ${extra.join(', ')}` : ''}${absent.length ? `; without images: ${absent.join(', ')}` : ''}. ` +
      words.fix, 'BAD_DATASET');
  }
  const remap = set.classes.map((c) => classes.indexOf(c));
  return set.items.map((it, i) => {
    if (!Number.isInteger(it.label) || it.label < 0 || it.label >= set.classes.length) {
      const named = set.classes.indexOf(it.label as unknown as string);
      throw new CnnZooError(`${where}: item ${i} has label ${shown(it.label)}, not an index into its ${set.classes.length} classes` +
        (named >= 0 ? ` (labels are indices into classes: ${named} for "${set.classes[named]}")` : ` (0..${set.classes.length - 1})`) + '.', 'BAD_DATASET');
    }
    return { image: it.image, label: remap[it.label]! };
  });
}

/**
 * A list of `{ image, label }` whose labels name the model's `classes` (or index them) as `{ classes, items }`; a
 * label that is neither is named with the classes.
 */
function byClassName(list: readonly unknown[], classes: readonly string[], where: string): LabelledImages {
  const items = list.map((it, i) => {
    const { image, label } = (typeof it === 'object' && it !== null ? it : {}) as { image?: ImageInput; label?: unknown };
    if (image === undefined) throw new CnnZooError(`${where}: item ${i} is ${shown(it)}, not { image, label }.`, 'BAD_DATASET');
    const index = typeof label === 'string' ? classes.indexOf(label) : Number.isInteger(label) && (label as number) < classes.length ? label as number : -1;
    if (index < 0) {
      throw new CnnZooError(`${where}: item ${i} has label ${shown(label)}, which is not one of the model's classes ` +
        `(${classes.map((c) => JSON.stringify(c)).join(', ')}, or their indices 0..${classes.length - 1}).`, 'BAD_DATASET');
    }
    return { image, label: index };
  });
  return { classes, items };
}

/**
 * Hold out `fraction` of each class (at least one image when the fraction is positive, never all; a seeded shuffle
 * picks which). Each class needs an image to train on, and a second one when images are held out.
 */
export function splitPerClass(items: readonly LabelledImage[], classes: readonly string[], fraction: number, seed: number): { train: LabelledImage[]; test: LabelledImage[] } {
  const rng = new Random(seed);
  const train: LabelledImage[] = [], test: LabelledImage[] = [];
  classes.forEach((c, label) => {
    const mine = items.filter((it) => it.label === label);
    const need = fraction > 0 ? 2 : 1;
    if (mine.length < need) {
      throw new CnnZooError(`Class "${c}" has ${mine.length} image(s); each class needs at least ${need}` +
        `${need === 2 ? ' (one to train, one to hold out; or validationSplit: 0)' : ''}.`, 'BAD_DATASET');
    }
    rng.shuffle(mine);
    const nTest = fraction > 0 ? Math.min(mine.length - 1, Math.max(1, Math.round(mine.length * fraction))) : 0;
    test.push(...mine.slice(0, nTest));
    train.push(...mine.slice(nTest));
  });
  return { train, test };
}
