/**
 * Labelled image folders for evaluation. Three layouts are recognised:
 *   labels-file    a folder with `labels.txt` (`file index [wnid]` per line; images beside it or in `images/`)
 *   imagenet-val   the official `ILSVRC2012_val_*.JPEG` folder + `ILSVRC2012_val_labels.txt` (`file index`)
 *   class-folders  torchvision ImageFolder: one sub-folder per class, named by ImageNet wnid (its images in its own
 *                  sub-folders too)
 * Nothing is dropped silently: unparseable lines, unknown labels, wnids that contradict the index, labelled files
 * that are absent and images without a label are all recorded in `problems` (and the CLI prints them).
 */
import { CnnZooError, checkOptionNames, shown } from '../errors.js';
import { imagenetLabels, type ClassLabel } from '../labels/index.js';
import { IMAGE_FILE, filesBelow } from '../image/files.js';

export type DatasetLayout = 'labels-file' | 'imagenet-val' | 'class-folders';

export interface DatasetItem {
  /** Path relative to the dataset root, as the labels file names it. */
  file: string;
  /** Absolute path. */
  path: string;
  /** Class index (0-based, ImageNet order for ImageNet data). */
  label: number;
  wnid?: string;
}

export type DatasetProblemKind = 'bad-line' | 'bad-label' | 'wnid-mismatch' | 'missing' | 'unlabelled' | 'duplicate';

export interface DatasetProblem {
  kind: DatasetProblemKind;
  /** The file (or `labels.txt:LINE` for a bad line). */
  file: string;
  detail: string;
}

export interface ImageDataset {
  name: string;
  root: string;
  layout: DatasetLayout;
  /** Classes the labels index into. */
  classes: readonly ClassLabel[];
  /** Images to evaluate, in a stable (sorted) order. Missing files are kept: evaluation reports them as failed. */
  items: DatasetItem[];
  problems: DatasetProblem[];
  /** imagenet-val only: labelled images of the full val set that this folder does not hold (a subset is normal). */
  absent?: number;
}

export interface OpenDatasetOptions {
  /** Labels file to use instead of the one found in the folder (`file index [wnid]`). */
  labels?: string;
  /**
   * The classes labels index into (default: the 1000 ImageNet classes); class names (a trained classifier's, e.g.
   * `model.metadata.labels`) name the class sub-folders as wnids do.
   */
  classes?: readonly (ClassLabel | string)[];
}

const VAL_FILE = /^ILSVRC2012_val_\d{8}\.JPEG$/i;
const VAL_LABELS = 'ILSVRC2012_val_labels.txt';

type Fs = typeof import('node:fs');
type Path = typeof import('node:path');
/** Node's fs/path, loaded on first use so that importing this module is safe in browsers. */
let existsSync: Fs['existsSync'], readdirSync: Fs['readdirSync'], readFileSync: Fs['readFileSync'], statSync: Fs['statSync'], fsSync: Fs;
let basename: Path['basename'], join: Path['join'], resolve: Path['resolve'];
let nodeLoaded = false;
async function loadNode(): Promise<void> {
  if (nodeLoaded) return;
  const fs = await import('node:fs'), path = await import('node:path');
  ({ existsSync, readdirSync, readFileSync, statSync } = fsSync = fs);
  ({ basename, join, resolve } = path);
  nodeLoaded = true;
}

export interface LabelLine { file: string; label: number; wnid?: string; line: number }

/** Parses a `file index [wnid]` labels file; bad lines become problems, blank and `#` lines are skipped. */
export function parseLabels(text: string, source: string, classes: readonly ClassLabel[]): { entries: LabelLine[]; problems: DatasetProblem[] } {
  const entries: LabelLine[] = [];
  const problems: DatasetProblem[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `${source}:${i + 1}`;
    const parts = line.split(/\s+/);
    if (parts.length < 2 || parts.length > 3 || !/^\d+$/.test(parts[1]!)) {
      problems.push({ kind: 'bad-line', file: where, detail: `expected "file index [wnid]", got "${line.slice(0, 80)}"` });
      return;
    }
    const [file, idx, wnid] = parts as [string, string, string | undefined];
    const label = Number(idx);
    if (label >= classes.length) {
      problems.push({ kind: 'bad-label', file, detail: `${where}: class index ${label} is outside 0..${classes.length - 1}` });
      return;
    }
    if (wnid !== undefined && classes[label]!.wnid !== wnid) {
      const right = classes.findIndex((c) => c.wnid === wnid);
      problems.push({ kind: 'wnid-mismatch', file, detail: `${where}: index ${label} is ${classes[label]!.wnid} but the line says ${wnid}` +
        (right >= 0 ? ` (index ${right}); the labels file uses another class order` : ' (an unknown wnid)') });
      return;
    }
    if (seen.has(file)) {
      problems.push({ kind: 'duplicate', file, detail: `${where}: labelled twice; the first label is used` });
      return;
    }
    seen.add(file);
    entries.push({ file, label, ...(wnid !== undefined ? { wnid } : {}), line: i + 1 });
  });
  return { entries, problems };
}

