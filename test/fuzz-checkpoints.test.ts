/**
 * Fuzzing the PyTorch (ZIP and legacy pickle), safetensors and .npy readers from the real checkpoints in
 * shared/fixtures/checkpoints and shared/weights: every truncated, flipped, inflated or shuffled copy either
 * loads (identical arrays after a truncation) or throws a CnnZooError naming the file, in bounded time.
 * See test/helpers/fuzz.ts for the oracle, tools/fuzz/ for long runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../src/checkpoints/npy.js';
import { readSafetensors } from '../src/checkpoints/safetensors.js';
import type { StateDict } from '../src/arrays.js';
import { readTorch } from '../src/checkpoints/torch.js';
import { concat, fuzzReader, pickleFields, zipEntryRange, zipFields, type Arrays, type FuzzTarget } from './helpers/fuzz.js';
import { SHARED } from './helpers/shared.js';

const CK = join(SHARED, 'fixtures', 'checkpoints');
const bytes = (p: string) => new Uint8Array(readFileSync(p));
const arrays = (sd: StateDict): Arrays => Object.fromEntries(sd);
const pick = <T>(xs: readonly T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)]!;

function torchZipTarget(file: string): FuzzTarget {
  const b = bytes(join(CK, file));
  const pkl = zipEntryRange(b, 'data.pkl')!;
  const fields = [...zipFields(b), ...pickleFields(b, pkl[0], pkl[1]).fields];
  const cd = new DataView(b.buffer, b.byteOffset).getUint32(b.length - 22 + 16, true);
  return { name: file, bytes: b, read: (x, s) => arrays(readTorch(x, s)), fields, hot: [[0, 512], pkl, [cd, b.length]] };
}

function torchLegacyTarget(file: string): FuzzTarget {
  const b = bytes(join(CK, file));
  const fields = [];
  let p = 0;
  for (let i = 0; i < 5; i++) { const r = pickleFields(b, p); fields.push(...r.fields); p = r.stop; }
  return { name: file, bytes: b, read: (x, s) => arrays(readTorch(x, s)), fields, hot: [[0, p + 64]] };
}

/** A safetensors file with its JSON header rewritten by `edit`. */
function withHeader(b: Uint8Array, edit: (h: Record<string, { dtype: unknown; shape: unknown[]; data_offsets: unknown[] }>, rnd: () => number) => void, rnd: () => number): Uint8Array {
  const len = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + len))) as Record<string, { dtype: unknown; shape: unknown[]; data_offsets: unknown[] }>;
  edit(header, rnd);
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = concat(new Uint8Array(8), text, b.subarray(8 + len));
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  return out;
}
const HUGE: unknown[] = [2 ** 31, 2 ** 40, 1e15, 2 ** 53, -1, 1.5, '3', null, [[[[1]]]]];
const tensorsOf = (h: Record<string, unknown>) => Object.keys(h).filter((k) => k !== '__metadata__');

function safetensorsTarget(file: string): FuzzTarget {
  const b = bytes(join(CK, file));
  const len = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  return {
    name: file, bytes: b, read: (x, s) => arrays(readSafetensors(x, s)), hot: [[0, 8 + len]],
    fields: [{ at: 0, size: 8, littleEndian: true, what: 'header length' }],
    rewrites: [
      (x, rnd) => withHeader(x, (h, r) => { const e = h[pick(tensorsOf(h), r)]!; e.shape[Math.floor(r() * e.shape.length)] = pick(HUGE, r); }, rnd),
      (x, rnd) => withHeader(x, (h, r) => { const e = h[pick(tensorsOf(h), r)]!; e.data_offsets[Math.floor(r() * 2)] = pick([...HUGE, 0, 8], r); }, rnd),
      (x, rnd) => withHeader(x, (h, r) => { const a = h[pick(tensorsOf(h), r)]!, c = h[pick(tensorsOf(h), r)]!; [a.data_offsets, c.data_offsets] = [c.data_offsets, a.data_offsets]; }, rnd),
      (x, rnd) => withHeader(x, (h, r) => { const e = h[pick(tensorsOf(h), r)]!; e.dtype = pick(['constructor', '__proto__', 'F64', 'I8', 'BOOL', 'F8', 7], r); }, rnd),
      // Every tensor pointing at the same bytes: the output must not grow with the number of names.
      (x, rnd) => withHeader(x, (h, r) => { const first = h[pick(tensorsOf(h), r)]!; for (const k of tensorsOf(h)) h[k] = { ...first }; }, rnd),
    ],
  };
}

