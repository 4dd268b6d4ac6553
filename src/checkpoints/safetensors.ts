/**
 * safetensors (Hugging Face / timm): an 8-byte header length, a JSON header of
 * `{name: {dtype, shape, data_offsets: [begin, end]}}` and one data block. PyTorch layout. As the
 * format requires, tensors may not overlap, so the output never exceeds the data block's values.
 */
import { ByteReader, corrupt, decodeElements, numelOf, show, unsupported, DTYPE_SIZE, type DType } from './bytes.js';
import type { StateDict } from '../arrays.js';

const DTYPES: Readonly<Record<string, DType>> = {
  F32: 'float32', F64: 'float64', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', U16: 'uint16', U32: 'uint32', BOOL: 'bool',
};
const MAX_HEADER = 100 << 20;

interface Entry { dtype: string; shape: number[]; data_offsets: [number, number] }

/** Read a `.safetensors` file into a StateDict (float32). `module.` prefixes are stripped. */
export function readSafetensors(bytes: Uint8Array, source = 'checkpoint'): StateDict {
  const r = new ByteReader(bytes, source);
  const headerLen = r.u64('header length');
  if (headerLen > MAX_HEADER) throw corrupt(source, `safetensors header length ${headerLen} is implausible`);
  const text = r.utf8(headerLen, 'safetensors header');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw corrupt(source, `safetensors header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupt(source, 'safetensors header is not an object');
  const base = r.pos;
  const dataLen = bytes.length - base;
  const out: StateDict = new Map();
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const strip = names.length > 0 && names.every((k) => k.startsWith('module.'));
  const ranges: [number, number, string][] = [];
  for (const name of names) {
    const e = header[name] as Entry;
    if (typeof e !== 'object' || e === null || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      throw corrupt(source, `safetensors entry "${name}" lacks dtype/shape/data_offsets`);
    }
    const dtype = typeof e.dtype === 'string' && Object.hasOwn(DTYPES, e.dtype) ? DTYPES[e.dtype] : undefined;
    if (!dtype) throw unsupported(source, `tensor "${name}" has dtype ${show(e.dtype)}`, `Supported: ${Object.keys(DTYPES).join(', ')}.`);
    const n = numelOf(e.shape, source, `tensor "${name}"`);
    const [begin, end] = e.data_offsets;
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin || end > dataLen) {
      throw corrupt(source, `tensor "${name}" data [${show(begin)}, ${show(end)}) lies outside the ${dataLen}-byte data block`);
    }
    if (end - begin !== n * DTYPE_SIZE[dtype]) throw corrupt(source, `tensor "${name}" has ${end - begin} bytes, shape [${e.shape}] of ${e.dtype} needs ${n * DTYPE_SIZE[dtype]}`);
    ranges.push([begin, end, name]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < ranges.length; i++) {
    const [begin, , name] = ranges[i]!, [, prevEnd, prev] = ranges[i - 1]!;
    if (begin < prevEnd) throw corrupt(source, `tensors "${prev}" and "${name}" overlap in the data block`);
  }
  for (const name of names) {
    const e = header[name] as Entry;
    const dtype = DTYPES[e.dtype]!;
    const n = numelOf(e.shape, source, `tensor "${name}"`);
    const [begin, end] = e.data_offsets;
    const data = decodeElements(bytes.subarray(base + begin, base + end), dtype, n, source, `tensor "${name}"`);
    out.set(strip ? name.slice(7) : name, { shape: e.shape, data });
  }
  return out;
}
