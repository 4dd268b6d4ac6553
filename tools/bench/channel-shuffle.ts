/**
 * Channel shuffle on wasm (and cpu): reshape/transpose (what `ChannelShuffle` does) against a `tf.gather` of
 * the precomputed permutation and a 1x1 conv with a permutation matrix, on ShuffleNet's map shapes.
 * Run: npx tsx tools/bench/channel-shuffle.ts [wasm|cpu]
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../../src/backend.js';
import { channelShuffle, shufflePermutation } from '../../src/layers/channel-shuffle.js';

const backend = (process.argv[2] ?? 'wasm') as BackendName;
await useBackend(backend);

type Impl = (x: tf.Tensor4D, groups: number, perm: tf.Tensor1D, matrix: tf.Tensor4D) => tf.Tensor4D;
const impls: Record<string, Impl> = {
  'reshape/transpose': (x, g) => channelShuffle(x, g),
  gather: (x, _g, perm) => tf.gather(x, perm, 3) as tf.Tensor4D,
  'conv1x1 permutation': (x, _g, _p, m) => tf.conv2d(x, m, 1, 'valid'),
};

/** [batch, h, w, c, groups]: ShuffleNet v2 x1.0 stages 2-4 (g = 2), v1 g=3 1.0x mid maps (megvii: c/g groups). */
const shapes: [number, number, number, number, number][] = [
  [1, 28, 28, 116, 2], [1, 14, 14, 232, 2], [1, 7, 7, 464, 2], [1, 28, 28, 60, 20], [8, 28, 28, 116, 2], [8, 14, 14, 232, 2],
];

function timeIt(fn: () => tf.Tensor, reps: number): number {
  for (let i = 0; i < 5; i++) { const y = fn(); y.dataSync(); y.dispose(); }
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) { const y = fn(); y.dataSync(); y.dispose(); }
  return (performance.now() - t0) / reps;
}

console.log(`backend ${tf.getBackend()}; ms per call (median of 3 runs), dataSync included`);
for (const [n, h, w, c, g] of shapes) {
  const x = tf.randomNormal([n, h, w, c]) as tf.Tensor4D;
  const permArr = shufflePermutation(c, g);
  const perm = tf.tensor1d(permArr, 'int32');
  const m = tf.tidy(() => tf.oneHot(perm, c).toFloat().transpose().reshape([1, 1, c, c]) as tf.Tensor4D);
  const ref = impls['reshape/transpose']!(x, g, perm, m);
  const row: string[] = [];
  for (const [label, impl] of Object.entries(impls)) {
    const y = impl(x, g, perm, m);
    const same = tf.tidy(() => tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0]!) === 0;
    y.dispose();
    const runs = [0, 1, 2].map(() => timeIt(() => impl(x, g, perm, m), 50)).sort((a, b) => a - b);
    row.push(`${label} ${runs[1]!.toFixed(3)}${same ? '' : ' (DIFFERS)'}`);
  }
  console.log(`[${n},${h},${w},${c}] g=${g}: ${row.join(' | ')}`);
  tf.dispose([x, perm, m, ref]);
}
