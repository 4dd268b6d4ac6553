/**
 * The two passes of PIL's 8-bit resample (resize-crop.ts's `horizontal` and `vertical`) in WebAssembly SIMD: the same
 * 22-bit fixed-point sums in 32-bit integer lanes (the same wrap-around arithmetic), the same shift, the same clip to
 * 0..255 (two saturating narrows), so the bytes are the same. Horizontal: one output pixel per vector (its R, G, B in
 * three lanes), one vector multiply-add per tap; vertical: 16 bytes of a row per step. The module is assembled here
 * from its instructions (633 bytes, compiled synchronously: no file to fetch, the same in Node and browsers).
 * `undefined` where WebAssembly SIMD is missing; the caller then runs the JavaScript passes.
 */
import { HALF, PRECISION_BITS, type Coeffs } from './resample.js';

// ---- a few WebAssembly encodings -------------------------------------------------------------------------------------
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const I32 = 0x7f, V128 = 0x7b;
const get = (i: number): number[] => [0x20, ...uleb(i)];
const set = (i: number): number[] => [0x21, ...uleb(i)];
const c32 = (v: number): number[] => [0x41, ...sleb(v)];
const load32 = [0x28, 2, 0]; // i32.load align 4, offset 0
const add = [0x6a], mul = [0x6c], ltU = [0x49];
const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...uleb(op), ...imm];
const V = {
  load: simd(0x00, 0, 0), load8x8u: simd(0x02, 0, 0), store: simd(0x0b, 0, 0), store32lane0: simd(0x5a, 0, 0, 0),
  splat: simd(0x11), lo8: simd(0x89), hi8: simd(0x8a), lo16: simd(0xa9), hi16: simd(0xaa),
  mul: simd(0xb5), add: simd(0xae), shr: simd(0xac), narrow16: simd(0x85), narrow8: simd(0x66),
  swizzle: simd(0x0e), toF32: simd(0xfb), fsub: simd(0xe5), fmul: simd(0xe6), fdiv: simd(0xe7),
};
const vload = (offset: number): number[] => simd(0x00, 0, ...uleb(offset));
const vstore = (offset: number): number[] => simd(0x0b, 0, ...uleb(offset));
/** `while (cond) { body }` */
const whileLoop = (cond: number[], body: number[]): number[] => [0x02, 0x40, 0x03, 0x40, ...cond, 0x45, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];
const inc = (i: number, by: number[]): number[] => [...get(i), ...by, ...add, ...set(i)];
/** acc = acc + x * k (i32x4): x and k on the stack as given. */
const madd = (acc: number, x: number[], k: number[]): number[] => [...get(acc), ...x, ...k, ...V.mul, ...V.add, ...set(acc)];
const round = (acc: number): number[] => [...get(acc), ...c32(PRECISION_BITS), ...V.shr];

// ---- horizontal(src, stride, ch, rows, nx, bounds, kk, ksize, out) ------------------------------------------------------
// For each of `rows` rows at src + y * stride and each output column xx: the taps from bounds[2 xx] (first input
// pixel) for bounds[2 xx + 1] pixels, weights kk[xx * ksize ..]; R, G, B written at out (3 bytes per pixel, and a
// 4th that the next pixel overwrites).
const H = (() => {
  const [src, stride, ch, rows, nx, bounds, kk, ksize, out] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [y, xx, p, kp, kend, rowp] = [9, 10, 11, 12, 13, 14];
  const acc = 15; // v128
  const body = [
    ...c32(0), ...set(y),
    ...whileLoop([...get(y), ...get(rows), ...ltU], [
      ...get(src), ...get(y), ...get(stride), ...mul, ...add, ...set(rowp),
      ...c32(0), ...set(xx),
      ...whileLoop([...get(xx), ...get(nx), ...ltU], [
        ...get(rowp), ...get(bounds), ...get(xx), ...c32(8), ...mul, ...add, ...load32, ...get(ch), ...mul, ...add, ...set(p),
        ...get(kk), ...get(xx), ...get(ksize), ...mul, ...c32(4), ...mul, ...add, ...set(kp),
        ...get(kp), ...get(bounds), ...get(xx), ...c32(8), ...mul, ...add, 0x28, 2, 4, ...c32(4), ...mul, ...add, ...set(kend),
        ...c32(HALF), ...V.splat, ...set(acc),
        ...whileLoop([...get(kp), ...get(kend), ...ltU], [
          ...madd(acc, [...get(p), ...V.load8x8u, ...V.lo16], [...get(kp), ...load32, ...V.splat]),
          ...inc(p, get(ch)), ...inc(kp, c32(4)),
        ]),
        ...round(acc), ...set(acc), ...get(acc), ...get(acc), ...V.narrow16, ...set(acc),
        ...get(out), ...get(acc), ...get(acc), ...V.narrow8, ...V.store32lane0,
        ...inc(out, c32(3)), ...inc(xx, c32(1)),
      ]),
      ...inc(y, c32(1)),
    ]),
  ];
  return { params: 9, locals: [[6, I32], [1, V128]], body };
})();

