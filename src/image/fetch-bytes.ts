/**
 * An image's bytes from a URL, in Node (http, https) and browsers (any URL `fetch` takes): read as they arrive,
 * refused past `maxBytes` and given up when the server sends nothing for `idleMs`, so a wrong link, an endless or a
 * stalled response can neither fill the memory nor hang a call.
 */
import { CnnZooError, htmlPageTitle, networkProblem, proxyNote } from '../errors.js';

/** The most bytes an image URL may send (default of `fetchImageBytes`): far above any photo, and bounded. */
export const MAX_IMAGE_BYTES = 256 * 1024 * 1024;

/** True for the http(s) URLs that Node reads over the network (a string with another or no scheme is a path). */
export const isHttpUrl = (s: string): boolean => /^https?:\/\//i.test(s);

export interface FetchImageOptions {
  /** Refuse a response longer than this (default `MAX_IMAGE_BYTES`). */
  maxBytes?: number;
  /** Give up when no bytes arrive for this long (default 30 s). */
  idleMs?: number;
}

/** The bytes at `url`; `hint` ends the message when it cannot be fetched (what to check: the network, CORS). */
export async function fetchImageBytes(url: string, hint: string, opts: FetchImageOptions = {}): Promise<Uint8Array> {
  const maxBytes = opts.maxBytes ?? MAX_IMAGE_BYTES, idleMs = opts.idleMs ?? 30_000;
  const ctl = new AbortController();
  let timer = setTimeout(() => ctl.abort(), idleMs);
  const stalled = (): CnnZooError =>
    new CnnZooError(`${url}: cannot fetch the image (nothing arrived for ${idleMs / 1000} s). ${hint}`, 'IMAGE_NOT_FOUND');
  const tooLarge = (what: string): CnnZooError =>
    new CnnZooError(`${url}: the response is ${what}, more than an image may be (${maxBytes} bytes). Check the URL.`, 'IMAGE_TOO_LARGE');
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: ctl.signal });
    } catch (e) {
      if (ctl.signal.aborted) throw stalled();
      throw new CnnZooError(`${url}: cannot fetch the image (${networkProblem(e)}). ${hint}${proxyNote()}`, 'IMAGE_NOT_FOUND');
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new CnnZooError(`${url}: cannot fetch the image (HTTP ${res.status}). Check the URL.`, 'IMAGE_NOT_FOUND');
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > maxBytes) {
      await res.body?.cancel();
      throw tooLarge(`${declared} bytes`);
    }
    if (!res.body) return new Uint8Array(await res.arrayBuffer());
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      let part: ReadableStreamReadResult<Uint8Array>;
      try {
        part = await reader.read();
      } catch (e) {
        if (ctl.signal.aborted) throw stalled();
        throw new CnnZooError(`${url}: the connection broke after ${total} bytes (${networkProblem(e)}). ${hint}`, 'IMAGE_NOT_FOUND');
      }
      if (part.done) break;
      clearTimeout(timer);
      timer = setTimeout(() => ctl.abort(), idleMs);
      total += part.value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw tooLarge(`over ${maxBytes} bytes`);
      }
      chunks.push(part.value);
    }
    const bytes = chunks.length === 1 ? chunks[0]! : new Uint8Array(total);
    if (chunks.length > 1) {
      let at = 0;
      for (const c of chunks) { bytes.set(c, at); at += c.length; }
    }
    const page = htmlPageTitle(bytes);
    if (page) {
      throw new CnnZooError(`${url}: the address gives a web page (${page}), not an image. Use the image's own address ` +
        '(in a browser: right-click the image, Copy image address).', 'NOT_AN_IMAGE');
    }
    return bytes;
  } finally {
    clearTimeout(timer);
  }
}
