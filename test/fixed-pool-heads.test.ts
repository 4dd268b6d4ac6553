/**
 * Reference heads that pool a fixed window (`fixedPoolHead` on the card, docs/SIZES.md): ShuffleNet v1 (megvii
 * `AvgPool2d(7)` -> `view(-1, C)` -> Linear), TF-slim MobileNet v1 (`avg_pool2d(min(map, 7), stride 2)`), Cadene's
 * NASNet-A-Mobile (`AvgPool2d(7, stride=1)`) and BN-Inception (a window of the map's height), BVLC GoogLeNet
 * (pool5 7x7). Where the window is not the whole map we reproduce it (checked against the trunk pooled by hand);
 * where the reference fails we refuse with the sizes it accepts; `globalPool: true` is the explicit alternative.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { loadFixture } from '../src/parity/fixture.js';
import { nchwToNhwc, maxRelError } from '../src/parity/run.js';
import { loadStateDict } from '../src/convert/mapping.js';
import { create, getSpec, resolveOptions } from '../src/zoo/registry.js';
import { withoutInitialisation } from '../src/zoo/ops.js';
import { CnnZooError } from '../src/errors.js';
import { det } from '../src/parity/det.js';
import type { Sym } from '../src/zoo/ops.js';
import { fixturePath } from './helpers/shared.js';

const NAME = 'shufflenet_v1_g3_0_5x';

describe('fixed-window pooling heads at every input size', () => {
  before(async () => { await useBackend('wasm'); });

  it('at 256 px (8x8 map) it averages the top-left 7x7 window, as megvii does; globalPool: true averages all 64 cells', async () => {
    const fx = await loadFixture(fixturePath(NAME));
    const spec = getSpec(NAME);
    const build = (opts: Parameters<typeof resolveOptions>[1]) => {
      const m = withoutInitialisation(() => spec.build(resolveOptions(spec, { inputSize: 256, ...opts })));
      loadStateDict(m, fx.stateDict, { source: NAME, strict: opts?.includeTop !== false });
      return m;
    };
    const ref = build({});
    const global = build({ globalPool: true });
    const trunk = build({ includeTop: false });
    const x = nchwToNhwc(det('input-256', 2 * 3 * 256 * 256, 1), [2, 3, 256, 256]);
    const w = fx.stateDict.get('classifier.0.weight')!; // [classes, C]
    const [ours, all, byHand] = tf.tidy(() => {
      const map = trunk.predict(x) as tf.Tensor4D;
      expect(map.shape).to.deep.equal([2, 8, 8, 480]);
      const window = tf.mean(map.slice([0, 0, 0, 0], [2, 7, 7, 480]), [1, 2]);
      const linear = (v: tf.Tensor) => tf.matMul(v, tf.tensor2d(w.data, w.shape as [number, number]), false, true);
      return [ref.predict(x) as tf.Tensor, global.predict(x) as tf.Tensor, linear(window)];
    });
    const [a, g, h] = await Promise.all([ours.data(), all.data(), byHand.data()]) as Float32Array[];
    const errRef = maxRelError(a!, h!), errGlobal = maxRelError(g!, h!);
    console.log(`      256 px: reference head vs hand-pooled window ${errRef.toExponential(3)}; global pool vs window ${errGlobal.toExponential(3)}`);
    expect(errRef).to.be.below(fx.tolerance);
    expect(errGlobal, 'a global pool is measurably not the reference at 256 px').to.be.above(100 * fx.tolerance);
    tf.dispose([x, ours, all, byHand]);
    [ref, global, trunk].forEach((m) => m.dispose());
  });

  it('accepts 193 to 416 px per side (non-square too) and refuses the rest with the sizes it accepts', () => {
    for (const size of [193, 224, 256, 416, [193, 416]] as const) {
      const m = create(NAME, { inputSize: size });
      expect(m.outputs[0]!.shape, String(size)).to.deep.equal([null, 1000]);
      m.dispose();
    }
    for (const size of [192, 160, 417, 448, [224, 448], [128, 224]] as const) {
      expect(() => create(NAME, { inputSize: size }), String(size)).to.throw(CnnZooError, /AvgPool2d\(7\).*193 to 416 px per side.*globalPool: true/);
    }
    const g = create(NAME, { inputSize: 160, globalPool: true });
    expect(g.outputs[0]!.shape).to.deep.equal([null, 1000]);
    g.dispose();
    const f = create(NAME, { inputSize: 160, includeTop: false });
    expect(f.outputs[0]!.shape).to.deep.equal([null, 5, 5, 480]);
    f.dispose();
  });

  it('globalPool is refused where the reference head already takes every size, and must be a boolean', () => {
    expect(() => create('resnet18', { globalPool: true })).to.throw(CnnZooError, /resnet18's head already takes every input size.*Drop globalPool/);
    expect(() => create(NAME, { globalPool: 'yes' as never })).to.throw(CnnZooError, /globalPool must be true or false/);
  });

  it('tf_mobilenet_v1 at 256 px (8x8 map) pools TF-slim\'s top-left 7x7 window; 288 px fails as slim\'s squeeze does', async () => {
    const m = create('tf_mobilenet_v1_025', { inputSize: [256, 224] });
    const pool = m.getLayer('MobilenetV1.Logits.AvgPool_1a').getConfig() as { poolSize: number[]; strides: number[] };
    expect([pool.poolSize, pool.strides]).to.deep.equal([[7, 7], [2, 2]]);
    const trunk = tf.model({ inputs: m.inputs, outputs: m.getLayer('MobilenetV1.Conv2d_13_pointwise.Relu6').output as Sym });
    const [k, b] = m.getLayer('MobilenetV1.Logits.Conv2d_1c_1x1').getWeights();
    const x = tf.randomUniform([2, 256, 224, 3], -1, 1, 'float32', 3);
    const [ours, byHand] = tf.tidy(() => {
      const map = trunk.predict(x) as tf.Tensor4D; // [2, 8, 7, 256]
      expect(map.shape).to.deep.equal([2, 8, 7, 256]);
      const window = tf.mean(map.slice([0, 0, 0, 0], [2, 7, 7, 256]), [1, 2]);
      return [m.predict(x) as tf.Tensor, tf.add(tf.matMul(window, k!.reshape([256, 1001])), b!)];
    });
    const err = maxRelError(await ours.data() as Float32Array, await byHand.data() as Float32Array);
    console.log(`      tf_mobilenet_v1_025 at 256x224: head vs hand-pooled window ${err.toExponential(3)}`);
    expect(err).to.be.below(1e-5);
    tf.dispose([x, ours, byHand]);
    m.dispose();
    expect(() => create('tf_mobilenet_v1_025', { inputSize: 288 })).to.throw(CnnZooError, /avg_pool2d.*up to 256 px per side.*globalPool: true/);
    const g = create('tf_mobilenet_v1_025', { inputSize: 288, globalPool: true });
    expect(g.outputs[0]!.shape).to.deep.equal([null, 1001]);
    g.dispose();
    // At 224 px and below the window is the whole map: the head is the global average.
    const d = create('tf_mobilenet_v1_025', { inputSize: 224 });
    expect(d.getLayer('MobilenetV1.Logits.AvgPool_1a').getClassName()).to.equal('GlobalAveragePooling2D');
    d.dispose();
  });

  it('nasnetamobile (Cadene AvgPool2d(7, stride=1)) takes only a 7x7 final map: 223 to 226 px', () => {
    expect(() => create('nasnetamobile', { inputSize: 256 })).to.throw(CnnZooError, /AvgPool2d\(7, stride=1\).*8x8.*223 to 226 px per side/);
    expect(() => create('nasnetamobile', { inputSize: [224, 192] })).to.throw(CnnZooError, /7x6/);
    const m = create('nasnetamobile', { inputSize: 226 });
    expect(m.outputs[0]!.shape).to.deep.equal([null, 1000]);
    m.dispose();
    const g = create('nasnetamobile', { inputSize: 256, globalPool: true });
    expect(g.outputs[0]!.shape).to.deep.equal([null, 1000]);
    g.dispose();
  });

  it('bninception pools a window of the map\'s height: wider maps up to twice the height pool the left square, others fail', () => {
    const m = create('bninception', { inputSize: [224, 320] }); // 7x10 map: the left 7x7
    expect((m.getLayer('global_pool').getConfig() as { poolSize: number[] }).poolSize).to.deep.equal([7, 7]);
    expect(m.outputs[0]!.shape).to.deep.equal([null, 1000]);
    m.dispose();
    expect(() => create('bninception', { inputSize: [224, 448] })).to.throw(CnnZooError, /7x14.*less than twice as wide/);
    expect(() => create('bninception', { inputSize: [320, 224] })).to.throw(CnnZooError, /10x7/);
    const g = create('bninception', { inputSize: [224, 448], globalPool: true });
    expect(g.outputs[0]!.shape).to.deep.equal([null, 1000]);
    g.dispose();
  });

  it('bvlc_googlenet: pool5 needs a 7x7 map (223 to 254 px); globalPool: true takes larger inputs', () => {
    expect(() => create('bvlc_googlenet', { inputSize: 256 })).to.throw(CnnZooError, /pool5.*223 to 254 px per side/);
    const g = create('bvlc_googlenet', { inputSize: 320, globalPool: true });
    expect(g.outputs[0]!.shape).to.deep.equal([null, 1000]);
    g.dispose();
  });
});