// ---- vertical(rows, rowLen, n, taps, kk, ksize, out) --------------------------------------------------------------------
// Output row yy (rowLen bytes at out + yy * rowLen, written 16 at a time: up to 15 bytes past it, which the next row
// overwrites) sums taps[2 yy + 1] input rows from rows + taps[2 yy], one every rowLen bytes, weights kk[yy * ksize ..].
const VERT = (() => {
  const [rows, rowLen, n, taps, kk, ksize, out] = [0, 1, 2, 3, 4, 5, 6];
  const [yy, i, p, kp, kend, base, k0, o] = [7, 8, 9, 10, 11, 12, 13, 14];
  const [a0, a1, a2, a3, x, k] = [15, 16, 17, 18, 19, 20]; // v128
  const parts = (): number[] => [
    ...madd(a0, [...get(x), ...V.lo8, ...V.lo16], get(k)), ...madd(a1, [...get(x), ...V.lo8, ...V.hi16], get(k)),
    ...madd(a2, [...get(x), ...V.hi8, ...V.lo16], get(k)), ...madd(a3, [...get(x), ...V.hi8, ...V.hi16], get(k)),
  ];
  const body = [
    ...c32(0), ...set(yy),
    ...whileLoop([...get(yy), ...get(n), ...ltU], [
      ...get(rows), ...get(taps), ...get(yy), ...c32(8), ...mul, ...add, ...load32, ...add, ...set(base),
      ...get(kk), ...get(yy), ...get(ksize), ...mul, ...c32(4), ...mul, ...add, ...set(k0),
      ...get(k0), ...get(taps), ...get(yy), ...c32(8), ...mul, ...add, 0x28, 2, 4, ...c32(4), ...mul, ...add, ...set(kend),
      ...get(out), ...get(yy), ...get(rowLen), ...mul, ...add, ...set(o),
      ...c32(0), ...set(i),
      ...whileLoop([...get(i), ...get(rowLen), ...ltU], [
        ...c32(HALF), ...V.splat, ...set(a0), ...c32(HALF), ...V.splat, ...set(a1),
        ...c32(HALF), ...V.splat, ...set(a2), ...c32(HALF), ...V.splat, ...set(a3),
        ...get(base), ...get(i), ...add, ...set(p), ...get(k0), ...set(kp),
        ...whileLoop([...get(kp), ...get(kend), ...ltU], [
          ...get(p), ...V.load, ...set(x), ...get(kp), ...load32, ...V.splat, ...set(k),
          ...parts(),
          ...inc(p, get(rowLen)), ...inc(kp, c32(4)),
        ]),
        ...get(o), ...get(i), ...add,
        ...round(a0), ...round(a1), ...V.narrow16, ...round(a2), ...round(a3), ...V.narrow16, ...V.narrow8, ...V.store,
        ...inc(i, c32(16)),
      ]),
      ...inc(yy, c32(1)),
    ]),
  ];
  return { params: 7, locals: [[8, I32], [6, V128]], body };
})();

