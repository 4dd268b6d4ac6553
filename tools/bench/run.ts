/**
 * `npm run bench`: cnn-zoo (inference form) on every tfjs backend that runs here, onnxruntime on the same
 * weights exported to ONNX, and PyTorch when present, side by side on this machine. Each measurement runs in
 * a fresh process (tools/bench/worker.ts, tools/bench/py_bench.py). Prints per model and batch size the cold and warm
 * latency, throughput, peak memory and the ratio cnn-zoo / onnxruntime, and appends every row to a CSV with
 * the machine's description.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { machine, type Job, type Machine, type Result } from './common.js';

const DEFAULT_MODELS = ['squeezenet1_1', 'mobilenet_v2', 'resnet50', 'vgg16', 'densenet121'];
const USAGE = `npm run bench -- [--models a,b] [--batch 1,8] [--backends wasm,webgpu,...] [--form inference|training|both]
  [--runs 10] [--max-seconds 20] [--wasm-threads 1] [--flag NAME=VALUE]... [--dawn OPTION]... [--compile-warmup]
  [--no-ort] [--no-torch] [--torch-device cpu|cuda] [--csv docs/bench-results.csv] [--label TEXT]
Defaults: the five reference models, batch 1 and 8, every tfjs backend that starts here except cpu (pure JS:
name it to include it), onnxruntime-node (or Python onnxruntime) and PyTorch when importable.`;

interface Options {
  models: string[];
  batches: number[];
  backends: string[] | null;
  forms: ('inference' | 'training')[];
  runs: number;
  maxSeconds: number;
  wasmThreads: number[];
  flags: Record<string, number | boolean | string>;
  dawn: string[];
  compileWarmup: boolean;
  ort: boolean;
  torch: boolean;
  torchDevice: string | null;
  csv: string;
  label: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv, options: {
      models: { type: 'string' }, batch: { type: 'string', default: '1,8' }, backends: { type: 'string' },
      form: { type: 'string', default: 'inference' }, runs: { type: 'string', default: '10' }, 'max-seconds': { type: 'string', default: '20' },
      'wasm-threads': { type: 'string', default: '1' }, flag: { type: 'string', multiple: true }, dawn: { type: 'string', multiple: true },
      'compile-warmup': { type: 'boolean', default: false }, 'no-ort': { type: 'boolean', default: false }, 'no-torch': { type: 'boolean', default: false },
      'torch-device': { type: 'string' }, csv: { type: 'string', default: 'docs/bench-results.csv' }, label: { type: 'string', default: '' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const nums = (s: string, what: string) => s.split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be positive integers, got "${s}".\n${USAGE}`);
    return n;
  });
  const flags: Record<string, number | boolean | string> = {};
  for (const f of values.flag ?? []) {
    const [k, v] = f.split('=');
    if (!k || v === undefined) throw new Error(`--flag takes NAME=VALUE, got "${f}".`);
    flags[k] = v === 'true' ? true : v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v);
  }
  const form = values.form!;
  if (!['inference', 'training', 'both'].includes(form)) throw new Error(`--form is inference, training or both, got "${form}".`);
  return {
    models: values.models ? values.models.split(',') : DEFAULT_MODELS,
    batches: nums(values.batch!, '--batch'),
    backends: values.backends ? values.backends.split(',') : null,
    forms: form === 'both' ? ['inference', 'training'] : [form as 'inference' | 'training'],
    runs: nums(values.runs!, '--runs')[0]!, maxSeconds: Number(values['max-seconds']),
    wasmThreads: nums(values['wasm-threads']!, '--wasm-threads'),
    flags, dawn: values.dawn ?? [], compileWarmup: values['compile-warmup']!,
    ort: !values['no-ort'], torch: !values['no-torch'], torchDevice: values['torch-device'] ?? null,
    csv: values.csv!, label: values.label!,
  };
}

const ENTRY = process.argv[1]!;
const BENCH_DIR = dirname(resolve(ENTRY));

interface Spawned { lines: string[]; code: number; stderr: string }

function run(cmd: string, args: string[], timeoutS: number): Promise<Spawned> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ lines: out.split('\n'), code: code ?? -1, stderr: err });
    });
  });
}

const worker = (job: Job, timeoutS: number) => run(process.execPath, [...process.execArgv, ENTRY, 'worker', JSON.stringify(job)], timeoutS);

function results(s: Spawned, what: string): Result[] {
  const rows = s.lines.filter((l) => l.startsWith('@@result ')).map((l) => JSON.parse(l.slice(9)) as Result);
  if (s.code !== 0) {
    const tail = s.stderr.trim().split('\n').filter((l) => !/Hi, looks like|=====|tfjs-node|^$/.test(l)).slice(-6).join('\n    ');
    console.log(`  ! ${what} exited with ${s.code}${rows.length ? ' after some results' : ''}:\n    ${tail}`);
  }
  return rows;
}

interface Probe { available: string[]; reasons: Record<string, string>; details: Record<string, string> }

async function probeBackends(): Promise<Probe> {
  const s = await run(process.execPath, [...process.execArgv, ENTRY, 'probe'], 120);
  const line = s.lines.find((l) => l.startsWith('@@probe '));
  if (!line) throw new Error(`backend probe failed:\n${s.stderr}`);
  return JSON.parse(line.slice(8)) as Probe;
}

export function findPython(modules: string): string | null {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    const r = spawnSync(py, ['-c', `import ${modules}`], { stdio: 'ignore', timeout: 60000 });
    if (r.status === 0) return py;
  }
  return null;
}

function cudaAvailable(py: string): boolean {
  const r = spawnSync(py, ['-c', 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)'], { stdio: 'ignore', timeout: 120000 });
  return r.status === 0;
}

async function ortInNode(): Promise<boolean> {
  try {
    await import('onnxruntime-node');
    return true;
  } catch {
    return false;
  }
}

/** a / b, or NaN when either is missing (a skipped measurement). */
const ratio = (a: number | null | undefined, b: number | null | undefined): number =>
  (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : NaN);

