/**
 * `cnn-zoo bench --models a,b|all --backend wasm --batch 1,8,32`: params, FLOPs/MACs, tf.profile kernel stats,
 * cold and warm latency, throughput and peak memory per batch size, accuracy density and the best model under
 * a budget. `--json FILE` keeps the results for `cnn-zoo report`.
 */
import { CnnZooError } from '../../errors.js';
import { selectBackend } from '../backend.js';
import { DEFAULT_BATCH_SIZES, profileModel, profileOnnxRuntime, type ProfileResult } from '../../eval/profile.js';
import { ORT_PACKAGE, importOnnxRuntime, missingRuntimeError } from '../../onnx/runtime.js';
import { batch1, bestUnderBudget, mergeResults } from '../../eval/results.js';
import { create, getSpec, listSpecs } from '../../zoo/registry.js';
import { checkOutFile, parse, positiveInt, writeOutFile } from '../args.js';
import { formatCount, table } from '../format.js';

export const usage = 'cnn-zoo bench (NAME... | --models a,b|all) [--backend wasm,cpu,webgpu,tensorflow] [--runtime tfjs,onnxruntime] [--batch 1,8,32] ' +
  '[--runs N] [--max-seconds S] [--layers] [--json FILE]\n' +
  '  Random weights (timing does not depend on them). Batch sizes default to 1,2,4,8,16,32,64.\n' +
  '  --runtime: tfjs (default, on each --backend) and/or onnxruntime (the inference form exported to ONNX on\n' +
  '  onnxruntime-node, as load() runs it when installed; memory is measured on tfjs only). --runs N: warm calls per\n' +
  '  batch size (default 10, at least 3), within --max-seconds S per batch size (default 10). --layers: a per-layer\n' +
  '  table (shape, params, FLOPs). --json FILE: the results as JSON, for cnn-zoo report.';

