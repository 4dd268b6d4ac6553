/**
 * `npm run bench -- compare`: the side-by-side bench of issue #16, batch 1, one image, interleaved rounds across
 * processes (each contender is a long-lived worker, tools/bench/compare-worker.ts or torch_compare.py; every round
 * asks each one for one call in turn, so all see the same machine load), min and median per contender:
 * - cnn-zoo `classify(file)` end to end with whatever `load()` picks, and with each `runtime` load() takes (detected:
 *   an "unknown option" error means this build has none), and the model alone;
 * - transformers.js `pipeline('image-classification')` on a local folder built from our ONNX export of the same
 *   weights (tools/bench/hf-folder.ts), with its top-5 checked against ours;
 * - onnxruntime-node on torchvision's own ONNX export (python3 + torch), model alone;
 * - PyTorch with PIL end to end.
 * Weights: the real checkpoint of ../shared/weights where one converts to the model (cnn-zoo and transformers.js);
 * otherwise torchvision's default initialisation under torch.manual_seed(0), converted by cnn-zoo, on every runtime.
 * PyTorch and its ONNX export always run the seeded weights (values do not change the work done).
 * Each process also reports its peak resident memory (a second table, and the CSV's peak_rss_mb).
 * Prints the markdown table (also written to OUT/table.md) and appends every contender to the CSV.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { interleave, machine } from './common.js';
import { CSV_HEADER, csvCell, findPython } from './run.js';
import type { CompareJob } from './compare-worker.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = process.env.CNN_ZOO_SHARED ?? join(ROOT, '..', 'shared');
/** Real checkpoints of ../shared/weights (ids of tools/convert/checkpoints.ts) in torchvision's layout. */
const REAL: Record<string, string> = { mobilenet_v2: 'onnx_mobilenet_v2_int8', squeezenet1_1: 'onnx_squeezenet1_1_npy' };
const RUNTIMES = ['onnxruntime', 'tfjs'];

const USAGE = `npm run bench -- compare [--models mobilenet_v2,resnet50,densenet121,squeezenet1_1] [--rounds 10]
  [--image ../shared/images/parrot.jpg] [--out out/bench-compare] [--csv docs/bench-results.csv] [--label TEXT] [--no-torch] [--torch-threads 1] [--no-browser]`;

class Worker {
  private readonly lines: string[] = [];
  private waiting: ((l: string | null) => void) | null = null;
  private closed = false;
  stderr = '';
  constructor(readonly name: string, readonly proc: ChildProcessWithoutNullStreams) {
    let buf = '';
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('@@')) continue;
        if (this.waiting) { const w = this.waiting; this.waiting = null; w(line); } else this.lines.push(line);
      }
    });
    proc.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    proc.on('close', () => { this.closed = true; if (this.waiting) { const w = this.waiting; this.waiting = null; w(null); } });
  }

  /** The next `@@` line, or null when the process ended or `timeoutS` passed (then it is killed). */
  next(timeoutS: number): Promise<string | null> {
    if (this.lines.length) return Promise.resolve(this.lines.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((done) => {
      const timer = setTimeout(() => { this.waiting = null; this.proc.kill('SIGKILL'); done(null); }, timeoutS * 1000);
      this.waiting = (l) => { clearTimeout(timer); done(l); };
    });
  }

  /** The process's peak resident memory (MB) as its last `@@t` line gave it. */
  peakRssMb = NaN;

  async run(): Promise<number> {
    this.proc.stdin.write('run\n');
    const line = await this.next(300);
    if (!line?.startsWith('@@t ')) throw new Error(`${this.name} stopped: ${this.stderr.trim().split('\n').slice(-3).join(' ')}`);
    const [ms, rss] = line.slice(4).split(' ').map(Number);
    if (rss !== undefined && Number.isFinite(rss)) this.peakRssMb = rss;
    return ms!;
  }

  stop(): void {
    this.proc.stdin.end();
    setTimeout(() => this.proc.kill('SIGKILL'), 5000).unref();
  }
}

