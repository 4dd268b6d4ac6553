/**
 * The one PyTorch -> tfjs weight mapping. Every tfjs weight is addressed by (layer name, role); a role
 * table per layer class says which state_dict suffix feeds it and how the layout changes. Layer names are
 * the reference module paths, so `features.0/kernel` <- `features.0.weight` (OIHW -> HWIO). Families add
 * only naming rules (`KeyRule`) for checkpoints whose keys differ from our layer names.
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import type { KeyRule } from '../zoo/types.js';
import { linearToDense, oihwToHwio } from '../arrays.js';
import type { NamedArray, StateDict } from '../arrays.js';

/** How one tfjs weight role is fed: the source key suffix and the layout transform. */
export interface RoleSource {
  suffix: string;
  transform?: (src: NamedArray, layer: tf.layers.Layer) => Float32Array;
}
export type RoleTable = Readonly<Record<string, RoleSource>>;

const conv: RoleTable = { kernel: { suffix: 'weight', transform: (s) => oihwToHwio(s.data, s.shape) }, bias: { suffix: 'bias' } };
const ROLE_TABLES = new Map<string, RoleTable>([
  ['Conv2D', conv],
  ['DepthwiseConv2D', { depthwise_kernel: conv.kernel!, bias: { suffix: 'bias' } }],
  ['Dense', { kernel: { suffix: 'weight', transform: (s, layer) => linearToDense(s.data, s.shape, s.flattenedHWC ? undefined : flattenedCHW(layer)) }, bias: { suffix: 'bias' } }],
  ['BatchNormalization', { gamma: { suffix: 'weight' }, beta: { suffix: 'bias' }, moving_mean: { suffix: 'running_mean' }, moving_variance: { suffix: 'running_var' } }],
]);

/** Register the role table of a custom layer class (by its `className`). */
export function registerRoleTable(className: string, table: RoleTable): void {
  ROLE_TABLES.set(className, table);
}

/**
 * The role table of a layer: registered for its class, else the built-in one its class declares it stores its
 * weights like (`static weightsLike = 'Conv2D'` on a custom layer: GroupedConv2D, FusedConv2D, FusedDense).
 */
export function roleTableOf(layer: tf.layers.Layer): RoleTable | undefined {
  const like = (layer.constructor as { weightsLike?: string }).weightsLike;
  return ROLE_TABLES.get(layer.getClassName()) ?? (like === undefined ? undefined : ROLE_TABLES.get(like));
}

/** State-dict entries that are bookkeeping, not weights. */
const IGNORED = /(^|\.)num_batches_tracked$/;

/** Layers that pass a flattened vector through unchanged (walked over to find a Flatten). */
const PASS_THROUGH = new Set(['Dropout', 'Activation', 'ReLU']);

/** If `dense` reads a flattened H x W x C map, its [C, H, W] (torch flattens NCHW). */
function flattenedCHW(dense: tf.layers.Layer): [number, number, number] | undefined {
  let layer: tf.layers.Layer | undefined = dense;
  for (let guard = 0; guard < 16; guard++) {
    const node: { inboundLayers: tf.layers.Layer[] } | undefined = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes[0];
    const prev: tf.layers.Layer | undefined = node?.inboundLayers[0];
    if (!prev) return undefined;
    const cls = prev.getClassName();
    if (cls === 'Flatten') {
      const s = (prev.input as tf.SymbolicTensor).shape;
      if (s.length !== 4) return undefined;
      return [s[3] as number, s[1] as number, s[2] as number];
    }
    if (!PASS_THROUGH.has(cls)) return undefined;
    layer = prev;
  }
  return undefined;
}

const roleOf = (w: tf.LayerVariable): string => {
  const name = w.originalName;
  return name.slice(name.lastIndexOf('/') + 1);
};

export interface MappingReport {
  /** tfjs weights assigned. */
  assigned: number;
  /** `layer/role` of tfjs weights no source key fed. */
  missing: string[];
  /** Source keys no tfjs weight used. */
  unused: string[];
}

