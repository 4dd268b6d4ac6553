/**
 * Fuzzing checkpoint readers from real files: mutations (truncation, byte flips, length-field inflation,
 * structure shuffles) as fast-check arbitraries, format-aware field finders (ZIP records, pickle opcodes,
 * protobuf lengths), and the oracle every mutated file must satisfy:
 * - the reader throws a CnnZooError whose message names the file, or
 * - it returns well-formed arrays (data.length = product of shape), no more values than the file could
 *   hold, identical to the original's after a truncation (a cut file may only load if nothing it needs
 *   was cut); after flips, inflation or shuffles values may differ (weight bytes carry no checksum);
 * - with no other exception type and no unhandled rejection.
 * No wall-clock bound (a busy machine must not fail a run): the work a file can cause is bounded by what the
 * readers count (decode budget: values per file byte; pickle work units; HDF5's CPU time, not wall time), and a
 * reader that looped would be stopped by mocha's timeout. Times are logged, never asserted.
 * Case counts scale with CNN_ZOO_FUZZ_SCALE (default 1, the CI run); CNN_ZOO_FUZZ_SEED fixes the seed.
 * Also builders for hostile files crafted in tests (pickles op by op, ZIPs whose directory lies).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { deflateSync } from 'fflate';
import { CnnZooError } from '../../src/errors.js';

export interface Arrays { [name: string]: { shape: readonly number[]; data: ArrayLike<number> } }

/** A length/offset field of a known width inside a file. */
export interface Field { at: number; size: 1 | 2 | 4 | 8; littleEndian: boolean; what: string }

export interface FuzzTarget {
  /** Name passed to the reader as its source (must appear in error messages). */
  name: string;
  bytes: Uint8Array;
  /** Reads the bytes into named arrays (or throws). */
  read(bytes: Uint8Array, source: string): Promise<Arrays> | Arrays;
  /** Known length / offset / count fields, for inflation. */
  fields?: Field[];
  /** Byte ranges holding structure (headers, directories), where flips and shuffles are aimed half the time. */
  hot?: [number, number][];
  /** Format-aware rewrites (e.g. a JSON header's shape inflated), given a random source. */
  rewrites?: ((bytes: Uint8Array, rnd: () => number) => Uint8Array)[];
  /** Text formats without an end marker: a cut at a line end may load fewer entries. */
  truncationMayLoad?: boolean;
}

export type Outcome = 'refused' | 'identical' | 'changed';
export interface FuzzReport { cases: number; outcomes: Record<Outcome, number>; byKind: Record<string, number>; slowestMs: number; seed: number }

export const SCALE = Number(process.env['CNN_ZOO_FUZZ_SCALE'] ?? 1);
export const SEED = Number(process.env['CNN_ZOO_FUZZ_SEED'] ?? 20240611);

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- mutations

interface Mutation { kind: string; apply(bytes: Uint8Array): Uint8Array; describe: string }

/** Values that break length checks: all ones, sign bits, the file size and just past it, 2^31, 2^40. */
function interesting(size: number, fileLength: number): bigint[] {
  const max = (1n << BigInt(size * 8)) - 1n;
  return [max, max >> 1n, (max >> 1n) + 1n, BigInt(fileLength), BigInt(fileLength + 1), 1n << 31n, 1n << 40n, BigInt(fileLength) * 1000n]
    .map((v) => v & max).filter((v, i, a) => a.indexOf(v) === i);
}

function writeField(b: Uint8Array, f: Field, v: bigint): void {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (f.at + f.size > b.length) return;
  if (f.size === 1) view.setUint8(f.at, Number(v & 0xffn));
  else if (f.size === 2) view.setUint16(f.at, Number(v & 0xffffn), f.littleEndian);
  else if (f.size === 4) view.setUint32(f.at, Number(v & 0xffffffffn), f.littleEndian);
  else view.setBigUint64(f.at, v, f.littleEndian);
}

/** An offset: half the time inside a hot (structural) range, else anywhere. */
const offsetArb = (length: number, hot: [number, number][]): fc.Arbitrary<number> => {
  const ranges = hot.map(([a, b]) => [Math.max(0, a), Math.min(length, b)] as const).filter(([a, b]) => b > a);
  const anywhere = fc.integer({ min: 0, max: length - 1 });
  return ranges.length ? fc.oneof(anywhere, ...ranges.map(([a, b]) => fc.integer({ min: a, max: b - 1 }))) : anywhere;
};

