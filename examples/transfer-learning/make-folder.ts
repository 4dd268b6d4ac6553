/**
 * Build a small labelled image folder (one sub-folder per category) from a folder of ImageNet images named
 * `<wnid>_<name>.JPEG`, such as `shared/imagenet/one-per-class`. Images are linked (copied where links fail),
 * never stored in the repository.
 *
 *   npx tsx examples/transfer-learning/make-folder.ts ../shared/imagenet/one-per-class /tmp/animals [--per-category 20] [--categories bird,dog,reptile]
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { imagenetLabels } from 'cnn-zoo';
import { CATEGORIES, categoryOf } from './categories.js';

export interface MakeFolderOptions {
  /** At most this many images per category (the first ones in class order). Default: all. */
  perCategory?: number;
  /** Category names to use (default: all of CATEGORIES). */
  categories?: readonly string[];
}

/** Link the images of `source` into `out/<category>/`; returns the number of images per category. */
export function makeFolder(source: string, out: string, opts: MakeFolderOptions = {}): Record<string, number> {
  const wanted = CATEGORIES.filter((c) => !opts.categories || opts.categories.includes(c.name));
  const unknown = (opts.categories ?? []).filter((n) => !CATEGORIES.some((c) => c.name === n));
  if (unknown.length) throw new Error(`Unknown categories: ${unknown.join(', ')}. Known: ${CATEGORIES.map((c) => c.name).join(', ')}.`);
  const index = new Map(imagenetLabels().map((l, i) => [l.wnid, i]));
  const files = readdirSync(source).filter((f) => /^n\d{8}_.*\.(jpe?g|png|bmp)$/i.test(f)).sort();
  if (files.length === 0) throw new Error(`${source} holds no images named <wnid>_<name>.JPEG (e.g. shared/imagenet/one-per-class).`);
  rmSync(out, { recursive: true, force: true });
  const counts: Record<string, number> = {};
  for (const f of files) {
    const i = index.get(f.slice(0, 9));
    const cat = i === undefined ? undefined : categoryOf(i, wanted);
    if (!cat || (counts[cat.name] ?? 0) >= (opts.perCategory ?? Infinity)) continue;
    const dir = join(out, cat.name);
    mkdirSync(dir, { recursive: true });
    try {
      symlinkSync(resolve(source, f), join(dir, f));
    } catch {
      copyFileSync(join(source, f), join(dir, f));
    }
    counts[cat.name] = (counts[cat.name] ?? 0) + 1;
  }
  return counts;
}

function main(argv: string[]): void {
  const positional = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  const flag = (name: string): string | undefined => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const [source, out] = positional;
  if (!source || !out) {
    console.error('usage: make-folder.ts SOURCE_DIR OUT_DIR [--per-category N] [--categories a,b,c]');
    process.exit(2);
  }
  const per = flag('per-category');
  const counts = makeFolder(source, out, { perCategory: per ? Number(per) : undefined, categories: flag('categories')?.split(',') });
  console.log(`${out}: ${Object.entries(counts).map(([c, n]) => `${c} ${n}`).join(', ')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