export interface LoadOptions {
  /** The checkpoint's naming rules (from the model spec's `keyRules`). */
  rule?: KeyRule;
  /** Throw when weights are missing or keys unused (default true). */
  strict?: boolean;
  /** Names the checkpoint in error messages. */
  source?: string;
}

/**
 * Load a PyTorch-layout state_dict into `model`. Throws a `CnnZooError` naming the key and both shapes on a
 * shape mismatch, and (strict) listing missing weights and unused keys.
 */
export function loadStateDict(model: tf.LayersModel, stateDict: StateDict, opts: LoadOptions = {}): MappingReport {
  const source = opts.source ?? 'checkpoint';
  const keyed = new Map<string, { original: string; array: NamedArray }>();
  for (const [key, array] of stateDict) {
    if (IGNORED.test(key)) continue;
    const ours = opts.rule ? opts.rule(key) : key;
    if (ours === null) continue;
    if (keyed.has(ours)) throw new CnnZooError(`${source}: keys "${keyed.get(ours)!.original}" and "${key}" both map to "${ours}".`, 'BAD_CHECKPOINT');
    keyed.set(ours, { original: key, array });
  }
  const used = new Set<string>();
  const missing: string[] = [];
  const assignments: [tf.layers.Layer, tf.Tensor[]][] = [];
  let assigned = 0;
  try {
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      const cls = layer.getClassName();
      const table = roleTableOf(layer);
      if (!table) throw new CnnZooError(`Layer "${layer.name}" (${cls}) has weights but no role table; register one with registerRoleTable().`, 'NO_ROLE_TABLE');
      const values: tf.Tensor[] = [];
      let complete = true;
      for (const w of layer.weights) {
        const role = roleOf(w);
        const rs = table[role];
        if (!rs) throw new CnnZooError(`Layer "${layer.name}" (${cls}): no source for weight role "${role}".`, 'NO_ROLE_TABLE');
        const key = `${layer.name}.${rs.suffix}`;
        const hit = keyed.get(key);
        if (!hit) {
          missing.push(`${layer.name}/${role} (expects key "${key}")`);
          complete = false;
          continue;
        }
        used.add(key);
        const shape = w.shape as number[];
        const numel = shape.reduce((a, b) => a * b, 1);
        const srcNumel = hit.array.shape.reduce((a, b) => a * b, 1);
        if (srcNumel !== numel || hit.array.data.length !== numel) {
          throw new CnnZooError(`${source}: tensor "${hit.original}" has shape [${hit.array.shape}] but layer "${layer.name}" ` +
            `weight "${role}" needs ${numel} values (tfjs shape [${w.shape}]). Is this checkpoint for another model or class count?`, 'SHAPE_MISMATCH');
        }
        const data = rs.transform ? rs.transform(hit.array, layer) : hit.array.data;
        values.push(tf.tensor(data, shape, 'float32'));
      }
      if (complete) {
        assignments.push([layer, values]);
        assigned += values.length;
      } else {
        tf.dispose(values);
      }
    }
    const unused = [...keyed.keys()].filter((k) => !used.has(k)).map((k) => keyed.get(k)!.original);
    const strict = opts.strict ?? true;
    if (strict && (missing.length > 0 || unused.length > 0)) {
      const list = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? `, ... (${xs.length} in all)` : '');
      throw new CnnZooError(`${source} does not fit model "${model.name}": ` +
        (missing.length ? `${missing.length} weights have no source: ${list(missing)}. ` : '') +
        (unused.length ? `${unused.length} checkpoint keys are unused: ${list(unused)}. ` : '') +
        'Check the architecture name and the checkpoint layout.', 'WEIGHTS_MISMATCH');
    }
    for (const [layer, values] of assignments) layer.setWeights(values);
    return { assigned, missing, unused };
  } finally {
    for (const [, values] of assignments) tf.dispose(values);
  }
}
