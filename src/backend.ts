/**
 * Backend selection for Node and browsers. `wasm` needs the path of its .wasm binaries, which we resolve
 * from the installed `@tensorflow/tfjs-backend-wasm` package in Node.
 */
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

async function prepareWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
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
  }
}

/** Switch tfjs to `name`, preparing it first; throws a clear error when it cannot run here. */
export async function useBackend(name: BackendName): Promise<void> {
  if (!BACKENDS.includes(name)) {
    throw new Error(`Unknown backend "${String(name)}". Valid backends: ${BACKENDS.join(', ')}.`);
  }
  if (tf.getBackend() === name) return;
  if (name === 'wasm' && tf.findBackend('wasm') === null) await prepareWasm();
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`Backend "${name}" failed to initialise on this machine.`);
  await tf.ready();
}
