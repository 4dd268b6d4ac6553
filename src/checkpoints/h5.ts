/**
 * Keras HDF5 weights, read in a worker thread with a time limit: HDF5 is a C library (compiled to
 * WebAssembly) that can loop on a corrupt file (a damaged global heap, seen in fuzzing), and synchronous
 * WebAssembly cannot be interrupted in the calling thread. A worker that overruns is terminated (and a fresh
 * one started for the next file), so a hostile `.h5` costs at most the time limit. Parsing: h5-parse.ts.
 */
import { CnnZooError } from '../errors.js';
import { corrupt } from './bytes.js';
import type { KerasH5 } from './h5-parse.js';
import type { H5Reply, H5Request } from './h5-worker.js';
import type { StateDict } from '../arrays.js';

export type { KerasH5 } from './h5-parse.js';

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
export const isHdf5 = (bytes: Uint8Array): boolean => HDF5_MAGIC.every((b, i) => bytes[i] === b);

export interface ReadKerasH5Options {
  /** Give up (and stop HDF5) after this long; default 10 s plus 1 s per MB of file. */
  timeoutMs?: number;
}

type Worker = import('node:worker_threads').Worker;
// The worker is started by ./h5-thread.ts (Node only; the browser build replaces it with a stub).
let worker: Worker | undefined;
/** One file at a time goes to the worker. */
let queue: Promise<unknown> = Promise.resolve();

function parseInWorker(bytes: Uint8Array, source: string, timeoutMs: number): Promise<KerasH5> {
  return new Promise((resolve, reject) => {
    void (async () => {
      const w = (worker ??= await (await import('./h5-thread.js')).startWorker());
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        w.off('message', onMessage).off('error', onError).off('exit', onExit);
        w.unref();
        fn();
      };
      const drop = () => { if (worker === w) worker = undefined; };
      const onMessage = (r: H5Reply) => finish(() => {
        if (!r.ok) { reject(new CnnZooError(r.message, r.code)); return; }
        const stateDict: StateDict = new Map(r.arrays.map(([k, shape, data]) => [k, { shape, data }]));
        resolve({ stateDict, inputSize: r.inputSize });
      });
      const onError = (e: Error) => finish(() => { drop(); reject(corrupt(source, `HDF5 failed while reading it (${e.message})`)); });
      const onExit = (code: number) => finish(() => { drop(); reject(corrupt(source, `HDF5 stopped while reading it (exit ${code})`)); });
      const timer = setTimeout(() => finish(() => {
        drop();
        void w.terminate();
        reject(corrupt(source, `HDF5 did not finish reading it within ${(timeoutMs / 1000).toFixed(1)} s (a damaged file can make the HDF5 library loop)`));
      }), timeoutMs);
      w.on('message', onMessage).on('error', onError).on('exit', onExit);
      w.ref();
      const copy = new Uint8Array(bytes); // a copy (a Buffer's slice would be a view), transferred
      w.postMessage({ bytes: copy, source } satisfies H5Request, [copy.buffer as ArrayBuffer]);
    })().catch((e: unknown) => reject(e instanceof CnnZooError ? e : corrupt(source, `HDF5 worker failed to start (${(e as Error).message})`)));
  });
}

/** Read a Keras `.h5` file (in a worker, at most `timeoutMs`). Any failure is a CnnZooError naming the file. */
export async function readKerasH5(bytes: Uint8Array, source = 'model.h5', opts: ReadKerasH5Options = {}): Promise<KerasH5> {
  if (!isHdf5(bytes)) throw corrupt(source, 'no HDF5 signature: not a Keras .h5 file');
  const timeoutMs = opts.timeoutMs ?? 10_000 + bytes.length / 1000;
  const run = queue.then(() => parseInWorker(bytes, source, timeoutMs));
  queue = run.catch(() => undefined);
  return run;
}