const listImages = (dir: string): string[] =>
  existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).filter((f) => IMAGE_FILE.test(f)).sort() : [];

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CnnZooError(`Cannot read labels file ${path}: ${(e as Error).message}.`, 'BAD_DATASET');
  }
}

/** Labels file in the folder: labels.txt, then ILSVRC2012_val_labels.txt (in the folder or its parent). */
function findLabels(root: string): string | undefined {
  for (const p of [join(root, 'labels.txt'), join(root, VAL_LABELS), join(root, '..', VAL_LABELS)]) if (existsSync(p)) return p;
  return undefined;
}

/**
 * The dataset's folder is one, and its labels file (when given) is there: what `openDataset` checks first, and what
 * `cnn-zoo eval` checks before it loads the model (a mistyped --data failed after loading it).
 */
export async function checkDatasetPaths(dir: string, labels?: string): Promise<void> {
  await loadNode();
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new CnnZooError(`Dataset folder ${dir} does not exist or is not a folder.`, 'BAD_DATASET');
  }
  if (labels !== undefined && !existsSync(resolve(labels))) throw new CnnZooError(`Cannot read labels file ${resolve(labels)}: it is not there.`, 'BAD_DATASET');
}

/** Opens a labelled image folder (see the module comment for the layouts). Node only. */
export async function openDataset(dir: string, opts: OpenDatasetOptions = {}): Promise<ImageDataset> {
  if (typeof dir !== 'string') throw new CnnZooError(`openDataset(dir): dir is the path of an image folder, got ${shown(dir)}.`, 'BAD_DATASET');
  checkOptionNames('openDataset', opts, ['labels', 'classes']);
  await checkDatasetPaths(dir, opts.labels);
  const root = resolve(dir);
  const own = opts.classes !== undefined;
  const classes = (opts.classes ?? imagenetLabels()).map((c) => (typeof c === 'string' ? { wnid: c, label: c, names: c } : c));
  const name = basename(root);
  const atRoot = listImages(root);
  const labelsPath = opts.labels ? resolve(opts.labels) : findLabels(root);

  if (!labelsPath) {
    const subdirs = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort();
    const known = subdirs.filter((d) => classes.some((c) => c.wnid === d));
    if (known.length > 0) return requireImages(classFolders(root, name, subdirs, classes, own), dir);
    const hint = atRoot.some((f) => VAL_FILE.test(f))
      ? `It holds ImageNet val images: pass the ground truth with --labels ${VAL_LABELS} / { labels: '${VAL_LABELS}' } (or put that file beside them).`
      : own ? ownClassesHint(classes)
        : 'Add a labels.txt ("file index [wnid]" per line), or use one sub-folder per class named by wnid.';
    throw new CnnZooError(`No labels found for ${dir}. ${hint}`, 'BAD_DATASET');
  }

  const { entries, problems } = parseLabels(readText(labelsPath), basename(labelsPath), classes);
  if (entries.length === 0) {
    throw new CnnZooError(`Labels file ${labelsPath} has no valid "file index [wnid]" lines` +
      (problems[0] ? ` (first problem: ${problems[0].detail})` : '') + '.' + (own ? ` ${ownClassesHint(classes)}` : ''), 'BAD_DATASET');
  }
  // The val ground truth (50,000 lines) may label far more images than the folder holds; others must be complete.
  const isVal = basename(labelsPath) === VAL_LABELS || (entries.length === 50_000 && entries.every((e) => VAL_FILE.test(e.file)));
  // Images live beside the labels file's folder root, or in images/.
  const inImages = listImages(join(root, 'images'));
  const imageDir = atRoot.length === 0 && inImages.length > 0 ? join(root, 'images') : root;
  const present = new Set(imageDir === root ? atRoot : inImages);

  const items: DatasetItem[] = [];
  let absent = 0;
  const labelled = new Set<string>();
  for (const e of entries) {
    labelled.add(e.file);
    const item: DatasetItem = { file: e.file, path: join(imageDir, e.file), label: e.label, ...(e.wnid ? { wnid: e.wnid } : {}) };
    if (present.has(e.file) || (e.file.includes('/') && existsSync(item.path))) items.push(item);
    else if (isVal) absent++; // the val ground truth covers 50,000 images; a folder may hold a subset
    else {
      items.push(item); // evaluation reports it as failed
      problems.push({ kind: 'missing', file: e.file, detail: `labelled in ${basename(labelsPath)}:${e.line} but not found in ${imageDir}` });
    }
  }
  for (const f of present) {
    if (!labelled.has(f)) problems.push({ kind: 'unlabelled', file: f, detail: `no line in ${basename(labelsPath)}; not evaluated` });
  }
  items.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return requireImages({ name, root, layout: isVal ? 'imagenet-val' : 'labels-file', classes, items, problems, ...(isVal ? { absent } : {}) }, dir,
    ` (${basename(labelsPath)} labels ${entries.length} images)`);
}

