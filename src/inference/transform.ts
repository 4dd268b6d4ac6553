/**
 * The inference form of any zoo LayersModel, by a generic walk of its functional graph:
 *  - a conv (plain, depthwise, grouped) or linear layer absorbs the ZeroPadding2D before it, the batch norm
 *    after it (folded into kernel and bias) and the activation after that, becoming one `FusedConv2D` /
 *    `FusedDense` that runs as one tfjs fused kernel;
 *  - a conv whose (folded) output feeds only `add(., other)` followed by an activation takes `other` as a
 *    residual input (ResNet blocks): the add and the activation join the conv's kernel;
 *  - a batch norm with no conv before it, and the activation after it, become a depthwise 1x1 `FusedConv2D`
 *    (per-channel scale as kernel, shift as bias; see FusedConv2D.isBatchNorm);
 *  - dropout (and linear activations) are removed;
 *  - every other layer is cloned with its weights.
 * Fused layers keep the conv's name (the reference module path), so checkpoints still map by name; the
 * training model is left untouched (use it for transfer learning).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { fusedActivationOf, ownActivationOf, type ActivationSpec } from '../layers/activation.js';
import { batchNormAffine, foldBias, foldKernel, weightsByRole, type KernelLayout } from './fold.js';
import { FusedConv2D, type AbsorbedLayer, type ConvPadding } from '../layers/fused-conv2d.js';
import { FusedDense } from '../layers/fused-dense.js';
import { ModelGraph } from './graph.js';
import { buildFrom } from '../layers/initialisation.js';

export interface InferenceOptions {
  /** Fold batch norms into the conv/linear before them (default true). */
  foldBatchNorm?: boolean;
  /** Run activations inside the fused kernels (default true). */
  fuseActivations?: boolean;
  /** Take `act(conv(x) + other)` into one layer with a residual input (default true). */
  fuseResidual?: boolean;
  /** Absorb a ZeroPadding2D into the conv after it as explicit padding (default true). */
  absorbPadding?: boolean;
}

const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'GroupedConv2D']);
const REMOVED_AT_INFERENCE = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianDropout', 'GaussianNoise', 'AlphaDropout']);

/** One fusion: a head conv/linear layer and the layers it absorbs, in graph order. */
interface Fusion {
  head: tf.layers.Layer;
  input: tf.SymbolicTensor;
  pad?: tf.layers.Layer;
  bn?: tf.layers.Layer;
  activation: ActivationSpec;
  activationLayer?: tf.layers.Layer;
  add?: tf.layers.Layer;
  residual?: tf.SymbolicTensor;
  /** The member whose output the fused layer produces. */
  last: tf.layers.Layer;
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);

function isChannelsLastBatchNorm(layer: tf.layers.Layer, rank: number): boolean {
  if (layer.getClassName() !== 'BatchNormalization') return false;
  const axis = Number(layer.getConfig().axis ?? -1);
  return axis === -1 || axis === rank - 1;
}

/** Let `f` absorb `next` when it is an activation a fused kernel runs; true when it did. */
function takeActivation(f: Fusion, next: tf.layers.Layer | null, claimed: Set<tf.layers.Layer>, o: Required<InferenceOptions>): boolean {
  const act = next && o.fuseActivations && !claimed.has(next) ? fusedActivationOf(next) : null;
  if (!next || !act) return false;
  f.activation = act;
  f.activationLayer = next;
  f.last = next;
  return true;
}

