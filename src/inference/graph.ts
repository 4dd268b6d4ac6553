/**
 * Read-only view of a functional LayersModel's graph: each layer's single application (node), who consumes
 * each symbolic tensor, and which tensors are model outputs. tfjs keeps this in untyped internals
 * (`inboundNodes`); this module is the one place that reads them.
 */
import type * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';

export interface GraphNode {
  inputs: tf.SymbolicTensor[];
  outputs: tf.SymbolicTensor[];
}

interface RawNode {
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}

export class ModelGraph {
  private readonly nodes = new Map<tf.layers.Layer, GraphNode>();
  private readonly consumers = new Map<number, tf.layers.Layer[]>();
  private readonly producers = new Map<number, tf.layers.Layer>();
  private readonly outputIds: Set<number>;

  constructor(readonly model: tf.LayersModel) {
    for (const layer of model.layers) {
      const raw = (layer as unknown as { inboundNodes: RawNode[] }).inboundNodes;
      if (raw.length !== 1) {
        throw new CnnZooError(`Model "${model.name}": layer "${layer.name}" is applied ${raw.length} times; ` +
          'the inference transform handles functional graphs whose layers are applied once (every zoo model).', 'UNSUPPORTED_GRAPH');
      }
      const node = { inputs: [...raw[0]!.inputTensors], outputs: [...raw[0]!.outputTensors] };
      this.nodes.set(layer, node);
      for (const t of node.inputs) {
        const list = this.consumers.get(t.id) ?? [];
        list.push(layer);
        this.consumers.set(t.id, list);
      }
      for (const t of node.outputs) this.producers.set(t.id, layer);
    }
    this.outputIds = new Set(model.outputs.map((t) => t.id));
  }

  /** Layers in topological order. */
  get layers(): tf.layers.Layer[] {
    return this.model.layers;
  }

  node(layer: tf.layers.Layer): GraphNode {
    return this.nodes.get(layer)!;
  }

  /** The single output of `layer` (throws for multi-output layers, which the zoo does not use). */
  output(layer: tf.layers.Layer): tf.SymbolicTensor {
    const outs = this.node(layer).outputs;
    if (outs.length !== 1) throw new CnnZooError(`Layer "${layer.name}" has ${outs.length} outputs; expected 1.`, 'UNSUPPORTED_GRAPH');
    return outs[0]!;
  }

  producer(t: tf.SymbolicTensor): tf.layers.Layer | undefined {
    return this.producers.get(t.id);
  }

  isOutput(t: tf.SymbolicTensor): boolean {
    return this.outputIds.has(t.id);
  }

  /** The one layer that reads `t`, if exactly one does and `t` is not a model output. */
  soleConsumer(t: tf.SymbolicTensor): tf.layers.Layer | null {
    const list = this.consumers.get(t.id) ?? [];
    return list.length === 1 && !this.isOutput(t) ? list[0]! : null;
  }
}
