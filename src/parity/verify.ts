/**
 * `verify(name, opts)`: a model's certificate. For every parity fixture of the model that can be found (the
 * default-size fixtures and the fixtures at other sizes), its error against the reference on a backend (or through
 * ONNX export + onnxruntime-node), pass/fail against the fixture's own tolerance; and, for real converted weights
 * (`weights`), their agreement with the original checkpoint run by its own runtime where one runs in JavaScript
 * (ONNX: onnxruntime-node; TFLite: the interpreter in headless Chromium) on labelled images.
 * Fixtures are test data, not part of the package: they are looked up in `fixtureDirs` (default: `CNN_ZOO_FIXTURES`,
 * else the dev checkout's `../shared/fixtures/parity` and `test/fixtures/parity-sizes`); none found is said plainly.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { getSpec } from '../zoo/registry.js';
import { modelWithWeights } from '../api/weights.js';
import { modelMetadata } from '../artifacts/metadata.js';
import { openDataset } from '../eval/dataset.js';
import { identifyCheckpointFile, isCheckpointFile, withCheckpointReadsHeld } from '../pretrained/index.js';
import { forgetCheckpointReads } from '../pretrained/local.js';
import { loadFixture, type Fixture } from './fixture.js';
import { maxRelError, nchwToNhwc, runParity, top5Agree } from './run.js';
import { agreement, runtimeFor, type Agreement } from './agreement.js';
import { onnxLogits } from './runtimes.js';

export type VerifyRuntime = 'tfjs' | 'onnxruntime';
export const VERIFY_RUNTIMES: readonly VerifyRuntime[] = ['tfjs', 'onnxruntime'];

export interface VerifyOptions {
  /** Converted weights or a checkpoint file (as `load(name, { weights })`): adds the agreement with the original runtime. */
  weights?: string;
  /** 'tfjs' (the current tfjs backend, default) or 'onnxruntime' (the model exported to ONNX, run by onnxruntime-node). */
  runtime?: VerifyRuntime;
  /** Only fixtures at these sizes ('224', '128x192'); default: every size found. */
  sizes?: readonly string[];
  /** Folders holding `<fixture>.json.gz` / `<fixture>-<H>x<W>.json.gz`. */
  fixtureDirs?: readonly string[];
  /** The original checkpoint file(s) of `weights`; default: found by name and sha256 next to `weights` or under `<shared>/weights`. */
  original?: readonly string[];
  /** Labelled image folder for the agreement (default `<shared>/imagenet/val-subset`), and how many of its images. */
  images?: string;
  limit?: number;
  /** Progress lines (a fixture done, images done). */
  onProgress?: (line: string) => void;
}

export interface FixtureCheck {
  fixture: string;
  file: string;
  /** 'H' for square inputs, else 'HxW'. */
  size: string;
  maxRelErr: number;
  tolerance: number;
  top5Agree: boolean;
  pass: boolean;
}

export interface WeightsCheck {
  weights: string;
  format: string;
  /** The original file(s), when found. */
  original?: string[];
  agreement?: Agreement;
  /** Why no agreement was measured. */
  note?: string;
}

export interface VerifyReport {
  model: string;
  /** The tfjs backend, or 'onnxruntime-node'. */
  backend: string;
  runtime: VerifyRuntime;
  fixtures: FixtureCheck[];
  /** Why no fixture was checked. */
  fixtureNote?: string;
  fixtureDirs: string[];
  weights?: WeightsCheck;
  /** Every check run passed and at least one ran. */
  pass: boolean;
}

const sizeLabel = ([h, w]: readonly [number, number]): string => (h === w ? String(h) : `${h}x${w}`);

/** '224' or '224x224' -> '224'; '128x192' stays; anything else is an error. */
export function parseSize(text: string): string {
  const m = /^(\d+)(?:x(\d+))?$/.exec(text.trim());
  if (!m) throw new CnnZooError(`Bad size "${text}": give H (square) or HxW, e.g. 224 or 128x192.`, 'BAD_ARGS');
  return sizeLabel([Number(m[1]), Number(m[2] ?? m[1])]);
}

