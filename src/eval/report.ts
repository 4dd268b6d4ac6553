/**
 * Report files from merged results: CSV with timm-style columns (`results.csv` one row per model and backend,
 * `latency.csv` one row per batch size), a Markdown model-zoo table in the style of PaddleClas's, and the
 * "best model under a budget" table. Units are in the column names (M = 1e6, G = 1e9, MB = 1e6 bytes).
 */
import { batch1, bestUnderBudget, FPS_TARGETS, MEMORY_BUDGETS_GB, type ModelRow } from './results.js';

const num = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits));

/** RFC 4180 field quoting. */
function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
const csv = (header: readonly string[], rows: readonly string[][]): string =>
  [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';

export const RESULTS_CSV_COLUMNS = [
  'model', 'backend', 'top1', 'top1_err', 'top5', 'top5_err', 'accuracy_source', 'param_count', 'img_size', 'crop_pct',
  'interpolation', 'gmacs', 'gflops', 'infer_batch_size', 'infer_samples_per_sec', 'infer_step_time', 'infer_step_time_p90',
  'infer_cold_time', 'peak_mem_mb', 'max_samples_per_sec', 'max_samples_per_sec_batch', 'top1_per_mparam',
] as const;

/** `results.csv`: timm's results/benchmark columns (param_count in millions, step times in ms at batch 1). */
export function resultsCsv(rows: readonly ModelRow[]): string {
  return csv(RESULTS_CSV_COLUMNS, rows.map((r) => {
    const l = batch1(r);
    const fastest = r.latency.reduce<ModelRow['latency'][number] | undefined>((a, p) => (!a || p.imagesPerSec > a.imagesPerSec ? p : a), undefined);
    return [
      r.model, r.backend, num(r.top1, 3), num(r.top1 === undefined ? undefined : 100 - r.top1, 3), num(r.top5, 3),
      num(r.top5 === undefined ? undefined : 100 - r.top5, 3), r.accuracySource ?? '', num(r.params === undefined ? undefined : r.params / 1e6, 3),
      r.inputSize === undefined ? '' : String(r.inputSize), num(r.cropFraction, 3), r.interpolation ?? '',
      num(r.flops === undefined ? undefined : r.flops / 2e9, 3), num(r.flops === undefined ? undefined : r.flops / 1e9, 3),
      l ? '1' : '', num(l?.imagesPerSec, 2), num(l?.warmMedianMs, 3), num(l?.warmP90Ms, 3), num(l?.coldMs, 3),
      num(l?.peakBytes === undefined ? undefined : l.peakBytes / 1e6, 1), num(fastest?.imagesPerSec, 2), fastest ? String(fastest.batch) : '',
      num(r.accuracyDensity, 3),
    ];
  }));
}

export const LATENCY_CSV_COLUMNS = ['model', 'backend', 'infer_batch_size', 'infer_cold_time', 'infer_step_time', 'infer_step_time_p90', 'infer_runs', 'infer_samples_per_sec', 'peak_mem_mb'] as const;

/** `latency.csv`: one row per model, backend and batch size (times in ms per batch). */
export function latencyCsv(rows: readonly ModelRow[]): string {
  return csv(LATENCY_CSV_COLUMNS, rows.flatMap((r) => r.latency.map((l) => [
    r.model, r.backend, String(l.batch), num(l.coldMs, 3), num(l.warmMedianMs, 3), num(l.warmP90Ms, 3), String(l.runs),
    num(l.imagesPerSec, 2), num(l.peakBytes === undefined ? undefined : l.peakBytes / 1e6, 1),
  ])));
}

const mdRow = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
const mdTable = (header: readonly string[], rows: readonly string[][]): string[] =>
  [mdRow(header), mdRow(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(mdRow)];

/** Where a row's accuracy comes from, short: the evaluated dataset, or "published" (ImageNet-1k val). */
const accuracyOn = (r: ModelRow): string =>
  !r.accuracySource ? '-' : r.accuracySource.startsWith('measured: ') ? r.accuracySource.slice('measured: '.length) : 'published (ImageNet val)';

/** A Markdown report: the model table (PaddleClas style), the budget table, and notes on units and sources. */
export function markdownReport(rows: readonly ModelRow[], title = 'cnn-zoo benchmark'): string {
  const batches = [...new Set(rows.flatMap((r) => r.latency.map((l) => l.batch)))].sort((a, b) => a - b).slice(0, 3);
  const header = ['Model', 'Backend', 'Top-1 Acc (%)', 'Top-5 Acc (%)', 'Accuracy on', ...batches.map((b) => `time(ms) bs=${b}`), 'FPS bs=1',
    'FLOPs(G)', 'Params(M)', 'Top-1 / Mparam', 'Peak mem bs=1 (MB)'];
  const table = mdTable(header, rows.map((r) => {
    const l = batch1(r);
    return [
      r.model, r.backend || '-', num(r.top1, 2) || '-', num(r.top5, 2) || '-', accuracyOn(r),
      ...batches.map((b) => num(r.latency.find((p) => p.batch === b)?.warmMedianMs, 2) || '-'), num(l?.imagesPerSec, 1) || '-',
      num(r.flops === undefined ? undefined : r.flops / 1e9, 3) || '-', num(r.params === undefined ? undefined : r.params / 1e6, 3) || '-',
      num(r.accuracyDensity, 2) || '-', num(l?.peakBytes === undefined ? undefined : l.peakBytes / 1e6, 1) || '-',
    ];
  }));
  const picks = bestUnderBudget(rows);
  const budget = mdTable(['Memory budget', ...FPS_TARGETS.map((f) => `>= ${f} FPS`)], MEMORY_BUDGETS_GB.map((m) => [
    `<= ${m} GB`, ...FPS_TARGETS.map((f) => {
      const p = picks.find((x) => x.memoryGB === m && x.fps === f)!;
      return p.model ? `${p.model} (${num(p.top1, 2)}%, ${num(p.measuredFps, 1)} FPS, ${num(p.peakMB, 0)} MB)` : 'none';
    }),
  ]));
  const sources = [...new Set(rows.map((r) => r.accuracySource).filter((s): s is string => !!s))];
  return [
    `# ${title}`, '',
    ...table, '',
    '- time: warm median latency per batch (ms), measured after one cold call; FPS = images per second at batch size 1.',
    '- FLOPs: convolution + matmul for one image, 1 multiply-add = 2 FLOPs (MACs = FLOPs / 2). Params: learnable, BN statistics excluded.',
    '- Peak mem: peak bytes held by tfjs tensors during one batch-1 call (weights included), from `tf.profile` (not measured on onnxruntime, whose rows the budget table leaves out).',
    `- Accuracy sources: ${sources.length ? sources.join('; ') : 'none'}. Accuracies measured on different image sets are not comparable.`, '',
    '## Best model under a budget', '',
    'Highest Top-1 among the models above whose batch-1 peak memory and speed meet both limits (Bianco et al. 2018, Table 2 style).', '',
    ...budget, '',
  ].join('\n');
}