const fmt = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));

function agreement(a?: number[], b?: number[]): number | null {
  if (!a || !b || a.length !== b.length) return null;
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

function label(r: Result): string {
  if (r.runtime !== 'cnn-zoo') return `${r.runtime}/${r.backend}${r.threads ? ` (${r.threads} thr)` : ''}`;
  return `cnn-zoo/${r.backend}${r.form === 'training' ? ' training form' : ''}${r.backend === 'wasm' ? ` (${r.threads} thr)` : ''}`;
}

function printTable(model: string, rows: Result[]): void {
  const header = ['batch', 'runtime', 'cold ms', 'warm ms', 'p90 ms', 'img/s', 'peak RSS MB', 'x ORT warm', 'x ORT cold', 'vs ORT err', 'kernels (ms)'];
  const body: string[][] = [];
  for (const batch of [...new Set(rows.map((r) => r.batch))].sort((a, b) => a - b)) {
    const ort = rows.find((r) => r.runtime === 'onnxruntime' && r.batch === batch);
    for (const r of rows.filter((x) => x.batch === batch)) {
      const isOrt = r === ort;
      const err = isOrt ? null : agreement(r.firstRow, ort?.firstRow);
      body.push([String(batch), label(r), fmt(r.coldMs), fmt(r.warmMs, 2), fmt(r.warmP90Ms, 2), fmt(r.imgPerSec), fmt(r.peakRssMb, 0),
        ort && !isOrt ? fmt(ratio(r.warmMs, ort.warmMs), 2) : '', ort && !isOrt ? fmt(ratio(r.coldMs, ort.coldMs), 2) : '',
        err === null ? '' : err.toExponential(1), r.kernels ? `${r.kernels} (${fmt(r.kernelMs)})` : (r.note ?? '')]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${model}`);
  console.log(line(header));
  for (const b of body) console.log(line(b));
  for (const r of rows.filter((x) => x.kernelTop)) console.log(`  kernels of ${label(r)} at batch ${r.batch}: ${r.kernelTop}`);
}

export const CSV_HEADER = ['date', 'label', 'host', 'cpu', 'cores', 'mem_gb', 'os', 'node', 'gpu', 'model', 'batch', 'runtime', 'backend', 'form',
  'threads', 'setup_ms', 'cold_ms', 'warm_ms', 'warm_p90_ms', 'runs', 'img_per_s', 'peak_rss_mb', 'device_mb', 'kernels', 'kernel_ms',
  'ort_warm_ms', 'ratio_warm_vs_ort', 'ratio_cold_vs_ort', 'max_rel_err_vs_ort', 'flags', 'note'];

export const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? '' : typeof v === 'number' ? String(+v.toFixed(4)) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

async function appendCsv(path: string, m: Machine, o: Options, rows: Result[]): Promise<void> {
  await mkdir(dirname(resolve(path)), { recursive: true });
  const exists = existsSync(path) && (await stat(path)).size > 0;
  if (exists) {
    const first = (await readFile(path, 'utf8')).split('\n', 1)[0];
    if (first !== CSV_HEADER.join(',')) throw new Error(`${path} has other columns; use --csv to write elsewhere.`);
  }
  const date = new Date().toISOString();
  const flags = [...Object.entries(o.flags).map(([k, v]) => `${k}=${v}`), ...o.dawn.map((d) => `dawn:${d}`), o.compileWarmup ? 'compile-warmup' : ''].filter((s) => s).join(' ');
  const lines = rows.map((r) => {
    const ort = rows.find((x) => x.runtime === 'onnxruntime' && x.model === r.model && x.batch === r.batch);
    const vs = ort && ort !== r;
    return [date, o.label, m.host, m.cpu, m.cores, m.memGb, m.os, m.node, m.gpu, r.model, r.batch, r.runtime, r.backend, r.form, r.threads,
      r.setupMs, r.coldMs, r.warmMs, r.warmP90Ms, r.runs, r.imgPerSec, r.peakRssMb, r.deviceMb, r.kernels, r.kernelMs,
      ort?.warmMs, vs ? ratio(r.warmMs, ort.warmMs) : null, vs ? ratio(r.coldMs, ort.coldMs) : null, vs ? agreement(r.firstRow, ort.firstRow) : null,
      r.runtime === 'cnn-zoo' ? flags : '', r.note].map(csvCell).join(',');
  });
  await appendFile(path, (exists ? '' : CSV_HEADER.join(',') + '\n') + lines.join('\n') + '\n');
}

export async function benchMain(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  const probe = await probeBackends();
  const auto = probe.available.filter((b) => b !== 'cpu');
  const backends = o.backends ?? auto;
  for (const b of backends) {
    if (!probe.available.includes(b)) throw new Error(`Backend ${b} cannot run here: ${probe.reasons[b]}`);
  }
  const m = machine(probe.details.webgpu ?? '');
  console.log(`cnn-zoo bench on ${m.cpu} (${m.cores} cores, ${m.memGb} GB), ${m.os}, Node ${m.node}${m.gpu ? `, ${m.gpu}` : ''}`);
  for (const b of ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu']) {
    const state = backends.includes(b) ? `runs (${probe.details[b] ?? ''})` : probe.available.includes(b) ? 'available, not selected (name it in --backends)' : `unavailable: ${probe.reasons[b]}`;
    console.log(`  ${b}: ${state}`);
  }
  const ortMode = !o.ort ? null : (await ortInNode()) ? 'node' : findPython('onnxruntime') ? 'python' : null;
  const torchPy = o.torch ? findPython('torch, torchvision') : null;
  const torchDevice = o.torchDevice ?? (torchPy && cudaAvailable(torchPy) ? 'cuda' : 'cpu');
  console.log(`  onnxruntime: ${ortMode ? `${ortMode === 'node' ? 'onnxruntime-node' : 'Python onnxruntime'}, CPU, same weights (ONNX export)` : 'not run'}`);
  console.log(`  pytorch: ${torchPy ? `${torchPy} on ${torchDevice} (torchvision architecture, default init)` : 'not run (python3 with torch + torchvision not found)'}`);

  const tmp = join(tmpdir(), 'cnn-zoo-bench');
  await mkdir(tmp, { recursive: true });
  const common = { batches: o.batches, runs: o.runs, maxSeconds: o.maxSeconds };
  const timeoutS = Math.max(600, o.maxSeconds * o.batches.length * 6);
  const all: Result[] = [];
  for (const model of o.models) {
    const rows: Result[] = [];
    const t0 = performance.now();
    for (const backend of backends) {
      for (const form of o.forms) {
        for (const threads of backend === 'wasm' ? o.wasmThreads : [1]) {
          const job: Job = { mode: 'tfjs', model, backend, form, wasmThreads: threads, flags: o.flags, dawnOptions: o.dawn, compileWarmup: o.compileWarmup, ...common };
          rows.push(...results(await worker(job, timeoutS), `cnn-zoo/${backend} ${model}`));
        }
      }
    }
    if (ortMode) {
      const onnxPath = join(tmp, `${model}.onnx`);
      const ex = await worker({ mode: 'export', model, onnxPath, ...common }, 1200);
      if (!ex.lines.some((l) => l.startsWith('@@exported'))) {
        console.log(`  ! ONNX export of ${model} failed: ${ex.stderr.trim().split('\n').slice(-2).join(' ')}`);
      } else if (ortMode === 'node') {
        rows.push(...results(await worker({ mode: 'ort', model, onnxPath, ...common }, timeoutS), `onnxruntime ${model}`));
      } else {
        const py = findPython('onnxruntime')!;
        rows.push(...results(await run(py, [join(BENCH_DIR, 'py_bench.py'), JSON.stringify({ runtime: 'onnxruntime', model, onnxPath, ...common })], timeoutS), `onnxruntime ${model}`));
      }
    }
    if (torchPy) {
      const job = { runtime: 'pytorch', model, device: torchDevice, ...common };
      rows.push(...results(await run(torchPy, [join(BENCH_DIR, 'py_bench.py'), JSON.stringify(job)], timeoutS), `pytorch ${model}`));
    }
    printTable(model, rows);
    console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    all.push(...rows);
    await appendCsv(o.csv, m, o, rows);
  }
  console.log(`\nAppended ${all.length} rows to ${o.csv}.`);
}
