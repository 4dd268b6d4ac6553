/**
 * Checking a converted model against reference input/output pairs (`.npy`, as the ONNX model zoo's
 * test_data_set folders hold them): NCHW or NHWC inputs, logits or probabilities as outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import type { NamedArray } from '../arrays.js';

export interface ReferenceResult {
  /** max|ours - ref| / max|ref| */
  maxRelErr: number;
  /** The reference output is probabilities, so ours were compared after softmax. */
  softmax: boolean;
  top1Agree: boolean;
}

/** Run `input` through `model` and compare with `output` (read asynchronously: any backend). */
export async function compareWithReference(model: tf.LayersModel, input: NamedArray, output: NamedArray, where = 'reference'): Promise<ReferenceResult> {
  const s = input.shape;
  if (s.length !== 4 || (s[1] !== 3 && s[3] !== 3)) throw new CnnZooError(`${where}: input shape [${s}] is neither [N,3,H,W] nor [N,H,W,3].`, 'BAD_REFERENCE');
  const nchw = s[1] === 3 && s[3] !== 3;
  const rows = output.shape[0] ?? 1;
  const classes = output.data.length / rows;
  const sums = Array.from({ length: rows }, (_, r) => output.data.subarray(r * classes, (r + 1) * classes).reduce((a, b) => a + b, 0));
  const softmax = output.data.every((v) => v >= 0) && sums.every((x) => Math.abs(x - 1) < 1e-3);
  const y = tf.tidy(() => {
    let x = tf.tensor4d(input.data, s as [number, number, number, number]);
    if (nchw) x = x.transpose([0, 2, 3, 1]);
    const logits = model.predict(x) as tf.Tensor;
    return softmax ? tf.softmax(logits) : logits;
  });
  let ours: Float32Array;
  try { ours = (await y.data()) as Float32Array; } finally { y.dispose(); }
  if (ours.length !== output.data.length) throw new CnnZooError(`${where}: the model gives ${ours.length} outputs, the reference ${output.data.length}.`, 'BAD_REFERENCE');
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i]! - output.data[i]!);
    if (!(d <= maxDiff)) maxDiff = d;
    maxRef = Math.max(maxRef, Math.abs(output.data[i]!));
  }
  const argmax = (a: Float32Array, r: number) => { let b = 0; for (let i = 1; i < classes; i++) if (a[r * classes + i]! > a[r * classes + b]!) b = i; return b; };
  const top1Agree = Array.from({ length: rows }, (_, r) => argmax(ours, r) === argmax(output.data, r)).every(Boolean);
  return { maxRelErr: maxDiff / maxRef, softmax, top1Agree };
}