/** The dev checkout's data folder (`CNN_ZOO_SHARED`, else `../shared` beside the package root). */
async function sharedRoot(): Promise<{ root: string; shared: string }> {
  const { dirname, join, resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return { root, shared: process.env.CNN_ZOO_SHARED ?? join(root, '..', 'shared') };
}

/** Where fixtures are looked for when `fixtureDirs` is not given. */
export async function defaultFixtureDirs(): Promise<string[]> {
  if (process.env.CNN_ZOO_FIXTURES) return process.env.CNN_ZOO_FIXTURES.split(':').filter(Boolean);
  const { join } = await import('node:path');
  const { root, shared } = await sharedRoot();
  return [join(shared, 'fixtures', 'parity'), join(root, 'test', 'fixtures', 'parity-sizes')];
}

/** Fixture files of `model` in `dirs`: `<base>.json.gz` and `<base>-<H>x<W>.json.gz` for its fixtures' names and its own. */
export async function fixtureFiles(model: string, dirs: readonly string[]): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const spec = getSpec(model);
  const bases = new Set([...spec.fixtures.map((f) => f.name), spec.name]);
  const out: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try { names = await readdir(dir); } catch { continue; }
    for (const f of names.sort()) {
      const m = /^(.*?)(?:-\d+x\d+)?\.json\.gz$/.exec(f);
      if (m && bases.has(m[1]!)) out.push(join(dir, f));
    }
  }
  return out;
}

async function checkFixture(fx: Fixture, file: string, runtime: VerifyRuntime): Promise<FixtureCheck> {
  const size = sizeLabel(fx.inputSize);
  if (runtime === 'tfjs') {
    const r = await runParity(fx);
    return { fixture: fx.name, file, size, maxRelErr: r.maxRelErr, tolerance: fx.tolerance, top5Agree: r.top5Agree, pass: r.pass };
  }
  let check: Omit<FixtureCheck, 'fixture' | 'file' | 'size'> | undefined;
  await runParity(fx, {
    inspect: async (model) => {
      const x = nchwToNhwc(fx.input, fx.inputShape);
      let input: Float32Array;
      try { input = (await x.data()) as Float32Array; } finally { x.dispose(); }
      const [n, , h, w] = fx.inputShape;
      const logits = await onnxLogits(model, input, [n, h, w, 3]);
      const err = maxRelError(logits, fx.logits), agree = top5Agree(logits, fx.logits, fx.logitsShape[1]);
      check = { maxRelErr: err, tolerance: fx.tolerance, top5Agree: agree, pass: err < fx.tolerance && agree };
    },
  });
  return { fixture: fx.name, file, size, ...check! };
}

