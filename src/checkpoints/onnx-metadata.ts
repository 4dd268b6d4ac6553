/**
 * An ONNX model's `metadata_props` (key -> value) without decoding its graph or loading a protobuf library: from its
 * bytes, or from a file of which only the top-level fields' headers and the metadata entries are read (a model's graph,
 * all of its weights, is skipped). `exportOnnx` writes the model's cnn-zoo metadata under `cnnZoo` and the cached
 * exports' key under `cnnZoo.key`; both readers give {} for what is no ONNX model.
 */
import { nodeModules } from '../platform.js';

/** The protobuf varint at `b[p.i]` (before `end`), moving `p.i` past it; throws when it runs past `end`. */
function varint(b: Uint8Array, p: { i: number }, end = b.length): number {
  let v = 0, mul = 1;
  for (;;) {
    if (p.i >= end) throw new Error('truncated');
    const x = b[p.i++]!;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return v;
    mul *= 128;
  }
}

/** `metadata_props` of an ONNX file's bytes (ModelProto field 14), read from the top-level fields only; {} when cut short. */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder();
  const fields = (b: Uint8Array, each: (field: number, body: Uint8Array) => void): void => {
    const p = { i: 0 };
    while (p.i < b.length) {
      const tag = varint(b, p), field = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) { varint(b, p); continue; }
      if (wire === 1) { p.i += 8; continue; }
      if (wire === 5) { p.i += 4; continue; }
      if (wire !== 2) throw new Error(`wire type ${wire}`);
      const len = varint(b, p);
      if (p.i + len > b.length) throw new Error('truncated');
      each(field, b.subarray(p.i, p.i + len));
      p.i += len;
    }
  };
  try {
    fields(bytes, (f, body) => {
      if (f !== 14) return;
      let key = '', value = '';
      fields(body, (g, s) => { if (g === 1) key = dec.decode(s); else if (g === 2) value = dec.decode(s); });
      out[key] = value;
    });
  } catch {
    return {};
  }
  return out;
}

/**
 * `metadata_props` of ONNX file `path` ({} when it cannot be read or is not one), reading only the top-level fields'
 * headers and the metadata entries: a model's graph (all of its weights) is skipped, not read.
 */
export async function onnxFileMetadata(path: string): Promise<Record<string, string>> {
  const { open } = await nodeModules();
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return {};
  try {
    const size = (await file.stat()).size;
    const head = new Uint8Array(22);
    const entries: Uint8Array[] = [];
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await file.read(head, 0, head.length, pos);
      const p = { i: 0 };
      const tag = varint(head, p, bytesRead), wire = tag & 7;
      let end: number;
      if (wire === 0) { varint(head, p, bytesRead); end = pos + p.i; }
      else if (wire === 1) end = pos + p.i + 8;
      else if (wire === 5) end = pos + p.i + 4;
      else if (wire === 2) { const len = varint(head, p, bytesRead); end = pos + p.i + len; }
      else return {};
      if (end > size) return {};
      if (tag === (14 << 3 | 2)) {
        const entry = new Uint8Array(end - pos);
        await file.read(entry, 0, entry.length, pos);
        entries.push(entry);
      }
      pos = end;
    }
    const all = new Uint8Array(entries.reduce((n, e) => n + e.length, 0));
    let at = 0;
    for (const e of entries) { all.set(e, at); at += e.length; }
    return onnxMetadata(all);
  } catch {
    return {};
  } finally {
    await file.close();
  }
}