const mb = (bytes: number | undefined): string => (bytes === undefined ? '-' : (bytes / 1e6).toFixed(1));
const BENCH_RUNTIMES = ['tfjs', 'onnxruntime'] as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    models: { type: 'string' }, backend: { type: 'string' }, runtime: { type: 'string', default: 'tfjs' }, batch: { type: 'string' },
    runs: { type: 'string', default: '10' }, 'max-seconds': { type: 'string', default: '10' }, layers: { type: 'boolean' },
    json: { type: 'string' },
  }, usage);
  // Model names as arguments (as every other command takes a model) or --models, not both.
  if ((values.models === undefined) === (positionals.length === 0)) {
    throw new CnnZooError(`bench needs model names: cnn-zoo bench NAME... or --models a,b|all${positionals.length ? ', not both' : ''}.\nUsage: ${usage}`, 'BAD_ARGS');
  }
  if (values.json) await checkOutFile('--json', values.json, 'the results');
  const wanted = values.models?.split(',') ?? positionals;
  const names = wanted.length === 1 && wanted[0] === 'all' ? listSpecs().map((s) => s.name) : wanted.map((s) => getSpec(s.trim()).name);
  const batchSizes = values.batch ? values.batch.split(',').map(Number) : [...DEFAULT_BATCH_SIZES];
  if (batchSizes.some((b) => !Number.isInteger(b) || b < 1)) throw new CnnZooError(`--batch must be positive integers like 1,8,32, got "${values.batch}".`, 'BAD_ARGS');
  const runs = positiveInt(values.runs, 'runs', usage)!, maxSeconds = Number(values['max-seconds']);
  if (!(maxSeconds > 0)) throw new CnnZooError(`--max-seconds must be a positive number, got "${values['max-seconds']}".`, 'BAD_ARGS');
  const runtimes = values.runtime!.split(',').map((r) => r.trim());
  const unknown = runtimes.find((r) => !(BENCH_RUNTIMES as readonly string[]).includes(r));
  if (unknown !== undefined) throw new CnnZooError(`--runtime takes tfjs, onnxruntime or both (tfjs,onnxruntime), got "${unknown}".`, 'BAD_ARGS');
  if (values.backend && !runtimes.includes('tfjs')) throw new CnnZooError(`--backend is tfjs's; add tfjs to --runtime (--runtime tfjs,onnxruntime) or leave out --backend.`, 'BAD_ARGS');
  // Each tfjs backend, then onnxruntime (which needs a tfjs backend only to build the model it exports: wasm).
  const passes = [...(runtimes.includes('tfjs') ? (values.backend ?? 'wasm').split(',').map((b) => b.trim()) : []), ...(runtimes.includes('onnxruntime') ? ['onnxruntime'] : [])];

  const results: ProfileResult[] = [];
  for (const pass of passes) {
  const ort = pass === 'onnxruntime';
  if (ort && !(await importOnnxRuntime())) throw missingRuntimeError('--runtime onnxruntime');
  const backend = ort ? ORT_PACKAGE : await selectBackend(pass);
  if (ort && passes.length === 1) await selectBackend('wasm');
  for (const name of names) {
    process.stderr.write(`bench ${name} on ${backend} ...\n`);
    const model = create(name);
    try {
      const options = { batchSizes, runs, maxMsPerBatch: maxSeconds * 1000, layers: values.layers ?? false, name, onProgress: (m: string) => process.stderr.write(`  ${m}\n`) };
      const r = await (ort ? profileOnnxRuntime(model, options) : profileModel(model, options));
      results.push(r);
      if (values.layers && r.layers) {
        console.log(`\n${name}: per-layer table (one image)`);
        console.log(table(['layer', 'class', 'output', 'params', 'FLOPs'],
          r.layers.map((l) => [l.name, l.className, `[${l.outputShape.slice(1).join('x')}]`, String(l.params), formatCount(l.flops)])));
      }
    } finally {
      model.dispose();
    }
  }
  }
  for (const env of new Map(results.map((r) => [r.env.backend, r.env])).values()) {
    const what = env.backend === ORT_PACKAGE ? `${env.flags.onnxruntime ?? 'version unknown'}, the inference form exported to ONNX`
      : `tfjs ${env.tfjs}${Object.keys(env.flags).length ? ', ' + Object.entries(env.flags).map(([k, v]) => `${k}=${v}`).join(', ') : ''}`;
    console.log(`\nbackend ${env.backend} (${what}), ${env.cpu} x${env.cores}, node ${env.node ?? '-'}`);
  }
  console.log('\nSize and one profiled forward pass (tf.profile, first batch size):');
  console.log(table(['model', 'backend', 'params (M)', 'GFLOPs', 'GMACs', 'weights (MB)', 'kernels', 'kernel ms', 'newBytes (MB)', 'peakBytes (MB)', 'top-1 %', 'top-1 / Mparam'],
    mergeResults(results).map((row) => {
      const r = results.find((x) => x.model === row.model && x.env.backend === row.backend)!;
      return [row.model, row.backend, (r.params / 1e6).toFixed(3), (r.flops / 1e9).toFixed(3), (r.macs / 1e9).toFixed(3), mb(r.weightBytes),
        ...(r.profile ? [String(r.profile.kernelCount), r.profile.kernelMs.toFixed(1), mb(r.profile.newBytes), mb(r.profile.peakBytes)] : ['-', '-', '-', '-']),
        row.top1 === undefined ? '-' : row.top1.toFixed(2), row.accuracyDensity === undefined ? '-' : row.accuracyDensity.toFixed(2)];
    })));
  console.log('\nLatency per batch (ms per batch; warm = after the cold call):');
  console.log(table(['model', 'backend', 'batch', 'cold ms', 'warm median ms', 'warm p90 ms', 'runs', 'images/s', 'peak MB'],
    results.flatMap((r) => r.latency.map((l) => [r.model, r.env.backend, String(l.batch), l.coldMs.toFixed(1), l.warmMedianMs.toFixed(1), l.warmP90Ms.toFixed(1), String(l.runs), l.imagesPerSec.toFixed(2), mb(l.peakBytes)]))));
  const rows = mergeResults(results);
  if (rows.some((r) => batch1(r)?.peakBytes !== undefined && r.top1 !== undefined)) { // memory is measured on tfjs
    console.log('\nBest model under a budget (batch 1; Top-1 published unless evaluated; Bianco et al. 2018):');
    const picks = bestUnderBudget(rows);
    console.log(table(['memory', 'fps', 'best model', 'top-1 %', 'FPS', 'peak MB'], picks.map((p) => [`<= ${p.memoryGB} GB`, `>= ${p.fps}`,
      p.model ? `${p.model} (${p.backend})` : 'none', p.top1 === undefined ? '-' : p.top1.toFixed(2), p.measuredFps === undefined ? '-' : p.measuredFps.toFixed(1), p.peakMB === undefined ? '-' : p.peakMB.toFixed(0)])));
  }
  if (values.json) {
    await writeOutFile(values.json, JSON.stringify(results, null, 1));
    console.log(`\nwrote ${values.json}`);
  }
  return 0;
}
