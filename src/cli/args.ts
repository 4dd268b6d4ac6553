/** Small argument helpers shared by the CLI commands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CnnZooError, meant, refuseTildePath } from '../errors.js';

/** Node's parser messages, said plainly: an unknown flag gets the closest known one ("did you mean"). */
function argsError(e: Error & { code?: string }, options: NonNullable<ParseArgsConfig['options']>, usage: string): CnnZooError {
  const flag = /'(-{1,2}[^' ]+)/.exec(e.message)?.[1] ?? '';
  const known = Object.entries(options).flatMap(([k, o]) => [`--${k}`, ...(o.short ? [`-${o.short}`] : [])]);
  let message = e.message;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const best = meant(flag.replace(/^-+/, ''), known.map((k) => k.replace(/^-+/, '')));
    message = `Unknown option ${flag}.${best ? ` Did you mean --${best}?` : ''} (A positional argument that starts with - goes after --.)`;
  } else if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = flag.replace(/^-+/, '');
    message = options[name]?.type === 'boolean' ? `Option ${flag} takes no value.` : `Option ${flag} needs a value (${flag} VALUE).`;
  } else if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    message = `Unexpected argument: ${e.message.replace(/^Unexpected argument '([^']*)'.*$/s, '$1')}.`;
  }
  return new CnnZooError(`${message}\nUsage: ${usage}`, 'BAD_ARGS');
}

/**
 * The parsed flags and positionals. A shell expands `~` in `--out ~/x` but not in `--out=~/x`; the CLI expands a
 * `--flag=~/...` value as the shell does the other spelling (rather than make a folder named `~` in the working folder).
 */
