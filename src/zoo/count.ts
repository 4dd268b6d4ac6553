/**
 * Analytic parameter and FLOP counts of a built model, matching PyTorch's conventions: parameters exclude
 * batch-norm running statistics; FLOPs count convolutions and matmuls only (1 multiply-add = 2 FLOPs, bias
 * not counted), like `torch.utils.flop_counter.FlopCounterMode`.
 */
import type * as tf from '@tensorflow/tfjs';

/** A custom layer that does conv/matmul work reports it through this method. */
export interface CountsFlops {
  flopsPerImage(inputShape: readonly (number | null)[], outputShape: readonly (number | null)[]): number;
}

const NON_PARAMS = new Set(['moving_mean', 'moving_variance']);

export function countParams(model: tf.LayersModel): number {
  let n = 0;
  for (const w of model.weights) {
    const role = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    if (!NON_PARAMS.has(role)) n += (w.shape as number[]).reduce((a, b) => a * b, 1);
  }
  return n;
}

const dim = (v: number | null | undefined): number => v ?? 1;

function shapesOf(layer: tf.layers.Layer): { inp: (number | null)[]; out: (number | null)[] }[] {
  const nodes = (layer as unknown as { inboundNodes: { inputShapes: tf.Shape | tf.Shape[]; outputShapes: tf.Shape | tf.Shape[] }[] }).inboundNodes;
  return nodes.map((n) => ({
    inp: (Array.isArray(n.inputShapes[0]) ? n.inputShapes[0] : n.inputShapes) as (number | null)[],
    out: (Array.isArray(n.outputShapes[0]) ? n.outputShapes[0] : n.outputShapes) as (number | null)[],
  }));
}

/** FLOPs of one application of `layer`, or 0 for layers without conv/matmul work. */
export function layerFlops(layer: tf.layers.Layer, inp: readonly (number | null)[], out: readonly (number | null)[]): number {
  const custom = layer as unknown as Partial<CountsFlops>;
  if (typeof custom.flopsPerImage === 'function') return custom.flopsPerImage(inp, out);
  const cls = layer.getClassName();
  const weights = layer.weights;
  const kernel = weights.find((w) => /\/(kernel|depthwise_kernel)$/.test(w.originalName));
  if (!kernel) return 0;
  const k = kernel.shape as number[];
  if (cls === 'Conv2D' || cls === 'DepthwiseConv2D' || cls === 'GroupedConv2D') {
    // kernel [kh, kw, in per group, out] (depthwise: [kh, kw, C, m]): each output cell costs kh*kw*inPerGroup MACs.
    const outCells = dim(out[1]) * dim(out[2]) * dim(out[3]);
    const macsPerCell = cls === 'DepthwiseConv2D' ? k[0]! * k[1]! : k[0]! * k[1]! * k[2]!;
    return 2 * outCells * macsPerCell;
  }
  if (cls === 'Dense') {
    const rows = inp.slice(1, -1).reduce((a: number, b) => a * dim(b), 1);
    return 2 * rows * k[0]! * k[1]!;
  }
  return 0;
}

export interface LayerCount { name: string; className: string; params: number; flops: number; outputShape: (number | null)[] }

/** Per-layer table: parameters and FLOPs of each layer for one image. */
export function layerTable(model: tf.LayersModel): LayerCount[] {
  return model.layers.map((layer) => {
    const params = layer.weights
      .filter((w) => !NON_PARAMS.has(w.originalName.slice(w.originalName.lastIndexOf('/') + 1)))
      .reduce((a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1), 0);
    const shapes = shapesOf(layer);
    const flops = shapes.reduce((a, s) => a + layerFlops(layer, s.inp, s.out), 0);
    return { name: layer.name, className: layer.getClassName(), params, flops, outputShape: shapes[0]?.out ?? [] };
  });
}

/** Conv + matmul FLOPs for one image. */
export const countFlops = (model: tf.LayersModel): number => layerTable(model).reduce((a, l) => a + l.flops, 0);