/** Starts a worker and waits for its `@@ready` (or `@@failed`) line. */
async function start(name: string, cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ worker?: Worker; info: Record<string, unknown> }> {
  const w = new Worker(name, spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
  const line = await w.next(900);
  if (line?.startsWith('@@ready ')) return { worker: w, info: JSON.parse(line.slice(8)) as Record<string, unknown> };
  w.stop();
  if (line?.startsWith('@@failed ')) return { info: JSON.parse(line.slice(9)) as Record<string, unknown> };
  return { info: { message: `exited: ${w.stderr.trim().split('\n').slice(-3).join(' ')}` } };
}

const nodeWorker = (name: string, job: CompareJob) => start(name, process.execPath, [...process.execArgv, process.argv[1]!, 'compare-worker', JSON.stringify(job)]);

function execute(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('close', (code) => done({ code: code ?? -1, out }));
  });
}

/** cnn-zoo weights for `model`: the real checkpoint converted (out/converted/<id>), or the seeded torchvision state_dict converted. */
async function zooWeights(model: string, outDir: string, pth: string | null): Promise<{ dir: string; weights: string } | { skip: string }> {
  const { useBackend } = await import('../../src/backend.js');
  const { convertCheckpoint } = await import('../../src/convert/convert.js');
  const { saveConverted } = await import('../../src/artifacts/save.js');
  const { nodeFileSystem } = await import('../../src/artifacts/node-fs.js');
  await useBackend('wasm');
  const id = REAL[model];
  if (id) {
    const { checkpointJobs } = await import('../convert/checkpoints.js');
    const job = checkpointJobs(join(SHARED, 'weights')).find((j) => j.id === id)!;
    const dir = join(ROOT, 'out', 'converted', id);
    if (!existsSync(join(dir, 'model.json'))) {
      if (!job.options.inputs.every((p) => existsSync(p))) return { skip: `real checkpoint ${id} not found in ${SHARED}/weights` };
      const c = await convertCheckpoint({ ...job.options, dtype: 'float32' });
      await saveConverted(c.model, nodeFileSystem(dir), c.metadata);
      c.model.dispose();
    }
    return { dir, weights: `real: ${id}` };
  }
  if (!pth) return { skip: 'no real checkpoint and no python3 + torch to make the seeded torchvision weights' };
  const dir = join(outDir, `${model}.seed0`);
  if (!existsSync(join(dir, 'model.json'))) {
    const c = await convertCheckpoint({ arch: model, from: 'torch', inputs: [pth], dtype: 'float32', licence: 'bench weights (torchvision default init, seed 0)' });
    await saveConverted(c.model, nodeFileSystem(dir), c.metadata);
    c.model.dispose();
  }
  return { dir, weights: 'torchvision init, seed 0' };
}

interface Row { model: string; weights: string; contender: string; detail: string; min: number; median: number; rounds: number; peakRssMb?: number }

