/**
 * Building blocks with PyTorch semantics for the functional graph: each call adds tfjs layers named after
 * the reference module path (`features.0`, `layer1.0.conv1`), so the state_dict maps by name. Helper layers
 * without weights get `${owner}.${role}` names (pad, act, pool, add, concat, flatten).
 */
import * as tf from '@tensorflow/tfjs';
import { GroupedConv2D } from '../layers/grouped-conv2d.js';
import { Pool2D } from '../layers/pool2d.js';
import { AdaptiveAvgPool2D } from '../layers/adaptive-avg-pool2d.js';
import { BatchNorm } from '../layers/batch-norm.js';
import { placeholder, type Initializer } from '../layers/initialisation.js';

export type Sym = tf.SymbolicTensor;
/** A number (symmetric), [h, w] (symmetric per axis), or [[top, bottom], [left, right]]. */
export type Padding2D = number | readonly [number, number] | readonly [readonly [number, number], readonly [number, number]];
type Pair = [number, number];

const pair = (v: number | readonly [number, number]): Pair => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
export function explicitPadding(p: Padding2D): [Pair, Pair] {
  if (typeof p === 'number') return [[p, p], [p, p]];
  if (typeof p[0] === 'number') return [[p[0], p[0]], [p[1] as number, p[1] as number]];
  const q = p as readonly [readonly [number, number], readonly [number, number]];
  return [[q[0][0], q[0][1]], [q[1][0], q[1][1]]];
}

export const channels = (x: Sym): number => x.shape[3] as number;

export { withoutInitialisation } from '../layers/initialisation.js';
/** Initialiser overrides for the layers built here (shared zeros inside `withoutInitialisation`, else none). */
export const initialisers = (): { kernelInitializer?: Initializer; depthwiseInitializer?: Initializer } => {
  const init = placeholder(undefined);
  return init ? { kernelInitializer: init, depthwiseInitializer: init } : {};
};

