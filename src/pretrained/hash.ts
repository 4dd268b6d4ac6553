/**
 * Digests and their check against what the publisher published (a full digest, or the sha256 prefix in the
 * file name). Node hashes files as streams; browsers use WebCrypto on bytes.
 */
import { CnnZooError } from '../errors.js';
import { isNode, nodeModules } from '../platform.js';

export type HashAlgorithm = 'sha256' | 'sha1';

/** What a download must hash to: a full digest, or the first hex digits of it. */
export interface Expected {
  algorithm: HashAlgorithm;
  hex: string;
  /** `hex` is only the leading digits. */
  prefix?: boolean;
  /** Where the expected value comes from (shown in errors). */
  from: string;
}

/**
 * Hex digest of `bytes`: node:crypto in Node (in place; WebCrypto's `digest` there copies the bytes first, 2.0-2.7 s and
 * 553 MB more for a 553 MB file against 0.3-1.1 s), WebCrypto in browsers.
 */
export async function digestBytes(bytes: Uint8Array, algorithm: HashAlgorithm): Promise<string> {
  if (isNode) return (await nodeModules()).createHash(algorithm).update(bytes).digest('hex');
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const view = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
    const d = new Uint8Array(await subtle.digest(algorithm === 'sha256' ? 'SHA-256' : 'SHA-1', view));
    return [...d].map((x) => x.toString(16).padStart(2, '0')).join('');
  }
  throw new CnnZooError(`Cannot take the ${algorithm} of these bytes: this page has no WebCrypto (crypto.subtle), which browsers give only ` +
    'to secure contexts. Serve the page over https:// or from localhost.', 'NO_WEBCRYPTO');
}

/** Hex digest of a file, read as a stream (Node). */
export async function digestFile(path: string, algorithm: HashAlgorithm): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { createReadStream } = await import('node:fs');
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Whether a hex digest satisfies `expected`. */
export const digestMatches = (hex: string, expected: Expected): boolean =>
  expected.prefix ? hex.startsWith(expected.hex.toLowerCase()) : hex === expected.hex.toLowerCase();

/** The error for a digest that does not match. */
export function hashMismatch(what: string, hex: string, expected: Expected): CnnZooError {
  return new CnnZooError(`${what} failed verification: its ${expected.algorithm} is ${hex}, but ${expected.from} says ` +
    `${expected.prefix ? `it starts with ${expected.hex}` : expected.hex}. The download is corrupt, truncated or not the published file ` +
    '(a mirror serving another file?). It was deleted; run the command again, or check the mirror.', 'HASH_MISMATCH');
}

/** Parse a user-given sha256 (64 hex digits). */
export function parseSha256(text: string): string {
  const t = text.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(t)) throw new CnnZooError(`"${text}" is not a sha256 digest (64 hex digits).`, 'BAD_ARGS');
  return t;
}
