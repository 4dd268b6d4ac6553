/**
 * `cnn-zoo cache [NAME|all] [--remove] [--cache DIR] [--json]`: what the cache holds (converted weights, ONNX exports,
 * downloads), a model's entries or all, and their removal.
 */
import { CnnZooError } from '../../errors.js';
import { cacheContents, cacheRoot, removeFromCache, type CacheEntry } from '../../pretrained/index.js';
import { getSpec } from '../../zoo/registry.js';
import { parse } from '../args.js';
import { table } from '../format.js';

export const usage = 'cnn-zoo cache [NAME|all] [--remove] [--cache DIR] [--json]\n' +
  '  What the cache ($CNN_ZOO_CACHE, else ~/.cache/cnn-zoo; or --cache DIR) holds: weights converted by fetch, classify\n' +
  '  and load (their checkpoint, dtype and size), ONNX exports and onnxruntime\'s optimized forms of them for this\n' +
  '  machine, kept downloads, and what an interrupted run left. NAME: that model\'s entries only. --remove deletes the\n' +
  '  entries of NAME, or of all (what a running fetch or conversion is writing is kept); they are fetched, converted or\n' +
  '  exported again when next needed.';

/** Words other tools' cache commands take (`npm cache clean`, `pip cache purge`): here they are options, not models. */
const VERBS = new Set(['rm', 'remove', 'clear', 'clean', 'delete', 'del', 'purge', 'prune', 'ls', 'list', 'show']);

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

const WHAT: Record<CacheEntry['kind'], string> = {
  model: 'converted', onnx: 'ONNX export', optimized: 'ONNX optimized (this machine)', download: 'download', unfinished: 'unfinished',
};

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { remove: { type: 'boolean' }, cache: { type: 'string' }, json: { type: 'boolean' } }, usage);
  if (positionals.length > 1) throw new CnnZooError(`cache takes one model name (or all).\nUsage: ${usage}`, 'BAD_ARGS');
  const wanted = positionals[0];
  if (values.remove && wanted === undefined) throw new CnnZooError(`--remove needs what to remove: a model name, or all.\nUsage: ${usage}`, 'BAD_ARGS');
  if (wanted !== undefined && VERBS.has(wanted)) {
    throw new CnnZooError(`cache takes a model name or all, not "${wanted}": \`cnn-zoo cache\` lists everything, \`cnn-zoo cache all --remove\` ` +
      `(or NAME --remove) removes.\nUsage: ${usage}`, 'BAD_ARGS');
  }
  const arch = wanted === undefined || wanted === 'all' ? undefined : getSpec(wanted).name;
  const root = await cacheRoot(values.cache);
  const entries = (await cacheContents(root)).filter((e) => arch === undefined || e.arch === arch);
  const total = entries.reduce((s, e) => s + e.bytes, 0);
  if (values.remove) {
    const removed = await removeFromCache(root, entries);
    const freed = removed.reduce((s, e) => s + e.bytes, 0);
    if (values.json) console.log(JSON.stringify({ cache: root, removed, kept: entries.filter((e) => e.busy) }));
    else {
      console.log(`removed ${removed.length} of ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${arch ? ` of ${arch}` : ''} from ${root} (${mb(freed)})`);
      for (const e of entries.filter((x) => x.busy)) console.log(`  kept ${e.path}: ${e.busy}`);
    }
    return 0;
  }
  if (values.json) {
    console.log(JSON.stringify({ cache: root, bytes: total, entries }));
    return 0;
  }
  console.log(`cache ${root}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${arch ? ` of ${arch}` : ''}, ${mb(total)}`);
  if (entries.length === 0) return 0;
  console.log(table(['model', 'kind', 'checkpoint', 'dtype', 'size', 'written', 'path'], entries.map((e) => [
    e.arch ?? '-', WHAT[e.kind], e.checkpoint ?? '-', e.dtype ?? '-', mb(e.bytes), e.written?.slice(0, 16).replace('T', ' ') ?? '-',
    e.busy ? `${e.path} (${e.busy})` : e.path])));
  console.log(`Remove: cnn-zoo cache ${arch ?? 'NAME|all'} --remove (fetched, converted or exported again when next needed).`);
  return 0;
}
