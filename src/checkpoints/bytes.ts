/**
 * Bounded binary reading for checkpoint readers: every length and offset is checked against the bytes
 * that exist before anything is allocated, and failures name the file and the field.
 */
import { CnnZooError } from '../errors.js';

/** A checkpoint is corrupt or truncated: names the file and what is wrong. */
export function corrupt(source: string, problem: string): CnnZooError {
  return new CnnZooError(`${source}: ${problem}. The file is corrupt, truncated or not this format.`, 'BAD_CHECKPOINT');
}

/** A checkpoint is valid but uses something this reader does not support. */
export function unsupported(source: string, problem: string, fix = ''): CnnZooError {
  return new CnnZooError(`${source}: ${problem}.${fix ? ' ' + fix : ''}`, 'UNSUPPORTED_CHECKPOINT');
}

/** Little-endian cursor over bytes, refusing reads past the end. */
export class ByteReader {
  pos: number;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array, readonly source: string, start = 0, readonly end = bytes.length) {
    if (end > bytes.length || start > end) throw corrupt(source, `range ${start}..${end} lies outside the ${bytes.length}-byte file`);
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number { return this.end - this.pos; }

  /** Throw unless `n` more bytes exist (before reading `what`). */
  need(n: number, what: string): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.end - this.pos) {
      throw corrupt(this.source, `${what} needs ${n} bytes at offset ${this.pos}, but only ${Math.max(0, this.end - this.pos)} remain`);
    }
  }

  u8(what = 'byte'): number { this.need(1, what); return this.bytes[this.pos++]!; }
  u16(what = 'uint16'): number { this.need(2, what); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  u32(what = 'uint32'): number { this.need(4, what); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  i32(what = 'int32'): number { this.need(4, what); const v = this.view.getInt32(this.pos, true); this.pos += 4; return v; }
  /** An unsigned 64-bit field that must fit a safe JS integer (it is a size or offset). */
  u64(what = 'uint64'): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(this.source, `${what} is ${v}, larger than any file`);
    return Number(v);
  }
  i64(what = 'int64'): bigint { this.need(8, what); const v = this.view.getBigInt64(this.pos, true); this.pos += 8; return v; }
  f64(what = 'float64'): number { this.need(8, what); const v = this.view.getFloat64(this.pos, true); this.pos += 8; return v; }
  f64be(what = 'float64'): number { this.need(8, what); const v = this.view.getFloat64(this.pos, false); this.pos += 8; return v; }
  /** A view (not a copy) of the next `n` bytes. */
  take(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  utf8(n: number, what = 'string'): string { return new TextDecoder('utf-8').decode(this.take(n, what)); }
  latin1(n: number, what = 'string'): string { return latin1(this.take(n, what)); }
  /** Bytes up to (not including) `byte`, consuming it; refuses lines longer than `max`. */
  until(byte: number, what: string, max = 1 << 16): Uint8Array {
    const stop = Math.min(this.end, this.pos + max + 1);
    for (let i = this.pos; i < stop; i++) {
      if (this.bytes[i] === byte) {
        const out = this.bytes.subarray(this.pos, i);
        this.pos = i + 1;
        return out;
      }
    }
    throw corrupt(this.source, `${what} at offset ${this.pos} is not terminated`);
  }
}

/** Bytes as Latin-1 text (code point = byte), in chunks so long strings cost no more than their bytes. */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/**
 * Caps how many values a reader may decode from one file, so a small file cannot expand into huge
 * allocations by pointing many tensors at the same bytes (shared pickle storages, flatbuffer tables,
 * ONNX initializers, HDF5 datasets). Real checkpoints decode to at most ~3 values per file byte
 * (uint8 weights, dequantized and transposed); the cap is 4 per byte plus 1M.
 */
export class DecodeBudget {
  private left: number;
  constructor(readonly source: string, readonly fileBytes: number, perByte = 4, slack = 1 << 20) {
    this.left = fileBytes * perByte + slack;
  }

  /** Account for `n` more decoded values (before allocating them). */
  take(n: number, what: string): void {
    if (!(n <= this.left)) {
      throw corrupt(this.source, `${what} would decode ${n} more values, more than a ${this.fileBytes}-byte file can hold ` +
        '(tensors that share or overlap the same bytes many times over)');
    }
    this.left -= n;
  }
}

/** Element data types the readers decode to float32. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'uint16' | 'uint32' | 'bool';

export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, uint16: 2, uint32: 4, bool: 1,
};

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Decode `count` little-endian elements of `dtype` starting at `bytes[0]` to float32 (copying). */
export function decodeElements(bytes: Uint8Array, dtype: DType, count: number, source: string, what: string, littleEndian = true): Float32Array {
  const size = DTYPE_SIZE[dtype];
  if (bytes.length < count * size) throw corrupt(source, `${what} needs ${count * size} bytes of ${dtype} data but has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  const out = new Float32Array(count);
  const le = littleEndian;
  switch (dtype) {
    case 'float32':
      if (le && bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, count));
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, le);
      break;
    case 'float64': for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, le); break;
    case 'float16': for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, le)); break;
    case 'bfloat16': {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) { tmp.setUint32(0, view.getUint16(i * 2, le) << 16); out[i] = tmp.getFloat32(0); }
      break;
    }
    case 'int64': for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, le)); break;
    case 'int32': for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, le); break;
    case 'uint32': for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, le); break;
    case 'int16': for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, le); break;
    case 'uint16': for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, le); break;
    case 'int8': for (let i = 0; i < count; i++) out[i] = view.getInt8(i); break;
    case 'uint8': case 'bool': for (let i = 0; i < count; i++) out[i] = bytes[i]!; break;
  }
  return out;
}

/**
 * A value read from a file, for an error message: numbers and (shortened) strings as they are, anything
 * else by its type, without recursing (parsed JSON or pickles can nest arrays millions deep).
 */
export function show(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'string') return v.length > 80 ? `${v.slice(0, 80)}...` : v;
  return `<${Array.isArray(v) ? 'array' : typeof v}>`;
}

/** A shape from a file, for an error message (at most 8 dimensions shown). */
export const showShape = (shape: readonly unknown[]): string => `[${shape.slice(0, 8).map(show).join(', ')}${shape.length > 8 ? ', ...' : ''}]`;

/** Product of a shape, refusing negative, fractional or absurd dimensions. */
export function numelOf(shape: readonly number[], source: string, what: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw corrupt(source, `${what} has invalid shape ${showShape(shape)}`);
    n *= d;
    if (n > 2 ** 31) throw corrupt(source, `${what} has ${n}+ elements (shape ${showShape(shape)}), more than any supported tensor`);
  }
  return n;
}
