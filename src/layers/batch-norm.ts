/**
 * tfjs-layers' BatchNormalization with one gradient node in training mode. The stock layer normalises a batch with
 * `tf.moments` (Mean, Sub, Square, Mean) and `tf.batchNorm`, so autodiff differentiates each of those ops in turn:
 * about a dozen passes over the activation in the backward pass (the Mean gradients broadcast, Square's and Sub's
 * multiply, the paths through the mean and the variance are summed back into dx), and the tape keeps each op's
 * inputs. Here the batch statistics and the output are one `tf.customGrad` whose gradient is the closed form
 * (PyTorch's batch_norm backward), with c = x - mean, r = 1 / sqrt(var + eps) and m values per channel:
 *
 *   dbeta = sum(dy),  s = sum(dy * c),  dgamma = s * r,
 *   dx = (dy - dbeta / m) * gamma * r - c * gamma * r^3 * s / m,
 *
 * two reductions and five elementwise passes, keeping c only. The forward values and the moving-average updates are
 * the stock layer's (the same formulas: the biased variance, `moving - (moving - value) * (1 - momentum)`); inference
 * mode, other axes than the last, layers without scale or centre, and other dtypes run the stock `call`. The class
 * name stays `BatchNormalization`, so saved models load with tfjs's own layer (the same function, the stock gradient).
 */
import * as tf from '@tensorflow/tfjs';

type BatchNormArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;

/** tfjs-layers' own class, as registered for deserialization (not exported by @tensorflow/tfjs). */
const Stock = tf.serialization.SerializationMap.getMap().classNameMap['BatchNormalization']![0] as unknown as new (args: BatchNormArgs) => tf.layers.Layer;

/** The stock layer's private state this subclass reads. */
interface StockState {
  axis: number; momentum: number; epsilon: number; center: boolean; scale: boolean;
  gamma: { read(): tf.Tensor }; beta: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(value: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): void };
}

/**
 * Batch normalisation of `x` over every axis but the last with the batch's own mean and (biased) variance, and its
 * gradient with respect to x, gamma and beta in closed form. Returns the output and the statistics (the caller
 * disposes `mean` and `variance`).
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const m = x.size / x.shape[x.rank - 1]!;
  let mean: tf.Tensor | undefined, variance: tf.Tensor | undefined;
  const normalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    mean = tf.keep(tf.mean(xs, axes));
    const c = tf.sub(xs, mean);
    variance = tf.keep(tf.mean(tf.mul(c, c), axes));
    const r = tf.rsqrt(tf.add(variance, epsilon)), k = tf.mul(g, r); // k = gamma * r, per channel
    save([c, r, k]);
    return {
      value: tf.add(tf.mul(c, k), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dy as tf.Tensor, [cs, rs, k] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dbeta = tf.sum(d, axes), s = tf.sum(tf.mul(d, cs), axes);
        const dx = tf.sub(tf.mul(tf.sub(d, tf.div(dbeta, m)), k), tf.mul(cs, tf.mul(tf.mul(k, tf.mul(rs, rs)), tf.div(s, m))));
        return [dx, tf.mul(s, rs), dbeta];
      },
    };
  });
  const y = normalise(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}

export class BatchNorm extends Stock {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const s = this as unknown as StockState;
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const axis = s.axis >= 0 ? s.axis : s.axis + x.rank;
    if (kwargs['training'] !== true || axis !== x.rank - 1 || !s.center || !s.scale || x.dtype !== 'float32') return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, s.gamma.read(), s.beta.read(), s.epsilon);
      try {
        for (const [moving, value] of [[s.movingMean, mean], [s.movingVariance, variance]] as const) {
          tf.tidy(() => {
            const old = moving.read();
            moving.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - s.momentum)));
          });
        }
      } finally {
        tf.dispose([mean, variance]);
      }
      return y;
    });
  }
}