export function mutationArb(t: FuzzTarget): fc.Arbitrary<Mutation> {
  const n = t.bytes.length;
  const hot = t.hot ?? [[0, 4096], [n - 4096, n]];
  const at = offsetArb(n, hot);
  const truncate = fc.oneof(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: Math.max(0, n - 64), max: n - 1 })).map((cut): Mutation => ({
    kind: 'truncate', describe: `truncated to ${cut} bytes`, apply: (b) => copy(b.subarray(0, cut)),
  }));
  const flip = fc.array(fc.tuple(at, fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips): Mutation => ({
    kind: 'flip', describe: `flips ${flips.map(([o, x]) => `${o}^${x}`).join(' ')}`,
    apply: (b) => { const c = copy(b); for (const [o, x] of flips) c[o]! ^= x; return c; },
  }));
  const inflate = fc.oneof(
    ...(t.fields?.length ? [fc.constantFrom(...t.fields)] : []),
    fc.tuple(at, fc.constantFrom<1 | 2 | 4 | 8>(2, 4, 8), fc.boolean()).map(([o, size, le]): Field => ({ at: o, size, littleEndian: le, what: `bytes at ${o}` })),
  ).chain((f) => fc.constantFrom(...interesting(f.size, n)).map((v): Mutation => ({
    kind: 'inflate', describe: `${f.what} (${f.size} bytes at ${f.at}) := ${v}`,
    apply: (b) => { const c = copy(b); writeField(c, f, v); return c; },
  })));
  const shuffle = fc.tuple(at, at, fc.integer({ min: 1, max: 512 }), fc.constantFrom('swap', 'duplicate', 'delete')).map(([a, b0, len, how]): Mutation => ({
    kind: 'shuffle', describe: `${how} ${len} bytes at ${a} / ${b0}`,
    apply: (b) => {
      const l = Math.min(len, n - a, n - b0);
      if (how === 'delete') return concat(b.subarray(0, a), b.subarray(a + l));
      if (how === 'duplicate') return concat(b.subarray(0, b0), b.subarray(a, a + l), b.subarray(b0));
      const c = copy(b);
      const x = copy(b.subarray(a, a + l)), y = copy(b.subarray(b0, b0 + l));
      if (a + l <= b0 || b0 + l <= a) { c.set(y, a); c.set(x, b0); }
      return c;
    },
  }));
  const rewrites = (t.rewrites ?? []).map((rw, i) => fc.integer().map((seed): Mutation => ({
    kind: 'inflate', describe: `rewrite ${i} (seed ${seed})`, apply: (b) => rw(b, prng(seed)),
  })));
  return fc.oneof(truncate, flip, inflate, shuffle, ...rewrites);
}

export function concat(...parts: Uint8Array[]): Uint8Array { return concatAll(parts); }

/** A copy (`Buffer#slice` would be a view, so mutating it would corrupt the original). */
export const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** Concatenation of any number of parts (no spread into arguments). */
export function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// ---------------------------------------------------------------- oracle

const bitsEqual = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
};

function compare(ref: Arrays, got: Arrays): 'identical' | 'changed' {
  const rk = Object.keys(ref), gk = Object.keys(got);
  if (rk.length !== gk.length || rk.some((k, i) => k !== gk[i])) return 'changed';
  for (const k of rk) {
    if (ref[k]!.shape.join() !== got[k]!.shape.join() || !bitsEqual(ref[k]!.data, got[k]!.data)) return 'changed';
  }
  return 'identical';
}

