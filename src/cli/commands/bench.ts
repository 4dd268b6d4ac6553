/**
 * `cnn-zoo bench --models a,b|all --backend wasm --batch 1,8,32`: params, FLOPs/MACs, tf.profile kernel stats,
 * cold and warm latency, throughput and peak memory per batch size, accuracy density and the best model under
 * a budget. `--json FILE` keeps the results for `cnn-zoo report`.
 */
import { writeFile } from 'node:fs/promises';
import { CnnZooError } from '../../errors.js';
import { selectBackend } from '../backend.js';
import { DEFAULT_BATCH_SIZES, profileModel, type ProfileResult } from '../../eval/profile.js';
import { batch1, bestUnderBudget, mergeResults } from '../../eval/results.js';
import { create, getSpec, listSpecs } from '../../zoo/registry.js';
import { parse, positiveInt } from '../args.js';
import { formatCount, table } from '../format.js';

export const usage = 'cnn-zoo bench (NAME... | --models a,b|all) [--backend wasm,cpu,webgpu,tensorflow] [--batch 1,8,32] ' +
  '[--runs N] [--max-seconds S] [--layers] [--json FILE]\n' +
  '  Random weights (timing does not depend on them). Batch sizes default to 1,2,4,8,16,32,64.';

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    models: { type: 'string' }, backend: { type: 'string', default: 'wasm' }, batch: { type: 'string' },
    runs: { type: 'string', default: '10' }, 'max-seconds': { type: 'string', default: '10' }, layers: { type: 'boolean' },
    json: { type: 'string' },
  }, usage);
  // Model names as arguments (as every other command takes a model) or --models, not both.
  if ((values.models === undefined) === (positionals.length === 0)) {
    throw new CnnZooError(`bench needs model names: cnn-zoo bench NAME... or --models a,b|all${positionals.length ? ', not both' : ''}.\nUsage: ${usage}`, 'BAD_ARGS');
  }
  const wanted = values.models?.split(',') ?? positionals;
  const names = wanted.length === 1 && wanted[0] === 'all' ? listSpecs().map((s) => s.name) : wanted.map((s) => getSpec(s.trim()).name);
  const batchSizes = values.batch ? values.batch.split(',').map(Number) : [...DEFAULT_BATCH_SIZES];
  if (batchSizes.some((b) => !Number.isInteger(b) || b < 1)) throw new CnnZooError(`--batch must be positive integers like 1,8,32, got "${values.batch}".`, 'BAD_ARGS');
  const runs = positiveInt(values.runs, 'runs', usage)!, maxSeconds = Number(values['max-seconds']);
  if (!(maxSeconds > 0)) throw new CnnZooError(`--max-seconds must be a positive number, got "${values['max-seconds']}".`, 'BAD_ARGS');
  const backends = values.backend!.split(',').map((b) => b.trim());

  const results: ProfileResult[] = [];
  for (const wanted of backends) {
  const backend = await selectBackend(wanted);
  for (const name of names) {
    process.stderr.write(`bench ${name} on ${backend} ...\n`);
    const model = create(name);
    try {
      const r = await profileModel(model, { batchSizes, runs, maxMsPerBatch: maxSeconds * 1000, layers: values.layers ?? false, name, onProgress: (m) => process.stderr.write(`  ${m}\n`) });
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
    console.log(`\nbackend ${env.backend} (tfjs ${env.tfjs}${Object.keys(env.flags).length ? ', ' + Object.entries(env.flags).map(([k, v]) => `${k}=${v}`).join(', ') : ''}), ${env.cpu} x${env.cores}, node ${env.node ?? '-'}`);
  }
  console.log('\nSize and one profiled forward pass (tf.profile, first batch size):');
  console.log(table(['model', 'backend', 'params (M)', 'GFLOPs', 'GMACs', 'weights (MB)', 'kernels', 'kernel ms', 'newBytes (MB)', 'peakBytes (MB)', 'top-1 %', 'top-1 / Mparam'],
    mergeResults(results).map((row) => {
      const r = results.find((x) => x.model === row.model && x.env.backend === row.backend)!;
      return [row.model, row.backend, (r.params / 1e6).toFixed(3), (r.flops / 1e9).toFixed(3), (r.macs / 1e9).toFixed(3), mb(r.weightBytes),
        String(r.profile.kernelCount), r.profile.kernelMs.toFixed(1), mb(r.profile.newBytes), mb(r.profile.peakBytes),
        row.top1 === undefined ? '-' : row.top1.toFixed(2), row.accuracyDensity === undefined ? '-' : row.accuracyDensity.toFixed(2)];
    })));
  console.log('\nLatency per batch (ms per batch; warm = after the cold call):');
  console.log(table(['model', 'backend', 'batch', 'cold ms', 'warm median ms', 'warm p90 ms', 'runs', 'images/s', 'peak MB'],
    results.flatMap((r) => r.latency.map((l) => [r.model, r.env.backend, String(l.batch), l.coldMs.toFixed(1), l.warmMedianMs.toFixed(1), l.warmP90Ms.toFixed(1), String(l.runs), l.imagesPerSec.toFixed(2), mb(l.peakBytes)]))));
  const rows = mergeResults(results);
  if (rows.some((r) => batch1(r) && r.top1 !== undefined)) {
    console.log('\nBest model under a budget (batch 1; Top-1 published unless evaluated; Bianco et al. 2018):');
    const picks = bestUnderBudget(rows);
    console.log(table(['memory', 'fps', 'best model', 'top-1 %', 'FPS', 'peak MB'], picks.map((p) => [`<= ${p.memoryGB} GB`, `>= ${p.fps}`,
      p.model ? `${p.model} (${p.backend})` : 'none', p.top1 === undefined ? '-' : p.top1.toFixed(2), p.measuredFps === undefined ? '-' : p.measuredFps.toFixed(1), p.peakMB === undefined ? '-' : p.peakMB.toFixed(0)])));
  }
  if (values.json) {
    await writeFile(values.json, JSON.stringify(results, null, 1));
    console.log(`\nwrote ${values.json}`);
  }
  return 0;
}
