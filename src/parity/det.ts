/**
 * The deterministic weight stream of `shared/fixtures/SPEC.md`: `det(seed, n, scale)`.
 * Fixtures store most tensors as a seed (their state_dict key) instead of data; this regenerates them
 * bit for bit (FNV-1a of the UTF-8 seed, a golden-ratio counter, and a murmur3-style finaliser).
 */
export function fnv1a32(text: string): number {
  const bytes = new TextEncoder().encode(text);
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function det(seed: string, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  const h = fnv1a32(seed) | 0;
  const inv = 2 ** -31;
  // Int32 arithmetic throughout (the same 32 bits as the uint32 of SPEC.md; V8 keeps them in registers), uint32 at the end.
  for (let i = 0; i < n; i++) {
    let z = (h + Math.imul(i, 0x9e3779b9)) | 0;
    z ^= z >>> 16;
    z = Math.imul(z, 0x85ebca6b);
    z ^= z >>> 13;
    z = Math.imul(z, 0xc2b2ae35);
    z ^= z >>> 16;
    out[i] = ((z >>> 0) * inv - 1) * scale;
  }
  return out;
}