const fmt = (v: number | undefined) => (v === undefined ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const rssCell = (r?: Row) => (r?.peakRssMb !== undefined && Number.isFinite(r.peakRssMb) ? r.peakRssMb.toFixed(0) : '-');

export async function compareMain(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    models: { type: 'string', default: 'mobilenet_v2,resnet50,densenet121,squeezenet1_1' }, rounds: { type: 'string', default: '10' },
    image: { type: 'string' }, out: { type: 'string', default: join(ROOT, 'out', 'bench-compare') },
    csv: { type: 'string', default: 'docs/bench-results.csv' }, label: { type: 'string', default: 'compare' },
    'no-torch': { type: 'boolean', default: false }, 'torch-threads': { type: 'string', default: '1' }, 'no-browser': { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
  } });
  if (values.help) { console.log(USAGE); return; }
  const rounds = Number(values.rounds);
  const image = resolve(values.image ?? (existsSync(join(SHARED, 'images', 'parrot.jpg')) ? join(SHARED, 'images', 'parrot.jpg') : join(ROOT, 'examples', 'images', 'grace_hopper.jpg')));
  const outDir = resolve(values.out!);
  await mkdir(outDir, { recursive: true });
  const py = values['no-torch'] ? null : findPython('torch, torchvision');
  const m = machine();
  console.log(`side-by-side bench on ${m.cpu} (${m.cores} cores), Node ${m.node}; image ${image}; batch 1, ${rounds} interleaved rounds`);
  if (!py) console.log(`  PyTorch and torchvision's ONNX export: skipped (${values['no-torch'] ? '--no-torch' : 'python3 with torch + torchvision not found'})`);
  const torchScript = join(ROOT, 'tools', 'bench', 'torch_compare.py');
  const rows: Row[] = [];
  const notes: string[] = [];
  let runtimes = [...RUNTIMES];
  for (const model of values.models!.split(',')) {
    console.log(`\n${model}`);
    let pth: string | null = null, tvOnnx: string | null = null;
    if (py) {
      pth = join(outDir, `${model}.seed0.pth`);
      tvOnnx = join(outDir, `${model}.torchvision.onnx`);
      if (!existsSync(pth) || !existsSync(tvOnnx)) {
        const r = await execute(py, [torchScript, 'export', model, outDir]);
        if (!r.out.includes('@@exported')) { console.log(`  ! torch export failed: ${r.out.trim().split('\n').slice(-3).join(' ')}`); pth = tvOnnx = null; }
      }
    }
    const zw = await zooWeights(model, outDir, pth);
    if ('skip' in zw) { console.log(`  skipped: ${zw.skip}`); continue; }
    // transformers.js folder from our export of the same weights.
    const hfRoot = join(outDir, 'hf');
    {
      const { load } = await import('../../src/api/index.js');
      const { writeTransformersFolder } = await import('./hf-folder.js');
      const zoo = await load(zw.dir);
      await writeTransformersFolder(zoo, join(hfRoot, model));
      zoo.dispose();
    }
    const contenders: { name: string; detail: string; worker: Worker }[] = [];
    const add = async (name: string, started: { worker?: Worker; info: Record<string, unknown> }, detail: (i: Record<string, unknown>) => string) => {
      if (started.worker) contenders.push({ name, detail: detail(started.info), worker: started.worker });
      else console.log(`  ! ${name}: ${String(started.info.message)}`);
      return started.info;
    };
    const base = { image, weights: zw.dir };
    const zooInfo = await add('cnn-zoo classify', await nodeWorker('cnn-zoo', { kind: 'zoo', ...base }), (i) => `load() default: ${String(i.runtime)}`);
    for (const rt of runtimes) {
      const s = await nodeWorker(`cnn-zoo ${rt}`, { kind: 'zoo', ...base, runtime: rt });
      if (!s.worker && s.info.runtimeUnsupported) {
        notes.push(`load() takes no \`runtime\` option in this build: only its default was measured (${String(s.info.message).slice(0, 60)}...)`);
        console.log(`  load() has no runtime option here: only the default runtime is measured`);
        runtimes = [];
        break;
      }
      await add(`cnn-zoo classify, runtime ${rt}`, s, (i) => String(i.runtime));
    }
    await add('cnn-zoo model alone', await nodeWorker('cnn-zoo model', { kind: 'zoo', ...base, what: 'model' }), (i) => String(i.runtime));
    const hfInfo = await add('transformers.js', await nodeWorker('transformers.js', { kind: 'hf', image, root: hfRoot, id: model }), () => 'pipeline(image-classification), onnxruntime-node');
    const ours = (zooInfo.top5 ?? []) as string[], theirs = (hfInfo.top5 ?? []) as string[];
    const same = JSON.stringify(theirs) === JSON.stringify(ours);
    const shared = theirs.filter((l) => ours.includes(l)).length;
    console.log(`  top-5 cnn-zoo:         ${JSON.stringify(ours)}\n  top-5 transformers.js: ${JSON.stringify(theirs)} (${same ? 'same' : `top-1 ${theirs[0] === ours[0] ? 'same' : 'different'}, ${shared} of 5 shared`})`);
    if (!same) notes.push(`${model}: transformers.js's pipeline top-5 on ${image.split('/').pop()} differs from cnn-zoo's (top-1 ${theirs[0] === ours[0] ? 'same' : 'different'}, ${shared} of 5 shared): it resizes with sharp's bilinear without antialiasing, we as PIL; on the same pixels the folder's model gives our top-5 (test/bench-hf-folder.test.ts)`);
    if (tvOnnx) await add('onnxruntime-node, torchvision export', await nodeWorker('ort', { kind: 'ort', image, onnxPath: tvOnnx }), () => 'model alone');
    if (py && pth) await add('PyTorch + PIL', await start('pytorch', py, [torchScript, 'worker', model, pth, image], { BENCH_TORCH_THREADS: values['torch-threads']! }), (i) => `torch ${String(i.torch)}, ${String(i.threads)} threads, end to end`);

    const times = await interleave(contenders.map((c) => () => c.worker.run()), rounds);
    for (const c of contenders) c.worker.stop();
    contenders.forEach((c, i) => {
      const s = [...times[i]!].sort((a, b) => a - b);
      const row = { model, weights: zw.weights, contender: c.name, detail: c.detail, min: s[0]!, median: s[Math.floor(s.length / 2)]!, rounds: s.length, peakRssMb: c.worker.peakRssMb };
      rows.push(row);
      console.log(`  ${c.name.padEnd(40)} min ${fmt(row.min).padStart(7)} ms  median ${fmt(row.median).padStart(7)} ms  peak RSS ${rssCell(row)} MB  (${c.detail})`);
    });

    if (!values['no-browser'] && existsSync('/usr/bin/chromium')) {
      const { browserCompare } = await import('./browser-compare.js');
      try {
        const b = await browserCompare({ root: ROOT, weightsDir: zw.dir, onnxPath: join(hfRoot, model, 'onnx', 'model.onnx'), image, rounds, bundleDir: join(outDir, 'browser') });
        const detail = `Chromium ${b.info.chromium}, ${b.info.backend}, ${b.info.threads} threads (useBackend('wasm', { wasmThreads: 2 })), crossOriginIsolated ${b.info.isolated}`;
        console.log(`  ${detail}; top-5 ${JSON.stringify(b.info.top5)}`);
        for (const r of b.rows) {
          rows.push({ model, weights: zw.weights, contender: `Chromium: ${r.contender}`, detail, min: r.min, median: r.median, rounds });
          console.log(`  ${`Chromium: ${r.contender}`.padEnd(40)} min ${fmt(r.min).padStart(7)} ms  median ${fmt(r.median).padStart(7)} ms`);
        }
      } catch (e) {
        console.log(`  ! Chromium: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`);
      }
    }
  }

  // The summary table: one row per model and cnn-zoo runtime.
  const NAMES: Record<string, string> = { mobilenet_v2: 'MobileNet v2', resnet50: 'ResNet-50', densenet121: 'DenseNet-121', squeezenet1_1: 'SqueezeNet 1.1' };
  const cell = (r?: Row) => (r ? `${fmt(r.min)} / ${fmt(r.median)}` : '-');
  const lines = [
    '| model (weights) | cnn-zoo runtime | cnn-zoo classify ms | transformers.js ms | onnxruntime-node ms (torchvision export, model alone) | PyTorch + PIL ms | ratio cnn-zoo / transformers.js | cnn-zoo model alone ms | ratio model alone / onnxruntime |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const model of [...new Set(rows.map((r) => r.model))]) {
    const of = (name: string) => rows.find((r) => r.model === model && r.contender === name);
    const hf = of('transformers.js'), ort = of('onnxruntime-node, torchvision export'), torch = of('PyTorch + PIL'), alone = of('cnn-zoo model alone');
    for (const zoo of rows.filter((r) => r.model === model && r.contender.startsWith('cnn-zoo classify'))) {
      const ratio = (a?: Row, b?: Row) => (a && b ? `${(a.min / b.min).toFixed(2)} / ${(a.median / b.median).toFixed(2)}` : '-');
      lines.push(`| ${NAMES[model] ?? model} (${zoo.weights}) | ${zoo.detail} | ${cell(zoo)} | ${cell(hf)} | ${cell(ort)} | ${cell(torch)} | ${ratio(zoo, hf)} | ` +
        `${zoo === rows.find((r) => r.model === model && r.contender === 'cnn-zoo classify') ? `${cell(alone)} | ${ratio(alone, ort)}` : '- | -'} |`);
    }
  }
  // Memory: each Node (or Python) contender is its own process; its peak resident set over setup and the rounds.
  const memory = ['cnn-zoo classify', 'cnn-zoo model alone', 'transformers.js', 'onnxruntime-node, torchvision export', 'PyTorch + PIL'];
  lines.push('', 'Peak resident memory of each contender\'s process (MB: setup, the warm-up and the rounds; `process.resourceUsage().maxRSS`, ' +
    'Python\'s `ru_maxrss`):', '', `| model (weights) | ${memory.join(' | ')} |`, `|---|${memory.map(() => '---|').join('')}`);
  for (const model of [...new Set(rows.filter((r) => !r.contender.startsWith('Chromium: ')).map((r) => r.model))]) {
    const of = (name: string) => rows.find((r) => r.model === model && r.contender === name);
    lines.push(`| ${NAMES[model] ?? model} (${of('cnn-zoo classify')?.weights ?? '-'}) | ${memory.map((n) => rssCell(of(n))).join(' | ')} |`);
  }
  const chrome = rows.filter((r) => r.contender.startsWith('Chromium: '));
  if (chrome.length) {
    lines.push('', `Chromium (${chrome[0]!.detail}), batch 1, ms min / median:`, '',
      '| model (weights) | cnn-zoo classify(img) | cnn-zoo model alone | stock tfjs-wasm model alone | onnxruntime-web model alone | ratio cnn-zoo / onnxruntime-web | ratio cnn-zoo / stock tfjs |', '|---|---|---|---|---|---|---|');
    for (const model of [...new Set(chrome.map((r) => r.model))]) {
      const of = (prefix: string) => chrome.find((r) => r.model === model && r.contender.startsWith(`Chromium: ${prefix}`));
      const alone = of('cnn-zoo model alone'), stock = of('stock'), ortWeb = of('onnxruntime-web');
      const ratio = (a?: Row, b?: Row) => (a && b ? `${(a.min / b.min).toFixed(2)} / ${(a.median / b.median).toFixed(2)}` : '-');
      lines.push(`| ${NAMES[model] ?? model} (${chrome.find((r) => r.model === model)!.weights}) | ${cell(of('cnn-zoo classify'))} | ${cell(alone)} | ${cell(stock)} | ${cell(ortWeb)} | ${ratio(alone, ortWeb)} | ${ratio(alone, stock)} |`);
    }
  }
  const table = `${lines.join('\n')}\n\nms as min / median of ${rounds} interleaved rounds, batch 1, ${m.cpu}, ${m.cores} cores.${notes.length ? '\n' + notes.map((n) => `- ${n}`).join('\n') : ''}\n`;
  console.log(`\n${table}`);
  await writeFile(join(outDir, 'table.md'), table);

  // CSV rows (the columns of `npm run bench`): warm_ms = median; the note has the min and the contender's detail.
  const csv = values.csv!;
  const first = existsSync(csv) ? (await readFile(csv, 'utf8')).split('\n', 1)[0] : '';
  if (first && first !== CSV_HEADER.join(',')) throw new Error(`${csv} has other columns; use --csv to write elsewhere.`);
  const date = new Date().toISOString();
  const csvLines = rows.map((r) => {
    const rec: Record<string, unknown> = {
      date, label: values.label, host: m.host, cpu: m.cpu, cores: m.cores, mem_gb: m.memGb, os: m.os, node: m.node, gpu: m.gpu,
      model: r.model, batch: 1, runtime: r.contender, backend: r.detail, form: r.contender.includes('alone') || r.contender.startsWith('onnxruntime') ? 'model' : 'end to end',
      warm_ms: r.median, runs: r.rounds, peak_rss_mb: r.peakRssMb, note: `interleaved; min ${r.min.toFixed(3)} ms; weights ${r.weights}`,
    };
    return CSV_HEADER.map((h) => csvCell(rec[h])).join(',');
  });
  await appendFile(csv, (first ? '' : CSV_HEADER.join(',') + '\n') + csvLines.join('\n') + '\n');
  console.log(`Appended ${csvLines.length} rows to ${csv}; table in ${join(outDir, 'table.md')}.`);
}
