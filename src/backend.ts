/**
 * Backend selection for Node and browsers. `pickBackend()` tries, in order, `tensorflow` (tfjs-node-gpu /
 * tfjs-node, optional peers loaded dynamically), `webgpu` (a browser's navigator.gpu, or Node through the
 * `webgpu` package = Dawn over Vulkan), `webgl` (browsers), `wasm` and `cpu`, and returns the first that
 * starts with the reason each other one did not. `useBackend(name)` switches to one backend or fails with a
 * `CnnZooError` that says how to make it available.
 *
 * Node specifics: wasm's .wasm binaries are resolved from the installed package; its multi-threaded build is
 * started through worker_threads (tfjs starts its workers from blob: URLs, which Node refuses), see
 * `wasmThreads`. WebGPU in Node needs the `webgpu` npm package, a GPU and its Vulkan driver (libvulkan1 + the
 * vendor ICD); nothing is installed by this package.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKinds, checkOptionNames, CnnZooError, shown } from './errors.js';
import { isNode, raceWorkerFailure } from './platform.js';
import { registerWasmGradients } from './kernels/wasm-gradients.js';
import { registerCpuKernels } from './kernels/cpu-kernels.js';

export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';
/** Every backend, in the order `pickBackend()` tries them (fastest first where available). */
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];

export interface BackendOptions {
  /**
   * wasm: XNNPACK worker threads (1 = the single-threaded SIMD build). In Node the threaded build runs on
   * worker_threads; default 1 in Node (measured: see docs/PERFORMANCE.md), tfjs's default in browsers (half the
   * cores, 1 to 4; one thread takes the single-threaded build). In a browser, threads need a cross-origin isolated
   * page (COOP same-origin + COEP require-corp) and an app minified without rewriting `typeof` checks (README, "Web app").
   */
  wasmThreads?: number;
  /** webgpu in Node: options for Dawn's `create()`, e.g. `['enable-dawn-features=skip_validation']`. */
  dawnOptions?: readonly string[];
  /** tfjs environment flags set once the backend is ready (e.g. `{ WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 64 }`). */
  flags?: Readonly<Record<string, number | boolean | string>>;
  /** Milliseconds to wait for a WebGPU adapter before giving up on it (default 15000). */
  adapterTimeoutMs?: number;
}

export interface PickOptions extends BackendOptions {
  /** Try only these, in this order (default `BACKENDS`). */
  order?: readonly BackendName[];
  /** Print the choice and the reasons (default false), or receive the message. */
  log?: boolean | ((message: string) => void);
}

export interface BackendChoice {
  name: BackendName;
  /** Why each backend tried before `name` did not run; later ones are marked as not tried. */
  reasons: Partial<Record<BackendName, string>>;
  /** What runs, e.g. the GPU adapter or the wasm build and threads. */
  detail: string;
  /** One line: which backend runs and why the others do not. */
  message: string;
}


/** A backend that cannot run here, with the reason and the fix. */
class Unavailable extends Error {}

/**
 * GPU renderers/adapters that are CPU emulations (SwiftShader in Chromium without a GPU, Mesa's llvmpipe,
 * lavapipe and softpipe, Windows' Basic Render Driver): WebGL/WebGPU on them is several times slower than wasm
 * (measured: WebGL on SwiftShader classifies in 993 ms, wasm in 220 ms), so `pickBackend()` never takes them.
 */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

/** Whether a WebGL renderer or WebGPU adapter description names a software (CPU) implementation. */
export function isSoftwareRenderer(description: string): boolean {
  return SOFTWARE_RENDERER.test(description);
}

