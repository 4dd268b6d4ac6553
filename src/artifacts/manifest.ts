/**
 * What a model.json's weights manifest may name, checked before anything is read or fetched: shard paths
 * stay inside the model's directory (or URL directory), and weight specs describe exactly the bytes the
 * shards hold, so a hostile model.json cannot read other files, reach other hosts or make tfjs allocate
 * more than the shards contain.
 */
import type * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { MAX_INPUT_SIDE } from '../zoo/types.js';

const bad = (where: string, problem: string): CnnZooError =>
  new CnnZooError(`${where}: ${problem}. Weight shards must be plain relative paths inside the model's directory ` +
    '(like "group1-shard1of1.bin"); re-export the model or fix its weightsManifest.', 'UNSAFE_PATH');

/**
 * A shard path from a weights manifest, refused unless it is a plain relative path: no absolute path, drive,
 * URL scheme or host, no backslash or NUL, and no `..` segment (also when percent-encoded).
 */
export function checkShardPath(path: unknown, where: string): string {
  if (typeof path !== 'string' || path.length === 0 || path.length > 1024) throw bad(where, `weight shard path ${JSON.stringify(String(path).slice(0, 80))} is not a short string`);
  const shown = JSON.stringify(path.slice(0, 200));
  if (/[\0\\]/.test(path)) throw bad(where, `weight shard path ${shown} contains a backslash or NUL`);
  if (path.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)) throw bad(where, `weight shard path ${shown} is absolute or names a scheme or drive`);
  let decoded = path;
  try { decoded = decodeURIComponent(path); } catch { /* not percent-encoded */ }
  for (const p of [path, decoded]) {
    if (p.split('/').some((s) => s.replace(/%2e/gi, '.') === '..')) {
      throw bad(where, `weight shard path ${shown} leaves the model's directory ("..")`);
    }
    if (p.startsWith('/') || /[\0\\]/.test(p)) throw bad(where, `weight shard path ${shown} decodes to an absolute path, backslash or NUL`);
  }
  return path;
}

/** A shard URL for `path` next to `modelUrl`, refused unless it stays on the same origin under the same directory. */
export function shardUrl(path: string, modelUrl: string): string {
  checkShardPath(path, modelUrl);
  const base = new URL(modelUrl);
  const url = new URL(path, base);
  const dir = base.pathname.slice(0, base.pathname.lastIndexOf('/') + 1);
  if (url.origin !== base.origin || !url.pathname.startsWith(dir)) throw bad(modelUrl, `weight shard path ${JSON.stringify(path)} resolves to ${url.href}, outside ${base.origin}${dir}`);
  return url.href;
}

/** Bytes per stored value of each dtype / quantization tfjs decodes. */
const STORED_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * Where each weight lies in the concatenated shards (`[offset, bytes)`, as tfjs lays them out: in manifest order, each
 * stored in its quantized dtype when quantized). Assumes `checkWeightSpecs` passed.
 */
export function weightOffsets(specs: readonly tf.io.WeightsManifestEntry[]): Map<string, { spec: tf.io.WeightsManifestEntry; offset: number; bytes: number }> {
  const at = new Map<string, { spec: tf.io.WeightsManifestEntry; offset: number; bytes: number }>();
  let offset = 0;
  for (const spec of specs) {
    const bytes = spec.shape.reduce((n, d) => n * d, 1) * STORED_BYTES[spec.quantization ? spec.quantization.dtype : spec.dtype]!;
    at.set(spec.name, { spec, offset, bytes });
    offset += bytes;
  }
  return at;
}

/**
 * Weight specs that tfjs can decode from exactly `byteLength` bytes: known numeric dtypes (no strings, whose
 * lengths tfjs would read one by one), shapes of non-negative integers, and sizes adding up to the shards.
 */
export function checkWeightSpecs(specs: readonly tf.io.WeightsManifestEntry[], byteLength: number, where: string): void {
  const fail = (problem: string) => new CnnZooError(`${where}: ${problem}. The model.json does not describe its weight shards; re-export the model.`, 'BAD_ARTIFACT');
  if (!Array.isArray(specs)) throw fail('weightsManifest weights are not a list');
  let total = 0;
  for (const spec of specs) {
    if (typeof spec !== 'object' || spec === null || typeof spec.name !== 'string') throw fail('a weight spec has no name');
    const name = JSON.stringify(spec.name.slice(0, 200));
    const shape = spec.shape as unknown;
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw fail(`weight ${name} has an invalid shape`);
    const q = spec.quantization;
    const stored = q ? q.dtype : spec.dtype;
    if (!['float32', 'int32', 'bool'].includes(spec.dtype) || typeof stored !== 'string' || !Object.hasOwn(STORED_BYTES, stored) || (q && stored !== 'uint8' && stored !== 'uint16' && stored !== 'float16')) {
      throw fail(`weight ${name} has dtype ${JSON.stringify(String(spec.dtype))}${q ? ` quantized as ${JSON.stringify(String(q.dtype))}` : ''}, which cnn-zoo does not read`);
    }
    let n = 1;
    for (const d of shape as number[]) n *= d;
    total += n * STORED_BYTES[stored]!;
    if (total > byteLength) throw fail(`weights up to ${name} need ${total} bytes, the shards hold ${byteLength}`);
  }
  if (total !== byteLength) throw fail(`weights need ${total} bytes, the shards hold ${byteLength}`);
}

/**
 * Metadata that sets how `load()` builds the model (architecture name, input size, class count) is checked
 * against the weights before the build allocates anything: a model.json of a few bytes could otherwise ask
 * for a classifier of 10^9 classes. Every classifier has at least 64 input features, so numClasses classes
 * need at least 64 x numClasses weight values; input sides stay within MAX_INPUT_SIDE, as when built by an option.
 */
export function checkBuildMetadata(meta: { arch?: unknown; inputSize?: unknown; inputWidth?: unknown; numClasses?: unknown },
  specs: readonly tf.io.WeightsManifestEntry[], byteLength: number, where: string): void {
  const fail = (problem: string) => new CnnZooError(`${where}: ${problem}. The model.json metadata is corrupt; re-convert the checkpoint.`, 'BAD_ARTIFACT');
  if (typeof meta.arch !== 'string' || meta.arch.length > 200) throw fail('metadata "arch" is not a short string');
  checkWeightSpecs(specs, byteLength, where);
  const values = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  const maxSize = MAX_INPUT_SIDE;
  if (!Number.isSafeInteger(meta.inputSize) || (meta.inputSize as number) < 1 || (meta.inputSize as number) > maxSize) {
    throw fail(`metadata inputSize ${JSON.stringify(meta.inputSize)} is not an integer from 1 to ${maxSize}`);
  }
  if (meta.inputWidth !== undefined && (!Number.isSafeInteger(meta.inputWidth) || (meta.inputWidth as number) < 1 || (meta.inputWidth as number) > maxSize)) {
    throw fail(`metadata inputWidth ${JSON.stringify(meta.inputWidth)} is not an integer from 1 to ${maxSize}`);
  }
  if (!Number.isSafeInteger(meta.numClasses) || (meta.numClasses as number) < 1 || (meta.numClasses as number) * 64 > values) {
    throw fail(`metadata numClasses ${JSON.stringify(meta.numClasses)} does not fit weights of ${values} values`);
  }
}
