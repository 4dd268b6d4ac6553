/**
 * Keras HDF5 weights, read in a worker thread with a limit on the CPU time it spends: HDF5 is a C library
 * (compiled to WebAssembly) that can loop on a corrupt file (a damaged global heap, seen in fuzzing: a pure
 * CPU loop that reads and allocates nothing, so only time can bound it), and synchronous WebAssembly cannot
 * be interrupted in the calling thread. The limit counts the worker thread's own CPU time (Linux:
 * /proc/self/task/<tid>/stat), not wall time, so a valid file is never refused because the machine is busy;
 * a worker that overruns is terminated (and a fresh one started for the next file). Where the thread's CPU
 * time cannot be read (not Linux), the limit applies to wall time. Parsing: h5-parse.ts.
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
  /**
   * Give up (and stop HDF5) once its worker thread has spent this much CPU time on the file; default 10 s plus
   * 1 s per MB of file (a valid file needs well under 1 s per MB). Wall time where CPU time cannot be read.
   */
  cpuTimeMs?: number;
}

// The worker is started by ./h5-thread.ts (Node only; the browser build replaces it with a stub).
type H5Thread = import('./h5-thread.js').H5Thread;
let thread: Promise<H5Thread> | undefined;
/** One file at a time goes to the worker. */
let queue: Promise<unknown> = Promise.resolve();
/** How often the CPU time of a busy worker is looked at. */
const POLL_MS = 100;

function parseInWorker(bytes: Uint8Array, source: string, limitMs: number): Promise<KerasH5> {
  return new Promise((resolve, reject) => {
    void (async () => {
      const current = (thread ??= import('./h5-thread.js').then((m) => m.startWorker()));
      let t: H5Thread;
      try {
        t = await current;
      } catch (e) {
        if (thread === current) thread = undefined;
        throw e;
      }
      const { w } = t;
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        w.off('message', onMessage).off('error', onError).off('exit', onExit);
        w.unref();
        fn();
      };
      const drop = () => { if (thread === current) thread = undefined; };
      const onMessage = (r: H5Reply) => finish(() => {
        if (!r.ok) { reject(new CnnZooError(r.message, r.code)); return; }
        const stateDict: StateDict = new Map(r.arrays.map(([k, shape, data]) => [k, { shape, data }]));
        resolve({ stateDict, inputSize: r.inputSize });
      });
      const onError = (e: Error) => finish(() => { drop(); reject(corrupt(source, `HDF5 failed while reading it (${e.message})`)); });
      const onExit = (code: number) => finish(() => { drop(); reject(corrupt(source, `HDF5 stopped while reading it (exit ${code})`)); });
      // CPU time of the worker thread since the file was handed over; wall time where it cannot be read.
      const cpu0 = t.cpuMs();
      const wall0 = Date.now();
      const spent = (): number => {
        const now = cpu0 === undefined ? undefined : t.cpuMs();
        return now === undefined || cpu0 === undefined ? Date.now() - wall0 : now - cpu0;
      };
      const what = cpu0 === undefined ? 's' : 's of CPU time';
      const poll = setInterval(() => {
        if (spent() <= limitMs) return;
        finish(() => {
          drop();
          void w.terminate();
          reject(corrupt(source, `HDF5 did not finish reading it within ${(limitMs / 1000).toFixed(1)} ${what} (a damaged file can make the HDF5 library loop)`));
        });
      }, POLL_MS);
      w.on('message', onMessage).on('error', onError).on('exit', onExit);
      w.ref();
      const copy = new Uint8Array(bytes); // a copy (a Buffer's slice would be a view), transferred
      w.postMessage({ bytes: copy, source } satisfies H5Request, [copy.buffer as ArrayBuffer]);
    })().catch((e: unknown) => reject(e instanceof CnnZooError ? e : workerFailed(source, e)));
  });
}

/** The file is not at fault: the worker thread did not start (most often cnn-zoo bundled into an app without its worker file). */
function workerFailed(source: string, e: unknown): CnnZooError {
  return new CnnZooError(`Cannot read ${source}: the worker thread that reads Keras .h5 files did not start (${(e as Error).message}). ` +
    'Where cnn-zoo is bundled into an app, keep it external (esbuild --packages=external, webpack externals) so that its ' +
    'dist/checkpoints/h5-worker.js stays beside it.', 'H5_WORKER');
}

/** Read a Keras `.h5` file (in a worker, at most `cpuTimeMs` of its CPU time). Any failure is a CnnZooError naming the file. */
export async function readKerasH5(bytes: Uint8Array, source = 'model.h5', opts: ReadKerasH5Options = {}): Promise<KerasH5> {
  if (!isHdf5(bytes)) throw corrupt(source, 'no HDF5 signature: not a Keras .h5 file');
  const limitMs = opts.cpuTimeMs ?? 10_000 + bytes.length / 1000;
  const run = queue.then(() => parseInWorker(bytes, source, limitMs));
  queue = run.catch(() => undefined);
  return run;
}
