/**
 * The model session of the web app: which backend runs, which model is loaded and where its weights came from
 * (network or the IndexedDB cache), and timed classification.
 */
import * as tf from '@tensorflow/tfjs';
import { load, pickBackend, useBackend, type BackendName, type ClassPrediction, type ImageInput, type ZooModel } from 'cnn-zoo';

/** What the user picked. */
export interface ModelChoice {
  name: string;
  /** Backend, or 'auto' for the fastest that starts. */
  backend: BackendName | 'auto';
  /** Weights folder URL; '' for the app's shipped weights (or random weights when there are none). */
  weightsUrl: string;
}

export interface Loaded {
  model: ZooModel;
  backend: string;
  /** 'network', 'IndexedDB cache' or 'random initialisation'. */
  weightsFrom: string;
  loadMs: number;
}

export interface Classification {
  top: ClassPrediction[];
  /** classify(): decode + preprocess + model + softmax, milliseconds. */
  totalMs: number;
  /** The model's forward pass alone on the preprocessed input, milliseconds. */
  modelMs: number;
}

/** The .wasm binaries are served next to the app (the Vite config copies them to `wasm/`); set before wasm starts. */
async function locateWasm(): Promise<void> {
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  setWasmPaths('wasm/'); // relative to the page, like the weights below
}

/** Models whose weights the app serves under `models/<name>/` (the package's embedded weights). */
export const SHIPPED_WEIGHTS: readonly string[] = ['tf_mobilenet_v2_100'];

const cacheKey = (name: string, url: string): string => `cnn-zoo/${name}/${url}`;

async function isCached(key: string): Promise<boolean> {
  try {
    return `indexeddb://${key}` in (await tf.io.listModels());
  } catch {
    return false;
  }
}

async function startBackend(choice: ModelChoice['backend']): Promise<string> {
  if (choice === 'auto' || choice === 'wasm') await locateWasm();
  if (choice === 'auto') {
    const picked = await pickBackend({ order: ['webgpu', 'webgl', 'wasm', 'cpu'] });
    return `${picked.name} (${picked.detail})`;
  }
  await useBackend(choice);
  return choice;
}

/** URL of the weights of a choice: the one given, else the app's shipped weights; '' for none (random weights). */
export const weightsUrlOf = (choice: ModelChoice): string =>
  choice.weightsUrl || (SHIPPED_WEIGHTS.includes(choice.name) ? `models/${choice.name}/` : '');

/** Switch backend and load a model; weights come from IndexedDB when this URL was loaded before. */
export async function loadModel(choice: ModelChoice): Promise<Loaded> {
  const started = performance.now();
  const backend = await startBackend(choice.backend);
  // A relative URL: load() resolves it against the page (so the app works from any folder it is served from).
  const url = weightsUrlOf(choice);
  if (!url) {
    const model = await load(choice.name, { weights: null });
    await model.warmup();
    return { model, backend, weightsFrom: 'random initialisation (latency only)', loadMs: performance.now() - started };
  }
  const key = cacheKey(choice.name, url);
  const cached = await isCached(key);
  const model = await load(choice.name, { weights: url, cache: { indexedDB: key } });
  await model.warmup();
  return { model, backend, weightsFrom: cached ? 'IndexedDB cache' : 'network (now cached in IndexedDB)', loadMs: performance.now() - started };
}

/** Top-5 of one image, with the end-to-end and the model-only latency. */
export async function classifyTimed(model: ZooModel, image: ImageInput): Promise<Classification> {
  const t0 = performance.now();
  const top = await model.classify(image, { topK: 5 });
  const totalMs = performance.now() - t0;
  const x = await model.preprocess(image);
  try {
    const t1 = performance.now();
    const y = model.model.predict(x) as tf.Tensor;
    await y.data();
    const modelMs = performance.now() - t1;
    y.dispose();
    return { top, totalMs, modelMs };
  } finally {
    x.dispose();
  }
}