/** Plan the fusions of `graph`: each conv/linear layer and what it absorbs. */
function planFusions(graph: ModelGraph, o: Required<InferenceOptions>): Fusion[] {
  const claimed = new Set<tf.layers.Layer>();
  const fusions: Fusion[] = [];
  for (const head of graph.layers) {
    const cls = head.getClassName();
    if (!CONV_CLASSES.has(cls) && cls !== 'Dense') continue;
    if (head.getConfig().dataFormat === 'channelsFirst') continue;
    const own = ownActivationOf(head);
    if (!own) continue; // an activation no fused kernel runs: keep the layer as it is
    const f: Fusion = { head, input: graph.node(head).inputs[0]!, activation: own, last: head };
    let out = graph.output(head);
    // Explicit padding before a 'valid' conv (tfjs convs pad only 'same'/'valid').
    const before = graph.producer(f.input);
    if (o.absorbPadding && (cls === 'Conv2D' || cls === 'DepthwiseConv2D') && head.getConfig().padding === 'valid' &&
        before?.getClassName() === 'ZeroPadding2D' && graph.soleConsumer(f.input) === head && !claimed.has(before)) {
      f.pad = before;
      f.input = graph.node(before).inputs[0]!;
    }
    if (own.activation === 'linear') {
      let next = graph.soleConsumer(out);
      if (o.foldBatchNorm && next && !claimed.has(next) && isChannelsLastBatchNorm(next, out.rank)) {
        f.bn = next;
        f.last = next;
        out = graph.output(next);
        next = graph.soleConsumer(out);
      }
      const tookActivation = takeActivation(f, next, claimed, o);
      if (!tookActivation && next && o.fuseResidual && o.fuseActivations && cls !== 'Dense' && next.getClassName() === 'Add' && !claimed.has(next)) {
        const addInputs = graph.node(next).inputs;
        const other = addInputs.find((t) => t.id !== out.id);
        const after = graph.soleConsumer(graph.output(next));
        const afterAct = after && !claimed.has(after) ? fusedActivationOf(after) : null;
        if (addInputs.length === 2 && other && afterAct && afterAct.activation !== 'linear') {
          f.add = next;
          f.residual = other;
          f.activation = afterAct;
          f.activationLayer = after!;
          f.last = after!;
        }
      }
    }
    for (const l of [f.pad, f.head, f.bn, f.add, f.activationLayer]) if (l) claimed.add(l);
    fusions.push(f);
  }
  if (o.foldBatchNorm) fusions.push(...loneBatchNorms(graph, claimed, o));
  return fusions;
}

/** The batch norms no conv absorbed (rank 4, channels last), each with the activation after it. */
function loneBatchNorms(graph: ModelGraph, claimed: Set<tf.layers.Layer>, o: Required<InferenceOptions>): Fusion[] {
  const fusions: Fusion[] = [];
  for (const bn of graph.layers) {
    const input = graph.node(bn).inputs[0];
    if (claimed.has(bn) || !input || input.rank !== 4 || !isChannelsLastBatchNorm(bn, 4)) continue;
    const f: Fusion = { head: bn, bn, input, activation: { activation: 'linear' }, last: bn };
    takeActivation(f, graph.soleConsumer(graph.output(bn)), claimed, o);
    for (const l of [f.head, f.activationLayer]) if (l) claimed.add(l);
    fusions.push(f);
  }
  return fusions;
}

function absorbedList(f: Fusion): AbsorbedLayer[] {
  const list: AbsorbedLayer[] = [];
  if (f.pad) list.push({ role: 'pad', name: f.pad.name });
  if (f.bn) list.push({ role: 'batchnorm', name: f.bn.name, epsilon: Number(f.bn.getConfig().epsilon ?? 1e-3) });
  if (f.add) list.push({ role: 'add', name: f.add.name });
  if (f.activationLayer) list.push({ role: 'activation', name: f.activationLayer.name });
  return list;
}

