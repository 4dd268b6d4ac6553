/** One file out of a `.tgz` / `.tar` download (TF hosted models ship their `.tflite` inside one). */
import { Gunzip } from 'fflate';
import { CnnZooError } from '../errors.js';

/** Largest archive we inflate (checkpoints are < 1 GB; a bigger gzip trailer is a bomb or corruption). */
const MAX_INFLATED = 2 ** 31;

const isGzip = (b: Uint8Array): boolean => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;

function text(b: Uint8Array, start: number, length: number): string {
  const s = b.subarray(start, start + length);
  const end = s.indexOf(0);
  return new TextDecoder().decode(end < 0 ? s : s.subarray(0, end));
}

function octal(b: Uint8Array, start: number, length: number, where: string): number {
  const t = text(b, start, length).trim();
  const n = t === '' ? 0 : parseInt(t, 8);
  if (!Number.isFinite(n) || n < 0) throw new CnnZooError(`${where}: bad tar header (size "${t}").`, 'BAD_CHECKPOINT');
  return n;
}

/** The bytes of the archive entry whose base name is `member`; names the members found when it is missing. */
export function extractMember(archive: Uint8Array, member: string, where: string): Uint8Array {
  let tar: Uint8Array;
  try {
    if (isGzip(archive)) {
      // gzip stores the uncompressed size mod 2^32 in its last 4 bytes: refuse bombs before inflating.
      const n = archive.length;
      const declared = (archive[n - 4]! | (archive[n - 3]! << 8) | (archive[n - 2]! << 16) | (archive[n - 1]! << 24)) >>> 0;
      if (declared > MAX_INFLATED) {
        throw new CnnZooError(`${where}: the archive inflates to ${declared} bytes, more than the ${MAX_INFLATED}-byte limit.`, 'BAD_CHECKPOINT');
      }
      // Stream with a running count, so a trailer that lies cannot make us inflate more than it declares.
      const chunks: Uint8Array[] = [];
      let total = 0;
      const gunzip = new Gunzip((chunk) => {
        total += chunk.length;
        if (total > declared) throw new CnnZooError(`${where}: the archive inflates past the ${declared} bytes its trailer declares.`, 'BAD_CHECKPOINT');
        chunks.push(chunk);
      });
      gunzip.push(archive, true);
      if (total !== declared) throw new Error(`inflated ${total} bytes, the trailer says ${declared}`);
      tar = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) { tar.set(c, at); at += c.length; }
    } else {
      tar = archive;
    }
  } catch (e) {
    if (e instanceof CnnZooError) throw e;
    throw new CnnZooError(`${where}: cannot decompress (${(e as Error).message}). The download is corrupt or truncated.`, 'BAD_CHECKPOINT');
  }
  const names: string[] = [];
  let at = 0, longName: string | undefined, ended = false;
  while (at + 512 <= tar.length) {
    if (tar.subarray(at, at + 512).every((x) => x === 0)) { ended = true; break; }
    const size = octal(tar, at + 124, 12, where);
    const type = String.fromCharCode(tar[at + 156]!);
    const prefix = text(tar, at + 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(tar, at, 100)}` : text(tar, at, 100));
    longName = undefined;
    const data = at + 512;
    if (data + size > tar.length) throw new CnnZooError(`${where}: the archive ends inside "${name}". The download is truncated.`, 'BAD_CHECKPOINT');
    if (type === 'L') longName = text(tar, data, size);
    else if (type === '0' || type === '\0') {
      names.push(name);
      if (name.slice(name.lastIndexOf('/') + 1) === member) return tar.slice(data, data + size);
    }
    at = data + Math.ceil(size / 512) * 512;
  }
  if (!ended) throw new CnnZooError(`${where}: the archive ends before its end marker without "${member}". The download is truncated.`, 'BAD_CHECKPOINT');
  throw new CnnZooError(`${where} holds no "${member}" (files: ${names.slice(0, 10).join(', ') || 'none'}).`, 'MISSING_FILE');
}

/** A minimal uncompressed tar of `files` (tests and mirrors). */
export function makeTar(files: Readonly<Record<string, Uint8Array>>): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const [name, data] of Object.entries(files)) {
    const h = new Uint8Array(512);
    h.set(enc.encode(name).subarray(0, 100), 0);
    h.set(enc.encode('0000644\0'), 100);
    h.set(enc.encode(`${data.length.toString(8).padStart(11, '0')}\0`), 124);
    h.set(enc.encode('        '), 148);
    h[156] = 0x30;
    h.set(enc.encode('ustar\0'), 257);
    let sum = 0;
    for (const x of h) sum += x;
    h.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    parts.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
