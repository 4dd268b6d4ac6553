/**
 * Node download of one file to `<dest>.part`: progress callbacks, an idle timeout, and retries that resume with
 * an HTTP Range request when the server supports it (else start over). Errors name the URL and what to do
 * (offline: use a mirror). The caller verifies the `.part` file before renaming it into place; a failed download
 * leaves no partial file behind.
 */
import { CnnZooError, htmlPageTitle, networkProblem, proxyNote } from '../errors.js';

export interface DownloadProgress {
  file: string;
  received: number;
  /** Total bytes, when the server says. */
  total?: number;
}

export interface DownloadOptions {
  /** Abort when no bytes arrive for this long (default 30 s). */
  timeoutMs?: number;
  /** Further attempts after a failed one (default 3); each resumes where the last stopped. */
  retries?: number;
  /** Pause before a retry (default 1 s, doubling). */
  retryDelayMs?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** The fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** A failure worth another attempt (network, timeout, truncation, 5xx); `connecting`: no server answered at all. */
class Retryable extends Error {
  constructor(message: string, readonly connecting = false) { super(message); }
}

/** What to do when a download fails, in both syntaxes (the CLI's wording keeps the flags, src/cli/wording.ts). */
const HINT = 'Check the network connection, or download through a mirror you can reach (--mirror URL / load(name, { hub: { mirror: URL } }), ' +
  'or CNN_ZOO_MIRROR), or use the checkpoint file if you have it (--weights FILE / load(name, { weights: FILE })).';

async function attempt(url: string, part: string, file: string, opts: DownloadOptions): Promise<void> {
  const { stat, open, unlink } = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  const have = (await stat(part).catch(() => undefined))?.size ?? 0;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ctl = new AbortController();
  let timer = setTimeout(() => ctl.abort(), timeoutMs);
  const arm = () => { clearTimeout(timer); timer = setTimeout(() => ctl.abort(), timeoutMs); };
  const doFetch = opts.fetch ?? fetch;
  try {
    let res: Response;
    try {
      // identity: the file's own bytes, so that Content-Length and Range count them (checkpoints hardly compress).
      res = await doFetch(url, { headers: { 'Accept-Encoding': 'identity', ...(have > 0 ? { Range: `bytes=${have}-` } : {}) }, signal: ctl.signal, redirect: 'follow' });
    } catch (e) {
      if (ctl.signal.aborted) throw new Retryable(`no answer from ${url} within ${timeoutMs / 1000} s (timeout)`, true);
      throw new Retryable(`cannot reach ${new URL(url).host} (${networkProblem(e)})`, true);
    }
    if (res.status === 416 && have > 0) {
      await res.body?.cancel();
      await unlink(part).catch(() => undefined);
      throw new Retryable(`the server refused to resume ${file}; starting over`);
    }
    if (res.status >= 500) {
      await res.body?.cancel();
      throw new Retryable(`${url} answered ${res.status} ${res.statusText}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      const why = res.status === 404 ? 'The file is not there (moved or removed upstream, or missing on the mirror).'
        : res.status === 401 || res.status === 403 ? 'Access was refused.' : '';
      throw new CnnZooError(`Download of ${file} failed: ${url} answered ${res.status} ${res.statusText}. ${why} ${HINT}`.replace(/\s+/g, ' ').trim(), 'HTTP_ERROR');
    }
    const resumed = res.status === 206 && have > 0;
    // A compressed response all the same (a server that ignores Accept-Encoding): fetch inflates it, so its
    // Content-Length counts the compressed bytes, not the file's (the download looked cut short). The hash still checks it.
    const encoded = !/^(identity)?$/i.test(res.headers.get('content-encoding') ?? '');
    const contentLength = encoded ? NaN : Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(contentLength) ? (resumed ? have + contentLength : contentLength) : undefined;
    // O_NOFOLLOW: a symlink planted at the .part path (shared cache folders) must not redirect the write.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (resumed ? constants.O_APPEND : constants.O_TRUNC);
    const fh = await open(part, flags, 0o644);
    let received = resumed ? have : 0;
    try {
      if (!res.body) throw new Retryable(`${url} sent no body`);
      const reader = res.body.getReader();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (ctl.signal.aborted) throw new Retryable(`no data from ${url} for ${timeoutMs / 1000} s (timeout) after ${received} bytes`);
          throw new Retryable(`the connection to ${new URL(url).host} broke after ${received}${total ? ` of ${total}` : ''} bytes (${networkProblem(e)})`);
        }
        if (chunk.done) break;
        arm();
        await fh.write(chunk.value);
        received += chunk.value.length;
        opts.onProgress?.({ file, received, total });
      }
    } finally {
      await fh.close();
    }
    if (total !== undefined && received !== total) throw new Retryable(`the download of ${file} ended after ${received} of ${total} bytes`);
  } finally {
    clearTimeout(timer);
  }
}

/** A `file://` mirror (a folder): copy the file to `part`; a missing file names the folder and the name looked for. */
async function copyToPart(url: string, part: string, file: string, opts: DownloadOptions): Promise<void> {
  const { copyFile, stat } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const { dirname } = await import('node:path');
  const path = fileURLToPath(url);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) {
    throw new CnnZooError(`The mirror folder ${dirname(path)} has no file ${file}${st ? ' (it is not a file)' : ''}. Put the ` +
      'checkpoint there under exactly that name (the publisher\'s file name, see `cnn-zoo fetch --list`), or use the file directly ' +
      'with --weights FILE / load(name, { weights: FILE }).', 'MIRROR_MISSING');
  }
  await copyFile(path, part);
  opts.onProgress?.({ file, received: st.size, total: st.size });
}

/**
 * Download `url` into `part`. A failed attempt is retried, resuming from the bytes already written when the
 * server answers the Range request (else from the start). When every attempt fails, the partial file is deleted.
 */
export async function downloadToPart(url: string, part: string, file: string, opts: DownloadOptions = {}): Promise<void> {
  if (url.startsWith('file:')) return copyToPart(url, part, file, opts);
  const retries = opts.retries ?? 3;
  let delay = opts.retryDelayMs ?? 1000;
  const problems: Retryable[] = [];
  const { unlink } = await import('node:fs/promises');
  try {
    for (let i = 0; i <= retries; i++) {
      try {
        await attempt(url, part, file, opts);
        return;
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        problems.push(e);
        if (i < retries && delay > 0) { await new Promise((r) => setTimeout(r, delay)); delay *= 2; }
      }
    }
    const last = problems[problems.length - 1]!;
    throw new CnnZooError(`Download of ${file} failed after ${retries + 1} attempts: ${last.message}. ${HINT}${last.connecting ? proxyNote() : ''}`, 'DOWNLOAD_FAILED');
  } catch (e) {
    await unlink(part).catch(() => undefined);
    throw e;
  }
}

/**
 * When the file at `path` is an HTML page (a login, proxy or captive-portal page that answered instead of the file),
 * the sentence that says so, with its title; else undefined.
 */
export async function htmlPage(path: string): Promise<string | undefined> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(4096);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const title = htmlPageTitle(head.subarray(0, bytesRead));
    return title && `What came is an HTML page (${title}), not a checkpoint: a login, proxy or captive-portal page answered instead of the file.`;
  } finally {
    await fh.close();
  }
}

/** The error for a download that is not a checkpoint (`page`: what `htmlPage` said of it). */
export function notACheckpoint(what: string, page: string): CnnZooError {
  return new CnnZooError(`The download of ${what} is not a checkpoint. ${page}`, 'BAD_CHECKPOINT');
}
