/**
 * The onnxruntime runtime of a zoo model: the model exported by `exportOnnx` (this folder) and run by
 * onnxruntime-node in Node or onnxruntime-web in browsers, both optional peers of the package, imported lazily on
 * first use. Inputs and outputs are plain typed arrays (NHWC, as the tfjs model): nothing here makes tfjs tensors.
 *
 * A session is created from a cached file (Node: `file`, written once, atomically, with its `key` in
 * `metadata_props`) or from the export in memory. The key of a model is a hash of the export version, its extra
 * outputs, the model's topology and every weight's bytes, so another model or other weights never reuse a file.
 */
import type * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { isNode, nodeModules } from '../platform.js';
import { exportOnnxWithIo, type OnnxExportOptions, type OnnxIo } from './export.js';
import { transpose } from '../arrays.js';
import { onnxFileMetadata } from '../checkpoints/onnx-metadata.js';
import { heapBytes } from '../kernels/wasm-copy.js';

/** Which runtime `load()` runs a model on: `'auto'` picks the fastest installed (docs/PERFORMANCE.md). */
export type RuntimeName = 'onnxruntime' | 'tfjs' | 'auto';

/**
 * Bump when the export of the same weights changes, so cached files of older exports are not reused.
 * Written to `metadata_props` as `cnnZoo.export`.
 */
export const ONNX_EXPORT_VERSION = '2'; // 2: a classifier's main graph outputs its embedding beside its logits

/** The onnxruntime package of this platform. */
export const ORT_PACKAGE: 'onnxruntime-node' | 'onnxruntime-web' = isNode ? 'onnxruntime-node' : 'onnxruntime-web';

