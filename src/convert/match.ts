/**
 * Fitting source arrays onto a built model when names alone do not: matching unnamed checkpoints
 * (ONNX exports with numeric names, TFLite ops) to the model's weighted layers in graph order, verified
 * by shape; and loading TF/TFLite/ONNX folded convolutions (conv weight + bias, BN already folded in)
 * into our conv + BN form with identity statistics.
 */
import type * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import type { KeyRule } from '../zoo/types.js';
import type { NamedArray, StateDict } from '../arrays.js';

const CONV_LIKE = new Set(['Conv2D', 'DepthwiseConv2D', 'GroupedConv2D', 'Dense']);

/** Split `a.b.weight` into [`a.b`, `weight`]. */
export function splitKey(key: string): [string, string] {
  const i = key.lastIndexOf('.');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}

/** Apply a checkpoint layout's naming rule to every key (dropping keys the rule maps to null). */
export function renameKeys(sd: StateDict, rule: KeyRule, source: string): StateDict {
  const out: StateDict = new Map();
  for (const [key, array] of sd) {
    const ours = rule(key);
    if (ours === null) continue;
    if (out.has(ours)) throw new CnnZooError(`${source}: two tensors map to "${ours}" (one is "${key}").`, 'BAD_CHECKPOINT');
    out.set(ours, array);
  }
  return out;
}

