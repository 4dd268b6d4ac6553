/** The package's own error type: every failure the user can cause names the problem and the fix. */
export class CnnZooError extends Error {
  constructor(message: string, readonly code: string = 'CNN_ZOO_ERROR') {
    super(message);
    this.name = 'CnnZooError';
  }
}

/** Why a network call failed, in the words of its cause where there is one (Node's fetch: `fetch failed`, caused by ECONNREFUSED). */
export function networkProblem(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

const FS_CODES: Record<string, string> = {
  ENOENT: 'no such file or folder', ENOTDIR: 'a part of the path is a file, not a folder', EISDIR: 'it is a folder',
  EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'a read-only file system', ENOSPC: 'no space left on the disk',
  EEXIST: 'it exists already', EMFILE: 'too many open files', ENAMETOOLONG: 'the name is too long',
};

/**
 * A Node file-system error (`{ code, syscall, path }`) in one line: `cannot mkdir /x/y (ENOTDIR: a part of the path
 * is a file, not a folder)`; undefined for anything else.
 */
export function fsProblem(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | null;
  if (!err || typeof err.code !== 'string' || typeof err.syscall !== 'string') return undefined;
  const what = err.code === 'EEXIST' && err.syscall === 'mkdir' ? 'a file is there, not a folder' : FS_CODES[err.code];
  return `cannot ${err.syscall}${err.path ? ` ${err.path}` : ''} (${err.code}${what ? `: ${what}` : ''})`;
}

/** Whether a path starts with `~` (`~`, `~/x`, `~\\x`): a shell's home folder, which Node's file functions take literally. */
const startsWithTilde = (path: string): boolean => /^~(?:[\\/]|$)/.test(path);

/** For a path that was not found: ` (~ is your home folder only in a shell: ...)` when it starts with `~`, else ''. */
export const tildeHint = (path: string): string =>
  startsWithTilde(path) ? ' (~ is your home folder only in a shell: give the full path, or os.homedir())' : '';

/**
 * Refuses a path to write (`what`: "save the model to") that starts with `~`: Node would make a folder named `~` in
 * the working folder, where nobody looks for it.
 */
export function refuseTildePath(what: string, path: string): void {
  if (!startsWithTilde(path)) return;
  throw new CnnZooError(`Cannot ${what} "${path}": ~ is your home folder only in a shell, and Node would make a folder named "~" ` +
    "in the working folder. Give the full path (path.join(os.homedir(), ...)).", 'BAD_PATH');
}

/**
 * Node's fetch connects straight to the host whatever HTTPS_PROXY says, unless NODE_USE_ENV_PROXY=1 (or
 * --use-env-proxy) on a Node that reads it (22.21+, 24+). Where a proxy is set and so not used: the sentence that
 * ends a connection error with that (a leading space); else ''. Browsers use the system's proxy.
 */
export function proxyNote(): string {
  const node = typeof process === 'undefined' ? undefined : process.versions?.node;
  if (!node) return '';
  const name = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].find((k) => process.env[k]);
  if (!name) return '';
  const [major = 0, minor = 0] = node.split('.').map(Number);
  const reads = major >= 24 || (major === 22 && minor >= 21);
  const asked = process.env.NODE_USE_ENV_PROXY === '1' || [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--use-env-proxy'));
  if (reads && asked) return '';
  return reads ? ` ${name} is set, but Node's fetch goes through it only with NODE_USE_ENV_PROXY=1: set that too.`
    : ` ${name} is set, but the fetch of Node ${node} does not go through a proxy (Node 22.21+ and 24+ do, with ` +
      'NODE_USE_ENV_PROXY=1): fetch the file through the proxy (curl does) and use it from disk.';
}

/**
 * When `head` (a response's first bytes) is an HTML page, its title (or "untitled"): a web page where a file was
 * expected (a login, proxy or captive portal, or the address of the page that shows an image); else undefined.
 */
export function htmlPageTitle(head: Uint8Array): string | undefined {
  const text = new TextDecoder('latin1').decode(head.subarray(0, 4096));
  if (!/^\s*(<!doctype html|<html|<head|<body)/i.test(text)) return undefined;
  const title = /<title[^>]*>([^<]{1,120})/i.exec(text)?.[1]?.trim();
  return title ? `"${title}"` : 'untitled';
}

/** A value as an error message shows it: strings quoted and said to be strings (`"10"` is not 10). */
export function shown(v: unknown): string {
  if (typeof v === 'string') return `${JSON.stringify(v)} (a string)`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null || typeof v !== 'object') return String(v);
  const kind = (v as object).constructor?.name;
  return kind && kind !== 'Object' ? `a ${kind}` : 'an object';
}