/** The fused layer replacing `f` (not yet applied). */
function fusedLayer(f: Fusion, inputChannels: number): FusedConv2D | FusedDense {
  const cfg = f.head.getConfig();
  const cls = f.head.getClassName();
  const useBias = Boolean(cfg.useBias ?? true) || f.bn !== undefined;
  const act = { activation: f.activation.activation, leakyreluAlpha: f.activation.leakyreluAlpha };
  const absorbed = absorbedList(f);
  if (cls === 'Dense') return new FusedDense({ name: f.head.name, units: Number(cfg.units), useBias, absorbed, ...act });
  if (cls === 'BatchNormalization') {
    return new FusedConv2D({ name: f.head.name, filters: inputChannels, kernelSize: [1, 1], depthwise: true, useBias: true, absorbed, ...act });
  }
  let padding: ConvPadding;
  if (f.pad) padding = f.pad.getConfig().padding as [[number, number], [number, number]];
  else if (cls === 'GroupedConv2D') padding = cfg.padding as [[number, number], [number, number]];
  else padding = cfg.padding as 'same' | 'valid';
  const depthwise = cls === 'DepthwiseConv2D';
  return new FusedConv2D({
    name: f.head.name,
    filters: depthwise ? inputChannels * Number(cfg.depthMultiplier ?? 1) : Number(cfg.filters),
    kernelSize: pair(cfg.kernelSize), strides: pair(cfg.strides ?? 1), dilationRate: pair(cfg.dilationRate ?? 1),
    padding, groups: cls === 'GroupedConv2D' ? Number(cfg.groups) : 1, depthwise, useBias,
    residual: f.residual !== undefined, absorbed, ...act,
  });
}

/** Folded [kernel, bias?] of `f`'s head and batch norm. */
function fusedWeights(f: Fusion, useBias: boolean): tf.Tensor[] {
  return tf.tidy(() => {
    if (f.head === f.bn) { // a lone batch norm: depthwise 1x1 kernel [1, 1, C, 1] = scale, bias = shift
      const { scale, shift } = batchNormAffine(f.bn);
      return [scale.reshape([1, 1, scale.shape[0], 1]), shift];
    }
    const w = weightsByRole(f.head);
    const layout: KernelLayout = f.head.getClassName() === 'DepthwiseConv2D' ? 'depthwise' : 'out-last';
    let kernel = (w.get('kernel') ?? w.get('depthwise_kernel'))!;
    let bias = w.get('bias') as tf.Tensor1D | undefined;
    if (f.bn) {
      const affine = batchNormAffine(f.bn);
      kernel = foldKernel(kernel, affine.scale, layout);
      bias = foldBias(bias, affine);
    }
    return useBias ? [kernel.clone(), bias!.clone()] : [kernel.clone()];
  });
}

/** A copy of `layer` (same class, config and name) for the new graph. */
function cloneLayer(layer: tf.layers.Layer): tf.layers.Layer {
  const ctor = layer.constructor as unknown as { fromConfig(cls: unknown, config: tf.serialization.ConfigDict): tf.layers.Layer };
  if (typeof ctor.fromConfig !== 'function') {
    throw new CnnZooError(`Layer "${layer.name}" (${layer.getClassName()}) cannot be cloned: its class has no fromConfig().`, 'UNSUPPORTED_GRAPH');
  }
  return ctor.fromConfig(ctor, layer.getConfig());
}

const one = (t: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor[] => (Array.isArray(t) ? t : [t]);

/**
 * The inference form of `model` (which keeps working unchanged): batch norms folded, activations and
 * residual adds fused, dropout removed, layer names kept. Weights are copied, so it predicts what `model`
 * predicts (to float32 rounding) on every backend.
 */
export function toInference(model: tf.LayersModel, options: InferenceOptions = {}): tf.LayersModel {
  return transform(model, options, false);
}

/**
 * `toInference(model)` for a model that is disposed right after (`load()`): fused layers are built from their values
 * (no zeros first) and each one's source weights are released as soon as they are folded, so that the backend holds
 * little more than one copy of the weights at a time (ResNet-50 loaded on wasm: a heap of 139 MB for its 98 MB of
 * weights, 248 MB before). `model` is disposed.
 */
export function intoInference(model: tf.LayersModel, options: InferenceOptions = {}): tf.LayersModel {
  try {
    return transform(model, options, true);
  } finally {
    model.dispose();
  }
}

/**
 * Point the weights of `sources` (layers folded into `fused`) at the fused layer's data of the same shape (a conv's
 * kernel, a batch norm's [C] vectors at the bias), so that their own data is freed now; the training form is
 * disposed right after, and its values no longer matter.
 */
function release(sources: readonly tf.layers.Layer[], fused: tf.layers.Layer): void {
  const targets = fused.weights.map((w) => w.read());
  for (const layer of sources) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((w) => targets.find((t) => t.shape.join() === w.shape.join()) ?? w.read());
    layer.setWeights(values); // a weight with no fused counterpart of its shape keeps its data
  }
}