// ---- normalize(src, groups, out, params) ---------------------------------------------------------------------------------
// ToTensor + Normalize of 8-bit RGB, 12 bytes (4 pixels) per group, in float32 steps: ((v * scale) - mean) / std,
// each step rounded to float32 as `normalizeTable` rounds it. params: a byte swizzle (identity, or R and B swapped for
// BGR), the scale, then the mean and the std laid out for 12 interleaved values (3 vectors each). 48 bytes per group
// out (up to 44 past the last pixel's when the pixel count is not a multiple of 4).
const NORM = (() => {
  const [src, groups, out, params] = [0, 1, 2, 3];
  const g = 4;
  const [x, half] = [5, 6]; // v128
  const channelGroup = (part: number[], k: number): number[] => [
    ...get(out), ...part, ...V.toF32, ...get(params), ...vload(16), ...V.fmul,
    ...get(params), ...vload(32 + 16 * k), ...V.fsub, ...get(params), ...vload(80 + 16 * k), ...V.fdiv, ...vstore(16 * k),
  ];
  const body = [
    ...c32(0), ...set(g),
    ...whileLoop([...get(g), ...get(groups), ...ltU], [
      ...get(src), ...V.load, ...get(params), ...vload(0), ...V.swizzle, ...set(x),
      ...get(x), ...V.lo8, ...set(half),
      ...channelGroup([...get(half), ...V.lo16], 0), ...channelGroup([...get(half), ...V.hi16], 1),
      ...channelGroup([...get(x), ...V.hi8, ...V.lo16], 2),
      ...inc(src, c32(12)), ...inc(out, c32(48)), ...inc(g, c32(1)),
    ]),
  ];
  return { params: 4, locals: [[1, I32], [2, V128]], body };
})();

function moduleBytes(): Uint8Array {
  const fns = [H, VERT, NORM];
  const types = fns.map((f) => [0x60, ...vec(Array.from({ length: f.params }, () => [I32])), 0]);
  const code = fns.map((f) => {
    const b = [...vec(f.locals.map(([count, type]) => [...uleb(count!), type!])), ...f.body, 0x0b];
    return [...uleb(b.length), ...b];
  });
  const name = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('m'), ...name('memory'), 0x02, 0x00, 0x01]])), // imports memory m.memory (min 1 page)
    ...section(3, vec([[0], [1], [2]])),
    ...section(7, vec([[...name('h'), 0x00, 0], [...name('v'), 0x00, 1], [...name('n'), 0x00, 2]])),
    ...section(10, vec(code)),
  ]);
}

interface Passes { memory: WebAssembly.Memory; h: (...a: number[]) => void; v: (...a: number[]) => void; n: (...a: number[]) => void }
let passes: Passes | null | undefined;
let enabled = true;

/** Bytes the module's memory holds (0 before its first use): at most `MAX_BYTES`, rounded up to a 64 KB page. */
export function simdMemoryBytes(): number {
  return passes ? passes.memory.buffer.byteLength : 0;
}

/** Tests and the bench: run the JavaScript passes instead (`false`), or the SIMD ones where they run (`true`). Returns whether SIMD runs here. */
export function setSimdResample(on: boolean): boolean {
  enabled = on;
  return on && instance() !== null;
}

function instance(): Passes | null {
  if (passes !== undefined) return passes;
  try {
    const memory = new WebAssembly.Memory({ initial: 16 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes() as Uint8Array<ArrayBuffer>), { m: { memory } });
    const e = inst.exports as unknown as Pick<Passes, 'h' | 'v' | 'n'>;
    passes = { memory, h: e.h, v: e.v, n: e.n };
  } catch {
    passes = null; // no WebAssembly, or no SIMD
  }
  return passes;
}

/** Grows the module's memory to `bytes`; false when the runtime refuses (a page short of memory): JavaScript then. */
function reserve(m: Passes, bytes: number): boolean {
  const have = m.memory.buffer.byteLength;
  if (have >= bytes) return true;
  try {
    m.memory.grow(Math.ceil((bytes - have) / 65536));
    return true;
  } catch {
    return false;
  }
}

/** Larger jobs run in JavaScript: the module's memory only grows, so it stays within this. */
export const MAX_BYTES = 64 << 20;
const PAD = 16;
const align = (n: number): number => (n + PAD + 15) & ~15;

