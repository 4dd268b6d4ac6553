/**
 * Benchmark and evaluation results merged into one row per (model, backend): size, accuracy (measured by
 * `evaluate`, else the published number from the model card, with its source), latency, memory, accuracy density,
 * and the "best model under a budget" table of Bianco et al. 2018 ("Benchmark Analysis of Representative Deep
 * Neural Network Architectures", IEEE Access: memory <= 0.7/1.0/1.4 GB x >= 15/30/60 FPS).
 */
import { CnnZooError } from '../errors.js';
import { getSpec } from '../zoo/registry.js';
import type { EvalResult } from './evaluate.js';
import type { LatencyPoint, ProfileResult } from './profile.js';

export type AnyResult = ProfileResult | EvalResult;

export interface ModelRow {
  model: string;
  /** Backend of the latency numbers ('' when only accuracy is known). */
  backend: string;
  params?: number;
  flops?: number;
  inputSize?: number;
  top1?: number;
  top5?: number;
  /** 'published: <source>' or 'measured: <dataset> (<n> images)'. */
  accuracySource?: string;
  cropFraction?: number;
  interpolation?: string;
  latency: LatencyPoint[];
  /** Top-1 (%) per million parameters. */
  accuracyDensity?: number;
}

export interface BudgetPick {
  memoryGB: number;
  fps: number;
  /** Best Top-1 model meeting both constraints at batch size 1, if any. */
  model?: string;
  backend?: string;
  top1?: number;
  peakMB?: number;
  measuredFps?: number;
}

export const MEMORY_BUDGETS_GB: readonly number[] = [0.7, 1.0, 1.4];
export const FPS_TARGETS: readonly number[] = [15, 30, 60];

/** Results from a JSON file: a single result, an array, or a report's `results.json`. */
export function parseResults(json: unknown, where: string): AnyResult[] {
  const list = Array.isArray(json) ? json
    : json && typeof json === 'object' && 'results' in json && Array.isArray((json as { results: unknown }).results) ? (json as { results: unknown[] }).results
      : [json];
  return list.map((r, i) => {
    const kind = (r as { kind?: unknown } | null)?.kind;
    if ((kind !== 'bench' && kind !== 'eval') || typeof (r as { model?: unknown }).model !== 'string') {
      throw new CnnZooError(`${where}: entry ${i} is not a cnn-zoo bench or eval result (expected "kind": "bench" | "eval" and "model"). ` +
        'Write results with `cnn-zoo bench --json FILE` or `cnn-zoo eval --json FILE`.', 'BAD_RESULTS');
    }
    return r as AnyResult;
  });
}

function published(model: string): Pick<ModelRow, 'top1' | 'top5' | 'accuracySource'> {
  try {
    const m = getSpec(model).meta;
    if (m.top1 === undefined) return {};
    return { top1: m.top1, ...(m.top5 !== undefined ? { top5: m.top5 } : {}), accuracySource: `published: ${m.accuracySource ?? m.reference}` };
  } catch {
    return {};
  }
}

/** One row per (model, backend); accuracy from the latest eval of the model, else published. */
export function mergeResults(results: readonly AnyResult[]): ModelRow[] {
  const evals = new Map<string, EvalResult>();
  // An untrained model's accuracy says nothing; among real evals the one with the most images wins.
  for (const r of results) {
    if (r.kind !== 'eval' || r.weights === 'random') continue;
    const prev = evals.get(r.model);
    if (!prev || r.evaluated >= prev.evaluated) evals.set(r.model, r);
  }
  const rows = new Map<string, ModelRow>();
  const benched = new Set<string>();
  for (const r of results) {
    if (r.kind !== 'bench') continue;
    benched.add(r.model);
    rows.set(`${r.model}\u0000${r.env.backend}`, { model: r.model, backend: r.env.backend, params: r.params, flops: r.flops, inputSize: r.inputSize, latency: r.latency });
  }
  for (const e of evals.values()) {
    if (!benched.has(e.model)) rows.set(`${e.model}\u0000`, { model: e.model, backend: '', latency: [] });
  }
  for (const row of rows.values()) {
    const e = evals.get(row.model);
    Object.assign(row, e
      ? { top1: e.top1, top5: e.top5, accuracySource: `measured: ${e.dataset} (${e.evaluated} images)`, cropFraction: e.preprocess.cropFraction, interpolation: e.preprocess.interpolation, inputSize: row.inputSize ?? e.preprocess.size }
      : published(row.model));
    if (row.params === undefined || row.flops === undefined) {
      try {
        const spec = getSpec(row.model);
        row.params ??= spec.meta.params;
        // The card's FLOPs are at its default input size; an eval at another size has none here.
        if (row.flops === undefined && spec.meta.flops !== undefined && (row.inputSize ?? spec.inputSize) === spec.inputSize) row.flops = spec.meta.flops;
      } catch { /* not a registry model */ }
    }
    if (row.top1 !== undefined && row.params) row.accuracyDensity = row.top1 / (row.params / 1e6);
  }
  return [...rows.values()].sort((a, b) => (a.flops ?? Infinity) - (b.flops ?? Infinity) || a.model.localeCompare(b.model) || a.backend.localeCompare(b.backend));
}

/** Batch-1 latency point of a row, if measured. */
export const batch1 = (row: ModelRow): LatencyPoint | undefined => row.latency.find((l) => l.batch === 1);

/** For each memory budget x FPS target: the most accurate model whose batch-1 peak memory and speed fit. */
export function bestUnderBudget(rows: readonly ModelRow[]): BudgetPick[] {
  const picks: BudgetPick[] = [];
  for (const memoryGB of MEMORY_BUDGETS_GB) {
    for (const fps of FPS_TARGETS) {
      let best: ModelRow | undefined;
      for (const r of rows) {
        const l = batch1(r);
        if (!l || r.top1 === undefined) continue;
        if (l.peakBytes !== undefined && l.peakBytes <= memoryGB * 1e9 && l.imagesPerSec >= fps && (!best || r.top1 > best.top1!)) best = r;
      }
      const l = best ? batch1(best)! : undefined;
      picks.push({ memoryGB, fps, ...(best && l ? { model: best.model, backend: best.backend, top1: best.top1, ...(l.peakBytes === undefined ? {} : { peakMB: l.peakBytes / 1e6 }), measuredFps: l.imagesPerSec } : {}) });
    }
  }
  return picks;
}
