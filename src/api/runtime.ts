/**
 * Which runtime a loaded model runs on (`load(name, { runtime })`), in one place:
 * - `'tfjs'`: `model.model` on tfjs's backend;
 * - `'onnxruntime'`: the model exported to ONNX (src/onnx/export.ts) on onnxruntime-node (Node) or onnxruntime-web
 *   (browsers), an optional peer; a CnnZooError naming `npm install ...` when it is missing;
 * - `'auto'` (default): the fastest installed (docs/PERFORMANCE.md): in Node onnxruntime-node when it loads, else
 *   tfjs; in browsers tfjs (onnxruntime-web on request). The training form (`classes`, `inference: false`, a new
 *   `numClasses`) and a model given a tfjs `backend` stay on tfjs.
 *
 * The export is cached (Node): `model.onnx` beside the weights' `model.json` when that folder is writable, else in
 * the cache directory (`onnx/<arch>/<key>.onnx`); the shipped model's always in the cache directory; random weights
 * are exported in memory. The key (export version, extra outputs, topology, weight bytes) is checked before a file
 * is reused. onnxruntime's optimized form of a cached export is kept in the cache directory too, for this machine
 * (src/onnx/runtime.ts `openCached`): the next session opens it without optimizing the graph again. A classifier's
 * export outputs its embedding beside its logits (`mainOutputs`): `embed()` runs the main session. The features
 * models of `features()` are exported to the cache directory too, without an optimized form (`featuresCacheFiles`).
 * Weights given as cnn-zoo's own ONNX export run as that file (its int8 or float16 weights), not an export of it; the
 * optimized form of a float32 one is kept in the cache directory, named by the file's sha256.
 */
import { CnnZooError } from '../errors.js';
import { isNode, nodeModules } from '../platform.js';
import type { WeightsSource } from '../artifacts/read.js';
import { ORT_PACKAGE, OnnxSession, importOnnxRuntime, missingRuntimeError, type OnnxCacheFiles, type RuntimeName } from '../onnx/runtime.js';
import { cacheRoot, onnxCachePath } from '../pretrained/cache.js';
import type { OnnxIo } from '../onnx/export.js';
import type { ZooModel } from './zoo-model.js';
import { embeddingLayer, outputsPooledFeatures } from '../zoo/heads.js';

export const RUNTIMES: readonly RuntimeName[] = ['auto', 'onnxruntime', 'tfjs'];

export interface RuntimeContext {
  /** What load() was asked for (default 'auto'). */
  runtime?: RuntimeName;
  /** The model is in its training form (it stays on tfjs unless asked for onnxruntime). */
  trainingForm: boolean;
  /** A tfjs backend was given for this model. */
  backend: boolean;
  /** Where the weights were read from (null: random weights), and whether they are the shipped ones. */
  source: WeightsSource | null;
  shipped: boolean;
  /** The cache directory (`hub.cacheDir`, else $CNN_ZOO_CACHE, else ~/.cache/cnn-zoo). */
  cacheDir?: string;
  /**
   * cnn-zoo's ONNX export that the weights were read from, when it computes what `model` does (its logits at the
   * model's size; NHWC or NCHW, feature maps beside them): onnxruntime runs the file itself, its int8 or float16 weights
   * as stored, instead of an export.
   */
  onnxFile?: { path: string; as: string; io: OnnxIo; sha256: string };
}

/** The storage of cnn-zoo's ONNX export that onnxruntime runs as stored for a model ('int8 QDQ', ...): the CLI's header says it. */
const runsExport = new WeakMap<ZooModel, string>();
export function exportRunAsStored(zoo: ZooModel): string | undefined { return zoo.runtime === 'tfjs' ? undefined : runsExport.get(zoo); }

/** Models that load() was told to run on tfjs (runtime: 'tfjs', or a tfjs backend given): fit() computes their features on tfjs too. */
const pinnedToTfjs = new WeakSet<ZooModel>();
export function runsOnTfjsOnly(zoo: ZooModel): boolean { return pinnedToTfjs.has(zoo); }

/** What the model runs on, for the one line load() prints. */
export interface RuntimeResult { runtime: 'onnxruntime' | 'tfjs'; detail: string }

export function checkRuntime(runtime: unknown, where: string): asserts runtime is RuntimeName | undefined {
  if (runtime !== undefined && !(RUNTIMES as readonly unknown[]).includes(runtime)) {
    throw new CnnZooError(`${where}: runtime must be ${RUNTIMES.map((r) => `'${r}'`).join(', ')}, got ${JSON.stringify(runtime)}.`, 'BAD_OPTION');
  }
}