/**
 * Both passes of the resample for input rows `r0..r1-1` of `data` (`ch` bytes per pixel, `width` pixels a row; its
 * first pixel is the image's (`left`, `top`)): the horizontal one for the output columns of `cx`, then the vertical
 * one for the output rows of `cy`. RGB out, cx's columns wide; `undefined` when SIMD is missing, the job is larger
 * than `MAX_BYTES` or its memory cannot be had.
 */
export function resampleSimd(data: Uint8Array | Uint8ClampedArray, width: number, ch: number, r0: number, r1: number, cx: Coeffs, cy: Coeffs, left = 0, top = 0): Uint8Array | undefined {
  const nx = cx.bounds.length >> 1, ny = cy.bounds.length >> 1, rowLen = nx * 3, stride = width * ch;
  const srcBytes = (r1 - r0) * stride, midBytes = (r1 - r0) * rowLen, outBytes = ny * rowLen;
  const taps = new Int32Array(ny * 2);
  for (let i = 0; i < ny; i++) {
    taps[i * 2] = (cy.bounds[i * 2]! - r0) * rowLen;
    taps[i * 2 + 1] = cy.bounds[i * 2 + 1]!;
  }
  const parts = [align(srcBytes), align(midBytes), align(outBytes), align(cx.bounds.byteLength), align(cx.kk.byteLength), align(taps.byteLength), align(cy.kk.byteLength)];
  const total = parts.reduce((a, b) => a + b, 0);
  if (!enabled || total > MAX_BYTES) return undefined;
  const m = instance();
  if (!m) return undefined;
  if (!reserve(m, total)) return undefined;
  const at: number[] = [];
  parts.reduce((o, n) => (at.push(o), o + n), 0);
  const [pSrc, pMid, pOut, pBx, pKx, pTaps, pKy] = at as [number, number, number, number, number, number, number];
  const mem = new Uint8Array(m.memory.buffer);
  mem.set(data.subarray((r0 - top) * stride, (r1 - top) * stride), pSrc);
  const bx = new Int32Array(m.memory.buffer, pBx, cx.bounds.length);
  bx.set(cx.bounds);
  for (let i = 0; i < bx.length; i += 2) bx[i]! -= left;
  new Int32Array(m.memory.buffer, pKx, cx.kk.length).set(cx.kk);
  new Int32Array(m.memory.buffer, pTaps, taps.length).set(taps);
  new Int32Array(m.memory.buffer, pKy, cy.kk.length).set(cy.kk);
  m.h(pSrc, stride, ch, r1 - r0, nx, pBx, pKx, cx.ksize, pMid);
  m.v(pMid, rowLen, ny, pTaps, pKy, cy.ksize, pOut);
  return mem.slice(pOut, pOut + outBytes);
}

/**
 * `normalizeInto` (resize-crop.ts) in SIMD: the normalised values of 8-bit RGB `pixels` written into `out` at `offset`,
 * channels read in `order` (RGB, or BGR: [2, 1, 0]); false when SIMD is missing, the job is too large or its memory
 * cannot be had.
 */
export function normalizeSimd(pixels: Uint8Array, scale: number, mean: readonly number[], std: readonly number[], bgr: boolean, out: Float32Array, offset: number): boolean {
  const n = pixels.length, groups = Math.ceil(n / 12);
  const pParams = align(n), pOut = pParams + 128, total = pOut + groups * 48;
  if (!enabled || total > MAX_BYTES) return false;
  const m = instance();
  if (!m) return false;
  if (!reserve(m, total)) return false;
  const mem = new Uint8Array(m.memory.buffer);
  mem.set(pixels, 0);
  const order = bgr ? [2, 1, 0] : [0, 1, 2];
  mem.set(Array.from({ length: 16 }, (_, i) => (i < 12 ? i - (i % 3) + order[i % 3]! : i)), pParams);
  const f = new Float32Array(m.memory.buffer, pParams + 16, 28);
  f.fill(scale, 0, 4);
  for (let i = 0; i < 12; i++) {
    f[4 + i] = mean[i % 3]!;
    f[16 + i] = std[i % 3]!;
  }
  m.n(0, groups, pOut, pParams);
  out.set(new Float32Array(m.memory.buffer, pOut, n), offset);
  return true;
}
