/** Switching the tfjs backend for a CLI command (--backend), with an error that says what to do. */
import { BACKENDS, useBackend, type BackendName } from '../backend.js';
import { CnnZooError } from '../errors.js';

/** The backends a Node process can run (WebGL needs a browser). */
export const NODE_BACKENDS: readonly BackendName[] = BACKENDS.filter((b) => b !== 'webgl');

/** Switch to backend `name`; returns its name. */
export async function selectBackend(name: string): Promise<BackendName> {
  return (await startBackend(name)).name;
}

/** Switch to backend `name` (wasm with `threads` XNNPACK threads); returns its name and what runs (wasm build and threads, GPU adapter). */
export async function startBackend(name: string, threads?: number): Promise<{ name: BackendName; detail: string }> {
  if (!(NODE_BACKENDS as readonly string[]).includes(name)) {
    const why = name === 'webgl' ? 'WebGL runs in browsers only. ' : `Unknown backend "${name}". `;
    throw new CnnZooError(`${why}Backends in Node: ${NODE_BACKENDS.join(', ')} (wasm and cpu always run; tensorflow needs ` +
      '@tensorflow/tfjs-node, webgpu a GPU and the webgpu package).', 'BAD_BACKEND');
  }
  if (threads !== undefined && name !== 'wasm') throw new CnnZooError(`--threads sets wasm's threads; --backend ${name} chooses its own. Leave out --threads or use --backend wasm.`, 'BAD_ARGS');
  try {
    return { name: name as BackendName, detail: await useBackend(name as BackendName, threads === undefined ? {} : { wasmThreads: threads }) };
  } catch (e) {
    const hint = name === 'tensorflow' ? ' Install @tensorflow/tfjs-node (npm install @tensorflow/tfjs-node) to use it.'
      : name === 'webgpu' ? ' It needs a WebGPU adapter (a browser, or Node with the `webgpu` package and a GPU).' : '';
    throw new CnnZooError(`${(e as Error).message.replace(/\.*$/, '')}.${hint} Try --backend wasm.`, 'BAD_BACKEND');
  }
}
