/**
 * Entry point of the bench (`npm run bench`, or one bundled file on a GPU machine): `run` (default) is the
 * orchestrator, `worker <job>` one measurement, `probe` reports which tfjs backends start here; `compare` is the
 * side-by-side bench against transformers.js, onnxruntime and PyTorch (tools/bench/compare.ts), `compare-worker` one of its contenders.
 */
import { BACKENDS, useBackend } from '../../src/backend.js';

async function probe(): Promise<void> {
  const available: string[] = [];
  const reasons: Record<string, string> = {};
  const details: Record<string, string> = {};
  for (const name of BACKENDS) {
    try {
      const detail = await useBackend(name);
      available.push(name);
      details[name] = detail;
      if (name === 'webgpu') {
        const info = (await import('@tensorflow/tfjs')).backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } };
        const a = info.adapterInfo ?? {};
        details.webgpu = `${detail}; ${[a.vendor, a.architecture, a.description].filter((s) => s).join(' ')}`.trim();
      }
    } catch (e) {
      reasons[name] = (e as Error).message.replace(/^Backend "\w+" cannot run here: /, '');
    }
  }
  console.log(`@@probe ${JSON.stringify({ available, reasons, details })}`);
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'worker') await (await import('./worker.js')).workerMain(rest[0]!);
  else if (mode === 'probe') await probe();
  else if (mode === 'compare') await (await import('./compare.js')).compareMain(rest);
  else if (mode === 'compare-worker') await (await import('./compare-worker.js')).compareWorkerMain(rest[0]!);
  else await (await import('./run.js')).benchMain(mode === 'run' ? rest : process.argv.slice(2));
}

// No top-level await: the bench is also bundled to one CommonJS file for GPU machines.
main().then(() => process.exit(0), (e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