/** `import(name)` of an optional package, without a static dependency (bundlers and tsc leave it alone). */
async function importOptional(name: string): Promise<unknown | null> {
  try {
    return await import(/* @vite-ignore */ name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return null;
    throw e;
  }
}

async function prepareTensorflow(): Promise<string> {
  if (!isNode) throw new Unavailable('Node only (tfjs-node binds the TensorFlow C library)');
  if (tf.findBackend('tensorflow')) return 'TensorFlow C (tfjs-node)';
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    let mod: unknown;
    try {
      mod = await importOptional(pkg);
    } catch (e) {
      throw new Unavailable(`${pkg} is installed but failed to load (${(e as Error).message.split('\n')[0]}); reinstall it`);
    }
    if (mod === null) continue;
    if (tf.findBackend('tensorflow')) return `TensorFlow C through ${pkg}`;
    throw new Unavailable(`${pkg} loaded but registered no backend with this @tensorflow/tfjs (${tf.version.tfjs}); install a matching version`);
  }
  throw new Unavailable('not installed: npm install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA)');
}

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; adapterType?: string };
}
interface GpuLike { requestAdapter(o?: { powerPreference?: string }): Promise<GpuAdapterLike | null> }

/** Dawn's GPU object must stay referenced while the backend lives. */
let dawnGpu: GpuLike | null = null;

function installNavigatorGpu(gpu: GpuLike): void {
  const g = globalThis as unknown as { navigator?: object };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else if (!(g.navigator as { gpu?: unknown }).gpu) {
    try {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    } catch {
      Object.defineProperty(globalThis, 'navigator', { value: { ...g.navigator, gpu }, configurable: true, writable: true });
    }
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Unavailable(`${what} did not answer in ${ms} ms`)), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Linux: whether any GPU device node exists (saves starting Dawn, and its Vulkan warnings, on GPU-less hosts). */
async function hasGpuDeviceNode(): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  const { existsSync } = await import('node:fs');
  return ['/dev/dri', '/dev/nvidia0', '/dev/dxg'].some((p) => existsSync(p));
}

async function prepareWebgpu(o: BackendOptions): Promise<string> {
  let gpu = (globalThis as unknown as { navigator?: { gpu?: GpuLike } }).navigator?.gpu ?? null;
  if (!gpu) {
    if (!isNode) throw new Unavailable('this browser has no WebGPU (navigator.gpu)');
    if (!(await hasGpuDeviceNode())) throw new Unavailable('no GPU here (Linux: no /dev/dri, /dev/nvidia0 or /dev/dxg)');
    const mod = await importOptional('webgpu') as { create(options: string[]): GpuLike; globals: object } | null;
    if (!mod) throw new Unavailable('Node needs the `webgpu` package (Dawn) for it: npm install webgpu');
    Object.assign(globalThis, mod.globals);
    dawnGpu = mod.create([...(o.dawnOptions ?? [])]);
    installNavigatorGpu(dawnGpu);
    gpu = dawnGpu;
  }
  const adapter = await withTimeout(gpu.requestAdapter({ powerPreference: 'high-performance' }), o.adapterTimeoutMs ?? 15000, 'requestAdapter()');
  if (!adapter) {
    throw new Unavailable(isNode
      ? 'no WebGPU adapter: Dawn found no usable GPU (it needs a GPU with a Vulkan driver: libvulkan1 and the vendor ICD, e.g. VK_DRIVER_FILES)'
      : 'the browser offers no WebGPU adapter');
  }
  const info = adapter.info ?? {};
  const desc = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unnamed adapter';
  if (adapter.isFallbackAdapter || info.adapterType === 'cpu' || isSoftwareRenderer(desc)) {
    throw new Unavailable(`only a software adapter (${desc}${adapter.isFallbackAdapter ? ', isFallbackAdapter' : ''}), slower than wasm`);
  }
  const mod = await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) {
    // The module was imported before navigator.gpu existed, so it did not register itself.
    tf.registerBackend('webgpu', async () => {
      const a = await (navigator as unknown as { gpu: { requestAdapter(o: object): Promise<GPUAdapter> } }).gpu.requestAdapter({ powerPreference: 'high-performance' });
      const features: GPUFeatureName[] = a.features.has('timestamp-query') ? ['timestamp-query'] : [];
      const device = await a.requestDevice({ requiredFeatures: features, requiredLimits: {
        maxComputeWorkgroupStorageSize: a.limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: a.limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize,
        maxBufferSize: a.limits.maxBufferSize,
        maxComputeWorkgroupSizeX: a.limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: a.limits.maxComputeInvocationsPerWorkgroup,
      } });
      return new mod.WebGPUBackend(device, (a as unknown as { info?: GPUAdapterInfo }).info);
    }, 3);
  }
  return `WebGPU adapter ${desc}${isNode ? ' (Dawn in Node)' : ''}`;
}

