/** Top-k classification of decoded images with a model's own metadata (preprocessing, labels, class offset). */
import * as tf from '@tensorflow/tfjs';
import { preprocess } from '../image/preprocess.js';
import type { RgbImage } from '../image/types.js';
import { labelSet } from '../labels/index.js';
import { CnnZooError } from '../errors.js';
import { modelMetadata } from '../artifacts/metadata.js';

export interface Prediction {
  /** Class id in the label set (after the class offset). */
  classId: number;
  label: string;
  probability: number;
}

/** The `k` most probable classes of `img` (softmax over the model's outputs; read asynchronously, as WebGPU needs). */
export async function classify(model: tf.LayersModel, img: RgbImage, k = 5): Promise<Prediction[]> {
  const meta = modelMetadata(model);
  if (!meta) throw new CnnZooError(`Model "${model.name}" has no cnn-zoo metadata (preprocessing, labels); load it with load() or convert it first.`, 'BAD_ARTIFACT');
  const labels = typeof meta.labels === 'string' ? labelSet(meta.labels).map((l) => l.label) : meta.labels;
  const out = tf.tidy(() => tf.softmax(model.predict(preprocess(img, meta.preprocessing).expandDims(0)) as tf.Tensor2D));
  let probs: Float32Array;
  try { probs = (await out.data()) as Float32Array; } finally { out.dispose(); }
  const order = [...probs.keys()].filter((i) => i >= meta.classOffset && i - meta.classOffset < labels.length).sort((a, b) => probs[b]! - probs[a]!);
  return order.slice(0, k).map((i) => ({ classId: i - meta.classOffset, label: labels[i - meta.classOffset]!, probability: probs[i]! }));
}
