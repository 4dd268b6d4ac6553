/**
 * Activations that tfjs runs inside its fused conv/matmul kernels (`tf.fused.*`, every backend), and which
 * tfjs-layers layer computes one of them.
 */
import type * as tf from '@tensorflow/tfjs';

/** The activations every tfjs backend's FusedConv2D / FusedDepthwiseConv2D / _FusedMatMul kernel runs. */
export type FusedActivation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu';
export const FUSED_ACTIVATIONS: readonly FusedActivation[] = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'];

export interface ActivationSpec {
  activation: FusedActivation;
  /** Negative slope of 'leakyrelu'. */
  leakyreluAlpha?: number;
}

const BY_ACTIVATION_NAME: Readonly<Record<string, FusedActivation>> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu', sigmoid: 'sigmoid',
};

/** The fused form of an activation layer (ReLU, ReLU(maxValue 6), Activation, LeakyReLU, ELU(1)); null if none. */
export function fusedActivationOf(layer: tf.layers.Layer): ActivationSpec | null {
  const cls = layer.getClassName();
  const cfg = layer.getConfig();
  if (cls === 'ReLU') {
    const max = cfg.maxValue as number | null | undefined;
    if (max === null || max === undefined) return { activation: 'relu' };
    return max === 6 ? { activation: 'relu6' } : null;
  }
  if (cls === 'Activation') {
    const fn = BY_ACTIVATION_NAME[String(cfg.activation)];
    return fn ? { activation: fn } : null;
  }
  if (cls === 'LeakyReLU') return { activation: 'leakyrelu', leakyreluAlpha: Number(cfg.alpha ?? 0.3) };
  if (cls === 'ELU') return Number(cfg.alpha ?? 1) === 1 ? { activation: 'elu' } : null;
  return null;
}

/** The activation a conv/dense layer applies itself (its `activation` config), or null if not fusable. */
export function ownActivationOf(layer: tf.layers.Layer): ActivationSpec | null {
  const name = layer.getConfig().activation;
  if (name === undefined || name === null) return { activation: 'linear' };
  const fn = BY_ACTIVATION_NAME[String(name)];
  return fn ? { activation: fn } : null;
}

/** `activation` applied to `x` with unfused ops (for paths where a fused kernel cannot take it). */
export function applyActivation(tfc: typeof tf, x: tf.Tensor, a: ActivationSpec): tf.Tensor {
  switch (a.activation) {
    case 'linear': return x;
    case 'relu': return tfc.relu(x);
    case 'relu6': return tfc.relu6(x);
    case 'elu': return tfc.elu(x);
    case 'sigmoid': return tfc.sigmoid(x);
    case 'leakyrelu': return tfc.leakyRelu(x, a.leakyreluAlpha ?? 0.2);
  }
}
