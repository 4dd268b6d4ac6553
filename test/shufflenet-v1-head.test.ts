/**
 * ShuffleNet v1's head is megvii's `AvgPool2d(7)` (stride 7) -> `view(-1, C)` -> Linear, not a global pool: at
 * 256 px (an 8x8 final map) it averages the top-left 7x7 window only. Checked with the fixture's weights against
 * the same network cut at its last feature map, pooled by hand; `globalPool: true` is the explicit alternative.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { loadFixture } from '../src/parity/fixture.js';
import { nchwToNhwc, maxRelError } from '../src/parity/run.js';
import { loadStateDict } from '../src/weights/mapping.js';
import { create, getSpec, resolveOptions } from '../src/zoo/registry.js';
import { withoutInitialisation } from '../src/zoo/ops.js';
import { CnnZooError } from '../src/errors.js';
import { det } from '../src/parity/det.js';
import { fixturePath } from './helpers/shared.js';

const NAME = 'shufflenet_v1_g3_0_5x';

describe('ShuffleNet v1 head: megvii AvgPool2d(7) at every input size', () => {
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
});