function npyTarget(path: string): FuzzTarget {
  const b = bytes(path);
  const headerEnd = 10 + new DataView(b.buffer, b.byteOffset).getUint16(8, true);
  const rewriteHeader = (x: Uint8Array, rnd: () => number): Uint8Array => {
    const text = new TextDecoder('latin1').decode(x.subarray(10, headerEnd));
    const edited = text.replace(/'shape': \(([^)]*)\)/, (_m, dims: string) => `'shape': (${dims.split(',').map((d) => (d.trim() && rnd() < 0.5 ? String(pick([2 ** 31, 2 ** 40, 0, 10 ** 20, -3], rnd)) : d)).join(',')})`)
      .replace(/'descr': '[^']*'/, (m) => (rnd() < 0.3 ? `'descr': '${pick(['<f8', '<f2', '|u1', '>f4', '<c8', '|O', '<U3'], rnd)}'` : m));
    const header = Uint8Array.from(edited, (c) => c.charCodeAt(0) & 0xff);
    const out = concat(x.subarray(0, 10), header, x.subarray(headerEnd));
    new DataView(out.buffer).setUint16(8, header.length, true);
    return out;
  };
  return {
    name: path.slice(path.lastIndexOf('/') + 1), bytes: b, read: (x, s) => { const a = readNpy(x, s); return { array: a }; },
    fields: [{ at: 8, size: 2, littleEndian: true, what: 'npy header length' }], hot: [[0, headerEnd]], rewrites: [rewriteHeader],
  };
}

describe('fuzz: PyTorch, safetensors and .npy readers on mutated real checkpoints', () => {
  it('PyTorch ZIP checkpoint (squeezenet1_1.pth): ZIP records and data.pkl', async () => {
    await fuzzReader(torchZipTarget('squeezenet1_1.pth'), 400);
  });
  it('PyTorch ZIP checkpoint wrapped in {state_dict: ...} (timm_mobilenetv1_025.wrapped.pth)', async () => {
    await fuzzReader(torchZipTarget('timm_mobilenetv1_025.wrapped.pth'), 300);
  });
  it('a pickled whole module (whole_module.pth): always refused, never run', async () => {
    const t = torchZipTarget('whole_module.pth');
    // The original is refused too, so the reference is empty; any load of a mutated copy fails the oracle.
    await fuzzReader({ ...t, read: (x, s) => { if (x === t.bytes) return {}; readTorch(x, s); throw new Error('a mutated whole_module.pth loaded'); } }, 500);
  });
  it('PyTorch legacy (pre-1.6) pickle stream (shufflenet_v1_g3_0_5x.legacy.pth)', async () => {
    await fuzzReader(torchLegacyTarget('shufflenet_v1_g3_0_5x.legacy.pth'), 400);
  });
  it('safetensors (timm_mobilenetv1_025.safetensors): header length, JSON shapes, offsets and dtypes', async () => {
    await fuzzReader(safetensorsTarget('timm_mobilenetv1_025.safetensors'), 800);
  });
  it('.npy (squeezenet0_conv0_weight.npy): header length, shape and dtype', async () => {
    await fuzzReader(npyTarget(join(SHARED, 'weights', 'onnx-squeezenet1.1-npy', 'weights', 'squeezenet0_conv0_weight.npy')), 1000);
  });
});
