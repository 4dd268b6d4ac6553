/** Worker thread of `readKerasH5` (h5.ts): parses one file per message and posts the arrays back (transferred). */
import { parentPort } from 'node:worker_threads';
import { CnnZooError } from '../errors.js';
import { parseKerasH5 } from './h5-parse.js';

export interface H5Request { bytes: Uint8Array; source: string }
export type H5Reply =
  | { ok: true; arrays: [string, number[], Float32Array][]; inputSize?: number }
  | { ok: false; message: string; code?: string };

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