/** The parts of onnxruntime's API used here (structural: the peers' types stay out of cnn-zoo's declarations). */
interface OrtTensor { data: unknown; dims: readonly number[] }
interface OrtSession {
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface OrtModule {
  InferenceSession: { create(model: string | Uint8Array, options?: object): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  env?: { versions?: { common?: string }; wasm?: { numThreads?: number; simd?: boolean; wasmPaths?: unknown } };
}

/**
 * Node: onnxruntime's intra-op threads spin within a run (quick hand-offs between its ops) and stop when the run
 * returns (`force_spinning_stop`): spinning on after a run took the cores from the next image's decoding, and no
 * spinning at all made the model 8-10% slower (docs/PERFORMANCE.md, "onnxruntime-node sessions").
 */
const NODE_SESSION = { extra: { session: { force_spinning_stop: '1' } } };

/**
 * Node, a session of a graph with float32 weights (every export made here, and a float32 file run as stored): as
 * `NODE_SESSION`, without prepacking. onnxruntime copies the weights of its Gemm/MatMul (and some Conv) kernels into
 * their packed layout on every open, which for a float model buys nothing measurable at batch 1 to 32 and costs VGG-16
 * 1.7 s and 200 MB per open, ResNet-50 30 ms; its int8 kernels do need it (an int8 MobileNet v2 2.2 -> 6.4 ms a run
 * without), so a file with other weights keeps it (docs/PERFORMANCE.md, "Prepacking").
 */
const FLOAT32_SESSION = { extra: { session: { ...NODE_SESSION.extra.session, disable_prepacking: '1' } } };

type SessionOptions = { extra: { session: Record<string, string> } };

/** The session options in Node of a graph whose weights are float32, or may not be (int8, float16: prepacked). */
export function nodeSessionOptions(float32Weights: boolean): SessionOptions {
  return float32Weights ? FLOAT32_SESSION : NODE_SESSION;
}

/** Counts for tests (work is bounded by what is counted, never by time). */
const counts = { exports: 0, sessions: 0, open: 0, optimizedWrites: 0, optimizedOpens: 0 };
/**
 * Exports made, sessions created and sessions still open in this process; onnxruntime's optimized forms of cached
 * exports written and opened (`openCached`).
 */
export function runtimeCounts(): Readonly<typeof counts> { return { ...counts }; }

let ortModule: Promise<OrtModule | null> | undefined;
/** For tests: pretend the peer is not installed (true), or look again (false). */
let hidden = false;
export function hideOnnxRuntimeForTests(hide: boolean): void { hidden = hide; ortModule = undefined; }

const notFound = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Failed to fetch dynamically imported module|Failed to resolve module/i.test(String((e as Error)?.message));
};

/**
 * onnxruntime-node (Node) or onnxruntime-web (browsers), imported once by a name bundlers do not follow; null when
 * it is not installed. In browsers a bare name resolves only through an import map, so an app hands its bundled
 * module over with `setOnnxRuntime(ort)` (a static `import('onnxruntime-web')` here would make every app's bundler
 * fail without the optional peer installed: Vite/Rolldown refuse an unresolved import).
 */
export function importOnnxRuntime(): Promise<OrtModule | null> {
  if (hidden) return Promise.resolve(null);
  ortModule ??= (async () => {
    try {
      const mod = await import(/* @vite-ignore */ ORT_PACKAGE) as unknown;
      const top = mod as Partial<OrtModule> & { default?: OrtModule };
      const m = (top.InferenceSession ? top : top.default ?? top) as OrtModule;
      return m.InferenceSession ? m : null;
    } catch (e) {
      if (notFound(e)) return null;
      throw new CnnZooError(`${ORT_PACKAGE} is installed but failed to load (${String((e as Error).message).split('\n')[0]}); reinstall it (npm install ${ORT_PACKAGE}).`, 'NO_RUNTIME');
    }
  })();
  return ortModule;
}

/**
 * The onnxruntime module `runtime: 'onnxruntime'` uses: in browsers, `import * as ort from 'onnxruntime-web';
 * setOnnxRuntime(ort)` (configure `ort.env` as you like first); in Node it is found by itself.
 */
export function setOnnxRuntime(ort: unknown): void {
  const m = ort as Partial<OrtModule>;
  if (typeof m?.InferenceSession?.create !== 'function' || typeof m.Tensor !== 'function') {
    throw new CnnZooError('setOnnxRuntime(ort): pass the onnxruntime-web (or onnxruntime-node) module, e.g. import * as ort from \'onnxruntime-web\'.', 'BAD_ARGS');
  }
  hidden = false;
  ortModule = Promise.resolve(m as OrtModule);
}

/** The error of `runtime: 'onnxruntime'` without the peer installed. */
export function missingRuntimeError(where: string): CnnZooError {
  const how = isNode ? 'npm install onnxruntime-node' : "npm install onnxruntime-web, then import * as ort from 'onnxruntime-web' and setOnnxRuntime(ort)";
  return new CnnZooError(`${where}: runtime 'onnxruntime' needs the optional peer ${ORT_PACKAGE}, which is not found: ` +
    `${how} (or use runtime: 'tfjs', or 'auto' to take it when present).`, 'NO_RUNTIME');
}

/**
 * A hex hash of the export version, the extra outputs asked for, the model's topology and its weights (what decides
 * the exported file).
 */
export async function exportKey(model: tf.LayersModel, outputs?: OnnxExportOptions['outputs']): Promise<string> {
  const { createHash } = await nodeModules();
  const h = createHash('sha256');
  h.update(`cnn-zoo onnx export ${ONNX_EXPORT_VERSION}${outputs === undefined ? '' : ` outputs ${JSON.stringify(outputs)}`}\n`);
  h.update(JSON.stringify(model.toJSON(null, false)));
  // By position: tfjs suffixes weight names per instance (kernel_1, kernel_3), the topology names the layers.
  for (const [i, w] of model.weights.entries()) {
    h.update(`\n${i} [${w.shape}] ${w.dtype}\n`);
    const t = w.read();
    const inHeap = heapBytes(t); // read in place on wasm, not copied out
    if (inHeap) h.update(inHeap);
    else {
      const v = await t.data();
      h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
  }
  return h.digest('hex');
}

/** Where the main export of a model is kept (Node): a file, and where to put it when `file` cannot be written. */
export interface OnnxCacheFiles {
  /** Preferred place (e.g. `model.onnx` beside the weights' `model.json`). */
  file: string;
  /** Used when `file` is not writable (e.g. the cache directory). */
  fallback?: string;
  /**
   * Where onnxruntime's optimized form of the export is kept (in the cache directory; `openCached` makes it a folder
   * named so, with onnxruntime's version and the CPU in place of `.onnx`); none: optimized by each session.
   */
  optimized?: string;
}

/** A model output as plain data. */
export interface OrtOutput { data: Float32Array; shape: number[] }

/** One onnxruntime session of an exported graph: input NHWC float32, outputs in the graph's order. */
export class OnnxSession {
  private released = false;
  /**
   * `io`: the graph's input and outputs as its export described them, for a file run as stored (it may be NCHW and
   * have feature-map outputs beside its logits) and an export made here with extra outputs (a classifier's
   * embedding); a run fetches the outputs it names, else the first. Without `io`, a session of an export made here
   * (NHWC, the model's outputs) gives all of its outputs.
   */
  private constructor(private readonly ort: OrtModule, private readonly session: OrtSession, readonly source: string, private readonly io?: OnnxIo) {
    counts.sessions++;
    counts.open++;
  }

  /**
   * A session of an ONNX file as it is (cnn-zoo's export given as weights: its int8 or fp16 weights run as such), whose
   * graph `io` describes. Node. `float32Weights` when its export says so; `optimized`: where onnxruntime's optimized
   * form of it is kept (`openCached`), named by what identifies the file's bytes (its sha256).
   */
  static async open(ort: OrtModule, file: string, io?: OnnxIo, opts: { float32Weights?: boolean; optimized?: string } = {}): Promise<OnnxSession> {
    const options = nodeSessionOptions(opts.float32Weights === true);
    const session = opts.optimized ? await openCached(ort, file, opts.optimized, options) : await ort.InferenceSession.create(file, options);
    return new OnnxSession(ort, session, file, io);
  }

  /**
   * The names of the outputs that give `layers`' feature maps in this graph, in that order, or undefined when one of
   * them is not an output (a file run as stored holds those that its export was asked for).
   */
  outputsOf(layers: readonly string[]): string[] | undefined {
    const names = layers.map((layer) => this.io?.outputs.find((o) => o.layer === layer && o.name !== 'logits')?.name);
    return names.every((n): n is string => n !== undefined) ? names : undefined;
  }

  /**
   * A session of `model` exported with `options`, from `cache` when given (written there on first use, and
   * onnxruntime's optimized form of it beside, `openCached`).
   */
  static async create(ort: OrtModule, model: tf.LayersModel, options: OnnxExportOptions = {},
    cache?: (key: string) => Promise<OnnxCacheFiles>): Promise<OnnxSession> {
    const sessionOptions = isNode ? FLOAT32_SESSION : { executionProviders: webProviders() };
    // With extra outputs the session knows its graph's (`io`): a call fetches what it names, else the model's output.
    const ioOf = (io: OnnxIo | undefined) => (options.outputs === undefined ? undefined : io);
    if (cache && isNode) {
      const key = await exportKey(model, options.outputs);
      const files = await cache(key);
      const kept = await cachedExport(model, options, key, files);
      if ('path' in kept) return new OnnxSession(ort, await openCached(ort, kept.path, files.optimized, FLOAT32_SESSION, key), kept.path, ioOf(kept.io));
      // Nowhere to keep it (a read-only home, as in serverless functions and locked-down containers): run it from memory.
      return new OnnxSession(ort, await ort.InferenceSession.create(kept.bytes, sessionOptions), `memory (${kept.unwritable})`, ioOf(kept.io));
    }
    const { bytes, io } = await exportOnnxWithIo(model, { ...options, metadata: { 'cnnZoo.export': ONNX_EXPORT_VERSION } });
    counts.exports++;
    const slow = isNode ? undefined : setTimeout(() => { const w = threadsWarning(ort); if (w) console.warn(w); }, SLOW_SESSION_S * 1000);
    try {
      return new OnnxSession(ort, await ort.InferenceSession.create(bytes, sessionOptions), 'memory', ioOf(io));
    } finally {
      clearTimeout(slow);
    }
  }

  /**
   * Run on `n` images (NHWC `data` of NHWC `shape`); the outputs named by `outputs` (default: every output, or a
   * stored file's logits) as Float32Arrays with their shapes, feature maps NHWC whatever the graph's layout.
   */
  async run(data: Float32Array, shape: readonly number[], outputs?: readonly string[]): Promise<OrtOutput[]> {
    if (this.released) throw new CnnZooError('This model was disposed; load it again.', 'DISPOSED');
    const nchw = this.io?.input.layout === 'NCHW';
    const input = nchw ? new this.ort.Tensor('float32', transpose(data, shape, [0, 3, 1, 2]), [shape[0]!, shape[3]!, shape[1]!, shape[2]!])
      : new this.ort.Tensor('float32', data, shape);
    const fetch = outputs ?? (this.io ? [this.io.outputs[0]!.name] : undefined);
    const out = fetch ? await this.session.run({ input }, fetch) : await this.session.run({ input });
    return (fetch ?? this.session.outputNames).map((name) => {
      const t = out[name]!;
      const d = t.data as Float32Array;
      const layout = this.io?.outputs.find((o) => o.name === name)?.layout;
      if (layout === 'NCHW' && t.dims.length === 4) return { data: transpose(d, t.dims, [0, 2, 3, 1]), shape: [t.dims[0]!, t.dims[2]!, t.dims[3]!, t.dims[1]!] };
      return { data: d, shape: [...t.dims] };
    });
  }

  /** Release the session (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    counts.open--;
    void this.session.release().catch(() => undefined);
  }
}

/** Seconds after which a browser session still opening gets `threadsWarning` (a model opens in one or two). */
const SLOW_SESSION_S = 15;

/**
 * What to say when onnxruntime-web has not opened a session for a while on threads without `ort.env.wasm.wasmPaths`:
 * in a bundled app its workers load the app's code and die, some without an error event the page could catch (so no
 * check can tell for sure), and onnxruntime-web waits for them for ever. A warning, not an error: a large model on a
 * slow machine may just be slow. Undefined when the setup cannot hang that way (one thread, or wasmPaths set).
 */
function threadsWarning(ort: OrtModule): string | undefined {
  const wasm = ort.env?.wasm;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  // onnxruntime-web's own default: half the cores (at most 4) when the page may share memory, else 1.
  const threads = wasm?.numThreads || (isolated ? Math.min(4, Math.ceil((nav?.hardwareConcurrency || 1) / 2)) : 1);
  if (!isolated || threads <= 1 || wasm?.wasmPaths) return undefined;
  return `cnn-zoo: onnxruntime-web has not opened the model's session after ${SLOW_SESSION_S} s, on ${threads} threads with ` +
    'ort.env.wasm.wasmPaths unset. In a bundled app (Vite, webpack) its worker threads load your bundle and die, and it waits ' +
    'for them for ever: set ort.env.wasm.wasmPaths to where you serve node_modules/onnxruntime-web/dist/ (or ' +
    'ort.env.wasm.numThreads = 1) before load(). If the app is not bundled, the model may just be slow to open.';
}

/** Browsers: WebGPU first where the page has it, then wasm (SIMD; threads when cross-origin isolated). */
function webProviders(): string[] {
  const gpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
  return gpu ? ['webgpu', 'wasm'] : ['wasm'];
}

/**
 * The path of the export of `model` with `key`: `cache.file` when it holds that key, else written there (or to
 * `cache.fallback` when `cache.file` cannot be written) through a temporary file and a rename. When neither can be
 * written, the export's bytes, and why (the model then runs from memory, exported again by each process).
 */
async function cachedExport(model: tf.LayersModel, options: OnnxExportOptions, key: string, cache: OnnxCacheFiles):
  Promise<({ path: string } | { bytes: Uint8Array; unwritable: string }) & { io?: OnnxIo }> {
  const { writeFile, rename, mkdir, rm, dirname } = await nodeModules();
  for (const p of [cache.file, cache.fallback]) {
    const meta = p ? await keyedMetadata(p, key) : undefined;
    if (p && meta) return { path: p, io: ioOfMetadata(meta) };
  }
  const { bytes, io } = await exportOnnxWithIo(model, { ...options, metadata: { 'cnnZoo.export': ONNX_EXPORT_VERSION, 'cnnZoo.key': key } });
  counts.exports++;
  let lastError: unknown;
  for (const p of [cache.file, cache.fallback]) {
    if (!p) continue;
    const tmp = `${p}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await mkdir(dirname(p), { recursive: true });
      await writeFile(tmp, bytes);
      await rename(tmp, p);
      return { path: p, io };
    } catch (e) {
      lastError = e;
      await rm(tmp, { force: true }).catch(() => undefined);
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS' && code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
  }
  const code = (lastError as NodeJS.ErrnoException).code ?? 'not writable';
  return { bytes, io, unwritable: `cannot write ${[cache.file, cache.fallback].filter(Boolean).join(' or ')}: ${code}; set CNN_ZOO_CACHE to a writable folder to keep it` };
}

/** The graph's inputs and outputs that an export wrote in its `metadata_props` (`cnnZoo.io`). */
function ioOfMetadata(meta: Record<string, string>): OnnxIo | undefined {
  try {
    return meta['cnnZoo.io'] ? JSON.parse(meta['cnnZoo.io']) as OnnxIo : undefined;
  } catch {
    return undefined;
  }
}

/** The metadata of ONNX file `path` when it is there and has `key` as its `cnnZoo.key` (read from its top-level fields only). */
async function keyedMetadata(path: string, key: string): Promise<Record<string, string> | undefined> {
  const meta = await onnxFileMetadata(path);
  return meta['cnnZoo.key'] === key ? meta : undefined;
}

/** The optimized form's files, in its folder: the graph (with the export's metadata) and its weights as external data. */
const OPTIMIZED_GRAPH = 'model.onnx';
const OPTIMIZED_WEIGHTS = 'model.onnx.data';

/**
 * Node: a session of cached export `path` (whose `cnnZoo.key` is `key`), or of a file run as stored (no `key`:
 * `optimized` is named by the file's sha256, so the folder's name says whose form it is), with session `options`,
 * through onnxruntime's optimized form of it kept at `optimized` for this machine. Each session optimizes the graph it
 * is given (fusions, and convolutions in the NCHWc layout of this CPU's vector width), which is most of opening one:
 * ResNet-50 1.2 s, of which the optimized form saved once takes 0.7 s, holding 140 MB less at its peak
 * (docs/PERFORMANCE.md, "Opening a session"). The form is hardware-specific (onnxruntime says so when it writes one),
 * so its name carries onnxruntime's version and a hash of the CPU (model and feature flags). It is a folder: the
 * graph, which keeps the export's `cnnZoo.key` (checked before it is opened, where there is a key), and its weights
 * beside it as external data, which onnxruntime reads without parsing them as protobuf (ResNet-50's optimized form
 * opens in 0.06 s instead of 0.7 s). It is written into a temporary folder
 * renamed into place; where it cannot be written, or fails to open, the export is optimized by its session as before.
 * The two compute the same numbers, to the bit (test/runtime-onnx.test.ts).
 */
async function openCached(ort: OrtModule, path: string, optimized: string | undefined, options: SessionOptions, key?: string): Promise<OrtSession> {
  const ver = ort.env?.versions?.common;
  if (!optimized || !ver) return ort.InferenceSession.create(path, options);
  const { rename, mkdir, rm, dirname, join, access, constants } = await nodeModules();
  const saved = optimized.replace(/\.onnx$/, '') + `.ort-${ver.replace(/[^\w.-]/g, '_')}-${await cpuTag()}`;
  const graph = join(saved, OPTIMIZED_GRAPH);
  if (key === undefined ? await access(graph).then(() => true, () => false) : await keyedMetadata(graph, key)) {
    try {
      const s = await ort.InferenceSession.create(graph, { ...options, graphOptimizationLevel: 'disabled' });
      counts.optimizedOpens++;
      return s;
    } catch { /* its weights missing or cut short, or written by a build that differs after all: written again below */ }
  }
  // A folder that cannot be written (a read-only cache holding the export) is not handed to onnxruntime: its write
  // would fail after the graph is optimized, and the session be made twice on every load.
  const writable = await mkdir(dirname(saved), { recursive: true }).then(() => access(dirname(saved), constants.W_OK)).then(() => true, () => false);
  if (!writable) return ort.InferenceSession.create(path, options);
  const tmp = `${saved}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let session: OrtSession;
  try {
    await mkdir(tmp);
    // logSeverityLevel 3: onnxruntime warns on stderr that the form it writes is for this machine (it is kept so).
    session = await ort.InferenceSession.create(path, { optimizedModelFilePath: join(tmp, OPTIMIZED_GRAPH), logSeverityLevel: 3,
      extra: { session: { ...options.extra.session, optimized_model_external_initializers_file_name: OPTIMIZED_WEIGHTS } } });
  } catch {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    return ort.InferenceSession.create(path, options); // the cache cannot be written: optimized by this session
  }
  // What stood there did not open (or was not this export's): replaced (a session that has it open keeps its files).
  // Where that fails (another process holding it, on Windows) it stays, and the next load writes it again. The form
  // earlier versions wrote (one file, `<saved>.onnx`) goes too.
  await rm(saved, { recursive: true, force: true }).then(() => rename(tmp, saved)).then(() => { counts.optimizedWrites++; },
    () => rm(tmp, { recursive: true, force: true }).catch(() => undefined));
  await rm(`${saved}.onnx`, { force: true }).catch(() => undefined);
  return session;
}

let cpu: Promise<string> | undefined;
/** A short hash of this machine's CPU as onnxruntime's kernels see it: platform, architecture, model, feature flags. */
function cpuTag(): Promise<string> {
  cpu ??= (async () => {
    const { createHash, readFile, cpus } = await nodeModules();
    const flags = process.platform === 'linux'
      ? ((await readFile('/proc/cpuinfo', 'utf8').catch(() => '')).match(/^(flags|Features)\s*:.*$/m)?.[0] ?? '') : '';
    return createHash('sha256').update([process.platform, process.arch, cpus()[0]?.model ?? '', flags].join('\n')).digest('hex').slice(0, 12);
  })();
  return cpu;
}

/** Softmax of each row of `logits` [n, k] (float64 sums, as tf.softmax's float32 result to rounding). */
export function softmaxRows(logits: Float32Array, k: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let r = 0; r * k < logits.length; r++) {
    const row = logits.subarray(r * k, (r + 1) * k);
    let max = -Infinity;
    for (const v of row) if (v > max) max = v;
    const p = new Float32Array(k);
    let sum = 0;
    for (let i = 0; i < k; i++) { const e = Math.exp(row[i]! - max); p[i] = e; sum += e; }
    for (let i = 0; i < k; i++) p[i] = p[i]! / sum;
    rows.push(p);
  }
  return rows;
}
