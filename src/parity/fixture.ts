/**
 * Loader for parity fixtures (`cnn-zoo-fixture/1`, see shared/fixtures/SPEC.md): gzipped JSON pinning one
 * architecture to a PyTorch reference. Tensors are regenerated with `det()` or decoded from base64.
 */
import { gunzipSync, strFromU8 } from 'fflate';
import { det } from './det.js';
import type { StateDict } from '../arrays.js';

interface RawParam { key: string; shape: number[]; scale?: number; b64?: string }
interface RawFixture {
  name: string;
  reference: string;
  /** H = W, or [H, W] for a non-square input (fixtures at other sizes). */
  input_size: number | [number, number];
  param_count: number;
  flops_conv_linear_bs1: number | null;
  params: RawParam[];
  input: { seed: string; shape: number[]; layout: string; scale: number };
  logits: { shape: number[]; b64: string };
  pre_logits?: { shape: number[]; b64: string };
  tolerance: number;
  reference_meta?: Record<string, unknown>;
}

export interface Fixture {
  name: string;
  reference: string;
  /** [height, width] of the input (`input.shape[2..3]`). */
  inputSize: [number, number];
  paramCount: number;
  flops: number | null;
  tolerance: number;
  /** The reference state_dict, keys in their original order. */
  stateDict: StateDict;
  /** Input in NCHW order, shape `inputShape`. */
  input: Float32Array;
  inputShape: [number, number, number, number];
  logits: Float32Array;
  logitsShape: [number, number];
  referenceMeta: Record<string, unknown>;
}

function decodeB64(b64: string): Float32Array {
  const bin = typeof Buffer !== 'undefined' ? Buffer.from(b64, 'base64') : Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const copy = new Uint8Array(bin.byteLength);
  copy.set(bin);
  return new Float32Array(copy.buffer);
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Parse a fixture from its gzipped (or plain) JSON bytes. `source` names it in error messages. */
export function parseFixture(bytes: Uint8Array, source = 'fixture'): Fixture {
  let text: string;
  try {
    text = bytes[0] === 0x1f && bytes[1] === 0x8b ? strFromU8(gunzipSync(bytes)) : strFromU8(bytes);
  } catch (e) {
    throw new Error(`${source}: not a valid gzip file (${(e as Error).message}). Fixtures are gzipped JSON.`);
  }
  let raw: RawFixture;
  try {
    raw = JSON.parse(text) as RawFixture;
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message}).`);
  }
  for (const field of ['name', 'input_size', 'params', 'input', 'logits'] as const) {
    if (raw[field] === undefined) throw new Error(`${source}: missing field "${field}"; expected format cnn-zoo-fixture/1.`);
  }
  const stateDict: StateDict = new Map();
  for (const p of raw.params) {
    const n = numel(p.shape);
    let data: Float32Array;
    if (p.b64 !== undefined) data = decodeB64(p.b64);
    else if (p.scale !== undefined) data = det(p.key, n, p.scale);
    else throw new Error(`${source}: param "${p.key}" has neither "scale" nor "b64".`);
    if (data.length !== n) throw new Error(`${source}: param "${p.key}" holds ${data.length} values, shape [${p.shape}] needs ${n}.`);
    stateDict.set(p.key, { shape: p.shape, data });
  }
  const s = raw.input.shape;
  if (s.length !== 4 || s[1] !== 3) throw new Error(`${source}: input shape [${s}] is not [N,3,H,W].`);
  const declared = typeof raw.input_size === 'number' ? [raw.input_size, raw.input_size] : raw.input_size;
  if (declared[0] !== s[2] || declared[1] !== s[3]) throw new Error(`${source}: input_size ${JSON.stringify(raw.input_size)} disagrees with input shape [${s}].`);
  const logits = decodeB64(raw.logits.b64);
  return {
    name: raw.name,
    reference: raw.reference,
    inputSize: [s[2]!, s[3]!],
    paramCount: raw.param_count,
    flops: raw.flops_conv_linear_bs1,
    tolerance: raw.tolerance ?? 1e-4,
    stateDict,
    input: det(raw.input.seed, numel(s), raw.input.scale),
    inputShape: [s[0]!, s[1]!, s[2]!, s[3]!],
    logits,
    logitsShape: [raw.logits.shape[0]!, raw.logits.shape[1]!],
    referenceMeta: raw.reference_meta ?? {},
  };
}

/** Read and parse a fixture file (Node). */
export async function loadFixture(path: string): Promise<Fixture> {
  const { readFile } = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`Cannot read fixture "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Check the path.`);
  }
  return parseFixture(bytes, path);
}
