/**
 * wasm heap of one training step (forward + backward, batch norm in training mode) of a zoo model at 224 px:
 * `npx tsx tools/bench/train-memory.ts [model] [batch]` (default mobilenet_v2 4). Prints the wasm heap size after
 * the forward pass and after the backward pass (the heap only grows: the second is the step's peak), or the
 * failure when the step outgrows wasm's 4 GB. One process per run: a failed step leaves the wasm module unusable.
 * Numbers in docs/PERFORMANCE.md "Training".
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/backend.js';
import { create } from '../../src/zoo/registry.js';

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'mobilenet_v2', batch = Number(process.argv[3] ?? 4);
  await useBackend('wasm');
  const heap = () => `${((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length / 2 ** 20).toFixed(0)} MB`;
  const model = create(name, { inputSize: 224 });
  const x = tf.randomNormal([batch, 224, 224, 3]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 1000), 'int32'), 1000));
  console.log(`${name}, batch ${batch}: heap at start ${heap()}`);
  try {
    const { value, grads } = tf.variableGrads(() => {
      const loss = tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
      console.log(`after the forward pass: heap ${heap()}, ${tf.memory().numTensors} tensors`);
      return loss;
    });
    await value.data();
    console.log(`after the backward pass: heap ${heap()}`);
    tf.dispose([value, ...Object.values(grads)]);
  } catch (e) {
    console.log(`failed: ${(e as Error).message.slice(0, 120)}; heap ${heap()}`);
  }
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
