/** Profiling a tiny model, merging results, the budget table, and the report files (CSV columns, Markdown, valid SVG). */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../src/backend.js';
import { run as reportCommand } from '../src/cli/commands/report.js';
import { CnnZooError } from '../src/errors.js';
import type { EvalResult } from '../src/eval/evaluate.js';
import { median, percentile, profileModel, profileOnnxRuntime, type ProfileResult } from '../src/eval/profile.js';
import { runtimeCounts } from '../src/onnx/runtime.js';
import { create } from '../src/index.js';
import { LATENCY_CSV_COLUMNS, RESULTS_CSV_COLUMNS, latencyCsv, markdownReport, resultsCsv } from '../src/eval/report.js';
import { bestUnderBudget, mergeResults, parseResults } from '../src/eval/results.js';
import { accuracyVsFlopsSvg, latencyVsBatchSvg } from '../src/eval/svg.js';

/** Minimal XML well-formedness check: balanced tags, quoted attributes, known entities, one root. */
function checkXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<|&(?!(?:amp|lt|gt|quot|apos);)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (m[0] === '<' || m[0] === '&') throw new Error(`malformed markup at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    if (!m[2]) continue;
    if (m[1]) {
      if (stack.pop() !== m[2]) throw new Error(`unbalanced </${m[2]}> at ${m.index}`);
    } else if (!m[4]) {
      if (stack.length === 0) roots++;
      stack.push(m[2]);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('><')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

const env = { backend: 'wasm', tfjs: '4.22.0', platform: 'linux x64', cpu: 'test', cores: 2, flags: {} };
function bench(model: string, params: number, flops: number, ms1: number, peakMB: number): ProfileResult {
  const point = (batch: number, ms: number) => ({ batch, coldMs: ms * 2, warmMedianMs: ms, warmP90Ms: ms * 1.1, runs: 5, imagesPerSec: (1000 * batch) / ms, peakBytes: peakMB * 1e6 * batch });
  return {
    kind: 'bench', model, inputSize: 224, numClasses: 1000, params, flops, macs: flops / 2, weightBytes: params * 4,
    profile: { batch: 1, kernelCount: 10, kernelMs: ms1, newBytes: 4000, newTensors: 1, peakBytes: peakMB * 1e6, topKernels: [] },
    latency: [point(1, ms1), point(8, ms1 * 5)], env, date: '2026-01-01T00:00:00Z',
  };
}
function evalResult(model: string, top1: number, top5: number, weights = 'converted/dir'): EvalResult {
  return {
    kind: 'eval', model, weights, dataset: 'val-subset', datasetLayout: 'labels-file', images: 10, evaluated: 10, failed: [], datasetProblems: [],
    top1, top5, meanClassTop1: top1, perClass: [], batchSize: 8,
    preprocess: { size: 224, cropFraction: 0.875, interpolation: 'bicubic', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], channelOrder: 'RGB' },
    classOffset: 0, backend: 'wasm', seconds: 1, imagesPerSec: 10,
  };
}

describe('profiling and reports', () => {
  before(async () => { await useBackend('cpu'); });

  it('computes median and nearest-rank percentiles', () => {
    expect(median([5, 1, 3])).to.equal(3);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).to.equal(9);
    expect(percentile([7], 90)).to.equal(7);
  });

  it('profiles a tiny model: counts, tf.profile kernels and memory, cold/warm latency per batch size', async () => {
    const model = tf.sequential({ name: 'tiny' });
    model.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, name: 'conv' }));
    model.add(tf.layers.flatten({ name: 'flat' }));
    model.add(tf.layers.dense({ units: 5, name: 'fc' }));
    const before = tf.memory().numTensors;
    const r = await profileModel(model, { batchSizes: [1, 4], runs: 3, layers: true });
    expect(tf.memory().numTensors).to.equal(before);
    expect(r.params).to.equal(3 * 3 * 3 * 4 + 4 + 6 * 6 * 4 * 5 + 5);
    expect(r.flops).to.equal(2 * 6 * 6 * 4 * 27 + 2 * 144 * 5);
    expect(r.macs).to.equal(r.flops / 2);
    expect(r.layers!.map((l) => l.name)).to.deep.equal(['conv', 'flat', 'fc']);
    expect(r.latency.map((l) => [l.batch, l.runs])).to.deep.equal([[1, 3], [4, 3]]);
    for (const l of r.latency) {
      expect(l.warmMedianMs).to.be.greaterThan(0);
      expect(l.warmP90Ms).to.be.at.least(l.warmMedianMs);
      expect(l.imagesPerSec).to.be.closeTo((1000 * l.batch) / l.warmMedianMs, 1e-9);
    }
    // Peak memory holds the weights and grows with the batch.
    expect(r.latency[0]!.peakBytes).to.be.at.least(r.weightBytes);
    expect(r.latency[1]!.peakBytes).to.be.greaterThan(r.latency[0]!.peakBytes!);
    expect(r.profile!.kernelCount).to.be.greaterThan(2);
    expect(r.profile!.topKernels.length).to.be.greaterThan(0);
    expect(r.env.backend).to.equal('cpu');
    await expectReject(profileModel(model, { batchSizes: [0] }), /positive integers/);
    model.dispose();
  });

  it('profiles a model on onnxruntime as load() runs it (its inference form exported): latency per batch, no tfjs kernels or memory', async () => {
    const model = create('squeezenet1_1', { inputSize: 64 });
    const before = tf.memory().numTensors;
    const sessions = runtimeCounts();
    const r = await profileOnnxRuntime(model, { batchSizes: [1, 3], runs: 3, name: 'sq' });
    expect(tf.memory().numTensors, 'tensors (the inference form is disposed)').to.equal(before);
    expect([runtimeCounts().sessions - sessions.sessions, runtimeCounts().open - sessions.open], 'sessions made, left open').to.deep.equal([1, 0]);
    expect([r.model, r.env.backend, r.inputSize, r.numClasses, r.params, r.profile]).to.deep.equal(['sq', 'onnxruntime-node', 64, 1000, 1235496, undefined]);
    expect(r.env.flags).to.have.keys('onnxruntime');
    expect(r.latency.map((l) => [l.batch, l.runs, l.peakBytes])).to.deep.equal([[1, 3, undefined], [3, 3, undefined]]);
    for (const l of r.latency) expect(l.imagesPerSec).to.be.closeTo((1000 * l.batch) / l.warmMedianMs, 1e-9);
    // Its rows join the tables; the budget table leaves them out (no memory measured), the CSV leaves the cell empty.
    const rows = mergeResults([r]);
    expect(bestUnderBudget(rows).every((p) => p.model === undefined)).to.equal(true);
    expect(latencyCsv(rows).split('\n')[1]).to.match(/^sq,onnxruntime-node,1,[\d.]+,[\d.]+,[\d.]+,3,[\d.]+,$/);
    await expectReject(profileOnnxRuntime(model, { batchSizes: [0] }), /positive integers/);
    model.dispose();
  });

  it('merges results: measured accuracy beats published, random-weight evals are ignored, density and budgets', () => {
    const rows = mergeResults([
      bench('resnet50', 25_557_032, 8_178_000_000, 50, 300),
      bench('squeezenet1_1', 1_235_496, 698_000_000, 10, 50),
      bench('mobilenet_v2', 3_504_872, 602_000_000, 20, 100),
      evalResult('squeezenet1_1', 58.5, 80.25),
      evalResult('mobilenet_v2', 1, 2, 'random'),
    ]);
    expect(rows.map((r) => r.model)).to.deep.equal(['mobilenet_v2', 'squeezenet1_1', 'resnet50']); // by FLOPs
    const sq = rows.find((r) => r.model === 'squeezenet1_1')!;
    expect([sq.top1, sq.accuracySource, sq.interpolation]).to.deep.equal([58.5, 'measured: val-subset (10 images)', 'bicubic']);
    expect(sq.accuracyDensity).to.be.closeTo(58.5 / 1.235496, 1e-9);
    const mb = rows.find((r) => r.model === 'mobilenet_v2')!;
    expect(mb.accuracySource).to.match(/^published: /);
    expect(mb.top1).to.be.greaterThan(70);
    const picks = bestUnderBudget(rows);
    expect(picks.length).to.equal(9);
    // Batch 1: resnet50 20 FPS / 300 MB, mobilenet_v2 50 FPS / 100 MB, squeezenet1_1 100 FPS / 50 MB.
    const pick = (gb: number, fps: number): string | undefined => picks.find((p) => p.memoryGB === gb && p.fps === fps)!.model;
    for (const gb of [0.7, 1, 1.4]) expect([pick(gb, 15), pick(gb, 30), pick(gb, 60)]).to.deep.equal(['resnet50', 'mobilenet_v2', 'squeezenet1_1']);
    expect(bestUnderBudget([{ ...rows[2]!, latency: [{ ...rows[2]!.latency[0]!, peakBytes: 2e9 }] }]).every((p) => p.model === undefined)).to.equal(true);
    // A model only evaluated (not benched) takes its card's params and FLOPs at the card's size (FLOPs were '-').
    const [only] = mergeResults([evalResult('tf_mobilenet_v2_100', 75, 90)]);
    expect([only!.params, only!.flops]).to.deep.equal([3506153, 601551104]);
    const [other] = mergeResults([{ ...evalResult('tf_mobilenet_v2_100', 75, 90), preprocess: { ...evalResult('x', 0, 0).preprocess, size: 160 } }]);
    expect([other!.params, other!.flops]).to.deep.equal([3506153, undefined]);
  });

  it('writes timm-style CSVs, a Markdown table and well-formed SVG charts', () => {
    const rows = mergeResults([bench('resnet50', 25_557_032, 8_178_000_000, 50, 300), bench('a<b&"c"', 1e6, 1e9, 10, 50), evalResult('a<b&"c"', 50, 75)]);
    const csv = resultsCsv(rows).trim().split('\n');
    expect(csv[0]!.split(',')).to.deep.equal([...RESULTS_CSV_COLUMNS]);
    expect(csv[0]).to.match(/^model,backend,top1,top1_err,top5,top5_err,/);
    const r50 = csv.find((l) => l.startsWith('resnet50,'))!.split(',');
    const col = (name: string): string => r50[RESULTS_CSV_COLUMNS.indexOf(name as typeof RESULTS_CSV_COLUMNS[number])]!;
    expect([col('param_count'), col('gmacs'), col('gflops'), col('infer_batch_size'), col('infer_step_time'), col('infer_samples_per_sec'), col('peak_mem_mb')])
      .to.deep.equal(['25.557', '4.089', '8.178', '1', '50.000', '20.00', '300.0']);
    expect(csv.find((l) => l.startsWith('"a<b&""c"""'))).to.be.a('string'); // RFC 4180 quoting
    const lat = latencyCsv(rows).trim().split('\n');
    expect(lat[0]!.split(',')).to.deep.equal([...LATENCY_CSV_COLUMNS]);
    expect(lat.length).to.equal(1 + 4);
    const md = markdownReport(rows, 'Test');
    expect(md).to.include('| Model | Backend | Top-1 Acc (%) | Top-5 Acc (%) | Accuracy on | time(ms) bs=1 | time(ms) bs=8 |');
    expect(md).to.include('| resnet50 | wasm | 76.13 | 92.86 | published (ImageNet val) |');
    expect(md).to.include('## Best model under a budget');
    for (const svg of [accuracyVsFlopsSvg(rows), latencyVsBatchSvg(rows), accuracyVsFlopsSvg([]), latencyVsBatchSvg([])]) {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
      checkXml(svg);
    }
    expect(accuracyVsFlopsSvg(rows)).to.include('a&lt;b&amp;&quot;c&quot;');
    expect((accuracyVsFlopsSvg(rows).match(/<circle [^>]*fill-opacity="0.45"/g) ?? []).length).to.equal(2);
    expect((latencyVsBatchSvg(rows).match(/<polyline /g) ?? []).length).to.equal(2);
    expect(() => checkXml('<svg><g></svg>')).to.throw(/unbalanced/);
  });

  it('`cnn-zoo report` writes every file and rejects files that are not results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-report-'));
    try {
      writeFileSync(join(dir, 'bench.json'), JSON.stringify([bench('resnet50', 25_557_032, 8_178_000_000, 50, 300)]));
      writeFileSync(join(dir, 'eval.json'), JSON.stringify(evalResult('resnet50', 80, 95)));
      const log = console.log;
      console.log = () => {};
      try {
        expect(await reportCommand([join(dir, 'bench.json'), join(dir, 'eval.json'), '--out', join(dir, 'out')])).to.equal(0);
      } finally {
        console.log = log;
      }
      for (const f of ['results.json', 'results.csv', 'latency.csv', 'results.md', 'accuracy-vs-flops.svg', 'latency-vs-batch.svg']) {
        expect(readFileSync(join(dir, 'out', f), 'utf8').length, f).to.be.greaterThan(100);
      }
      expect(readFileSync(join(dir, 'out', 'results.csv'), 'utf8')).to.include('resnet50,wasm,80.000,20.000,95.000,5.000,measured: val-subset (10 images)');
      // A report's results.json can be fed back in.
      expect(parseResults(JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')), 'x').length).to.equal(2);
      writeFileSync(join(dir, 'bad.json'), '{"hello": 1}');
      await expectReject(reportCommand([join(dir, 'bad.json'), '--out', dir]), /not a cnn-zoo bench or eval result/);
      await expectReject(reportCommand(['--out', dir]), /^report is missing the RESULTS\.json files \(from cnn-zoo bench --json or eval --json\)\./);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function expectReject(p: Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown;
  try { await p; } catch (e) { err = e; }
  expect(err).to.be.instanceOf(CnnZooError);
  expect((err as Error).message).to.match(re);
}
