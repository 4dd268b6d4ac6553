/**
 * A minimal ZIP reader (the container of PyTorch >= 1.6 checkpoints): central directory, stored and
 * deflated entries, ZIP64 sizes. Every offset is checked against the file before use. Against zip
 * bombs: entries may not overlap (so no two names share compressed data), and everything inflated from
 * one archive may not exceed 100 times its size plus 64 MiB (checked before allocating).
 */
import { inflateSync } from 'fflate';
import { ByteReader, corrupt, unsupported } from './bytes.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the local file header. */
  headerOffset: number;
}

const EOCD = 0x06054b50, EOCD64 = 0x06064b50, EOCD64_LOCATOR = 0x07064b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
const MAX_ENTRIES = 1 << 20;
/** Inflated bytes allowed per archive byte (trained weights compress < 2:1), plus a fixed allowance. */
const MAX_INFLATE_RATIO = 100;
const INFLATE_SLACK = 64 << 20;

export const isZip = (bytes: Uint8Array): boolean => bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  /** Bytes that deflated entries of this archive may still inflate to. */
  private inflateBudget: number;

  constructor(readonly bytes: Uint8Array, readonly source: string) {
    this.inflateBudget = bytes.length * MAX_INFLATE_RATIO + INFLATE_SLACK;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let eocd = -1;
    for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
      if (view.getUint32(i, true) === EOCD) { eocd = i; break; }
    }
    if (eocd < 0) throw corrupt(source, 'no ZIP end-of-central-directory record (the archive is truncated)');
    const r = new ByteReader(bytes, source, eocd + 4);
    r.u16(); r.u16(); r.u16();
    let count = r.u16('entry count');
    let cdSize = r.u32('central directory size');
    let cdOffset = r.u32('central directory offset');
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || view.getUint32(loc, true) !== EOCD64_LOCATOR) throw corrupt(source, 'ZIP64 locator missing');
      const l = new ByteReader(bytes, source, loc + 8);
      const z64 = l.u64('ZIP64 record offset');
      const z = new ByteReader(bytes, source, z64);
      if (z.u32('ZIP64 signature') !== EOCD64) throw corrupt(source, 'bad ZIP64 end record');
      z.u64(); z.u16(); z.u16(); z.u32(); z.u32(); z.u64();
      count = z.u64('ZIP64 entry count');
      cdSize = z.u64('ZIP64 central directory size');
      cdOffset = z.u64('ZIP64 central directory offset');
    }
    if (count > MAX_ENTRIES) throw corrupt(source, `${count} ZIP entries is implausible`);
    if (cdOffset + cdSize > bytes.length) throw corrupt(source, `central directory (${cdOffset}+${cdSize}) lies beyond the ${bytes.length}-byte file`);
    const c = new ByteReader(bytes, source, cdOffset, cdOffset + cdSize);
    for (let i = 0; i < count; i++) {
      if (c.u32('central header') !== CENTRAL) throw corrupt(source, `ZIP central directory entry ${i} has a bad signature`);
      c.u16(); c.u16();
      const flags = c.u16();
      const method = c.u16();
      c.u16(); c.u16(); c.u32();
      let compressedSize = c.u32('compressed size'), size = c.u32('size');
      const nameLen = c.u16(), extraLen = c.u16(), commentLen = c.u16();
      c.u16(); c.u16(); c.u32();
      let headerOffset = c.u32('local header offset');
      const name = c.utf8(nameLen, 'entry name');
      const extra = new ByteReader(c.take(extraLen, 'extra field'), source);
      c.take(commentLen, 'comment');
      while (extra.remaining >= 4) {
        const id = extra.u16(), len = extra.u16();
        const body = new ByteReader(extra.take(len, 'extra field'), source);
        if (id !== 0x0001) continue;
        if (size === 0xffffffff) size = body.u64('ZIP64 size');
        if (compressedSize === 0xffffffff) compressedSize = body.u64('ZIP64 compressed size');
        if (headerOffset === 0xffffffff) headerOffset = body.u64('ZIP64 offset');
      }
      if (flags & 1) throw unsupported(source, `ZIP entry "${name}" is encrypted`);
      if (this.entries.has(name)) throw corrupt(source, `ZIP entry "${name}" appears twice`);
      this.entries.set(name, { name, method, compressedSize, size, headerOffset });
    }
    this.checkLayout(cdOffset);
  }

  /** Entries lie one after another before the central directory: none overlaps another. */
  private checkLayout(cdOffset: number): void {
    const sorted = [...this.entries.values()].sort((a, b) => a.headerOffset - b.headerOffset);
    let end = 0, prev = '';
    for (const e of sorted) {
      if (e.headerOffset < end) throw corrupt(this.source, `ZIP entries "${prev}" and "${e.name}" overlap (a zip bomb or a corrupt directory)`);
      const r = new ByteReader(this.bytes, this.source, e.headerOffset);
      r.pos += 26;
      const nameLen = r.u16('local name length'), extraLen = r.u16('local extra length');
      end = e.headerOffset + 30 + nameLen + extraLen + e.compressedSize;
      prev = e.name;
      if (end > cdOffset) throw corrupt(this.source, `data of ZIP entry "${e.name}" runs into the central directory`);
    }
  }

  names(): string[] { return [...this.entries.keys()]; }

  /** The bytes of entry `name` (a view for stored entries). */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw corrupt(this.source, `ZIP entry "${name}" is missing`);
    const r = new ByteReader(this.bytes, this.source, e.headerOffset);
    if (r.u32('local header') !== LOCAL) throw corrupt(this.source, `ZIP entry "${name}" has a bad local header`);
    r.pos += 22;
    const nameLen = r.u16(), extraLen = r.u16();
    r.take(nameLen + extraLen, 'local header names');
    const data = r.take(e.compressedSize, `data of ZIP entry "${name}"`);
    if (e.method === 0) {
      if (e.size !== e.compressedSize) throw corrupt(this.source, `stored ZIP entry "${name}" has mismatched sizes`);
      return data;
    }
    if (e.method === 8) {
      if (e.size > 2 ** 31) throw corrupt(this.source, `ZIP entry "${name}" claims ${e.size} bytes`);
      if (e.size > this.inflateBudget) {
        throw corrupt(this.source, `ZIP entry "${name}" would inflate ${e.compressedSize} bytes to ${e.size}, more than ` +
          `${MAX_INFLATE_RATIO}x the ${this.bytes.length}-byte archive allows (a zip bomb or a corrupt size)`);
      }
      this.inflateBudget -= e.size;
      // One spare byte: fflate silently stops at the end of a given buffer, so a longer stream shows as size + 1.
      const out = new Uint8Array(e.size + 1);
      let got: Uint8Array;
      try {
        got = inflateSync(data, { out });
      } catch (err) {
        throw corrupt(this.source, `ZIP entry "${name}" does not inflate (${(err as Error).message})`);
      }
      if (got.length !== e.size) {
        throw corrupt(this.source, `ZIP entry "${name}" inflates to ${got.length > e.size ? `more than ${e.size}` : got.length} bytes, its directory says ${e.size}`);
      }
      return out.subarray(0, e.size);
    }
    throw unsupported(this.source, `ZIP entry "${name}" uses compression method ${e.method}`, 'Only stored and deflated entries are supported.');
  }
}
