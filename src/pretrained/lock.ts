/**
 * One writer per download in a cache that several callers share: the calls of one process (a server that loads a
 * model lazily per request, `Promise.all` of two loads) and processes (parallel test workers, a cluster, `xargs -P
 * cnn-zoo fetch`). Without it two downloads of one checkpoint wrote the same `.part` file and the second rename
 * failed (`ENOENT ... rename`), or one removed the verified file while the other read it.
 *
 * Within a process the callers queue on a promise; across processes on `<path>.lock`, created exclusively and
 * holding `{ host, pid, since }`. Its holder touches it every `staleMs / 4` from a worker thread (a holder busy
 * converting is not a frozen one); a waiter polls, and takes a lock over when its holder is gone: a process on this
 * host that no longer runs (Ctrl-C, a crash), or a lock not touched for `staleMs` (a holder on another host sharing
 * the cache, or frozen); of several waiters, one removes it. Whoever takes the lock checks the cache again before it
 * downloads, so a waiter finds the holder's result there.
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
  const { open, readFile, stat, unlink } = await import('node:fs/promises');
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
    const text = await readFile(lock, 'utf8').catch(() => '');
    const owner = parseOwner(text);
    const gone = owner !== undefined && owner.host === host && owner.pid !== process.pid && !running(owner.pid);
    if (gone || Date.now() - st.mtimeMs > staleMs) {
      await takeOver(lock, { stat: st, text }, staleMs);
      continue;
    }
    if (!told) {
      told = true;
      opts.onWait?.(`waiting for ${owner ? `process ${owner.pid}${owner.host === host ? '' : ` on ${owner.host}`}` : 'another process'}, ` +
        `which is writing ${path} into the cache (${lock})`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const stopTouching = await touchEvery(lock, Math.max(staleMs / 4, 10));
  try {
    return await fn();
  } finally {
    await stopTouching();
    await unlink(lock).catch(() => undefined);
  }
}

/**
 * Touch `lock` every `ms` from a worker thread, so that a holder whose own thread is busy for longer than `staleMs`
 * (converting a large checkpoint, a long synchronous step) is not taken for frozen; a timer on this thread where
 * worker threads cannot start. Returns what stops it.
 */
async function touchEvery(lock: string, ms: number): Promise<() => Promise<void>> {
  const timer = () => {
    const t = setInterval(() => touch(lock), ms);
    t.unref();
    return t;
  };
  let fallback: ReturnType<typeof setInterval> | undefined;
  let worker: import('node:worker_threads').Worker | undefined;
  try {
    const { Worker } = await import('node:worker_threads');
    // Not the process's flags (a loader such as tsx, --input-type): the worker needs none of them.
    worker = new Worker(TOUCHER, { eval: true, workerData: { lock, ms }, execArgv: [] });
    worker.unref();
    worker.on('error', () => { fallback ??= timer(); });
  } catch {
    fallback = timer();
  }
  return async () => {
    clearInterval(fallback);
    await worker?.terminate();
  };
}

// Dynamic imports: the same text runs as a CommonJS script or as a module (under `node --input-type=module`).
const TOUCHER = `Promise.all([import('node:worker_threads'), import('node:fs')]).then(([{ workerData: { lock, ms } }, { utimesSync }]) =>
  setInterval(() => { try { const now = new Date(); utimesSync(lock, now, now); } catch {} }, ms));`;

function touch(lock: string): void {
  const now = new Date();
  import('node:fs/promises').then(({ utimes }) => utimes(lock, now, now)).catch(() => undefined);
}

/**
 * Remove the stale lock that a waiter saw (`seen`: its stat and text), and only it. Several waiters find the same
 * stale lock; one that removed it by name after another had removed it and made its own removed that new lock, and
 * two held it. The check and the removal are one step under `<lock>.takeover` (created exclusively, held for those
 * two calls): a lock that is not the one seen is left alone. A `.takeover` left by a process that died in between is
 * removed once it is `staleMs` old.
 */
async function takeOver(lock: string, seen: { stat: { ino: number; mtimeMs: number }; text: string }, staleMs: number): Promise<void> {
  const { open, readFile, stat, unlink } = await import('node:fs/promises');
  const guard = `${lock}.takeover`;
  try {
    await (await open(guard, 'wx', 0o644)).close();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cacheUnwritable(guard, e);
    const g = await stat(guard).catch(() => undefined);
    if (g && Date.now() - g.mtimeMs > staleMs) await unlink(guard).catch(() => undefined);
    return; // another waiter is taking it over: look again
  }
  try {
    const now = await stat(lock).catch(() => undefined);
    const text = now && await readFile(lock, 'utf8').catch(() => undefined);
    if (now && now.ino === seen.stat.ino && now.mtimeMs === seen.stat.mtimeMs && text === seen.text) await unlink(lock).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
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

