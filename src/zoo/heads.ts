/**
 * Generic head contract (timm style) for any zoo model: where its feature stages are, and what its pre-logits
 * (embedding) layer is. Derived from the graph, so every family gets `features()` and `embed()` for free.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import type { FeatureStage, ModelSpec } from './types.js';
import { resolveOptions } from './registry.js';
import { withoutInitialisation } from './ops.js';

interface Backbone { names: ReadonlySet<string>; reductions: ReadonlyMap<string, number> }
const backbones = new Map<string, Backbone>();

/** `spec` built without its classifier at `size` (once per model and size): its layer names and each 4D layer's reduction. */
function backbone(spec: ModelSpec, size: number): Backbone {
  const key = `${spec.name}@${size}`;
  let b = backbones.get(key);
  if (!b) {
    // A build initialises every weight (0.9 s for ResNet-50, 3 s for NASNet-A Large here): built without.
    const m = withoutInitialisation(() => spec.build(resolveOptions(spec, { inputSize: size, includeTop: false })));
    b = { names: new Set(m.layers.map((l) => l.name)), reductions: new Map(m.layers.flatMap((l) => {
      const r = reductionOf(l, size);
      return r === undefined ? [] : [[l.name, r] as const];
    })) };
    m.dispose();
    backbones.set(key, b);
  }
  return b;
}

/** The layer names of `spec` built without its classifier (its feature extractor, the backbone), at `size`. */
export function featureLayerNames(spec: ModelSpec, size: number): ReadonlySet<string> {
  return backbone(spec, size).names;
}

/**
 * Each backbone layer's reduction of the input, measured where it is unambiguous: at the model's own input size. At a
 * small one the nearest power of two misnames maps (Inception v3 at 75 px: its 3x3 map at /16 came out as /32, its
 * 1x1 at /32 as /64; MobileNet v2 at 40 px: the 3x3 and 2x2 maps both as /16).
 */
export function featureLayerReductions(spec: ModelSpec): ReadonlyMap<string, number> {
  return backbone(spec, spec.inputSize).reductions;
}

/** The power of two nearest to how many times `layer`'s 4D output is smaller than the input (`inH` rows). */
function reductionOf(layer: tf.layers.Layer, inH: number): number | undefined {
  const out = layer.outputShape;
  if (!is4D(out) || out[1] == null || layer.getClassName() === 'InputLayer') return undefined;
  return 2 ** Math.round(Math.log2(inH / out[1]));
}

/**
 * Whether `model` outputs pooled features: built with `includeTop: false` and `pooling`, it ends in that global pool,
 * which no classifier of the zoo ends in (the parity tests check each fixture's classifier).
 */
export function outputsPooledFeatures(model: tf.LayersModel): boolean {
  return model.outputs[0]!.shape.length === 2 && /^Global(Average|Max)Pooling2D$/.test(model.layers.at(-1)!.getClassName());
}

/** Whether `model` ends in a classifier (one score per class), not in features (`includeTop: false`). */
export function hasClassifier(model: tf.LayersModel): boolean {
  return model.outputs[0]!.shape.length === 2 && !outputsPooledFeatures(model);
}

/** What a model without its classifier says when asked for classes (`where`: the call); the fix ends it. */
export const noClassifier = (where: string, fix: string): CnnZooError =>
  new CnnZooError(`${where} has no classifier (built or saved with includeTop: false), so it gives features, not classes: ${fix}`, 'NO_CLASSIFIER');

const is4D = (s: tf.Shape | tf.Shape[]): s is tf.Shape => !Array.isArray(s[0]) && s.length === 4;

/** Layers that only pad or crop their input for the next layer: their output is no feature map of its own. */
const GEOMETRY = new Set(['ZeroPadding2D', 'Cropping2D']);

/**
 * The layers of `model` that every path from its input to its output passes through (a block's output, not a branch
 * inside the next block, such as the first conv of a ResNet block beside its downsampling shortcut): in topological
 * order, those that no connection jumps over.
 */
function cutPoints(model: tf.LayersModel): Set<string> {
  const index = new Map(model.layers.map((l, i) => [l.name, i]));
  const reach = new Array<number>(model.layers.length).fill(-1); // per layer: the furthest layer an earlier one feeds
  for (const [i, layer] of model.layers.entries()) {
    for (const node of layer.inboundNodes) {
      for (const from of node.inboundLayers) {
        const j = index.get(from.name);
        if (j !== undefined && j < i - 1) for (let k = j + 1; k < i; k++) reach[k] = Math.max(reach[k]!, i);
      }
    }
  }
  return new Set(model.layers.filter((_, i) => reach[i] === -1).map((l) => l.name));
}

