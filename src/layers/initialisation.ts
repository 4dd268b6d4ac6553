/**
 * Building a layer whose weights are set right after it is made, without allocating what they replace:
 * - inside `withoutInitialisation` (converted checkpoints, parity fixtures, `info()`'s counts), weighted layers start
 *   from zeros shared by every weight of the same shape, instead of random draws or one zero buffer each. A tfjs
 *   variable made from a tensor shares its data (reference counted), and assigning a weight later only drops its
 *   reference: ResNet-50's 98 MB of kernels start from 44 MB of zeros (28 shapes), freed as the loaded weights replace
 *   them, rather than 98 MB of zeros that stayed beside the loaded weights (wasm's heap never shrinks);
 * - inside `buildFrom(values, ...)` (the inference form's fused layers), the weights a layer adds are those values.
 */
import * as tf from '@tensorflow/tfjs';
import { heapZeros } from '../kernels/wasm-copy.js';

export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** The zeros of each shape made in the current scope (undefined outside `withoutInitialisation`). */
let shared: Map<string, tf.Tensor> | undefined;

const ZerosClass = tf.initializers.zeros().constructor as new () => Initializer;

/** tfjs-layers' `Zeros` (it serializes as 'Zeros'), handing out one shared buffer per shape. */
class SharedZeros extends ZerosClass {
  constructor(private readonly pool: Map<string, tf.Tensor>) { super(); }

  override apply(shape: tf.Shape, dtype: tf.DataType = 'float32'): tf.Tensor {
    const key = `${dtype}:${shape.join(',')}`;
    let zeros = this.pool.get(key);
    if (!zeros) {
      // On wasm made in its heap (`tf.zeros` fills a JavaScript array, then copies it in: pages touched twice), where
      // the part the heap grew by for it is left untouched (zero already).
      zeros = (dtype === 'float32' ? heapZeros(shape as number[]) : undefined) ?? tf.zeros(shape as number[], dtype);
      this.pool.set(key, zeros);
    }
    return zeros.clone(); // the same data, one more reference
  }
}

/**
 * Run `build` (synchronous) with the weights that layers add starting from shared zeros (`placeholder()`); the
 * caller sets every weight after. Nested calls share the outer scope.
 */
export function withoutInitialisation<T>(build: () => T): T {
  if (shared) return build();
  shared = new Map();
  const pool = shared;
  try {
    return build();
  } finally {
    shared = undefined;
    tf.dispose([...pool.values()]); // the variables made from them hold their own references
  }
}

/** The values the next weights take (`buildFrom`), in the order layers add them. */
let given: tf.Tensor[] | undefined;

/** tfjs-layers' `Zeros` in name, handing out the next of `buildFrom`'s values (their data, one more reference). */
class Given extends ZerosClass {
  constructor(private readonly queue: tf.Tensor[]) { super(); }

  override apply(shape: tf.Shape): tf.Tensor {
    const value = this.queue.shift();
    if (!value || value.shape.join() !== shape.join()) {
      throw new Error(`buildFrom: a weight of shape [${shape}] was added where the values give ${value ? `[${value.shape}]` : 'none'}.`);
    }
    return value.clone();
  }
}

/**
 * Run `build` (synchronous: a layer's `apply`) with the weights it adds taking `values` in order, with no other
 * allocation: a layer whose weights are computed before it is built (the inference form's fused layers).
 */
export function buildFrom<T>(values: readonly tf.Tensor[], build: () => T): T {
  const before = given;
  given = [...values];
  try {
    const out = build();
    if (given.length > 0) throw new Error(`buildFrom: ${given.length} of the ${values.length} values were not taken.`);
    return out;
  } finally {
    given = before;
  }
}

/**
 * The initializer of a weight that is set right after it is made: inside `buildFrom`, the next value; inside
 * `withoutInitialisation`, shared zeros; else `otherwise`.
 */
export function placeholder<T>(otherwise: T): Initializer | T {
  if (given) return new Given(given);
  return shared ? new SharedZeros(shared) : otherwise;
}
