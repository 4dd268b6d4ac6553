/**
 * Full fine-tuning: after the head is trained, unfreeze the backbone's last N layers with weights and train them
 * with the head, end to end on (augmented) images, with a small learning rate. Batch norm runs in inference mode
 * (its moving statistics are kept, as Keras does for fine-tuning), so small batches do not disturb them.
 *
 * This needs the gradients of convolutions. tfjs-backend-wasm has none of its own (no Conv2DBackpropFilter, no
 * depthwise backprop kernels); cnn-zoo's `useBackend('wasm')` registers them (src/train/wasm-gradients.ts), and cpu,
 * tensorflow (tfjs-node), webgl and webgpu have them.
 */
import * as tf from '@tensorflow/tfjs';
import type { ZooModel } from 'cnn-zoo';
import { augment } from './augment.js';
import type { LabelledImage } from './dataset.js';
import type { Random } from './random.js';

/** Kernels the backward pass of a CNN backbone needs. */
export const GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'] as const;

/** Throws, saying what to do instead, when `backend` cannot compute convolution gradients. */
export function checkGradients(backend: string): void {
  const missing = GRADIENT_KERNELS.filter((k) => !tf.getKernel(k, backend));
  if (missing.length) {
    throw new Error(`--fine-tune trains convolutions, but the ${backend} backend has no ${missing.join(', ')} kernel${missing.length > 1 ? 's' : ''}. ` +
      'Train the head only (leave out --fine-tune), or fine-tune on --backend cpu (slow), on tensorflow (npm install @tensorflow/tfjs-node), ' +
      'or in a browser on webgl or webgpu.');
  }
}

export interface FineTuneOptions {
  /** How many of the backbone's last layers with weights to train. */
  layers: number;
  epochs: number;
  learningRate?: number;
  batchSize?: number;
  rng: Random;
  log: (line: string) => void;
}

/** Train `zoo.model` (backbone + head) with `backbone`'s last `layers` layers unfrozen; returns how many were. */
export async function fineTune(zoo: ZooModel, backbone: tf.LayersModel, images: readonly LabelledImage[], o: FineTuneOptions): Promise<number> {
  const unfrozen = backbone.layers.filter((l) => l.weights.length > 0).slice(-o.layers);
  for (const layer of unfrozen) layer.trainable = true;
  const vars = zoo.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const k = zoo.model.outputs[0]!.shape[1] as number;
  const optimizer = tf.train.adam(o.learningRate ?? 1e-4);
  const batchSize = o.batchSize ?? 8;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const order = o.rng.shuffle([...images]);
    let total = 0;
    for (let i = 0; i < order.length; i += batchSize) {
      const batch = order.slice(i, i + batchSize);
      const raw = await zoo.preprocess(batch.map((b) => b.path));
      const x = augment(raw, o.rng);
      const y = tf.oneHot(batch.map((b) => b.label), k);
      const cost = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, zoo.model.apply(x, { training: false }) as tf.Tensor), true, vars)!;
      total += (await cost.data())[0]! * batch.length; // async: WebGPU in Node cannot read synchronously
      tf.dispose([raw, x, y, cost]);
    }
    o.log(`fine-tune epoch ${epoch}/${o.epochs}: training loss ${(total / order.length).toFixed(4)}`);
  }
  optimizer.dispose();
  for (const layer of unfrozen) layer.trainable = false;
  return unfrozen.length;
}
