/**
 * Backend selection: pickBackend() starts the first backend that runs and says why each earlier one did not
 * (with the fix); useBackend() refuses unknown or unavailable backends with a CnnZooError; wasm's threaded
 * build starts in Node (a child process, since threads are fixed per process) and computes what the
 * single-threaded build computes.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, pickBackend, useBackend } from '../src/index.js';
import { BACKENDS, isSoftwareRenderer } from '../src/backend.js';
import { ROOT } from './helpers/shared.js';

const installed = (pkg: string): boolean => {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

describe('backend selection', () => {
  after(async () => { await useBackend('wasm'); });

  it('recognises software WebGL renderers and WebGPU adapters (never picked; Chromium check: test/readme-browser.test.ts)', () => {
    for (const soft of [
      'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
      'Google SwiftShader', 'llvmpipe (LLVM 15.0.6, 256 bits)', 'Mesa lavapipe', 'softpipe',
      'ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)', 'Software Adapter',
    ]) expect(isSoftwareRenderer(soft), soft).to.equal(true);
    for (const gpu of [
      'ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 (0x00002206) Direct3D11 vs_5_0 ps_5_0, D3D11)',
      'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)', 'Apple M2', 'nvidia hopper NVIDIA H100 80GB HBM3',
    ]) expect(isSoftwareRenderer(gpu), gpu).to.equal(false);
  });

  it('pickBackend() starts the first backend that runs and gives every earlier one a reason', async () => {
    const choice = await pickBackend();
    expect(tf.getBackend()).to.equal(choice.name);
    const before = BACKENDS.slice(0, BACKENDS.indexOf(choice.name));
    for (const name of before) expect(choice.reasons[name], name).to.be.a('string').and.not.equal('');
    expect(choice.message).to.contain(`running on ${choice.name}`);
    if (!installed('@tensorflow/tfjs-node') && !installed('@tensorflow/tfjs-node-gpu')) {
      expect(choice.reasons.tensorflow).to.match(/npm install @tensorflow\/tfjs-node/);
    }
    if (typeof document === 'undefined') expect(choice.reasons.webgl).to.match(/browser/);
    console.log(`      ${choice.message}`);
  });

  it('honours an order and marks later backends as not tried', async () => {
    const choice = await pickBackend({ order: ['webgl', 'cpu', 'wasm'] });
    expect(choice.name).to.equal('cpu');
    expect(choice.reasons.webgl).to.match(/browser/);
    expect(choice.reasons.wasm).to.match(/not tried/);
  });

  it('useBackend() refuses an unknown name, listing the valid ones', async () => {
    let err: unknown;
    try { await useBackend('gpu' as never); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(CnnZooError);
    expect(String(err)).to.contain('Valid backends: tensorflow, webgpu, webgl, wasm, cpu');
  });

  it('useBackend() and pickBackend() refuse an unknown option and a wasmThreads that is not a whole number, naming the fix', async () => {
    const refusal = async (f: () => Promise<unknown>): Promise<string> => {
      try { await f(); } catch (e) { expect(e).to.be.instanceOf(CnnZooError); return (e as Error).message; }
      throw new Error('accepted');
    };
    // A misspelt option would otherwise be ignored: wasm would start on 1 thread without a word.
    expect(await refusal(() => useBackend('wasm', { threads: 2 } as never)))
      .to.equal('useBackend("wasm"): unknown option "threads". Did you mean wasmThreads? Options: wasmThreads, dawnOptions, flags, adapterTimeoutMs.');
    expect(await refusal(() => pickBackend({ ordr: ['cpu'] } as never))).to.match(/^pickBackend\(\): unknown option "ordr"\. Did you mean order\?/);
    expect(await refusal(() => useBackend(undefined, { logs: true } as never))).to.match(/^useBackend\(\): unknown option "logs"\. Did you mean log\?/);
    for (const bad of [0, -2, 1.5, Number.NaN, '2']) {
      expect(await refusal(() => useBackend('wasm', { wasmThreads: bad as number })))
        .to.equal(`useBackend("wasm"): wasmThreads must be a whole number of threads, 1 or more (1 = the single-threaded build), got ${typeof bad === 'string' ? `"${bad}" (a string)` : String(bad)}.`);
    }
    expect(await refusal(() => useBackend('wasm', 2 as never))).to.match(/^useBackend\("wasm"\): options must be an object \(\{ wasmThreads, dawnOptions, flags, adapterTimeoutMs \}\), got 2\.$/);
  });

  it('useBackend() says why an unavailable backend cannot run', async () => {
    let err: unknown;
    try { await useBackend('webgl'); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(CnnZooError);
    expect(String(err)).to.match(/Backend "webgl" cannot run here: needs a browser/);
  });

  it('starts the threaded wasm build in Node (2 threads) with the single-threaded result; the process ends by itself', async function () {
    const url = (p: string) => JSON.stringify(pathToFileURL(p).href);
    const resolve = createRequire(join(ROOT, 'package.json')).resolve;
    const script = `
      import * as tf from ${url(resolve('@tensorflow/tfjs'))};
      import * as wasm from ${url(resolve('@tensorflow/tfjs-backend-wasm'))};
      import { useBackend } from ${url(join(ROOT, 'src', 'backend.ts'))};
      await useBackend('wasm', { wasmThreads: Number(process.env.THREADS) });
      const x = tf.tensor4d(Array.from({ length: 1 * 16 * 16 * 32 }, (_, i) => Math.sin(i)), [1, 16, 16, 32]);
      const k = tf.tensor4d(Array.from({ length: 3 * 3 * 32 * 64 }, (_, i) => Math.cos(i) / 10), [3, 3, 32, 64]);
      const y = tf.conv2d(x, k, 1, 'same').dataSync();
      // Async backend initialisations started (each one a wasm module with its own pthread pool).
      const inits = tf.engine().pendingBackendInitId;
      console.log(JSON.stringify({ threads: wasm.getThreadsCount(), inits, sum: y.reduce((a, b) => a + Math.abs(b), 0) }));
      // No process.exit: the pthread workers must not keep the process alive (they did, so scripts hung at the end).`;
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-wasm-'));
    const file = join(dir, 'threads.mjs');
    writeFileSync(file, script);
    const run = async (threads: number) => {
      // A hang guard, not a speed bound: the script takes seconds; a process the workers keep alive never ends.
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file],
        { cwd: ROOT, env: { ...process.env, THREADS: String(threads) }, timeout: 300_000 })
        .catch((e: { killed?: boolean }) => { throw e.killed ? new Error(`${threads} thread(s): the process did not end by itself`) : e; });
      return JSON.parse(stdout.trim().split('\n').pop()!) as { threads: number; inits: number; sum: number };
    };
    const one = await run(1);
    const two = await run(2);
    // One wasm module per process: a second, racing start (once caused by `tf.findBackend('wasm')`) could
    // size its pool after os.cpus() was restored and report 1 thread on a busy machine.
    expect([one.inits, two.inits], 'wasm modules started').to.deep.equal([1, 1]);
    expect(one.threads).to.equal(1);
    expect(two.threads).to.equal(2);
    expect(Math.abs(two.sum - one.sum) / one.sum).to.be.below(1e-6);
    rmSync(dir, { recursive: true, force: true });
  });
});
