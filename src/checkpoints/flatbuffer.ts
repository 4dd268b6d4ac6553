/**
 * Bounds-checked table access over a `flatbuffers` ByteBuffer: every table, vtable, vector and string
 * position is checked against the buffer before it is read, so a corrupt file fails with a clear error.
 * Tables and vectors may be shared (a flatbuffer is a DAG), so every element read draws on one budget per
 * file: a small file cannot make the reader walk the same big vector millions of times.
 */
import * as flatbuffers from 'flatbuffers';
import { DecodeBudget, corrupt } from './bytes.js';

const budgets = new WeakMap<flatbuffers.ByteBuffer, DecodeBudget>();

export class FbTable {
  constructor(readonly bb: flatbuffers.ByteBuffer, readonly pos: number, readonly source: string, readonly what: string) {
    const cap = bb.capacity();
    if (pos < 0 || pos + 4 > cap) throw corrupt(source, `${what} table at ${pos} lies outside the ${cap}-byte file`);
    const vt = pos - bb.readInt32(pos);
    if (vt < 0 || vt + 4 > cap) throw corrupt(source, `${what} vtable at ${vt} lies outside the file`);
    const vtLen = bb.readUint16(vt);
    if (vt + vtLen > cap || vtLen < 4) throw corrupt(source, `${what} vtable length ${vtLen} is invalid`);
  }

  static root(bytes: Uint8Array, source: string, what: string): FbTable {
    if (bytes.length < 8) throw corrupt(source, `only ${bytes.length} bytes`);
    const bb = new flatbuffers.ByteBuffer(bytes);
    budgets.set(bb, new DecodeBudget(source, bytes.length));
    return new FbTable(bb, bb.readUint32(0), source, what);
  }

  /** The file's decode budget (shared by all its tables). */
  get budget(): DecodeBudget {
    let b = budgets.get(this.bb);
    if (!b) budgets.set(this.bb, (b = new DecodeBudget(this.source, this.bb.capacity())));
    return b;
  }

  /** Absolute position of field `index`, or 0 when absent. */
  private field(index: number, size: number): number {
    const off = this.bb.__offset(this.pos, 4 + 2 * index);
    if (!off) return 0;
    const at = this.pos + off;
    if (at < 0 || at + size > this.bb.capacity()) throw corrupt(this.source, `${this.what} field ${index} at ${at} lies outside the file`);
    return at;
  }

  private target(index: number): number {
    const at = this.field(index, 4);
    if (!at) return 0;
    const to = at + this.bb.readUint32(at);
    if (to + 4 > this.bb.capacity()) throw corrupt(this.source, `${this.what} field ${index} points outside the file`);
    return to;
  }

  has(index: number): boolean { return this.bb.__offset(this.pos, 4 + 2 * index) !== 0; }
  u8(index: number, dflt = 0): number { const a = this.field(index, 1); return a ? this.bb.readUint8(a) : dflt; }
  i8(index: number, dflt = 0): number { const a = this.field(index, 1); return a ? this.bb.readInt8(a) : dflt; }
  i32(index: number, dflt = 0): number { const a = this.field(index, 4); return a ? this.bb.readInt32(a) : dflt; }
  u32(index: number, dflt = 0): number { const a = this.field(index, 4); return a ? this.bb.readUint32(a) : dflt; }
  u64(index: number, dflt = 0): number { const a = this.field(index, 8); return a ? Number(this.bb.readUint64(a)) : dflt; }
  f32(index: number, dflt = 0): number { const a = this.field(index, 4); return a ? this.bb.readFloat32(a) : dflt; }

  string(index: number): string {
    const at = this.target(index);
    if (!at) return '';
    const len = this.bb.readUint32(at);
    if (at + 4 + len > this.bb.capacity()) throw corrupt(this.source, `${this.what} string field ${index} (length ${len}) runs past the file`);
    this.budget.take(len, `${this.what} string field ${index}`);
    return new TextDecoder().decode(this.bb.bytes().subarray(at + 4, at + 4 + len));
  }

  /** Start and length of a vector of `elemSize`-byte elements (charged to the budget unless only viewed). */
  private vector(index: number, elemSize: number, view = false): [number, number] {
    const at = this.target(index);
    if (!at) return [0, 0];
    const len = this.bb.readUint32(at);
    if (at + 4 + len * elemSize > this.bb.capacity()) throw corrupt(this.source, `${this.what} vector field ${index} (${len} elements) runs past the file`);
    if (!view) this.budget.take(len, `${this.what} vector field ${index}`);
    return [at + 4, len];
  }

  /** A view (not a copy) of a byte vector. */
  bytes(index: number): Uint8Array {
    const [start, len] = this.vector(index, 1, true);
    return this.bb.bytes().subarray(start, start + len);
  }
  i32s(index: number): number[] { const [s, n] = this.vector(index, 4); return Array.from({ length: n }, (_, i) => this.bb.readInt32(s + 4 * i)); }
  f32s(index: number): number[] { const [s, n] = this.vector(index, 4); return Array.from({ length: n }, (_, i) => this.bb.readFloat32(s + 4 * i)); }
  i64s(index: number): number[] { const [s, n] = this.vector(index, 8); return Array.from({ length: n }, (_, i) => Number(this.bb.readInt64(s + 8 * i))); }
  tables(index: number, what: string): FbTable[] {
    const [s, n] = this.vector(index, 4);
    return Array.from({ length: n }, (_, i) => new FbTable(this.bb, s + 4 * i + this.bb.readUint32(s + 4 * i), this.source, `${what}[${i}]`));
  }
  table(index: number, what: string): FbTable | undefined {
    const at = this.target(index);
    return at ? new FbTable(this.bb, at, this.source, what) : undefined;
  }
}