/** `auto`: chosen by pickBackend(), which never takes a software renderer; `useBackend('webgl')` still runs on one. */
async function prepareWebgl(auto: boolean): Promise<string> {
  if (isNode || typeof document === 'undefined') throw new Unavailable('needs a browser (WebGL has no Node implementation here)');
  if (!tf.findBackendFactory('webgl')) throw new Unavailable('the WebGL backend is not registered (import @tensorflow/tfjs)');
  const renderer = webglRenderer();
  if (renderer === null) throw new Unavailable('this browser gives no WebGL context');
  const software = isSoftwareRenderer(renderer);
  if (software && auto) throw new Unavailable(`only a software renderer (${renderer}), slower than wasm`);
  return `WebGL (${software ? 'software renderer ' : ''}${renderer})`;
}

/** The page's WebGL renderer (unmasked where the browser allows it), or null without WebGL. */
function webglRenderer(): string | null {
  const canvas = document.createElement('canvas');
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return null;
  try {
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? 'unnamed renderer');
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

let wasmPrepared: { threads: number } | null = null;

/**
 * wasm's pthread workers in Node. Once the backend has started they are unref'd, so that they no longer keep the
 * process alive (a script or the CLI with 2 threads exited only by process.exit): the pool blocks the main thread
 * while it computes, so it needs no event loop. Until then they stay ref'd: the start awaits their first messages.
 */
const pthreadWorkers: { started: boolean; starting: { unref(): void }[] } = { started: false, starting: [] };

/**
 * Whether the wasm backend has finished starting. Not `tf.findBackend('wasm')`: for an async backend that call
 * STARTS initialising it, so asking before `tf.setBackend('wasm')` started two wasm modules (two pthread pools),
 * and the one that finished last set the thread count that `getThreadsCount()` reports; under load the first
 * one's pool was sized after `os.cpus()` had been restored (1 thread on 2 cores).
 */
const wasmStarted = (): boolean => tf.engine().registry['wasm'] !== undefined;

/** The threaded wasm build in Node: tfjs's pthread workers, started from the worker script's text. */
async function enableNodeWasmThreads(dir: string, join: (...p: string[]) => string): Promise<void> {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const wt = await import('node:worker_threads');
  const workerSrc = (require(join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string }).wasmWorkerContents;
  const threadedJs = join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const load = 'importScripts:function(f){(0,eval)(fs.readFileSync(f,"utf8")+"//# sourceURL="+f)}';
  if (!workerSrc.includes(load)) throw new Unavailable('this tfjs-backend-wasm version has an unexpected worker script; use wasmThreads: 1');
  // The worker would load the main script from a Blob URL; load the same factory from its file instead.
  const source = workerSrc.replace(/\n/g, '\\n')
    .replace(load, `importScripts:function(){(0,eval)(fs.readFileSync(${JSON.stringify(threadedJs)},"utf8"))}`);
  const NodeWorker = wt.Worker;
  class ScriptWorker extends NodeWorker {
    constructor() {
      super(source, { eval: true });
      if (pthreadWorkers.started) this.unref();
      else pthreadWorkers.starting.push(this);
    }
  }
  // Emscripten takes `require("worker_threads").Worker` when the module starts.
  (wt.default as unknown as { Worker: unknown }).Worker = ScriptWorker;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
}

async function prepareWasm(o: BackendOptions): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const threads = o.wasmThreads ?? 1;
  if (wasmPrepared === null) {
    if (isNode) {
      const { createRequire } = await import('node:module');
      const { dirname, join } = await import('node:path');
      const require = createRequire(import.meta.url);
      const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      const dist = join(dir, 'dist') + '/';
      wasm.setWasmPaths({
        'tfjs-backend-wasm.wasm': dist + 'tfjs-backend-wasm.wasm',
        'tfjs-backend-wasm-simd.wasm': dist + 'tfjs-backend-wasm-simd.wasm',
        'tfjs-backend-wasm-threaded-simd.wasm': dist + 'tfjs-backend-wasm-threaded-simd.wasm',
      });
      if (threads > 1) await enableNodeWasmThreads(dir, join);
    }
    if (o.wasmThreads !== undefined) wasm.setThreadsCount(threads);
    // A page whose wasm runs on one thread takes the single-threaded build: the threaded one would start its pool of
    // pthread workers for nothing (and depends on them starting, see `startWasmInPage`).
    if (!isNode && (o.wasmThreads ?? tfjsPageThreads()) <= 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasmPrepared = { threads };
  } else if (o.wasmThreads !== undefined && wasmPrepared.threads !== threads && wasmStarted()) {
    throw new CnnZooError(`The wasm backend already runs with ${wasmPrepared.threads} thread(s); threads are fixed at start. ` +
      'Choose wasmThreads before the first useBackend("wasm") (one process per setting).', 'BAD_BACKEND');
  }
  return 'wasm';
}

/**
 * Start wasm with `threads` XNNPACK threads. tfjs-backend-wasm sizes its pool to half the logical cores it reads
 * while it starts (Node: `os.cpus()`, browsers: `navigator.hardwareConcurrency`), whatever `setThreadsCount` asked:
 * 1 thread on a 2-core machine. So while it starts, 2 x `threads` cores are reported (in a page, through an own
 * `hardwareConcurrency` property on `navigator`, removed again once the backend has started).
 */
async function startWasm(threads: number): Promise<boolean> {
  if (wasmStarted()) return tf.setBackend('wasm');
  if (!isNode) return startWasmInPage(threads);
  if (threads <= 1) return withoutRethrowingHandlers(() => tf.setBackend('wasm'));
  const os = (await import('node:os')).default as unknown as { cpus: () => unknown[] };
  const cpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
  try {
    return await withoutRethrowingHandlers(() => tf.setBackend('wasm'));
  } finally {
    os.cpus = cpus;
    pthreadWorkers.started = true;
    for (const w of pthreadWorkers.starting.splice(0)) w.unref();
  }
}

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Node: tfjs-backend-wasm's Emscripten glue, as it starts, adds process handlers that rethrow every uncaught exception
 * and unhandled rejection (`process.on('unhandledRejection', (reason) => { throw reason })`), so an app that logs
 * those and goes on (a server) crashed with exit code 7 once wasm started. The handlers `start` adds are removed:
 * Node's own behaviour, and the app's handlers, are back.
 */
async function withoutRethrowingHandlers<T>(start: () => Promise<T>): Promise<T> {
  const on = process as unknown as { listeners(e: string): ((...a: unknown[]) => void)[]; removeListener(e: string, l: (...a: unknown[]) => void): void };
  const before = PROCESS_EVENTS.map((e) => new Set(on.listeners(e)));
  try {
    return await start();
  } finally {
    PROCESS_EVENTS.forEach((e, i) => {
      for (const l of on.listeners(e)) if (!before[i]!.has(l) && /\bthrow (ex|reason)\b/.test(String(l))) on.removeListener(e, l);
    });
  }
}

/** The threads tfjs-backend-wasm starts in a page when not told (backend.cc: half the logical cores, 1 to 4). */
const tfjsPageThreads = (): number => Math.min(Math.max(Math.floor((globalThis.navigator?.hardwareConcurrency ?? 2) / 2), 1), 4);

/** Why the threaded build could not start in this page (then wasm runs on the single-threaded one), or null. */
let wasmThreadsFailed: string | null = null;

/**
 * Start wasm in a page. tfjs's threaded build hands its pthread workers its own factory's source text
 * (`factory.toString()`); where the app's minifier rewrote the `typeof _scriptDir !== "undefined"` check in it (Vite
 * 8's default minifier does; terser does unless `compress.typeofs` is false), each worker throws a ReferenceError as
 * it starts and tfjs waits for them forever. So while the threaded build starts, an error from a worker ends the
 * wait: the backend is registered again and starts on the single-threaded build, and `wasmDetail` says why.
 */
async function startWasmInPage(threads: number): Promise<boolean> {
  if (!(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))) return tf.setBackend('wasm');
  const entry = (tf.engine() as unknown as { registryFactory: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }> })
    .registryFactory['wasm']!;
  const start = (): Promise<{ value: boolean } | { workerError: string }> => raceWorkerFailure(tf.setBackend('wasm'));
  const outcome = threads > 1 ? await withReportedCores(2 * threads, start) : await start();
  if ('value' in outcome) return outcome.value;
  wasmThreadsFailed = outcome.workerError;
  tf.removeBackend('wasm'); // also drops the start that waits on the workers
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tf.registerBackend('wasm', entry.factory, entry.priority);
  return tf.setBackend('wasm');
}