/** What data a classifier of its own classes evaluates on. */
function ownClassesHint(classes: readonly ClassLabel[]): string {
  return `The model has ${classes.length} classes: use one sub-folder per class named as them (${classNames(classes)}), ` +
    `or a labels.txt ("file index" per line, index 0 to ${classes.length - 1}).`;
}

const classNames = (classes: readonly ClassLabel[]): string => `${classes.slice(0, 8).map((c) => c.wnid).join(', ')}${classes.length > 8 ? ', ...' : ''}`;

/** A dataset without a single image to evaluate is an error (a 0% accuracy would look like a result). */
function requireImages(ds: ImageDataset, dir: string, what = ''): ImageDataset {
  if (ds.items.length > 0) return ds;
  const holdsData = (d: string) => listImages(d).length > 0 || listImages(join(d, 'images')).length > 0 || existsSync(join(d, 'labels.txt'));
  const withImages = readdirSync(ds.root).filter((d) => statSync(join(ds.root, d)).isDirectory() && holdsData(join(ds.root, d))).sort();
  const hint = withImages.length > 0
    ? ` Sub-folders with images or labels: ${withImages.slice(0, 5).join(', ')}; did you mean --data ${join(dir, withImages[0]!)} / ` +
      `openDataset(${JSON.stringify(join(dir, withImages[0]!))})?`
    : ' Point --data / openDataset(dir) at the folder that holds the image files.';
  throw new CnnZooError(`No images to evaluate in ${dir}${what}.${hint}`, 'BAD_DATASET');
}

function classFolders(root: string, name: string, subdirs: string[], classes: readonly ClassLabel[], own: boolean): ImageDataset {
  const items: DatasetItem[] = [];
  const problems: DatasetProblem[] = [];
  const known = own ? `one of the model's classes (${classNames(classes)})` : 'a known wnid';
  for (const d of subdirs) {
    const label = classes.findIndex((c) => c.wnid === d);
    const files = filesBelow(join(root, d), fsSync, join).images; // its sub-folders too, as ImageFolder
    if (label < 0) {
      for (const f of files) problems.push({ kind: 'unlabelled', file: `${d}/${f}`, detail: `folder "${d}" is not ${known}; not evaluated` });
      continue;
    }
    for (const f of files) items.push({ file: `${d}/${f}`, path: join(root, d, ...f.split('/')), label, wnid: d });
  }
  return { name, root, layout: 'class-folders', classes, items, problems };
}

/**
 * One line per problem kind with counts, for CLI output. Problems that share their detail (every image of a folder
 * that names no class) are one entry with their count.
 */
export function summarizeProblems(ds: ImageDataset): string[] {
  const byKind = new Map<DatasetProblemKind, Map<string, string[]>>();
  for (const p of ds.problems) {
    const byDetail = byKind.get(p.kind) ?? new Map<string, string[]>();
    byKind.set(p.kind, byDetail.set(p.detail, [...(byDetail.get(p.detail) ?? []), p.file]));
  }
  return [...byKind].map(([kind, byDetail]) => {
    const groups = [...byDetail].map(([detail, files]) => (files.length === 1 ? `${files[0]} (${detail})` : `${detail}: ${files.length} images, e.g. ${files[0]}`));
    const count = [...byDetail.values()].reduce((n, files) => n + files.length, 0);
    return `${count} ${kind}: ${groups.slice(0, 3).join('; ')}${groups.length > 3 ? '; ...' : ''}`;
  });
}
