/**
 * What computes the frozen part of a model in `fit()` (the backbone's features; while fine-tuning, the layers before
 * the fine-tuned ones): tfjs (`extractor.predict` on the backend in use), or in Node, where onnxruntime-node is
 * installed and tfjs runs on wasm or cpu, onnxruntime on an export of that part (5.8-6x faster on MobileNet v2 and
 * ResNet-50 here, docs/PERFORMANCE.md "Features on onnxruntime"). Its outputs are the same function of the image
 * either way (float rounding apart: max 1.8e-5 of MobileNet v2's features up to 5.4); what trains runs on tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { isNode } from '../platform.js';
import { OnnxSession, importOnnxRuntime } from '../onnx/runtime.js';

/**
 * Images (each training image's copies counted, held-out ones too) from which onnxruntime pays for exporting the
 * extractor and opening its session (0.3 s for MobileNet v2, 1.2 s for ResNet-50, against 28 and 200 ms saved an image).
 */
export const ONNX_FEATURES_MIN = 32;

export interface FeatureRunner {
  runtime: 'onnxruntime-node' | 'tfjs';
  /** The extractor's outputs on a preprocessed batch (the caller disposes them). */
  run(x: tf.Tensor4D): Promise<tf.Tensor[]>;
  release(): void;
}

/**
 * The runner for `images` extractions: onnxruntime when `allowOnnx` (the model's runtime is not pinned to tfjs), in
 * Node with onnxruntime-node installed, tfjs on wasm or cpu (a native or GPU backend keeps its own), and enough images.
 * A model the export does not cover (a custom layer of the user's) stays on tfjs.
 */
export async function featureRunner(extractor: tf.LayersModel, opts: { allowOnnx: boolean; images: number; backend: string }): Promise<FeatureRunner> {
  const tfjs: FeatureRunner = {
    runtime: 'tfjs',
    run: async (x) => tf.tidy(() => {
      const f = extractor.predict(x);
      return Array.isArray(f) ? f : [f];
    }),
    release: () => undefined,
  };
  if (!opts.allowOnnx || !isNode || !['wasm', 'cpu'].includes(opts.backend) || opts.images < ONNX_FEATURES_MIN) return tfjs;
  const ort = await importOnnxRuntime();
  if (!ort) return tfjs;
  let session: OnnxSession;
  try {
    session = await OnnxSession.create(ort, extractor);
  } catch (e) {
    if (e instanceof CnnZooError && e.code === 'UNSUPPORTED_LAYER') return tfjs;
    throw e;
  }
  return {
    runtime: 'onnxruntime-node',
    async run(x) {
      const outs = await session.run((await x.data()) as Float32Array, x.shape);
      return outs.map((o) => tf.tensor(o.data, o.shape));
    },
    release: () => session.release(),
  };
}
