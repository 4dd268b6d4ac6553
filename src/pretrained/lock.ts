/**
 * One writer per download in a cache that several callers share: the calls of one process (a server that loads a
 * model lazily per request, `Promise.all` of two loads) and processes (parallel test workers, a cluster, `xargs -P
 * cnn-zoo fetch`). Without it two downloads of one checkpoint wrote the same `.part` file and the second rename
 * failed (`ENOENT ... rename`), or one removed the verified file while the other read it.
 *
 * Within a process the callers queue on a promise; across processes on `<path>.lock`, created exclusively and
 * holding `{ host, pid, since }`. Its holder touches it every `staleMs / 4`; a waiter polls, and takes a lock over
 * when its holder is gone: a process on this host that no longer runs (Ctrl-C, a crash), or a lock not touched for
 * `staleMs` (a holder on another host sharing the cache, or frozen). Whoever takes the lock checks the cache again
 * before it downloads, so a waiter finds the holder's result there.
 */
import { cacheUnwritable } from './cache.js';

export interface LockOptions {
  /** Told once when the lock is held by another process: who holds it. */
  onWait?: (message: string) => void;
  /** A lock not touched for this long is taken over (default 60 s). */
  staleMs?: number;
  /** How often a waiter looks again (default 200 ms). */
  pollMs?: number;
}

interface Owner { host: string; pid: number; since: string }

const queues = new Map<string, Promise<unknown>>();

/** Run `fn` while holding the cache lock for `path` (in this process and across processes). */
export async function withCacheLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const before = queues.get(path) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(() => withFileLock(path, fn, opts));
  queues.set(path, mine);
  try {
    return await mine;
  } finally {
    if (queues.get(path) === mine) queues.delete(path);
  }
}

async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  const { open, readFile, stat, unlink, utimes } = await import('node:fs/promises');
  const { hostname } = await import('node:os');
  const lock = `${path}.lock`;
  const staleMs = opts.staleMs ?? 60_000;
  const pollMs = opts.pollMs ?? 200;
  const host = hostname();
  let told = false;
  for (;;) {
    try {
      const fh = await open(lock, 'wx', 0o644);
      try {
        await fh.writeFile(JSON.stringify({ host, pid: process.pid, since: new Date().toISOString() } satisfies Owner));
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cacheUnwritable(lock, e);
    }
    const st = await stat(lock).catch(() => undefined);
    if (!st) continue; // released meanwhile
    const owner = parseOwner(await readFile(lock, 'utf8').catch(() => ''));
    const gone = owner !== undefined && owner.host === host && owner.pid !== process.pid && !running(owner.pid);
    if (gone || Date.now() - st.mtimeMs > staleMs) {
      await unlink(lock).catch(() => undefined);
      continue;
    }
    if (!told) {
      told = true;
      opts.onWait?.(`waiting for ${owner ? `process ${owner.pid}${owner.host === host ? '' : ` on ${owner.host}`}` : 'another process'}, ` +
        `which is writing ${path} into the cache (${lock})`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const touch = setInterval(() => { const now = new Date(); utimes(lock, now, now).catch(() => undefined); }, Math.max(staleMs / 4, 10));
  touch.unref();
  try {
    return await fn();
  } finally {
    clearInterval(touch);
    await unlink(lock).catch(() => undefined);
  }
}

function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    return typeof o.host === 'string' && typeof o.pid === 'number' && typeof o.since === 'string' ? o as Owner : undefined;
  } catch {
    return undefined; // being written, or not ours
  }
}

/** Whether a process of this host runs (signal 0 checks without signalling; EPERM: it runs as another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