/**
 * Feature stages of `model`: for each power-of-two reduction of the input, the last layer (in topological order)
 * whose 4D output has that resolution and that every path passes through (`cutPoints`: a block's output, as timm's
 * `features_only` taps ResNet's layer1..layer4), else the last layer at that resolution; never a layer that only pads
 * or crops for the next one, nor a map coarser than the last (an SE block's 1x1 gate). The training and inference
 * forms give the same stages. `featureLayers` restricts the search to the feature extractor (the layer names of the
 * same architecture built with `includeTop: false`), so conv classifiers are not mistaken for stages; `reductions`
 * (`featureLayerReductions`) names each layer's reduction where the input size makes its shape ambiguous.
 */
export function featureStages(model: tf.LayersModel, featureLayers?: ReadonlySet<string>, reductions?: ReadonlyMap<string, number>): FeatureStage[] {
  const inH = model.inputs[0]!.shape[1] as number;
  const cuts = cutPoints(model);
  const last = new Map<number, FeatureStage>(), lastCut = new Map<number, FeatureStage>();
  let final = 0; // the reduction of the last feature map: a coarser one is a gate (an SE block's 1x1 map), not a stage
  for (const layer of model.layers) {
    if (featureLayers && !featureLayers.has(layer.name)) continue;
    const shapeReduction = reductionOf(layer, inH);
    if (shapeReduction === undefined || GEOMETRY.has(layer.getClassName())) continue;
    const reduction = reductions?.get(layer.name) ?? shapeReduction;
    if (reduction < 2) continue;
    const stage = { layer: layer.name, channels: (layer.outputShape as number[])[3]!, reduction };
    last.set(reduction, stage);
    if (cuts.has(layer.name)) lastCut.set(reduction, stage);
    final = reduction;
  }
  return [...last.keys()].filter((r) => r <= final).map((r) => lastCut.get(r) ?? last.get(r)!).sort((a, b) => a.reduction - b.reduction);
}

/**
 * The embedding `embed()` returns, when the model computes it itself: the input of its final layer when that is a
 * vector and the layer has weights (a dense classifier: the fixtures' `pre_logits`), else the output of a global
 * average pool of one of the feature `stages` that the classifier reads (TF-slim's conv classifiers), the last such.
 * `stages` is asked for only then: finding them builds the backbone once (ResNet-50: 0.1-0.2 s on wasm).
 */
function embeddingTensor(model: tf.LayersModel, stages: () => readonly FeatureStage[]): tf.SymbolicTensor | undefined {
  const last = model.layers[model.layers.length - 1]!;
  const input = last.input as tf.SymbolicTensor | tf.SymbolicTensor[];
  if (!Array.isArray(input) && input.shape.length === 2 && last.weights.length > 0) return input;
  const names = new Set(stages().map((s) => s.layer));
  // Layers are in topological order: a pool before the last layer with weights feeds the classifier, one after it
  // pools the classes (SqueezeNet).
  const classifier = model.layers.findIndex((l, i) => l.weights.length > 0 && !model.layers.slice(i + 1).some((m) => m.weights.length > 0));
  for (let i = classifier - 1; i >= 0; i--) {
    const l = model.layers[i]!, x = l.input as tf.SymbolicTensor | tf.SymbolicTensor[], out = l.output as tf.SymbolicTensor;
    if (l.getClassName() === 'GlobalAveragePooling2D' && !Array.isArray(x) && names.has(x.sourceLayer.name) && out.shape.length === 2) return out;
  }
  return undefined;
}

/** The layer whose output is the model's embedding (`embeddingTensor`), or undefined (embedModel then pools the last stage). */
export function embeddingLayer(model: tf.LayersModel, stages: () => readonly FeatureStage[]): string | undefined {
  return embeddingTensor(model, stages)?.sourceLayer.name;
}

/**
 * The embedding of a classifier: the model's own (`embeddingTensor`), else the global average of its last feature
 * stage.
 */
export function embeddingModel(model: tf.LayersModel, stages: () => readonly FeatureStage[]): tf.LayersModel {
  const own = embeddingTensor(model, stages);
  if (own) return tf.model({ inputs: model.inputs, outputs: own, name: `${model.name}.embed` });
  const top = stages().at(-1);
  if (!top) throw new Error(`${model.name}: no feature stage to pool for an embedding`);
  const fmap = model.getLayer(top.layer).output as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: `${model.name}.embed.pool` }).apply(fmap) as tf.SymbolicTensor;
  return tf.model({ inputs: model.inputs, outputs: pooled, name: `${model.name}.embed` });
}
