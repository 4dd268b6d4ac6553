/**
 * NumPy `.npy` arrays (format versions 1-3): magic, a Python-literal header `{'descr', 'fortran_order',
 * 'shape'}`, then the raw data. Decoded to float32 in C order.
 */
import { ByteReader, corrupt, decodeElements, numelOf, unsupported, DTYPE_SIZE, type DType } from './bytes.js';
import { transpose } from '../arrays.js';
import type { NamedArray } from '../arrays.js';

/** numpy itself refuses headers over 10000 bytes by default (`max_header_size`). */
const MAX_HEADER = 1 << 16;

const KINDS: Readonly<Record<string, DType>> = {
  f4: 'float32', f8: 'float64', f2: 'float16', i8: 'int64', i4: 'int32', i2: 'int16', i1: 'int8', u1: 'uint8', u2: 'uint16', u4: 'uint32', b1: 'bool',
};

function parseHeader(text: string, source: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw corrupt(source, `npy header "${text.trim()}" lacks descr/fortran_order/shape`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw corrupt(source, `npy shape (${shapeText}) is invalid`);
  return { descr, fortran: fortran === 'True', shape };
}

export const isNpy = (bytes: Uint8Array): boolean => bytes.length >= 6 && bytes[0] === 0x93 && String.fromCharCode(...bytes.subarray(1, 6)) === 'NUMPY';

/** Read one `.npy` file. */
export function readNpy(bytes: Uint8Array, source = 'array'): NamedArray {
  if (!isNpy(bytes)) throw corrupt(source, 'no \\x93NUMPY magic: not a .npy file');
  const r = new ByteReader(bytes, source, 6);
  const major = r.u8('npy version');
  r.u8('npy version');
  if (major < 1 || major > 3) throw unsupported(source, `.npy format version ${major}`);
  const headerLen = major === 1 ? r.u16('header length') : r.u32('header length');
  if (headerLen > MAX_HEADER) throw corrupt(source, `npy header length ${headerLen} is implausible (numpy writes at most a few hundred bytes)`);
  const header = parseHeader(r.latin1(headerLen, 'npy header'), source);
  const m = /^([<>|=])([a-z])(\d+)$/.exec(header.descr);
  const dtype = m ? KINDS[`${m[2]}${m[3]}`] : undefined;
  if (!m || !dtype) throw unsupported(source, `.npy dtype "${header.descr}"`, 'Supported: float16/32/64, (u)int8-64, bool.');
  const n = numelOf(header.shape, source, 'array');
  r.need(n * DTYPE_SIZE[dtype], `${n} values of ${header.descr}`);
  if (r.remaining !== n * DTYPE_SIZE[dtype]) throw corrupt(source, `npy data holds ${r.remaining} bytes, shape (${header.shape.join(', ')}) of ${header.descr} needs ${n * DTYPE_SIZE[dtype]}`);
  let data = decodeElements(r.take(n * DTYPE_SIZE[dtype]), dtype, n, source, 'array', m[1] !== '>');
  if (header.fortran && header.shape.length > 1) {
    const rev = [...header.shape].reverse();
    data = transpose(data, rev, rev.map((_, i) => rev.length - 1 - i));
  }
  return { shape: header.shape, data };
}

/** Write a float32 `.npy` (version 1). */
export function writeNpy(array: NamedArray): Uint8Array {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + array.data.length * 4);
  out.set([0x93, ...Array.from('NUMPY', (c) => c.charCodeAt(0)), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Array.from(header, (c) => c.charCodeAt(0)), 10);
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), 10 + header.length);
  return out;
}
