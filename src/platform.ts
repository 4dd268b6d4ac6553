/**
 * The one platform seam: whether we run in Node, and Node's modules loaded lazily (`await import(...)` on the Node
 * path only), so that everything the browser bundle reaches stays free of eager `node:*` imports.
 */

/** True in Node (and Node-compatible runtimes), false in browsers and web workers. */
export const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

export type NodeModules = typeof import('node:fs/promises') & typeof import('node:path') & {
  createHash: typeof import('node:crypto').createHash;
  homedir: typeof import('node:os').homedir;
  fileURLToPath: typeof import('node:url').fileURLToPath;
};

let modules: Promise<NodeModules> | undefined;

/** `node:fs/promises`, `node:path`, `createHash`, `homedir` and `fileURLToPath`, imported once on first use. */
export function nodeModules(): Promise<NodeModules> {
  modules ??= (async () => ({
    ...(await import('node:fs/promises')),
    ...(await import('node:path')),
    createHash: (await import('node:crypto')).createHash,
    homedir: (await import('node:os')).homedir,
    fileURLToPath: (await import('node:url')).fileURLToPath,
  }) as NodeModules)();
  return modules;
}
