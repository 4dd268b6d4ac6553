/**
 * What a checkpoint download must hash to: the user's `sha256` when given, else the publisher's digest or file
 * name prefix from the table, else (Hugging Face Hub files) the sha256 the Hub declares for the LFS file.
 * Publishers that publish no hash need an explicit sha256 or `trustUnpinned`.
 */
import { CnnZooError } from '../errors.js';
import { parseSha256, type Expected } from './hash.js';
import type { PublishedCheckpoint } from './types.js';

export interface ExpectedOptions {
  /** Expected sha256 of the file to download; overrides the table (a mirror with other bytes, tests). */
  sha256?: string;
  /** Accept a checkpoint whose publisher publishes no hash (its sha256 is recorded in the cache). */
  trustUnpinned?: boolean;
  /** Downloads come from a mirror (the Hub's metadata is then not asked). */
  mirror?: string;
  /** Hugging Face endpoint (default `$HF_ENDPOINT` or https://huggingface.co). */
  hfEndpoint?: string;
  fetch?: typeof fetch;
}

const id = (c: PublishedCheckpoint) => `${c.arch} (${c.publisher}:${c.tag})`;

async function hubSha256(repo: string, path: string, revision: string, endpoint: string, doFetch: typeof fetch): Promise<{ sha256: string; size?: number }> {
  const url = `${endpoint.replace(/\/$/, '')}/api/models/${repo}/tree/${encodeURIComponent(revision)}`;
  let res: Response;
  try {
    res = await doFetch(url);
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new CnnZooError(`Cannot reach the Hugging Face Hub to look up the sha256 of ${repo}/${path} (${cause}). ` +
      'Check the network, or pass the sha256 yourself and download through a mirror: --sha256 HEX --mirror URL / ' +
      'load(name, { hub: { sha256: HEX, mirror: URL } }).', 'NETWORK');
  }
  if (!res.ok) throw new CnnZooError(`The Hugging Face Hub answered ${res.status} for ${url}; cannot verify ${repo}/${path}. Pass the sha256 to verify it ` +
    'yourself: --sha256 HEX / load(name, { hub: { sha256: HEX } }).', 'HTTP_ERROR');
  const list = await res.json() as { path?: string; size?: number; lfs?: { oid?: string; size?: number } }[];
  const hit = Array.isArray(list) ? list.find((f) => f.path === path) : undefined;
  const oid = hit?.lfs?.oid;
  if (!oid || !/^[0-9a-f]{64}$/.test(oid)) throw new CnnZooError(`The Hugging Face Hub lists no LFS sha256 for ${repo}/${path} (revision ${revision}).`, 'NO_HASH');
  return { sha256: oid, size: hit?.lfs?.size };
}

/** The digest the download of `c` must match, or undefined for an accepted unpinned file. */
export async function expectedHash(c: PublishedCheckpoint, opts: ExpectedOptions): Promise<Expected | undefined> {
  if (opts.sha256) return { algorithm: 'sha256', hex: parseSha256(opts.sha256), from: 'the sha256 you gave' };
  const h = c.hash;
  if (h && 'hex' in h) return { algorithm: h.algorithm, hex: h.hex, from: h.from };
  if (h && 'prefix' in h) return { algorithm: 'sha256', hex: h.prefix, prefix: true, from: `the publisher's file name (${c.file})` };
  if (h && 'hubLfs' in h) {
    if (opts.mirror) {
      throw new CnnZooError(`${id(c)} comes from the Hugging Face Hub, whose sha256 cnn-zoo looks up there; through a mirror pass the ` +
        `file's sha256 with --sha256 HEX / load(name, { hub: { sha256: HEX } }) (shown at https://huggingface.co/${h.hubLfs.repo}/blob/${h.hubLfs.revision}/${h.hubLfs.path}).`, 'NO_HASH');
    }
    const endpoint = opts.hfEndpoint ?? (typeof process !== 'undefined' ? process.env.HF_ENDPOINT : undefined) ?? 'https://huggingface.co';
    const { sha256 } = await hubSha256(h.hubLfs.repo, h.hubLfs.path, h.hubLfs.revision, endpoint, opts.fetch ?? fetch);
    return { algorithm: 'sha256', hex: sha256, from: `the Hugging Face Hub's LFS metadata for ${h.hubLfs.repo}` };
  }
  if (opts.trustUnpinned) return undefined;
  throw new CnnZooError(`${id(c)}: its publisher publishes no hash for ${c.file}, so the download cannot be verified. Pass the sha256 you ` +
    'trust (--sha256 / { sha256 }), or accept it unverified with --trust-unpinned / { trustUnpinned: true } (its sha256 is then recorded in the cache).', 'NO_HASH');
}
