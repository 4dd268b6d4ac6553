/** Registering cnn-zoo's kernels for a tfjs backend in place of (or beside) the backend's own. */
import * as tf from '@tensorflow/tfjs';

/**
 * Register `kernels` for `backend` (idempotent). A kernel the backend already has is replaced, its own function
 * kept in `own` (the fallback the replacement calls for cases it does not handle).
 */
export function replaceKernels(backend: string, kernels: Readonly<Record<string, tf.KernelFunc>>, own: Map<string, tf.KernelFunc>): void {
  for (const [kernelName, kernelFunc] of Object.entries(kernels)) {
    const current = tf.getKernel(kernelName, backend)?.kernelFunc;
    if (current === kernelFunc) continue;
    if (current) {
      if (!own.has(kernelName)) own.set(kernelName, current);
      tf.unregisterKernel(kernelName, backend);
    }
    tf.registerKernel({ kernelName, backendName: backend, kernelFunc });
  }
}
