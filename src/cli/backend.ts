/** Switching the tfjs backend for a CLI command (--backend), with an error that says what to do. */
import { BACKENDS, useBackend, type BackendName } from '../backend.js';
import { CnnZooError } from '../errors.js';

export async function selectBackend(name: string): Promise<BackendName> {
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new CnnZooError(`Unknown backend "${name}". Valid backends: ${BACKENDS.join(', ')}.`, 'BAD_BACKEND');
  }
  try {
    await useBackend(name as BackendName);
  } catch (e) {
    const hint = name === 'tensorflow' ? ' Install @tensorflow/tfjs-node (npm install @tensorflow/tfjs-node) to use it.'
      : name === 'webgpu' ? ' It needs a WebGPU adapter (a browser, or Node with the `webgpu` package and a GPU).'
        : name === 'webgl' ? ' It needs a browser with WebGL.' : '';
    throw new CnnZooError(`${(e as Error).message.replace(/\.*$/, '')}.${hint} Try --backend wasm.`, 'BAD_BACKEND');
  }
  return name as BackendName;
}