function checkWellFormed(got: Arrays, fileBytes: number, what: string): void {
  let total = 0;
  for (const [k, a] of Object.entries(got)) {
    expect(a.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${what}: "${k}" has shape [${a.shape}]`).to.equal(true);
    expect(a.data.length, `${what}: "${k}" data length vs shape [${a.shape}]`).to.equal(a.shape.reduce((x, y) => x * y, 1));
    total += a.data.length;
  }
  expect(total, `${what}: decoded ${total} values from ${fileBytes} bytes`).to.be.at.most(4 * fileBytes + (1 << 20));
}

/** Runs the reader on one mutated file and classifies the outcome (or fails the test). */
async function runCase(t: FuzzTarget, ref: Arrays, m: Mutation): Promise<{ outcome: Outcome; ms: number }> {
  const input = m.apply(t.bytes);
  const what = `${t.name} ${m.describe}`;
  const start = performance.now();
  let got: Arrays | undefined, err: unknown;
  try { got = await t.read(input, t.name); } catch (e) { err = e; }
  const ms = performance.now() - start; // reported, not asserted
  if (err !== undefined) {
    if (!(err instanceof CnnZooError)) throw new Error(`${what}: threw ${(err as Error)?.constructor?.name ?? typeof err} instead of CnnZooError: ${(err as Error)?.stack ?? String(err)}`);
    expect(err.message, `${what}: error names the file`).to.contain(t.name);
    return { outcome: 'refused', ms };
  }
  checkWellFormed(got!, input.length, what);
  const outcome = compare(ref, got!);
  if (m.kind === 'truncate' && !t.truncationMayLoad && input.length < t.bytes.length) expect(outcome, `${what}: a truncated file loaded different arrays`).to.equal('identical');
  return { outcome, ms };
}

/**
 * Fuzzes `t` with `runs` mutated copies (fast-check, fixed seed), asserting the oracle for each, and returns
 * the counts. Unhandled rejections during the run fail it.
 */
export async function fuzzReader(t: FuzzTarget, runs: number): Promise<FuzzReport> {
  const ref = await t.read(t.bytes, t.name);
  const report: FuzzReport = { cases: 0, outcomes: { refused: 0, identical: 0, changed: 0 }, byKind: {}, slowestMs: 0, seed: SEED };
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => { rejections.push(r); };
  process.on('unhandledRejection', onRejection);
  try {
    await fc.assert(fc.asyncProperty(fc.noShrink(mutationArb(t)), async (m) => {
      const { outcome, ms } = await runCase(t, ref, m);
      report.cases++;
      report.outcomes[outcome]++;
      report.byKind[m.kind] = (report.byKind[m.kind] ?? 0) + 1;
      report.slowestMs = Math.max(report.slowestMs, ms);
    }), { numRuns: Math.max(1, Math.round(runs * SCALE)), seed: SEED, endOnFailure: true });
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  expect(rejections, `${t.name}: unhandled rejections`).to.deep.equal([]);
  const k = report.byKind;
  console.log(`      fuzz ${t.name}: ${report.cases} cases (truncate ${k['truncate'] ?? 0}, flip ${k['flip'] ?? 0}, inflate ${k['inflate'] ?? 0}, shuffle ${k['shuffle'] ?? 0}) -> ` +
    `refused ${report.outcomes.refused}, identical ${report.outcomes.identical}, values changed ${report.outcomes.changed}; slowest ${report.slowestMs.toFixed(0)} ms, seed ${SEED}`);
  return report;
}

// ---------------------------------------------------------------- format-aware field finders

/** Length, count and offset fields of a ZIP archive's records (end record, central and local headers). */
export function zipFields(b: Uint8Array): Field[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Field[] = [];
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) if (v.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) return out;
  const le = (at: number, size: 2 | 4, what: string): Field => ({ at, size, littleEndian: true, what });
  out.push(le(eocd + 10, 2, 'ZIP entry count'), le(eocd + 12, 4, 'ZIP central directory size'), le(eocd + 16, 4, 'ZIP central directory offset'));
  let c = v.getUint32(eocd + 16, true);
  const count = v.getUint16(eocd + 10, true);
  for (let i = 0; i < count && c + 46 <= b.length && v.getUint32(c, true) === 0x02014b50; i++) {
    out.push(le(c + 20, 4, `ZIP entry ${i} compressed size`), le(c + 24, 4, `ZIP entry ${i} size`), le(c + 28, 2, `ZIP entry ${i} name length`),
      le(c + 30, 2, `ZIP entry ${i} extra length`), le(c + 42, 4, `ZIP entry ${i} local header offset`));
    const local = v.getUint32(c + 42, true);
    if (local + 30 <= b.length) out.push(le(local + 18, 4, `ZIP entry ${i} local compressed size`), le(local + 26, 2, `ZIP entry ${i} local name length`), le(local + 28, 2, `ZIP entry ${i} local extra length`));
    c += 46 + v.getUint16(c + 28, true) + v.getUint16(c + 30, true) + v.getUint16(c + 32, true);
  }
  return out;
}

/** Start and end of a stored ZIP entry's data (e.g. a checkpoint's data.pkl), or undefined. */
export function zipEntryRange(b: Uint8Array, suffix: string): [number, number] | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i + 30 <= b.length; i++) {
    if (v.getUint32(i, true) !== 0x04034b50) continue;
    const nameLen = v.getUint16(i + 26, true), extraLen = v.getUint16(i + 28, true), size = v.getUint32(i + 18, true);
    const name = new TextDecoder().decode(b.subarray(i + 30, i + 30 + nameLen));
    if (name.endsWith(suffix)) return [i + 30 + nameLen + extraLen, i + 30 + nameLen + extraLen + size];
  }
  return undefined;
}

/** Argument layout of pickle opcodes: fixed sizes, or 'line' (text up to \n), or [size of length prefix]. */
const PICKLE_ARGS: Readonly<Record<number, number | 'line' | 'line2' | ['len', 1 | 4 | 8]>> = {
  0x80: 1, 0x95: 8, 0x4a: 4, 0x4b: 1, 0x4d: 2, 0x8a: ['len', 1], 0x8b: ['len', 4], 0x49: 'line', 0x4c: 'line', 0x46: 'line', 0x47: 8,
  0x58: ['len', 4], 0x8c: ['len', 1], 0x8d: ['len', 8], 0x56: 'line', 0x54: ['len', 4], 0x55: ['len', 1], 0x53: 'line', 0x42: ['len', 4],
  0x43: ['len', 1], 0x8e: ['len', 8], 0x96: ['len', 8], 0x71: 1, 0x72: 4, 0x70: 'line', 0x68: 1, 0x6a: 4, 0x67: 'line', 0x63: 'line2',
  0x69: 'line2', 0x50: 'line',
};

/**
 * Fields of the pickle stream starting at `start`: integer arguments (tensor sizes, strides, offsets, storage
 * sizes) and string length prefixes, and where the stream ends (just after STOP).
 */
export function pickleFields(b: Uint8Array, start: number, end = b.length): { fields: Field[]; stop: number } {
  const out: Field[] = [];
  let p = start;
  while (p < end) {
    const op = b[p]!;
    const arg = PICKLE_ARGS[op];
    const at = p + 1;
    if (op === 0x2e) return { fields: out, stop: p + 1 };
    if (arg === undefined) { p++; continue; }
    if (typeof arg === 'number') {
      if (arg === 1 || arg === 2 || arg === 4 || arg === 8) out.push({ at, size: arg, littleEndian: true, what: `pickle op 0x${op.toString(16)} argument` });
      p = at + arg;
    } else if (arg === 'line' || arg === 'line2') {
      let q = at;
      for (let lines = arg === 'line' ? 1 : 2; lines > 0 && q < end; q++) if (b[q] === 0x0a) lines--;
      p = q;
    } else {
      const size = arg[1];
      out.push({ at, size, littleEndian: true, what: `pickle op 0x${op.toString(16)} length` });
      const v = new DataView(b.buffer, b.byteOffset + at, size);
      const len = size === 1 ? v.getUint8(0) : size === 4 ? v.getUint32(0, true) : Number(v.getBigUint64(0, true));
      p = at + size + len;
    }
  }
  return { fields: out, stop: p };
}

/** Length prefixes of protobuf length-delimited fields, recursing into those that parse as messages (to `depth`). */
export function protobufFields(b: Uint8Array, start = 0, end = b.length, depth = 4, out: Field[] = []): Field[] {
  let p = start;
  const varint = (): [number, number] | undefined => {
    let v = 0, shift = 0;
    const s = p;
    while (p < end && shift < 50) {
      const x = b[p++]!;
      v += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) return [v, p - s];
      shift += 7;
    }
    return undefined;
  };
  while (p < end) {
    const tag = varint();
    if (!tag || tag[0] === 0) return out;
    const wire = tag[0] % 8;
    if (wire === 0) { if (!varint()) return out; } else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const at = p;
      const len = varint();
      if (!len || p + len[0] > end) return out;
      // Only 1-, 2- and 4-byte varints are rewritten (as all-ones of that width, which still decode as varints).
      if (len[1] <= 4 && out.length < 20000) out.push({ at, size: len[1] as 1 | 2 | 4, littleEndian: true, what: 'protobuf length' });
      if (depth > 0 && len[0] > 1) protobufFields(b, p, p + len[0], depth - 1, out);
      p += len[0];
    } else return out;
  }
  return out;
}

/** A protobuf varint field rewritten in place: the length at `f.at` set to the largest value of its width. */
export function inflateVarint(b: Uint8Array, f: Field): Uint8Array {
  const c = copy(b);
  for (let i = 0; i < f.size; i++) c[f.at + i] = i === f.size - 1 ? 0x7f : 0xff;
  return c;
}

// ---------------------------------------------------------------- hostile files crafted in tests

const enc = new TextEncoder();
const u16 = (n: number) => { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, n, true); return b; };
const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };
const i32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, n, true); return b; };

/** A pickle stream assembled op by op (protocol 2 opcodes and a few of 4). */
export class Pickle {
  private readonly parts: Uint8Array[] = [new Uint8Array([0x80, 2])];
  raw(...bytes: (number | Uint8Array)[]): this { for (const b of bytes) this.parts.push(typeof b === 'number' ? new Uint8Array([b]) : b); return this; }
  global(module: string, name: string): this { return this.raw(0x63, enc.encode(`${module}\n${name}\n`)); }
  str(s: string): this { const b = enc.encode(s); return this.raw(0x58, u32(b.length), b); }
  int(n: number): this { return this.raw(0x4a, i32(n)); }
  mark(): this { return this.raw(0x28); }
  tuple(): this { return this.raw(0x74); }
  emptyTuple(): this { return this.raw(0x29); }
  emptyDict(): this { return this.raw(0x7d); }
  emptyList(): this { return this.raw(0x5d); }
  none(): this { return this.raw(0x4e); }
  reduce(): this { return this.raw(0x52); }
  build(): this { return this.raw(0x62); }
  setitem(): this { return this.raw(0x73); }
  setitems(): this { return this.raw(0x75); }
  appends(): this { return this.raw(0x65); }
  put(i: number): this { return this.raw(0x72, u32(i)); }
  get(i: number): this { return this.raw(0x6a, u32(i)); }
  ints(xs: number[]): this { this.mark(); for (const x of xs) this.int(x); return this.tuple(); }
  /** `torch._utils._rebuild_tensor_v2(<storage key of numel floats>, offset, size, stride)`. */
  tensor(key: string, numel: number, offset: number, size: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', 'FloatStorage').str(key).str('cpu').int(numel).tuple().raw(0x51);
    return this.int(offset).ints(size).ints(stride).raw(0x89).tuple().reduce();
  }
  stop(): Uint8Array { return concatAll([...this.parts, new Uint8Array([0x2e])]); }
}

export interface ZipInput { name: string; data: Uint8Array; deflate?: boolean; claimedSize?: number }

/**
 * A ZIP archive. `aliases` adds central-directory entries that point at an existing entry's local header
 * (the overlapping-file zip bomb): [alias name, index of the entry it shares].
 */
export function zip(entries: ZipInput[], aliases: [string, number][] = []): Uint8Array {
  const locals: Uint8Array[] = [], central: Uint8Array[] = [];
  let offset = 0;
  const records: { name: Uint8Array; method: number; csize: number; size: number; offset: number }[] = [];
  for (const e of entries) {
    const name = enc.encode(e.name);
    const data = e.deflate ? deflateSync(e.data) : e.data;
    const size = e.claimedSize ?? e.data.length, method = e.deflate ? 8 : 0;
    const header = concat(u32(0x04034b50), u16(20), u16(0), u16(method), u16(0), u16(0), u32(0), u32(data.length), u32(size), u16(name.length), u16(0), name);
    records.push({ name, method, csize: data.length, size, offset });
    locals.push(header, data);
    offset += header.length + data.length;
  }
  for (const [alias, i] of aliases) records.push({ ...records[i]!, name: enc.encode(alias) });
  for (const r of records) {
    central.push(concat(u32(0x02014b50), u16(20), u16(20), u16(0), u16(r.method), u16(0), u16(0), u32(0), u32(r.csize), u32(r.size),
      u16(r.name.length), u16(0), u16(0), u16(0), u16(0), u32(0), u32(r.offset), r.name));
  }
  const cd = concat(...central);
  const eocd = concat(u32(0x06054b50), u16(0), u16(0), u16(records.length), u16(records.length), u32(cd.length), u32(offset), u16(0));
  return concat(...locals, cd, eocd);
}

/** A PyTorch ZIP checkpoint: `archive/data.pkl` plus storages `archive/data/<key>`. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, opts: { deflatePickle?: boolean } = {}): Uint8Array {
  return zip([
    { name: 'archive/data.pkl', data: pickle, deflate: opts.deflatePickle },
    ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data })),
    { name: 'archive/version', data: enc.encode('3\n') },
  ]);
}

/**
 * Runs `fn`, expecting a CnnZooError whose message names `name` and matches `re`. No time bound: what a hostile
 * file may cost is bounded by the counts the readers keep (and their refusal messages say which bound hit).
 */
export async function expectRefused(fn: () => unknown, name: string, re: RegExp): Promise<CnnZooError> {
  let err: unknown;
  try { await fn(); } catch (e) { err = e; }
  if (!(err instanceof CnnZooError)) throw new Error(`${name}: expected a CnnZooError, got ${err === undefined ? 'success' : (err as Error).stack ?? String(err)}`);
  expect(err.message).to.contain(name).and.to.match(re);
  return err;
}
