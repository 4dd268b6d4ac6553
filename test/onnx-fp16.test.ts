/**
 * fp16 weights in the ONNX export (`exportOnnx(model, { fp16: true })`, src/onnx): conv/dense weights stored as
 * float16 and cast to float32 in the graph. onnxruntime-node runs it and reproduces the tfjs model whose weights are
 * rounded to float16 the same way (the "dequantized" model, wasm); the file is about half the float one. The
 * float16 conversion rounds to nearest even, keeps subnormals, and saturates to infinity.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { useBackend } from '../src/backend.js';
import { create } from '../src/zoo/registry.js';
import { toInference } from '../src/inference/index.js';
import { exportOnnx } from '../src/onnx/export.js';
import { fromFloat16, QUANTIZED_CLASSES, toFloat16 } from '../src/onnx/quantize.js';
import { maxRelError } from '../src/parity/run.js';
import { det } from '../src/parity/det.js';
import { CnnZooError } from '../src/errors.js';

describe('ONNX export: fp16 weights', function () {
  this.timeout(300000);
  before(async () => { await useBackend('wasm'); });

  it('converts float32 to float16 bits exactly (round to nearest even, subnormals, overflow)', () => {
    const v = new Float32Array([0, -0, 1, -2, 65504, 65520, 1e-8, 2 ** -24, 2 ** -14, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1, Infinity, NaN]);
    const h = toFloat16(v);
    expect([...h.slice(0, 12)].map((x) => x.toString(16))).to.deep.equal(['0', '8000', '3c00', 'c000', '7bff', '7c00', '0', '1', '400', '3c00', '3c02', '2e66']);
    const back = fromFloat16(h);
    expect([...back.slice(0, 6)]).to.deep.equal([0, -0, 1, -2, 65504, Infinity]);
    expect(back[11]).to.equal(Math.fround(0.0999755859375));
    expect(back[12]).to.equal(Infinity);
    expect(Number.isNaN(back[13]!)).to.equal(true);
  });

  it('onnxruntime on the fp16 export reproduces the tfjs model with float16-rounded weights (SqueezeNet 1.1 and MobileNet v2, inference form)', async () => {
    for (const name of ['squeezenet1_1', 'mobilenet_v2']) {
      const model = toInference(create(name, { inputSize: 96 }));
      try {
        const floatBytes = await exportOnnx(model, { layout: 'NCHW' });
        const halfBytes = await exportOnnx(model, { layout: 'NCHW', fp16: true });
        expect(halfBytes.length, name).to.be.below(0.55 * floatBytes.length);
        // The dequantized model: every conv/dense weight rounded to float16 and back.
        for (const layer of model.layers.filter((l) => QUANTIZED_CLASSES.has(l.getClassName()))) {
          tf.tidy(() => layer.setWeights(layer.getWeights().map((w) => tf.tensor(fromFloat16(toFloat16(w.dataSync() as Float32Array)), w.shape))));
        }
        const nchw = det(`fp16-${name}`, 2 * 3 * 96 * 96, 1);
        const x = tf.tidy(() => tf.tensor4d(nchw, [2, 3, 96, 96]).transpose([0, 2, 3, 1]));
        const y = model.predict(x) as tf.Tensor;
        const want = (await y.data()) as Float32Array;
        tf.dispose([x, y]);
        const session = await ort.InferenceSession.create(halfBytes);
        const got = (await session.run({ input: new ort.Tensor('float32', nchw, [2, 3, 96, 96]) })).logits!.data as Float32Array;
        await session.release();
        expect(maxRelError(got, want), name).to.be.below(1e-4);
      } finally {
        model.dispose();
      }
    }
  });

  it('refuses fp16 together with int8', async () => {
    const model = create('squeezenet1_1', { inputSize: 64 });
    try {
      let err: unknown;
      try { await exportOnnx(model, { fp16: true, int8: { ranges: {}, means: {} } }); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(CnnZooError);
      expect((err as Error).message).to.match(/fp16 or int8/);
    } finally {
      model.dispose();
    }
  });
});