function transform(model: tf.LayersModel, options: InferenceOptions, releaseSource: boolean): tf.LayersModel {
  const o: Required<InferenceOptions> = { foldBatchNorm: true, fuseActivations: true, fuseResidual: true, absorbPadding: true, ...options };
  const graph = new ModelGraph(model);
  const fusions = planFusions(graph, o);
  const fusionOf = new Map<tf.layers.Layer, Fusion>();
  for (const f of fusions) for (const l of [f.pad, f.head, f.bn, f.add, f.activationLayer]) if (l) fusionOf.set(l, f);

  const mapped = new Map<number, tf.SymbolicTensor>();
  const get = (t: tf.SymbolicTensor): tf.SymbolicTensor => {
    const m = mapped.get(t.id);
    if (!m) throw new Error(`toInference: tensor ${t.name} used before it was built (graph order).`);
    return m;
  };
  for (const layer of graph.layers) {
    const node = graph.node(layer);
    const cls = layer.getClassName();
    if (cls === 'InputLayer') {
      const t = node.outputs[0]!;
      const input = tf.input({ shape: t.shape.slice(1) as number[], dtype: t.dtype, name: layer.name });
      mapped.set(t.id, input);
      continue;
    }
    const f = fusionOf.get(layer);
    if (f) {
      if (layer !== f.last) continue; // absorbed: only the fusion's last member's output is read outside it
      const x = get(f.input);
      const fused = fusedLayer(f, x.shape[x.shape.length - 1] as number);
      const values = fusedWeights(f, fused.useBias);
      let y: tf.SymbolicTensor;
      try {
        y = buildFrom(values, () => fused.apply(f.residual ? [x, get(f.residual)] : x) as tf.SymbolicTensor); // built with its values
      } finally {
        tf.dispose(values);
      }
      if (releaseSource) release([...new Set([f.head, f.bn])].filter((l): l is tf.layers.Layer => l !== undefined), fused);
      mapped.set(graph.output(f.last).id, y);
      continue;
    }
    const linear = cls === 'Activation' && layer.getConfig().activation === 'linear';
    if (REMOVED_AT_INFERENCE.has(cls) || linear) {
      mapped.set(node.outputs[0]!.id, get(node.inputs[0]!));
      continue;
    }
    const clone = cloneLayer(layer);
    const args = node.inputs.map(get);
    const outs = one(clone.apply(args.length === 1 ? args[0]! : args) as tf.SymbolicTensor | tf.SymbolicTensor[]);
    if (layer.weights.length > 0) clone.setWeights(layer.getWeights());
    outs.forEach((t, i) => mapped.set(node.outputs[i]!.id, t));
  }
  const inputs = model.inputs.map(get);
  const outputs = model.outputs.map(get);
  return tf.model({ inputs: inputs.length === 1 ? inputs[0]! : inputs, outputs: outputs.length === 1 ? outputs[0]! : outputs, name: model.name });
}

/** Per class of the inference model's layers, how many: a quick report of what the transform did. */
export function layerCensus(model: tf.LayersModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of model.layers) out[l.getClassName()] = (out[l.getClassName()] ?? 0) + 1;
  return out;
}