/** Run `f` while `navigator.hardwareConcurrency` reads `cores` (unchanged where the page already pinned it). */
async function withReportedCores<T>(cores: number, f: () => Promise<T>): Promise<T> {
  const nav = globalThis.navigator as Navigator | undefined;
  if (!nav || Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency') || !(cores > (nav.hardwareConcurrency ?? 0))) return f();
  Object.defineProperty(nav, 'hardwareConcurrency', { configurable: true, get: () => cores });
  try {
    return await f();
  } finally {
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

async function wasmDetail(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  let threads = 1;
  try { threads = wasm.getThreadsCount(); } catch { /* not started */ }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const asked = wasmPrepared?.threads ?? 1;
  // Browsers run threads only in a cross-origin isolated page (SharedArrayBuffer); say so instead of running on fewer.
  const minifier = /^ReferenceError: \S+ is not defined/.test(wasmThreadsFailed ?? '')
    ? '. The app\'s minifier rewrote the `typeof` checks in the code tfjs-backend-wasm hands to its workers: build with ' +
      'Vite\'s `build.minify: \'esbuild\'`, or terser with `compress: { typeofs: false }`'
    : '';
  const why = wasmThreadsFailed !== null
    ? ` (the threaded build's workers failed to start: ${wasmThreadsFailed}${minifier})`
    : threads < asked && !isNode && !(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated
      ? ` (wasmThreads ${asked} asked: threads need a cross-origin isolated page; serve it with the headers ` +
        "'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp')"
      : '';
  return `wasm${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'}${why}`;
}

async function prepare(name: BackendName, o: BackendOptions, auto: boolean): Promise<string> {
  switch (name) {
    case 'tensorflow': return prepareTensorflow();
    case 'webgpu': return prepareWebgpu(o);
    case 'webgl': return prepareWebgl(auto);
    case 'wasm': return prepareWasm(o);
    case 'cpu': return 'plain JavaScript';
  }
}

function applyFlags(flags: BackendOptions['flags']): void {
  for (const [k, v] of Object.entries(flags ?? {})) {
    try {
      tf.env().set(k, v);
    } catch (e) {
      throw new CnnZooError(`tfjs flag ${k}: ${(e as Error).message}`, 'BAD_OPTION');
    }
  }
}

function checkName(name: string): asserts name is BackendName {
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new CnnZooError(`Unknown backend "${name}". Valid backends: ${BACKENDS.join(', ')}.`, 'BAD_BACKEND');
  }
}

/** Prepare and start `name`; returns what runs, or throws `Unavailable` with the reason. */
async function start(name: BackendName, o: BackendOptions, auto = false): Promise<string> {
  let detail = await prepare(name, o, auto);
  if (tf.getBackend() !== name) {
    const ok = name === 'wasm' ? await startWasm(wasmPrepared?.threads ?? 1) : await tf.setBackend(name);
    if (!ok) throw new Unavailable('failed to initialise (see the tfjs warning above)');
  }
  await tf.ready();
  if (name === 'wasm') { registerWasmGradients(); detail = await wasmDetail(); }
  if (name === 'cpu') registerCpuKernels();
  applyFlags(o.flags);
  return detail;
}

const BACKEND_OPTIONS = ['wasmThreads', 'dawnOptions', 'flags', 'adapterTimeoutMs'] as const satisfies readonly (keyof BackendOptions)[];
const PICK_OPTIONS = [...BACKEND_OPTIONS, 'order', 'log'] as const satisfies readonly (keyof PickOptions)[];

/** Refuses unknown option names and a `wasmThreads` that is not a whole number of at least 1. */
function checkOptions(where: string, o: object, known: readonly string[]): void {
  checkOptionNames(where, o, known);
  const { order, log, flags, dawnOptions } = o as PickOptions;
  if (order !== undefined && !Array.isArray(order)) {
    throw new CnnZooError(`${where}: order is a list of backend names such as ['wasm', 'cpu'], got ${shown(order)}.`, 'BAD_OPTION');
  }
  if (log !== undefined && typeof log !== 'boolean' && typeof log !== 'function') {
    throw new CnnZooError(`${where}: log is true, false or a function that receives the message, got ${shown(log)}.`, 'BAD_OPTION');
  }
  if (flags !== undefined && (flags === null || typeof flags !== 'object' || Array.isArray(flags))) {
    throw new CnnZooError(`${where}: flags is an object of tfjs flags such as { WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 64 }, got ${shown(flags)}.`, 'BAD_OPTION');
  }
  if (dawnOptions !== undefined && !Array.isArray(dawnOptions)) {
    throw new CnnZooError(`${where}: dawnOptions is a list of Dawn options such as ['enable-dawn-features=skip_validation'], got ${shown(dawnOptions)}.`, 'BAD_OPTION');
  }
  checkOptionKinds(where, o, { adapterTimeoutMs: 'positive number' });
  const threads = (o as BackendOptions).wasmThreads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new CnnZooError(`${where}: wasmThreads must be a whole number of threads, 1 or more (1 = the single-threaded build), got ${shown(threads)}.`, 'BAD_OPTION');
  }
}

/**
 * Pick the fastest backend that runs here (order: tensorflow, webgpu, webgl, wasm, cpu) and switch tfjs to
 * it. Returns its name, what runs, and why each earlier backend did not.
 */
export async function pickBackend(options: PickOptions = {}): Promise<BackendChoice> {
  checkOptions('pickBackend()', options, PICK_OPTIONS);
  defaultSettled = true;
  const order = options.order ?? BACKENDS;
  order.forEach((n) => checkName(n));
  const reasons: Partial<Record<BackendName, string>> = {};
  for (const name of order) {
    try {
      const detail = await start(name, options, true);
      for (const later of order.slice(order.indexOf(name) + 1)) reasons[later] = `not tried (${name} comes first)`;
      const skipped = order.slice(0, order.indexOf(name)).map((n) => `${n}: ${reasons[n]}`);
      const message = `cnn-zoo: running on ${name} (${detail})` + (skipped.length ? `; ${skipped.join('; ')}` : '');
      if (options.log) (typeof options.log === 'function' ? options.log : console.log)(message);
      return { name, reasons, detail, message };
    } catch (e) {
      if (e instanceof CnnZooError) throw e;
      reasons[name] = e instanceof Unavailable ? e.message : `failed: ${(e as Error).message}`;
    }
  }
  throw new CnnZooError(`No tfjs backend could start: ${order.map((n) => `${n}: ${reasons[n]}`).join('; ')}.`, 'NO_BACKEND');
}

/**
 * Switch tfjs to `name` (or, without a name, to `pickBackend()`'s choice); returns what runs (adapter, wasm
 * build and threads). Throws a `CnnZooError` naming why the backend cannot run here and how to make it available.
 */
export async function useBackend(name?: BackendName, options: BackendOptions = {}): Promise<string> {
  checkOptions(`useBackend(${name === undefined ? '' : JSON.stringify(name)})`, options, name === undefined ? PICK_OPTIONS : BACKEND_OPTIONS);
  defaultSettled = true;
  if (name === undefined) return (await pickBackend(options)).detail;
  checkName(name);
  try {
    return await start(name, options);
  } catch (e) {
    if (e instanceof CnnZooError) throw e;
    const reason = e instanceof Unavailable ? e.message : (e as Error).message;
    throw new CnnZooError(`Backend "${name}" cannot run here: ${reason}.`, 'BAD_BACKEND');
  }
}

/**
 * Whether tfjs picked the backend in use by itself: when an app makes a tensor (or calls `tf.memory()`, `tf.ready()`)
 * before anything chose a backend, tfjs starts the highest-priority backend that starts at once, which in Node is
 * its plain-JavaScript `cpu` (wasm starts asynchronously, and cnn-zoo registers it only when it starts it), and
 * `load()` then ran every model there, 30-100x slower than wasm. Such a pick is not the app's choice, so `load()` still
 * picks; `tf.setBackend(name)` by the app is kept. Seen by wrapping the engine's own pick (`initializeBackendsAndReturnBest`,
 * which the `backend` getter calls before `setBackend`) and `ready()`; if tfjs changes them, every backend counts as chosen.
 */
let pickedByTfjs = false;
{
  const engine = tf.engine() as unknown as {
    initializeBackendsAndReturnBest?: () => { name: string }; ready?: () => Promise<void>; setBackend?: (name: string) => Promise<boolean>;
    registry: Record<string, { firstUse?: boolean } | undefined>;
  };
  const { initializeBackendsAndReturnBest: best, ready, setBackend } = engine;
  if (typeof best === 'function' && typeof ready === 'function' && typeof setBackend === 'function') {
    let implicit: string | null = null;
    let inReady = 0;
    engine.initializeBackendsAndReturnBest = function (this: unknown) {
      const r = best.call(this);
      implicit = r.name;
      // Its first tensor would print "Hi, looks like you are running TensorFlow.js in Node.js...": for a start that is
      // nobody's choice (info() counting a model's parameters, say), which load() replaces by its own pick and line.
      const started = engine.registry[r.name];
      if (r.name === 'cpu' && started && started.firstUse === true) started.firstUse = false;
      return r;
    };
    engine.ready = async function (this: unknown) {
      inReady++;
      try { return await ready.call(this); } finally { inReady--; }
    };
    engine.setBackend = function (this: unknown, name: string) {
      pickedByTfjs = inReady > 0 || name === implicit;
      implicit = null;
      return setBackend.call(this, name);
    };
  }
}

/** Whether the app chose the backend in use (useBackend, pickBackend, tf.setBackend), not tfjs by itself. */
const appChoseBackend = (): boolean => Boolean((tf.engine() as unknown as { backendName?: string | null }).backendName) && !pickedByTfjs;

let defaultSettled = false;
/** The default pick while it runs: a second load() started meanwhile waits for it (else it built its model on tfjs's default `cpu`). */
let defaultPick: Promise<unknown> = Promise.resolve();

/**
 * The backend `load()` runs on when nothing chose one: if no backend has started yet (no `useBackend`,
 * `pickBackend` or `tf.setBackend` before), switch to the fastest that starts here (tensorflow, webgpu, webgl,
 * wasm, then cpu), so a plain script never lands on tfjs's plain-JavaScript `cpu` backend while wasm starts, and
 * say which in one line on stderr (`CNN_ZOO_QUIET=1` silences it). A backend the app chose is kept; one tfjs started
 * by itself (a tensor made before load(): `pickedByTfjs`) is not a choice.
 */
export async function ensureBackend(opts: { announce?: boolean } = {}): Promise<BackendChoice | null> {
  if (defaultSettled) {
    await defaultPick;
    return null;
  }
  defaultSettled = true;
  if (appChoseBackend()) return null;
  const pick = pickBackend();
  defaultPick = pick.catch(() => undefined);
  const choice = await pick;
  if (opts.announce ?? true) announce(`${choice.message} (choose with useBackend(name); CNN_ZOO_QUIET=1 silences this line)`);
  return choice;
}

/**
 * For synchronous calls that build a model (`create()`): in Node, with no backend chosen, tfjs runs it on its
 * plain-JavaScript `cpu` (started now, or by itself before); say so once, with the fix (tfjs's own banner is silenced for such starts, above).
 */
let unchosenNoted = false;
export function noteUnchosenBackend(call: string): void {
  if (!isNode || unchosenNoted || appChoseBackend()) return;
  unchosenNoted = true;
  announce(`cnn-zoo: ${call} builds on the backend in use, and none was chosen: tfjs starts its plain-JavaScript cpu, ` +
    'the slowest; await useBackend() first for the fastest here (load() picks one itself; CNN_ZOO_QUIET=1 silences this line)');
}

/** Print the one line that says what runs, on stderr, unless `CNN_ZOO_QUIET=1`. */
export function announce(line: string): void {
  const quiet = isNode && /^(1|true|yes)$/i.test(process.env.CNN_ZOO_QUIET ?? '');
  if (!quiet) console.error(line);
}
