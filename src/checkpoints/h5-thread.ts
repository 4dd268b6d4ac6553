/**
 * Starts the Node worker thread that parses Keras HDF5 files (src/checkpoints/h5-worker.ts). Node only: the
 * browser build (tools/build-browser.mjs) replaces this module with a stub, so no `new URL('./h5-worker.js',
 * import.meta.url)` reaches the browser bundle (bundlers such as Vite would try to resolve it and warn).
 */
type Worker = import('node:worker_threads').Worker;
import type { H5Ready } from './h5-worker.js';

export interface H5Thread { w: Worker; cpuMs(): number | undefined }

/** URL of tsx's ESM API (`tsx/esm/api`, import condition), found from the sources' location. */
async function tsxEsmApi(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { readFile } = await import('node:fs/promises');
  const { pathToFileURL } = await import('node:url');
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return new URL(pkg.exports['./esm/api']!.import.default, pathToFileURL(pkgPath)).href;
}

/** A fresh HDF5 worker (unref'd) and a reader of the CPU time its thread has used (undefined where it cannot be read). */
export async function startWorker(): Promise<H5Thread> {
  const { Worker } = await import('node:worker_threads');
  const { readFileSync } = await import('node:fs');
  let w: Worker;
  if (import.meta.url.endsWith('.ts')) {
    // Running from the sources (tsx: tests, scripts): the worker registers tsx before loading h5-worker.ts.
    const tsx = JSON.stringify(await tsxEsmApi());
    const entry = JSON.stringify(new URL('./h5-worker.ts', import.meta.url).href);
    w = new Worker(`import(${tsx}).then((m) => { m.register(); return import(${entry}); });`, { eval: true });
  } else {
    // Kept apart from `new Worker(...)`: bundlers treat `new Worker(new URL(..., import.meta.url))` as a worker entry,
    // and this Node-only worker has no place in the browser bundle.
    const script = new URL('./h5-worker.js', import.meta.url);
    w = new Worker(script);
  }
  // The worker says it is ready (HDF5 loaded: start-up is not charged to the first file) and which thread it is.
  const ready = await new Promise<H5Ready>((resolve, reject) => {
    const onMessage = (m: H5Ready) => { off(); resolve(m); };
    const onError = (e: Error) => { off(); reject(e); };
    const onExit = (code: number) => { off(); reject(new Error(`exit ${code}`)); };
    const off = () => { w.off('message', onMessage).off('error', onError).off('exit', onExit); };
    w.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
  w.unref();
  const stat = ready.tid === undefined ? undefined : `/proc/self/task/${ready.tid}/stat`;
  const cpuMs = (): number | undefined => {
    if (stat === undefined) return undefined;
    try {
      // utime and stime (fields 14 and 15) in clock ticks of 10 ms; the name in parentheses may hold spaces.
      const text = readFileSync(stat, 'latin1');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(f[11]) + Number(f[12]);
      return Number.isFinite(ticks) ? ticks * 10 : undefined;
    } catch {
      return undefined;
    }
  };
  return { w, cpuMs };
}