/** Put `zoo` on the runtime `ctx` asks for; returns what runs. */
export async function startRuntime(zoo: ZooModel, ctx: RuntimeContext): Promise<RuntimeResult> {
  const where = `load("${zoo.name}")`;
  const want = ctx.runtime ?? 'auto';
  checkRuntime(want, where);
  if (want === 'tfjs' || (want === 'auto' && ctx.backend)) pinnedToTfjs.add(zoo);
  if (want === 'tfjs') return { runtime: 'tfjs', detail: 'asked for' };
  if (want === 'auto') {
    if (ctx.trainingForm) return { runtime: 'tfjs', detail: 'the training form runs on tfjs' };
    if (ctx.backend) return { runtime: 'tfjs', detail: 'a tfjs backend was given' };
    if (!isNode) return { runtime: 'tfjs', detail: 'browsers: tfjs unless runtime: \'onnxruntime\'' };
  }
  const ort = await importOnnxRuntime();
  if (!ort) {
    if (want === 'onnxruntime') throw missingRuntimeError(where);
    return { runtime: 'tfjs', detail: `${ORT_PACKAGE} is not installed (npm install ${ORT_PACKAGE} runs models several times faster)` };
  }
  let main: OnnxSession;
  try {
    main = ctx.onnxFile && isNode ? await OnnxSession.open(ort, ctx.onnxFile.path, ctx.onnxFile.io, await storedFileOptions(zoo.card.name, ctx.onnxFile, ctx))
      : await OnnxSession.create(ort, zoo.model, mainOutputs(zoo), ctx.source === null ? undefined : (key) => cacheFiles(zoo.card.name, key, ctx));
  } catch (e) {
    // 'auto' keeps tfjs for a model the export does not cover (a custom layer of the user's).
    if (want === 'auto' && e instanceof CnnZooError && e.code === 'UNSUPPORTED_LAYER') return { runtime: 'tfjs', detail: e.message };
    throw e;
  }
  const featuresCache = ctx.source === null ? undefined : (key: string) => featuresCacheFiles(zoo.card.name, key, ctx);
  zoo.useOnnxRuntime({ name: ORT_PACKAGE, main, open: (m) => OnnxSession.create(ort, m, {}, featuresCache) });
  if (ctx.onnxFile && isNode) runsExport.set(zoo, ctx.onnxFile.as);
  const version = ort.env?.versions?.common;
  const from = ctx.onnxFile && isNode ? `the file itself, ${ctx.onnxFile.as} weights` : main.source.startsWith('memory') ? `exported in ${main.source}` : `exported to ${main.source}`;
  return { runtime: 'onnxruntime', detail: `${ORT_PACKAGE}${version ? ` ${version}` : ''}, ${isNode ? 'CPU' : 'wasm/WebGPU'}, ${from}` };
}

/**
 * The main graph's extra output: a classifier's embedding (what `embed()` returns, computed on the way to its logits
 * anyway), so that `embed()` runs the session `classify()` does rather than a second one holding the weights again.
 */
function mainOutputs(zoo: ZooModel): { outputs?: string[] } {
  const layer = outputsPooledFeatures(zoo.model) ? undefined : embeddingLayer(zoo.model, () => zoo.stages);
  return layer === undefined ? {} : { outputs: [layer] };
}

/**
 * How a file run as stored is opened: a float32 one without prepacking, through its optimized form kept in the cache
 * directory named by the file's sha256; int8 and float16 ones as they are.
 */
async function storedFileOptions(arch: string, file: NonNullable<RuntimeContext['onnxFile']>, ctx: RuntimeContext) {
  if (file.as !== 'float32') return {};
  return { float32Weights: true, optimized: await onnxCachePath(await cacheRoot(ctx.cacheDir), arch, file.sha256.slice(0, 32)) };
}

/**
 * Where the export of a features model (`features()`) is kept: the cache directory. Its optimized form is not kept:
 * opened from one, ResNet-50's feature maps took 107-115 ms a call instead of 55-63 (docs/PERFORMANCE.md).
 */
async function featuresCacheFiles(arch: string, key: string, ctx: RuntimeContext): Promise<OnnxCacheFiles> {
  return { file: await onnxCachePath(await cacheRoot(ctx.cacheDir), arch, key.slice(0, 32)) };
}

/**
 * `model.onnx` beside the weights' model.json when they are a local folder (not the shipped one), and the cache's file;
 * onnxruntime's optimized form in the cache.
 */
async function cacheFiles(arch: string, key: string, ctx: RuntimeContext): Promise<OnnxCacheFiles> {
  const cached = await onnxCachePath(await cacheRoot(ctx.cacheDir), arch, key.slice(0, 32));
  const { join, dirname, stat, fileURLToPath } = await nodeModules();
  const src = ctx.source;
  // onnxruntime's optimized form (for this machine) is kept in the cache directory whatever keeps the export.
  if (ctx.shipped || typeof src !== 'string' || /^https?:/i.test(src)) return { file: cached, optimized: cached };
  let dir = src.startsWith('file:') ? fileURLToPath(src) : src;
  if (dir.endsWith('.json')) dir = dirname(dir);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) return { file: cached, optimized: cached };
  return { file: join(dir, 'model.onnx'), fallback: cached, optimized: cached };
}