async function sha256(file: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** The original files named in the metadata, found (same name and sha256) in `places` (files, or folders searched two levels deep). */
async function findOriginal(files: readonly { name: string; sha256: string }[], places: readonly string[]): Promise<string[] | undefined> {
  const { readdir, stat } = await import('node:fs/promises');
  const { basename, join } = await import('node:path');
  const candidates: string[] = [];
  const walk = async (p: string, depth: number): Promise<void> => {
    const s = await stat(p).catch(() => undefined);
    if (!s) return;
    if (s.isFile()) { candidates.push(p); return; }
    if (!s.isDirectory() || depth < 0) return;
    for (const e of await readdir(p)) await walk(join(p, e), depth - 1);
  };
  for (const p of places) await walk(p, 2);
  const found: string[] = [];
  for (const f of files) {
    let hit: string | undefined;
    for (const c of candidates.filter((c) => basename(c) === f.name)) if (await sha256(c) === f.sha256) { hit = c; break; }
    if (!hit) return undefined;
    found.push(hit);
  }
  return found;
}

async function checkWeights(name: string, weights: string, opts: VerifyOptions): Promise<WeightsCheck> {
  // A checkpoint file is read (and hashed) once: to load it, then to see whether it is cnn-zoo's ONNX export.
  const { model, exported } = await withCheckpointReadsHeld(async () => {
    const model = await modelWithWeights(name, { weights });
    try {
      return { model, exported: await isCheckpointFile(weights) && (await identifyCheckpointFile(weights))?.exported !== undefined };
    } catch (e) {
      model.dispose();
      throw e;
    } finally {
      forgetCheckpointReads(); // loaded: the file's bytes are not needed by the runs that follow (the CLI's hold stays open)
    }
  });
  try {
    const meta = modelMetadata(model);
    if (!meta) return { weights, format: 'unknown', note: 'the weights carry no cnn-zoo metadata (source checkpoint unknown), so there is no original to compare with' };
    // cnn-zoo's own ONNX export: the file is the original, run by onnxruntime as stored (int8 or float16 weights too),
    // on the folder's images labelled by the model's own classes when it has them.
    if (exported) {
      const images = await agreementImages(opts, Array.isArray(meta.labels) ? meta.labels : undefined);
      const a = await agreement(model, meta, [weights], images, { runtime: 'onnxruntime-node', onProgress: progressOf(opts) });
      return { weights, format: 'onnx', original: [weights], agreement: a };
    }
    const format = meta.source.format;
    if (format === 'random') return { weights, format, note: 'random weights: there is no original checkpoint to compare with' };
    if (meta.training) {
      return { weights, format, note: `a classifier trained by cnn-zoo on ${meta.training.base.arch}'s weights (its own ${meta.numClasses} classes): ` +
        'there is no original checkpoint that gives its outputs to compare with' };
    }
    if (meta.includeTop === false) return { weights, format, note: 'saved without its classifier: the original checkpoint\'s outputs are classes, these weights give features' };
    if (!runtimeFor(format)) return { weights, format, note: `no runtime for ${format} checkpoints runs in JavaScript; agreement is measured for onnx (onnxruntime-node) and tflite (TFLite interpreter in Chromium)` };
    const { dirname, join } = await import('node:path');
    const { shared } = await sharedRoot();
    const original = opts.original ? [...opts.original]
      : await findOriginal(meta.source.files, [weights, dirname(weights), join(shared, 'weights')]);
    if (!original) {
      return { weights, format, note: `the original ${format} file (${meta.source.files.map((f) => f.name).join(' + ')}) was not found next to the weights ` +
        `or under ${join(shared, 'weights')}; pass it with --original FILE` };
    }
    const a = await agreement(model, meta, original, await agreementImages(opts), { onProgress: progressOf(opts) });
    return { weights, format, original, agreement: a };
  } finally {
    model.dispose();
  }
}

/** The labelled images of the agreement: `--images DIR` (default the val subset), its first `limit`. */
async function agreementImages(opts: VerifyOptions, classes?: readonly string[]): Promise<{ path: string; label: number }[]> {
  const { join } = await import('node:path');
  const dir = opts.images ?? join((await sharedRoot()).shared, 'imagenet', 'val-subset');
  const dataset = await openDataset(dir, classes ? { classes } : {});
  return dataset.items.slice(0, opts.limit ?? dataset.items.length).map((it) => ({ path: it.path, label: it.label }));
}

const progressOf = (opts: VerifyOptions) => (done: number, total: number): void => {
  if (done === total || done % 50 === 0) opts.onProgress?.(`agreement: ${done}/${total} images`);
};

/** The certificate of `name` (see the module comment). Runs on the current tfjs backend unless `runtime: 'onnxruntime'`. */
export async function verify(name: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const spec = getSpec(name);
  const runtime = opts.runtime ?? 'tfjs';
  if (!VERIFY_RUNTIMES.includes(runtime)) throw new CnnZooError(`Unknown runtime "${String(runtime)}"; runtimes: ${VERIFY_RUNTIMES.join(', ')}.`, 'BAD_OPTION');
  const sizes = opts.sizes?.map(parseSize);
  const fixtureDirs = [...(opts.fixtureDirs ?? await defaultFixtureDirs())];
  // The weights first: a wrong path or another model's weights fail at once, not after the fixtures' runs.
  const weights = opts.weights !== undefined ? await checkWeights(spec.name, opts.weights, opts) : undefined;
  const fixtures: FixtureCheck[] = [];
  let fixtureNote: string | undefined;
  const files = await fixtureFiles(spec.name, fixtureDirs);
  const found = new Set<string>();
  for (const file of files) {
    const fx = await loadFixture(file);
    found.add(sizeLabel(fx.inputSize));
    if (sizes && !sizes.includes(sizeLabel(fx.inputSize))) continue;
    const check = await checkFixture(fx, file, runtime);
    fixtures.push(check);
    opts.onProgress?.(`fixture ${check.fixture} at ${check.size}: ${check.pass ? 'pass' : 'FAIL'}`);
  }
  if (fixtures.length === 0) {
    fixtureNote = files.length > 0 ? `no fixture of ${spec.name} at ${sizes!.join(', ')}; its fixtures are at ${[...found].join(', ')}`
      : spec.fixtures.length === 0 && files.length === 0
        ? `${spec.name} has no parity fixture (no reference implementation to pin it to) in ${fixtureDirs.join(', ')}`
        : `no fixture file of ${spec.name} (${spec.fixtures.map((f) => f.name).join(', ')}) in ${fixtureDirs.join(', ')}: fixtures are test data, ` +
          'not shipped in the package; give --fixtures DIR (or CNN_ZOO_FIXTURES) or run from a dev checkout';
  }
  const ran = fixtures.length + (weights?.agreement ? 1 : 0);
  return {
    model: spec.name, backend: runtime === 'onnxruntime' ? 'onnxruntime-node' : tf.getBackend(), runtime,
    fixtures, ...(fixtureNote ? { fixtureNote } : {}), fixtureDirs, ...(weights ? { weights } : {}),
    pass: ran > 0 && fixtures.every((f) => f.pass),
  };
}
