/** Input validation before a forward pass: wrong rank, layout or size fail with the fix, not deep in tfjs. */
import type * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';

/** Throws a `CnnZooError` unless `shape` is a batch the model accepts ([N, H, W, 3] at the model's size). */
export function checkInputShape(model: tf.LayersModel, shape: readonly number[]): void {
  const want = model.inputs[0]!.shape; // [null, H, W, 3]
  const [, h, w, c] = want;
  const expected = `[N, ${h}, ${w}, ${c}] (NHWC, float32)`;
  if (shape.length === 3 && shape[0] === h && shape[1] === w && shape[2] === c) {
    throw new CnnZooError(`Input has shape [${shape}] but ${model.name} expects a batch ${expected}. Add the batch axis: x.expandDims(0).`, 'BAD_INPUT_SHAPE');
  }
  if (shape.length !== 4) {
    throw new CnnZooError(`Input has rank ${shape.length} (shape [${shape}]) but ${model.name} expects ${expected}.`, 'BAD_INPUT_SHAPE');
  }
  if (shape[1] === c && shape[3] !== c) {
    throw new CnnZooError(`Input has shape [${shape}], which looks like NCHW, but ${model.name} expects ${expected}. Transpose it: x.transpose([0, 2, 3, 1]).`, 'BAD_INPUT_SHAPE');
  }
  if (shape[3] !== c) {
    throw new CnnZooError(`Input has ${shape[3]} channels (shape [${shape}]) but ${model.name} expects ${c} (RGB): ${expected}. Convert grayscale/RGBA images to RGB first.`, 'BAD_INPUT_SHAPE');
  }
  if ((h != null && shape[1] !== h) || (w != null && shape[2] !== w)) {
    throw new CnnZooError(`Input is ${shape[1]}x${shape[2]} but ${model.name} was built for ${h}x${w}: ${expected}. Resize the images, or create the model with inputSize: ${shape[1]}.`, 'BAD_INPUT_SHAPE');
  }
}

/** `model.predict` after `checkInputShape`. */
export function predictChecked(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  checkInputShape(model, x.shape);
  return model.predict(x) as tf.Tensor;
}
