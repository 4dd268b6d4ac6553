/**
 * `cnn-zoo fetch NAME [--source S] [--dtype float32|float16|uint8] [--mirror URL] [--cache DIR] [--sha256 HEX]
 * [--trust-unpinned] [--keep-download] [--timeout SECONDS] [--backend wasm|cpu] | --list [NAME]`: download a model's published
 * checkpoint, verify it, convert it and cache the tfjs artifacts (or list the published checkpoints).
 */
import { CnnZooError } from '../../errors.js';
import { checkpointId, checkpointsFor, PUBLISHED, UNPUBLISHED } from '../../pretrained/index.js';
import { fetchWeights } from '../../pretrained/fetch.js';
import type { DownloadProgress } from '../../pretrained/download.js';
import type { PublishedCheckpoint } from '../../pretrained/types.js';
import { getSpec } from '../../zoo/registry.js';
import { parse } from '../args.js';
import { selectBackend } from '../backend.js';
import { table } from '../format.js';

export const usage = 'cnn-zoo fetch NAME [--source imagenet|PUBLISHER|PUBLISHER:TAG] [--dtype float32|float16|uint8] [--mirror URL|DIR] ' +
  '[--cache DIR] [--sha256 HEX] [--trust-unpinned] [--keep-download] [--timeout SECONDS] [--backend wasm|cpu]   |   cnn-zoo fetch --list [NAME]\n' +
  '  Downloads a published checkpoint once, checks its hash, converts it and keeps it in the cache (--cache DIR, else\n' +
  '  $CNN_ZOO_CACHE or ~/.cache/cnn-zoo); then classify, eval and load() use it offline. --list [NAME]: the published\n' +
  '  checkpoints (of NAME), with their sources, hashes, licences and accuracies. --source: which one (imagenet: the\n' +
  '  model\'s default). --mirror URL|DIR: fetch the same file from a mirror or a folder holding it (offline).\n' +
  '  --dtype: store the weights as float16 or uint8 (smaller, rounded). --sha256 HEX: the hash the file must have instead\n' +
  '  of the published one (a mirror\'s other bytes), or where the publisher gives none; --trust-unpinned accepts such a\n' +
  '  file unchecked. --keep-download: keep the original file in the cache\'s downloads folder. --timeout: seconds\n' +
  '  without data before a download gives up (30).';

const accuracy = (c: PublishedCheckpoint): string => c.accuracy ? `${c.accuracy.top1}${c.accuracy.top5 !== undefined ? ` / ${c.accuracy.top5}` : ''}` : '-';
const verification = (c: PublishedCheckpoint): string => {
  const h = c.hash;
  if (!h) return 'none published';
  if ('hex' in h) return `${h.algorithm} ${h.hex.slice(0, 12)}...`;
  if ('prefix' in h) return `sha256 ${h.prefix}... (file name)`;
  return 'sha256 from the HF Hub';
};

function listCheckpoints(name?: string): void {
  const rows = name ? checkpointsFor(name) : [...PUBLISHED];
  if (rows.length) {
    console.log(table(['model', 'source', 'format', 'top-1 / top-5', 'hash', 'licence'],
      rows.map((c) => [c.arch, `${checkpointId(c)}${c.default ? ' *' : ''}`, c.format, accuracy(c), verification(c), c.licence])));
  }
  const none = name ? UNPUBLISHED.filter((u) => u.arch === getSpec(name).name) : UNPUBLISHED;
  for (const u of none) console.log(`${u.arch}: no published weights. ${u.reason}`);
  if (rows.length) console.log('\n* = what --source imagenet (the default) picks. Facts and their sources: docs/WEIGHTS.md (in the package: node_modules/cnn-zoo/docs/WEIGHTS.md); ' +
    'offline use (--weights FILE, --mirror DIR): README.md, "Weights without internet".');
}

function progressPrinter(): (p: DownloadProgress) => void {
  let shown = 0;
  const tty = process.stderr.isTTY;
  return (p) => {
    const pct = p.total ? Math.floor((100 * p.received) / p.total) : -1;
    const mb = (p.received / 1e6).toFixed(1);
    if (tty) {
      process.stderr.write(`\r  ${p.file}: ${mb} MB${p.total ? ` of ${(p.total / 1e6).toFixed(1)} MB (${pct}%)` : ''}   `);
      if (p.total && p.received >= p.total) process.stderr.write('\n');
    } else if (Math.floor(pct / 10) > shown) {
      shown = Math.floor(pct / 10);
      process.stderr.write(`  ${p.file}: ${shown * 10}% (${mb} MB)\n`);
    }
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    source: { type: 'string', default: 'imagenet' }, dtype: { type: 'string', default: 'float32' }, mirror: { type: 'string' },
    cache: { type: 'string' }, sha256: { type: 'string' }, 'trust-unpinned': { type: 'boolean' }, 'keep-download': { type: 'boolean' },
    timeout: { type: 'string' }, list: { type: 'boolean' }, backend: { type: 'string', default: 'wasm' },
  }, usage);
  if (values.list) {
    listCheckpoints(positionals[0]);
    return 0;
  }
  if (positionals.length !== 1) throw new CnnZooError(`fetch needs one model name.\nUsage: ${usage}`, 'BAD_ARGS');
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new CnnZooError(`--timeout must be a positive number of seconds, got "${values.timeout}".`, 'BAD_ARGS');
  await selectBackend(values.backend!);
  const t0 = performance.now();
  const r = await fetchWeights(positionals[0]!, values.source, {
    dtype: values.dtype as 'float32', mirror: values.mirror, cacheDir: values.cache, sha256: values.sha256,
    trustUnpinned: values['trust-unpinned'], keepDownload: values['keep-download'], timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    onProgress: progressPrinter(), onStatus: (m) => process.stderr.write(`  ${m}\n`),
  });
  const c = r.checkpoint;
  console.log(`${c.arch} <- ${checkpointId(c)} (${c.url})`);
  console.log(`  ${r.fromCache ? 'already cached' : `fetched in ${((performance.now() - t0) / 1000).toFixed(1)} s`}: ${r.dir} (${r.record.dtype})`);
  console.log(`  sha256 ${r.record.sha256}; verified by ${r.record.verified}`);
  console.log(`  licence: ${c.licence}; ImageNet top-1 / top-5: ${accuracy(c)}${c.accuracy?.note ? ` (${c.accuracy.note})` : ''}`);
  if (c.note) console.log(`  note: ${c.note}`);
  console.log(`  use it: cnn-zoo classify IMAGE --model ${c.arch} --weights ${checkpointId(c)} (or --weights ${r.dir}); ` +
    `in code: load('${c.arch}', { weights: '${checkpointId(c)}' })`);
  return 0;
}
