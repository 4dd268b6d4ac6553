/**
 * Warm-up: pay the first call's one-time costs (GPU shader compilation, weight upload, kernel setup) before
 * serving. On WebGPU (and WebGL) every shader is first compiled in parallel without running anything
 * (tfjs's compile-only mode + `checkCompileCompletionAsync`), which beats compiling one by one in the first
 * forward pass; then one real call runs at `batch`.
 */
import * as tf from '@tensorflow/tfjs';

export interface WarmUpTimes {
  /** Parallel shader compilation (0 on CPU backends), ms. */
  compileMs: number;
  /** The first real call, output read back, ms. */
  firstRunMs: number;
}

const COMPILE_ONLY_FLAG: Readonly<Record<string, string>> = { webgpu: 'WEBGPU_ENGINE_COMPILE_ONLY', webgl: 'ENGINE_COMPILE_ONLY' };

interface ParallelCompiling { checkCompileCompletionAsync(): Promise<void>; getUniformLocations?(): void }

export async function warmUp(model: tf.LayersModel, batch = 1): Promise<WarmUpTimes> {
  const shape = [batch, ...(model.inputs[0]!.shape.slice(1) as number[])];
  const flag = COMPILE_ONLY_FLAG[tf.getBackend()];
  const t0 = performance.now();
  if (flag) {
    tf.env().set(flag, true);
    try {
      tf.tidy(() => { model.predict(tf.zeros(shape)); });
    } finally {
      tf.env().set(flag, false);
    }
    const backend = tf.backend() as unknown as ParallelCompiling;
    await backend.checkCompileCompletionAsync();
    backend.getUniformLocations?.();
  }
  const t1 = performance.now();
  const y = tf.tidy(() => model.predict(tf.zeros(shape)) as tf.Tensor);
  await y.data();
  y.dispose();
  return { compileMs: t1 - t0, firstRunMs: performance.now() - t1 };
}