/** The PyTorch-layout shape of a layer's main weight (conv OIHW, depthwise [C*m,1,kh,kw], linear [out,in]). */
function torchWeightShape(layer: tf.layers.Layer): number[] | undefined {
  const w = layer.weights.find((v) => /(^|\/)(kernel|depthwise_kernel)$/.test(v.originalName));
  if (!w) return undefined;
  const s = w.shape as number[];
  const cls = layer.getClassName();
  if (cls === 'Dense') return [s[1]!, s[0]!];
  if (cls === 'DepthwiseConv2D') return [s[2]! * s[3]!, 1, s[0]!, s[1]!];
  return [s[3]!, s[2]!, s[0]!, s[1]!];
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
/** A 1x1 conv and a linear layer hold the same matrix. */
const compatible = (src: readonly number[], want: readonly number[]) =>
  sameShape(src, want) || (numel(src) === numel(want) && src[0] === want[0] && src.slice(2).every((d) => d === 1) && want.slice(2).every((d) => d === 1));

/**
 * Assign unnamed source layers (`<anything>.<suffix>` groups, in graph order) to the model's weighted
 * layers in order, checking every shape. Model BN layers are skipped when the source has no BN statistics
 * (folded convolutions; see `unfoldBiases`).
 */
export function matchByOrder(model: tf.LayersModel, sd: StateDict, source: string): StateDict {
  const groups: { prefix: string; arrays: Map<string, NamedArray> }[] = [];
  for (const [key, array] of sd) {
    const [prefix, suffix] = splitKey(key);
    let g = groups[groups.length - 1];
    if (!g || g.prefix !== prefix) {
      if (groups.some((x) => x.prefix === prefix)) throw new CnnZooError(`${source}: tensors of "${prefix}" are not adjacent; cannot match by order.`, 'BAD_CHECKPOINT');
      g = { prefix, arrays: new Map() };
      groups.push(g);
    }
    g.arrays.set(suffix, array);
  }
  const hasStats = groups.some((g) => g.arrays.has('running_mean'));
  const layers = model.layers.filter((l) => l.weights.length > 0 && (CONV_LIKE.has(l.getClassName()) || (hasStats && l.getClassName() === 'BatchNormalization')));
  if (layers.length !== groups.length) {
    throw new CnnZooError(`${source} has ${groups.length} weighted layers but model "${model.name}" has ${layers.length} ` +
      `(${hasStats ? 'conv, linear and BN' : 'conv and linear'} layers). Is it a checkpoint of another architecture?`, 'WEIGHTS_MISMATCH');
  }
  const out: StateDict = new Map();
  groups.forEach((g, i) => {
    const layer = layers[i]!;
    const want = torchWeightShape(layer);
    const w = g.arrays.get('weight');
    if (want && w && !compatible(w.shape, want)) {
      throw new CnnZooError(`${source}: layer ${i} ("${g.prefix}") has weight shape [${w.shape}], but layer ${i} of the model ` +
        `("${layer.name}", ${layer.getClassName()}) needs [${want}] (PyTorch layout). The checkpoint's layer order or architecture differs.`, 'SHAPE_MISMATCH');
    }
    for (const [suffix, array] of g.arrays) out.set(`${layer.name}.${suffix}`, array);
  });
  return out;
}

interface Node { outboundLayer: tf.layers.Layer }

/**
 * Folded checkpoints give a conv weight and bias where our model has a bias-free conv followed by batch
 * norm: put the bias into the BN (gamma 1, beta = bias, mean 0, var = 1 - eps, so BN(x) = x + bias).
 * `inferenceForm` (cnn-zoo's export of a model's inference form, `SourceWeights.foldedBatchNorms`): also a conv with
 * its own bias whose batch norm is folded into it (the BN becomes the identity: gamma 1, beta 0, mean 0, var 1 - eps),
 * and a batch norm stored alone as a per-channel scale and shift (gamma = scale, beta = shift, mean 0, var 1 - eps).
 * Only there: elsewhere a checkpoint without a batch norm's statistics is of another architecture, and says so.
 */
export function unfoldBiases(model: tf.LayersModel, sd: StateDict, source: string, inferenceForm = false): { stateDict: StateDict; unfolded: number } {
  const out: StateDict = new Map(sd);
  let unfolded = 0;
  const unitVariance = (bn: tf.layers.Layer, n: number): void => {
    const eps = (bn.getConfig() as { epsilon: number }).epsilon;
    out.set(`${bn.name}.running_mean`, { shape: [n], data: new Float32Array(n) });
    out.set(`${bn.name}.running_var`, { shape: [n], data: new Float32Array(n).fill(1 - eps) });
    unfolded++;
  };
  for (const layer of model.layers) {
    if (inferenceForm && layer.getClassName() === 'BatchNormalization' && !out.has(`${layer.name}.running_mean`)) {
      const scale = out.get(`${layer.name}.weight`), shift = out.get(`${layer.name}.bias`);
      if (scale && shift) { // a lone batch norm: [C, 1, 1, 1] depthwise 1x1 kernel and bias
        out.set(`${layer.name}.weight`, { shape: [scale.data.length], data: scale.data });
        unitVariance(layer, scale.data.length);
      }
      continue;
    }
    if (!CONV_LIKE.has(layer.getClassName())) continue;
    const key = `${layer.name}.bias`;
    const bias = out.get(key);
    const next = ((layer as unknown as { outboundNodes: Node[] }).outboundNodes ?? []).map((n) => n.outboundLayer);
    const bn = next.length === 1 && next[0]!.getClassName() === 'BatchNormalization' ? next[0]! : undefined;
    if (!bias) continue;
    if (layer.weights.some((w) => w.originalName.endsWith('/bias'))) {
      // The conv keeps its bias (the folded one); its batch norm, folded away, becomes the identity.
      if (inferenceForm && bn && !['weight', 'bias', 'running_mean', 'running_var'].some((k) => out.has(`${bn.name}.${k}`))) {
        const n = bias.data.length;
        out.set(`${bn.name}.weight`, { shape: [n], data: new Float32Array(n).fill(1) });
        out.set(`${bn.name}.bias`, { shape: [n], data: new Float32Array(n) });
        unitVariance(bn, n);
      }
      continue;
    }
    if (!bn) throw new CnnZooError(`${source}: "${key}" is a bias, but layer "${layer.name}" has none and no batch norm follows it.`, 'WEIGHTS_MISMATCH');
    if (out.has(`${bn.name}.running_mean`)) throw new CnnZooError(`${source}: both a conv bias "${key}" and BN statistics for "${bn.name}".`, 'WEIGHTS_MISMATCH');
    const n = bias.data.length;
    out.delete(key);
    out.set(`${bn.name}.weight`, { shape: [n], data: new Float32Array(n).fill(1) });
    out.set(`${bn.name}.bias`, bias);
    unitVariance(bn, n);
  }
  return { stateDict: out, unfolded };
}
