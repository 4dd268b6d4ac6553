/**
 * Keras / TF.js layers weight names (`<layer>/<role>`) and layouts (conv HWIO, depthwise HW C m, dense
 * [in, out]) -> PyTorch-layout state_dict keys (`<layer>.<suffix>`), so the one mapping engine loads them.
 */
import { transpose } from '../arrays.js';
import type { NamedArray, StateDict } from '../arrays.js';
import { CnnZooError } from '../errors.js';

const SUFFIX: Readonly<Record<string, string>> = {
  kernel: 'weight', depthwise_kernel: 'weight', bias: 'bias', gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var',
};

/** One Keras weight in PyTorch layout. */
export function kerasToTorch(layer: string, role: string, a: NamedArray, source: string): [string, NamedArray] {
  const suffix = SUFFIX[role];
  if (!suffix) throw new CnnZooError(`${source}: weight "${layer}/${role}" has a role cnn-zoo does not know (known: ${Object.keys(SUFFIX).join(', ')}).`, 'UNSUPPORTED_CHECKPOINT');
  const s = a.shape;
  if (role === 'kernel' && s.length === 4) return [`${layer}.${suffix}`, { shape: [s[3]!, s[2]!, s[0]!, s[1]!], data: transpose(a.data, s, [3, 2, 0, 1]) }];
  if (role === 'kernel' && s.length === 2) return [`${layer}.${suffix}`, { shape: [s[1]!, s[0]!], data: transpose(a.data, s, [1, 0]) }];
  if (role === 'depthwise_kernel' && s.length === 4) return [`${layer}.${suffix}`, { shape: [s[2]! * s[3]!, 1, s[0]!, s[1]!], data: transpose(a.data, s, [2, 3, 0, 1]) }];
  return [`${layer}.${suffix}`, a];
}

/** Split a Keras/tfjs weight name (`conv1/kernel`, `conv1/kernel:0`, `model/conv1/kernel`) into layer and role. */
export function splitWeightName(name: string): [string, string] {
  const clean = name.replace(/:\d+$/, '');
  const i = clean.lastIndexOf('/');
  return i < 0 ? ['', clean] : [clean.slice(0, i), clean.slice(i + 1)];
}

/** Named Keras arrays -> StateDict. */
export function kerasStateDict(named: Iterable<[string, NamedArray]>, source: string): StateDict {
  const out: StateDict = new Map();
  for (const [name, array] of named) {
    const [layer, role] = splitWeightName(name);
    const [key, a] = kerasToTorch(layer.slice(layer.lastIndexOf('/') + 1), role, array, source);
    if (out.has(key)) throw new CnnZooError(`${source}: two weights map to "${key}" (one is "${name}").`, 'BAD_CHECKPOINT');
    out.set(key, a);
  }
  return out;
}
