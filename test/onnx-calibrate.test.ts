/**
 * int8 calibration (src/onnx/quantize.ts). Percentile ranges (`calibrate(..., { percentile })`): an outlier stretches
 * the min/max range but not the percentile range; percentile 100 is min/max on one batch; a bad percentile is a
 * CnnZooError. Bias correction: the channel means calibrate returns are the activations' means, the shift equals the
 * one rounded weights put on a constant input, and onnxruntime's int8 model with it has a smaller mean error per
 * output channel (on images it was not calibrated on) than without it.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import * as ort from 'onnxruntime-node';
import { calibrate, quantizePerChannel, tapCoverage, weightRoundingShift } from '../src/onnx/quantize.js';
import { exportOnnx } from '../src/onnx/export.js';
import { det } from '../src/parity/det.js';
import { CnnZooError } from '../src/errors.js';

describe('int8 calibration: percentile ranges', () => {
  let model: tf.LayersModel;
  let x: tf.Tensor4D;
  before(async () => {
    await useBackend('wasm');
    const input = tf.input({ shape: [8, 8, 3], name: 'image' });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv', kernelInitializer: 'ones' }).apply(input) as tf.SymbolicTensor;
    model = tf.model({ inputs: input, outputs: conv });
    const v = det('calibrate-percentile', 2 * 8 * 8 * 3, 1); // in [-1, 1)
    v[17] = 50; // one outlier
    x = tf.tensor4d(v, [2, 8, 8, 3]);
  });
  after(() => {
    model.dispose();
    x.dispose();
  });

  it('min/max takes the outlier; the 99th percentile does not; percentile 100 equals min/max', async () => {
    const minMax = await calibrate(model, [x]);
    const p99 = await calibrate(model, [x], { percentile: 99 });
    const p100 = await calibrate(model, [x], { percentile: 100 });
    expect(Object.keys(minMax.ranges).sort()).to.deep.equal(['conv', 'image']);
    expect(minMax.ranges.image![1]).to.equal(50);
    expect(p99.ranges.image![1]).to.be.below(1).and.above(0.9);
    expect(p99.ranges.image![0]).to.be.above(-1).and.below(-0.9);
    expect(p99.ranges.conv![1]).to.be.at.most(minMax.ranges.conv![1]!); // the outlier reaches 36 of the 288 conv outputs: above 1%
    expect(p100).to.deep.equal(minMax);
  });

  it('averages the percentile ranges of the batches', async () => {
    const y = tf.mul(x, 2) as tf.Tensor4D;
    const one = await calibrate(model, [x], { percentile: 99 });
    const two = await calibrate(model, [x, y], { percentile: 99 });
    y.dispose();
    expect(two.ranges.image![1]).to.be.closeTo(1.5 * one.ranges.image![1]!, 1e-6);
  });

  it('refuses a percentile outside (50, 100]', async () => {
    for (const percentile of [50, 100.5, Number.NaN]) {
      let err: unknown;
      try { await calibrate(model, [x], { percentile }); } catch (e) { err = e; }
      expect(err, String(percentile)).to.be.instanceOf(CnnZooError);
      expect((err as Error).message).to.match(/percentile must be above 50 and at most 100/);
    }
  });
});

describe('int8 calibration: bias correction', () => {
  // conv 3x3 'same' (6 filters, relu) -> depthwise 3x3 -> global average pool -> dense 5: the three kinds of weights.
  // Each kernel has one large tap per output channel, so int8's step (max|w| / 127) is coarse for the others.
  const spiky = (key: string, n: number, channels: number, scale: number) => {
    const v = det(key, n, scale);
    for (let c = 0; c < channels; c++) v[c] = 8 * scale; // the first `channels` entries: one per output channel in HWIO / [in, out] order
    return v;
  };
  let model: tf.LayersModel;
  const batch = (key: string) => tf.tidy(() => tf.add(tf.tensor4d(det(key, 4 * 10 * 10 * 3, 1), [4, 10, 10, 3]), 1) as tf.Tensor4D); // in [0, 2): mean 1
  before(async () => {
    await useBackend('wasm');
    const input = tf.input({ shape: [10, 10, 3], name: 'image' });
    let y = tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', name: 'conv', padding: 'same' }).apply(input) as tf.SymbolicTensor;
    y = tf.layers.depthwiseConv2d({ kernelSize: 3, name: 'dw' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.dense({ units: 5, name: 'fc' }).apply(y) as tf.SymbolicTensor;
    model = tf.model({ inputs: input, outputs: y });
    model.getLayer('conv').setWeights([tf.tensor4d(spiky('bc-conv', 3 * 3 * 3 * 6, 6, 0.2), [3, 3, 3, 6]), tf.tensor1d(det('bc-conv-b', 6, 0.1))]);
    model.getLayer('dw').setWeights([tf.tensor4d(spiky('bc-dw', 3 * 3 * 6, 6, 0.3), [3, 3, 6, 1]), tf.tensor1d(det('bc-dw-b', 6, 0.1))]);
    model.getLayer('fc').setWeights([tf.tensor2d(spiky('bc-fc', 6 * 5, 5, 0.5), [6, 5]), tf.tensor1d(det('bc-fc-b', 5, 0.1))]);
  });
  after(() => model.dispose());

  it('channel means are the activations\' means over batch and positions', async () => {
    const x = batch('bc-cal');
    const { means } = await calibrate(model, [x]);
    const probe = tf.model({ inputs: model.inputs, outputs: [model.getLayer('conv').output as tf.SymbolicTensor, model.getLayer('gap').output as tf.SymbolicTensor] });
    const [conv, gap] = probe.predict(x) as tf.Tensor[];
    const want = { image: x.mean([0, 1, 2]), conv: conv!.mean([0, 1, 2]), gap: gap!.mean(0) };
    for (const [name, t] of Object.entries(want)) {
      const w = (await t.data()) as Float32Array;
      expect(means[name], name).to.have.length(w.length);
      w.forEach((v, c) => expect(means[name]![c], `${name}[${c}]`).to.be.closeTo(v, 1e-5));
    }
    tf.dispose([x, conv, gap, ...Object.values(want)]);
  });

  it('the shift is what the rounded weights add to a constant input, averaged over output positions (grouped conv with padding, dense)', async () => {
    // conv OIHW [4, 2, 3, 3] in 2 groups (input channels 4), stride 2, TF 'same' padding on a 4x5 input (output 2x3:
    // no padding above, one column left), input constant per channel: mean over positions of y_int8 - y = shift.
    expect(Array.from(tapCoverage([4, 4], [4, 4], [3, 3], [1, 1], [1, 1], [1, 1]).slice(0, 3))).to.deep.equal([9 / 16, 3 / 4, 9 / 16]);
    const w = det('bc-shift', 4 * 2 * 3 * 3, 0.4);
    w[0] = 3; // coarse step
    const dims = [4, 2, 3, 3];
    const { q, scales } = quantizePerChannel(w, dims, 0);
    const mean = Float32Array.from([0.5, 1.5, -0.25, 2]);
    const taps = tapCoverage([4, 5], [2, 3], [3, 3], [2, 2], [1, 1], [0, 1]);
    const shift = weightRoundingShift(w, q, scales, dims, 0, mean, 2, taps);
    const rounded = Float32Array.from(q, (v, i) => v * scales[Math.floor(i / 18)]!);
    const conv = (k: Float32Array) => tf.tidy(() => {
      const x = tf.tile(tf.tensor4d(mean, [1, 1, 1, 4]), [1, 4, 5, 1]) as tf.Tensor4D;
      const oihw = tf.tensor4d(k, [4, 2, 3, 3]);
      const groups = [0, 1].map((g) => tf.conv2d(x.slice([0, 0, 0, 2 * g], [1, 4, 5, 2]),
        oihw.slice([2 * g, 0, 0, 0], [2, 2, 3, 3]).transpose([2, 3, 1, 0]) as tf.Tensor4D, 2, 'same'));
      return tf.concat(groups, 3).mean([0, 1, 2]).dataSync() as Float32Array;
    });
    const diff = conv(rounded).map((v, o) => v - conv(w)[o]!);
    shift.forEach((s, o) => expect(s, `conv output ${o}`).to.be.closeTo(diff[o]!, 1e-5));
    expect(Math.max(...shift.map(Math.abs))).to.be.above(1e-3);
    // dense [in 3, out 2]
    const d = Float32Array.from([0.9, -0.013, 0.021, 0.7, -0.004, 0.017]);
    const dq = quantizePerChannel(d, [3, 2], 1);
    const dm = Float32Array.from([1, 2, 3]);
    const dShift = weightRoundingShift(d, dq.q, dq.scales, [3, 2], 1, dm);
    for (let o = 0; o < 2; o++) {
      let want = 0;
      for (let i = 0; i < 3; i++) want += (dq.q[i * 2 + o]! * dq.scales[o]! - d[i * 2 + o]!) * dm[i]!;
      expect(dShift[o]).to.be.closeTo(want, 1e-7);
    }
  });

  it('onnxruntime\'s int8 model: bias correction cuts the mean error per channel of every quantized layer\'s output', async () => {
    const cal = [batch('bc-cal-0'), batch('bc-cal-1')];
    const calibration = await calibrate(model, cal);
    tf.dispose(cal);
    const x = batch('bc-eval');
    const layers = ['conv', 'dw', 'gap']; // gap: the dense layer's input (the logits' own uint8 range clips images unlike the 8 calibrated)
    const probe = tf.model({ inputs: model.inputs, outputs: layers.map((n) => model.getLayer(n).output as tf.SymbolicTensor) });
    const channelMeans = (data: Float32Array, channels: number) => {
      const m = new Float64Array(channels);
      data.forEach((v, j) => { m[j % channels] += v / (data.length / channels); });
      return m;
    };
    const outs = probe.predict(x) as tf.Tensor[];
    const float = outs.map((t) => channelMeans(t.dataSync() as Float32Array, t.shape[t.rank - 1]!));
    tf.dispose(outs);
    const feeds = { input: new ort.Tensor('float32', (await x.data()) as Float32Array, x.shape) };
    x.dispose();
    const meanErrors = async (int8: typeof calibration) => {
      const s = await ort.InferenceSession.create(await exportOnnx(model, { int8, outputs: layers }), { intraOpNumThreads: 1 });
      const y = await s.run(feeds);
      await s.release();
      return layers.map((n, i) => Math.max(...channelMeans(y[`features/${n}`]!.data as Float32Array, float[i]!.length).map((v, c) => Math.abs(v - float[i]![c]!))));
    };
    const corrected = await meanErrors(calibration);
    const plain = await meanErrors({ ranges: calibration.ranges, means: {} });
    layers.forEach((n, i) => {
      console.log(`      ${n}: largest |mean error| of a channel ${plain[i]!.toExponential(2)} without bias correction, ${corrected[i]!.toExponential(2)} with it`);
      expect(corrected[i], n).to.be.below(plain[i]! / 3);
    });
  });
});