export function parse<T extends ParseArgsConfig['options']>(argv: string[], options: T, usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw argsError(e as Error & { code?: string }, options ?? {}, usage);
  }
  const values = parsed.values as Record<string, unknown>;
  for (const t of parsed.tokens) {
    if (t.kind === 'option' && t.inlineValue && typeof t.value === 'string' && /^~(?:\/|$)/.test(t.value)) {
      const home = homedir() + t.value.slice(1);
      const v = values[t.name];
      values[t.name] = Array.isArray(v) ? v.map((x) => (x === t.value ? home : x)) : home;
    }
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** The value of `--flag` as a positive integer (undefined when not given), or a CnnZooError naming the flag and the usage. */
export function positiveInt(value: string | undefined, flag: string, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new CnnZooError(`--${flag} must be a positive integer, got "${value}".\nUsage: ${usage}`, 'BAD_ARGS');
  return n;
}

/** `--arch NAME`, also spelled `--model NAME` (what `eval` and `bench` call it). */
export function archName(values: { arch?: string; model?: string }): string | undefined {
  if (values.arch && values.model && values.arch !== values.model) {
    throw new CnnZooError(`--arch "${values.arch}" and --model "${values.model}" name different models; give one.`, 'BAD_ARGS');
  }
  return values.arch ?? values.model;
}

/** `--weights random` is the CLI's spelling of the API's `weights: null` (random initialisation). */
export const cliWeights = (w: string | undefined): string | null | undefined => (w === 'random' ? null : w);

/** `--input-size N` and `--global-pool`: the size a model is built at, its weights kept (classify, eval, export, info). */
export const SIZE_FLAGS = { 'input-size': { type: 'string' }, 'global-pool': { type: 'boolean' } } as const;

/** The load()/info() options of `SIZE_FLAGS`' values. */
export function sizeOptions(values: { 'input-size'?: string; 'global-pool'?: boolean }, usage: string): { inputSize?: number; globalPool?: true } {
  const inputSize = positiveInt(values['input-size'], 'input-size', usage);
  return { ...(inputSize ? { inputSize } : {}), ...(values['global-pool'] ? { globalPool: true as const } : {}) };
}

/**
 * The registry model that `--weights` names when they are converted weights (a folder from `cnn-zoo convert` or
 * `train`, or its URL: their metadata says), a published checkpoint file (its hash) or cnn-zoo's ONNX export (its
 * metadata), so the model name may be left out. Undefined for weights names (imagenet, random, publisher:tag) and no
 * `--weights`; a folder that is not there, and a checkpoint file that names no model, say so.
 */
async function archOfWeightsFlag(weights: string | undefined): Promise<string | undefined> {
  const [{ isWeightsSelector, identifyCheckpointFile, unnamedCheckpoint }, { archOfWeights }] = await Promise.all([import('../pretrained/index.js'), import('../api/weights.js')]);
  if (weights === undefined || weights === 'random' || isWeightsSelector(weights)) return undefined;
  const folder = /^https?:\/\//i.test(weights) || await stat(weights).then((s) => !s.isFile(), () => true);
  if (folder) return (await archOfWeights(weights)).name;
  // A checkpoint file names its model when it is a published one (by its hash) or cnn-zoo's ONNX export; another
  // says so (it was "eval needs a model" or "export needs one model name"), and a file that is no checkpoint says that.
  const arch = (await identifyCheckpointFile(weights))?.arch;
  if (!arch) throw await unnamedCheckpoint(weights, `its architecture is unknown: name the model with it (NAME --weights ${weights}).`);
  return arch;
}

/**
 * The model argument of a command that takes NAME and `--weights`: NAME may also be converted weights' folder or URL
 * (as `load(NAME)` takes them), which are then the weights, and their metadata names the model; without NAME,
 * `--weights DIR` alone names it. Returns the registry name (undefined when neither says) and the weights.
 */
export async function modelAndWeightsArgs(name: string | undefined, weights: string | undefined): Promise<{ name?: string; weights?: string }> {
  const [{ isWeightsPlace }, { archOfWeights }] = await Promise.all([import('../api/index.js'), import('../api/weights.js')]);
  if (name !== undefined && await isWeightsPlace(name)) {
    if (weights !== undefined && weights !== name) throw new CnnZooError(`${name} holds converted weights, and --weights ${weights} names others: give one of them.`, 'BAD_ARGS');
    return { name: (await archOfWeights(name)).name, weights: name };
  }
  return { name: name ?? await archOfWeightsFlag(weights), weights };
}

/**
 * `--out DIR` of a command that saves a model (train, convert), checked before the work: a file there, or `~` that
 * no shell expanded, failed only when the model was saved, after minutes of training.
 */
/** An output path that is a URL (`--out http://...`, `file://...`): Node made a folder named "http:" in the working folder. */
function refuseUrl(flag: string, out: string, what: string): void {
  if (!/^[a-z][a-z0-9+.-]+:\/\//i.test(out)) return;
  let path: string | undefined;
  try { path = /^file:/i.test(out) ? fileURLToPath(out) : undefined; } catch { /* not a path on this system */ }
  throw new CnnZooError(`${flag} takes a path on this machine for ${what}, got the URL ${out}: ` +
    `${path ? `give the path, ${path}` : 'write it here, then upload it'}.`, 'BAD_ARGS');
}

export async function checkOutFolder(out: string): Promise<void> {
  refuseUrl('--out', out, 'the model (a folder)');
  refuseTildePath('save the model to', out);
  const { at, there } = await nearestExisting(resolve(out));
  if (!there || there.isDirectory()) return;
  throw new CnnZooError(at === resolve(out)
    ? `--out ${out} is a file: give a folder (new or existing) for model.json and its weight shards.`
    : `Cannot save the model to ${out}: ${at} is a file, not a folder. Choose a folder you can write.`, 'BAD_ARGS');
}

/** The nearest part of `path` (itself, else a folder above it) that exists, and what it is. */
async function nearestExisting(path: string): Promise<{ at: string; there?: Awaited<ReturnType<typeof stat>> }> {
  let at = path;
  let there = await stat(at).catch(() => undefined);
  while (!there && dirname(at) !== at) {
    at = dirname(at);
    there = await stat(at).catch(() => undefined);
  }
  return { at, there };
}

/**
 * A file that a command writes when its work is done (`bench --json`, `eval --json`, `export --out`: `what`), checked before
 * the work: a folder in its place, a file in place of one of its folders, or a `~` that no shell expanded failed only
 * after minutes of work. Folders that are not there yet are made when it is written (`writeOutFile`).
 */
export async function checkOutFile(flag: string, out: string, what: string): Promise<void> {
  refuseUrl(flag, out, what);
  refuseTildePath(`write ${what} to`, out);
  const { at, there } = await nearestExisting(resolve(out));
  if (there?.isDirectory() && at === resolve(out)) throw new CnnZooError(`${flag} ${out} is a folder: give the name of the file to write ${what} to.`, 'BAD_ARGS');
  if (there && !there.isDirectory() && at !== resolve(out)) throw new CnnZooError(`Cannot write ${what} to ${out}: ${at} is a file, not a folder.`, 'BAD_ARGS');
}

/** Write a command's output file (checked by `checkOutFile`), making the folders it goes in. */
export async function writeOutFile(out: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, data);
}
