/**
 * Starts the Node worker thread that parses Keras HDF5 files (src/checkpoints/h5-worker.ts). Node only: the
 * browser build (tools/build-browser.mjs) replaces this module with a stub, so no `new URL('./h5-worker.js',
 * import.meta.url)` reaches the browser bundle (bundlers such as Vite would try to resolve it and warn).
 */
type Worker = import('node:worker_threads').Worker;

/** URL of tsx's ESM API (`tsx/esm/api`, import condition), found from the sources' location. */
async function tsxEsmApi(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { readFile } = await import('node:fs/promises');
  const { pathToFileURL } = await import('node:url');
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return new URL(pkg.exports['./esm/api']!.import.default, pathToFileURL(pkgPath)).href;
}

/** A fresh HDF5 worker (unref'd: it does not keep the process alive while idle). */
export async function startWorker(): Promise<Worker> {
  const { Worker } = await import('node:worker_threads');
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
  w.unref();
  return w;
}

