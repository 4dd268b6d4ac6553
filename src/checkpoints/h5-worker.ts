/**
 * Worker thread of `readKerasH5` (h5.ts): loads HDF5, says it is ready (with its thread id, so h5.ts can read the
 * CPU time this thread uses), then parses one file per message and posts the arrays back (transferred).
 */
import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { CnnZooError } from '../errors.js';
import { loadH5wasm, parseKerasH5 } from './h5-parse.js';

export interface H5Request { bytes: Uint8Array; source: string }
/** The first message: HDF5 is loaded; `tid` is this thread's Linux id (undefined elsewhere). */
export interface H5Ready { ready: true; tid?: number }
export type H5Reply =
  | { ok: true; arrays: [string, number[], Float32Array][]; inputSize?: number }
  | { ok: false; message: string; code?: string };

/** This thread's id from /proc/thread-self (`<pid>/task/<tid>`), on Linux. */
function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

parentPort?.on('message', async ({ bytes, source }: H5Request) => {
  try {
    const r = await parseKerasH5(bytes, source);
    const arrays = [...r.stateDict].map(([k, a]): [string, number[], Float32Array] => [k, [...a.shape], a.data]);
    const buffers = [...new Set(arrays.map(([, , d]) => d.buffer as ArrayBuffer))];
    parentPort!.postMessage({ ok: true, arrays, inputSize: r.inputSize } satisfies H5Reply, buffers);
  } catch (e) {
    parentPort!.postMessage({ ok: false, message: (e as Error).message, code: e instanceof CnnZooError ? e.code : undefined } satisfies H5Reply);
  }
});

await loadH5wasm();
parentPort?.postMessage({ ready: true, tid: threadId() } satisfies H5Ready);