/**
 * Refuses a `model` argument that is not a tf.LayersModel (told by its shape, so a model from another copy of tfjs
 * passes): `call` is how the call reads with a ZooModel's `.model` in its place, e.g. `exportOnnx(zooModel.model)`;
 * `alsoZooModel`: the call takes a ZooModel too, and says so.
 */
export function checkLayersModel(where: string, model: unknown, call: string, alsoZooModel = false): void {
  const layers = (m: unknown) => Array.isArray((m as { layers?: unknown } | null)?.layers) && Array.isArray((m as { inputs?: unknown }).inputs);
  if (layers(model)) return;
  const holds = layers((model as { model?: unknown } | null)?.model);
  // `alsoZooModel`: the call takes what load() returns too (a ZooModel of another copy of cnn-zoo still lands here).
  const is = alsoZooModel && !holds ? 'what load(name) returns, or a tf.LayersModel (create(name))'
    : `a tf.LayersModel (${holds ? `a ZooModel holds one: ${call}` : 'load(name).model, or create(name)'})`;
  throw new CnnZooError(`${where}: model is ${is}, got ${shown(model)}.`, 'BAD_ARGUMENT');
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The `n` candidates closest to `name` (substring matches first, then by edit distance). */
export function closest(name: string, candidates: readonly string[], n = 5): string[] {
  const q = name.toLowerCase();
  return [...candidates]
    .map((c) => ({ c, d: editDistance(q, c.toLowerCase()) - (c.toLowerCase().includes(q) || q.includes(c.toLowerCase()) ? 100 : 0) }))
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, n)
    .map((x) => x.c);
}

/**
 * The candidate `name` was probably meant as, when one is close enough to suggest (one contains the other, or it is
 * a few edits away: at most 2, or a third of the name), else undefined: "foo" gets no suggestion of "dpn".
 */
export function meant(name: string, candidates: readonly string[]): string | undefined {
  const best = closest(name, candidates, 1)[0];
  if (best === undefined) return undefined;
  const [q, c] = [name.toLowerCase(), best.toLowerCase()];
  return c.includes(q) || q.includes(c) || editDistance(q, c) <= Math.max(2, Math.floor(q.length / 3)) ? best : undefined;
}

/** What an option holds, for `checkOptionKinds`. */
export type OptionKind = 'boolean' | 'function' | 'string' | 'positive integer' | 'positive number';

const KIND_OK: Readonly<Record<OptionKind, (v: unknown) => boolean>> = {
  boolean: (v) => typeof v === 'boolean',
  function: (v) => typeof v === 'function',
  string: (v) => typeof v === 'string',
  'positive integer': (v) => Number.isInteger(v) && (v as number) > 0,
  'positive number': (v) => typeof v === 'number' && v > 0 && Number.isFinite(v),
};

/**
 * Refuses an option set to a value of the wrong kind, which would otherwise be read loosely (`fp16: 'true'` as
 * false, `includeTop: 'false'` as true) or crash later (`onProgress: 'x'` is not a function). Unset options pass.
 */
export function checkOptionKinds(where: string, opts: object, kinds: Readonly<Record<string, OptionKind>>): void {
  for (const [key, kind] of Object.entries(kinds)) {
    const v = (opts as Record<string, unknown>)[key];
    if (v === undefined || KIND_OK[kind](v)) continue;
    const want = kind === 'boolean' ? 'true or false' : kind === 'function' ? 'a function' : `a ${kind}`;
    throw new CnnZooError(`${where}: ${key} must be ${want}, got ${shown(v)}.`, 'BAD_OPTION');
  }
}

/** Refuses option names a call does not know (a typo would otherwise be ignored silently), naming the closest. */
export function checkOptionNames(where: string, opts: object, known: readonly string[]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new CnnZooError(`${where}: options must be an object ({ ${known.join(', ')} }), got ${shown(opts)}.`, 'BAD_OPTION');
  }
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      const best = meant(key, known);
      throw new CnnZooError(`${where}: unknown option "${key}".${best ? ` Did you mean ${best}?` : ''} Options: ${known.join(', ')}.`, 'BAD_OPTION');
    }
  }
}
