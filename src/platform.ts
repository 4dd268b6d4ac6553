/**
 * The one platform seam: whether we run in Node, and Node's modules loaded lazily (`await import(...)` on the Node
 * path only), so that everything the browser bundle reaches stays free of eager `node:*` imports.
 */

/** True in Node (and Node-compatible runtimes), false in browsers and web workers. */
export const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

export type NodeModules = typeof import('node:fs/promises') & typeof import('node:path') & {
  createHash: typeof import('node:crypto').createHash;
  homedir: typeof import('node:os').homedir;
  cpus: typeof import('node:os').cpus;
  fileURLToPath: typeof import('node:url').fileURLToPath;
};

let modules: Promise<NodeModules> | undefined;

/** `node:fs/promises`, `node:path`, `createHash`, `homedir`, `cpus` and `fileURLToPath`, imported once on first use. */
export function nodeModules(): Promise<NodeModules> {
  modules ??= (async () => ({
    ...(await import('node:fs/promises')),
    ...(await import('node:path')),
    createHash: (await import('node:crypto')).createHash,
    homedir: (await import('node:os')).homedir,
    cpus: (await import('node:os')).cpus,
    fileURLToPath: (await import('node:url')).fileURLToPath,
  }) as NodeModules)();
  return modules;
}

/**
 * Browsers: `start` raced against the first error a worker raises in this page or worker. Emscripten's pthread
 * pools (tfjs-backend-wasm's) wait for every worker to load; one that throws as it starts (its code broken by a
 * minifier) is rethrown here as an ErrorEvent, and the start would wait for ever. Resolves to the start's value, or
 * to the worker's error message.
 */
export async function raceWorkerFailure<T>(start: Promise<T>): Promise<{ value: T } | { workerError: string }> {
  let stop = (): void => {};
  const failed = new Promise<{ workerError: string }>((resolve) => {
    const onError = (e: ErrorEvent): void => {
      // Emscripten rethrows a worker's ErrorEvent in the page; a worker's own error may also name its blob: script.
      const inner: unknown = e.error;
      const message = typeof ErrorEvent !== 'undefined' && inner instanceof ErrorEvent ? inner.message
        : e.filename?.startsWith('blob:') ? e.message : undefined;
      if (message !== undefined) resolve({ workerError: message.replace(/^Uncaught /, '') });
    };
    globalThis.addEventListener('error', onError);
    stop = () => globalThis.removeEventListener('error', onError);
  });
  try {
    return await Promise.race([start.then((value) => ({ value })), failed]);
  } finally {
    stop();
  }
}
