/**
 * Output shapes of the custom conv layers (GroupedConv2D, FusedConv2D): one formula for TF "same", "valid"
 * and explicit (possibly asymmetric) padding, with dilation.
 */
import type * as tf from '@tensorflow/tfjs';

/** Explicit padding per spatial axis: [[top, bottom], [left, right]]. */
export type SpatialPadding = [[number, number], [number, number]];

/** The `pad` argument tfjs conv ops take for explicit padding (NHWC). */
export type Explicit4D = [[number, number], [number, number], [number, number], [number, number]];

export interface ConvGeometry {
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  dilationRate: [number, number];
  padding: 'same' | 'valid' | SpatialPadding;
}

/** Output size along one spatial axis (0 = height, 1 = width). */
export function convOutDim(n: number, axis: 0 | 1, g: ConvGeometry): number {
  if (g.padding === 'same') return Math.ceil(n / g.strides[axis]);
  const k = (g.kernelSize[axis] - 1) * g.dilationRate[axis] + 1;
  const [p0, p1] = g.padding === 'valid' ? [0, 0] : g.padding[axis];
  return Math.floor((n + p0 + p1 - k) / g.strides[axis]) + 1;
}

/** `computeOutputShape` of an NHWC conv layer. */
export function convOutputShape(inputShape: tf.Shape | tf.Shape[], g: ConvGeometry): tf.Shape {
  const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  const h = s[1] == null ? null : convOutDim(s[1], 0, g);
  const w = s[2] == null ? null : convOutDim(s[2], 1, g);
  return [s[0] ?? null, h, w, g.filters];
}

/** Explicit spatial padding as the 4-D `pad` argument of tfjs conv ops. */
export function explicitPad4D(p: SpatialPadding): Explicit4D {
  return [[0, 0], p[0], p[1], [0, 0]];
}