export interface ConvOptions {
  filters: number;
  kernel: number | readonly [number, number];
  stride?: number | readonly [number, number];
  padding?: Padding2D;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

/** `nn.Conv2d`: plain, depthwise (groups = in channels) or grouped, with torch padding. */
export function conv2d(x: Sym, name: string, o: ConvOptions): Sym {
  const k = pair(o.kernel), s = pair(o.stride ?? 1), d = o.dilation ?? 1;
  const pad = explicitPadding(o.padding ?? 0);
  const groups = o.groups ?? 1, useBias = o.bias ?? true, cin = channels(x);
  if (cin % groups !== 0 || o.filters % groups !== 0) {
    throw new Error(`${name}: ${cin} -> ${o.filters} channels do not split into ${groups} groups.`);
  }
  if (groups > 1 && groups !== cin) {
    return new GroupedConv2D({ name, filters: o.filters, kernelSize: k, groups, strides: s, padding: pad, dilationRate: [d, d], useBias }).apply(x) as Sym;
  }
  // tfjs convs only pad 'same'/'valid': 'same' equals torch's symmetric padding at stride 1.
  const same = s[0] === 1 && s[1] === 1 && pad[0][0] === pad[0][1] && pad[1][0] === pad[1][1] &&
    2 * pad[0][0] === d * (k[0] - 1) && 2 * pad[1][0] === d * (k[1] - 1) && (pad[0][0] > 0 || pad[1][0] > 0);
  const zero = pad.every((q) => q[0] === 0 && q[1] === 0);
  let y = x;
  if (!same && !zero) y = tf.layers.zeroPadding2d({ name: `${name}.pad`, padding: pad }).apply(y) as Sym;
  const padding = same ? 'same' : 'valid';
  if (groups > 1) {
    return tf.layers.depthwiseConv2d({ name, kernelSize: k, strides: s, padding, dilationRate: d, useBias, depthMultiplier: o.filters / cin, ...initialisers() }).apply(y) as Sym;
  }
  const { kernelInitializer } = initialisers();
  return tf.layers.conv2d({ name, filters: o.filters, kernelSize: k, strides: s, padding, dilationRate: d, useBias, kernelInitializer }).apply(y) as Sym;
}

/**
 * `nn.BatchNorm2d(eps)` over channels (torch default eps 1e-5; tfjs would use 1e-3): tfjs-layers' BatchNormalization
 * with a one-node gradient in training mode (src/layers/batch-norm.ts).
 */
export function batchNorm(x: Sym, name: string, eps = 1e-5): Sym {
  return new BatchNorm({ name, axis: -1, epsilon: eps, momentum: 0.9 }).apply(x) as Sym;
}

export type ActivationName = 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'elu' | 'swish' | 'linear';
export function activation(x: Sym, name: string, fn: ActivationName = 'relu'): Sym {
  if (fn === 'relu') return tf.layers.reLU({ name }).apply(x) as Sym;
  if (fn === 'relu6') return tf.layers.reLU({ name, maxValue: 6 }).apply(x) as Sym;
  return tf.layers.activation({ name, activation: fn }).apply(x) as Sym;
}
export const relu = (x: Sym, name: string): Sym => activation(x, name, 'relu');

export interface PoolOptions {
  kernel: number | readonly [number, number];
  stride?: number | readonly [number, number];
  padding?: Padding2D;
  ceil?: boolean;
  countIncludePad?: boolean;
}
function pool(mode: 'max' | 'avg', x: Sym, name: string, o: PoolOptions): Sym {
  const k = pair(o.kernel), s = pair(o.stride ?? o.kernel), pad = explicitPadding(o.padding ?? 0);
  const plain = !o.ceil && pad.every((q) => q[0] === 0 && q[1] === 0);
  if (plain) {
    const cfg = { name, poolSize: k, strides: s, padding: 'valid' as const };
    return (mode === 'max' ? tf.layers.maxPooling2d(cfg) : tf.layers.averagePooling2d(cfg)).apply(x) as Sym;
  }
  return new Pool2D({ name, mode, poolSize: k, strides: s, padding: pad, ceilMode: o.ceil ?? false, countIncludePad: o.countIncludePad ?? true }).apply(x) as Sym;
}
/** `nn.MaxPool2d` (padding, ceil_mode exact). */
export const maxPool = (x: Sym, name: string, o: PoolOptions): Sym => pool('max', x, name, o);
/** `nn.AvgPool2d` (padding, ceil_mode, count_include_pad exact). */
export const avgPool = (x: Sym, name: string, o: PoolOptions): Sym => pool('avg', x, name, o);

/** `nn.AdaptiveAvgPool2d(size)` keeping the 4D map. */
export function adaptiveAvgPool(x: Sym, name: string, size: number | readonly [number, number]): Sym {
  return new AdaptiveAvgPool2D({ name, outputSize: pair(size) }).apply(x) as Sym;
}

/** Global pooling to [N, C]. */
export function globalPool(x: Sym, name: string, mode: 'avg' | 'max' = 'avg'): Sym {
  return (mode === 'avg' ? tf.layers.globalAveragePooling2d({ name }) : tf.layers.globalMaxPooling2d({ name })).apply(x) as Sym;
}

/** `nn.Linear`; after `flatten` of a feature map its rows are reordered from torch's CHW to our HWC at load. */
export function linear(x: Sym, name: string, units: number, bias = true): Sym {
  const { kernelInitializer } = initialisers();
  return tf.layers.dense({ name, units, useBias: bias, kernelInitializer }).apply(x) as Sym;
}

export const flatten = (x: Sym, name: string): Sym => tf.layers.flatten({ name }).apply(x) as Sym;
export const dropout = (x: Sym, name: string, rate: number): Sym => tf.layers.dropout({ name, rate }).apply(x) as Sym;
export const add = (xs: Sym[], name: string): Sym => tf.layers.add({ name }).apply(xs) as Sym;
export const multiply = (xs: Sym[], name: string): Sym => tf.layers.multiply({ name }).apply(xs) as Sym;
/** `torch.cat(xs, 1)`: channels. */
export const concat = (xs: Sym[], name: string): Sym => tf.layers.concatenate({ name, axis: -1 }).apply(xs) as Sym;

export function input(ctx: { inputHeight: number; inputWidth: number }, name = 'input'): Sym {
  return tf.input({ shape: [ctx.inputHeight, ctx.inputWidth, 3], name });
}

/** The usual `includeTop: false` ending: the feature map, optionally pooled globally. */
export function featuresOnly(x: Sym, ctx: { pooling: 'avg' | 'max' | null }, name = 'features.pool'): Sym {
  return ctx.pooling ? globalPool(x, name, ctx.pooling) : x;
}
