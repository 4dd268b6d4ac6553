/**
 * Self-contained SVG charts (no dependencies): Top-1 vs FLOPs with bubble area proportional to parameters,
 * as in Bianco et al. 2018 (Fig. 1), and latency vs batch size per model (log-log).
 */
import type { ModelRow } from './results.js';

const W = 1020, H = 600, M = { left: 80, right: 260, top: 50, bottom: 70 };
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

interface Axis { min: number; max: number; log: boolean; ticks: number[] }

/** Tick values: 1-2-5 steps for linear axes, 1-2-5 per decade (or powers of `base`) for log axes. */
function makeAxis(values: readonly number[], log: boolean, base = 10, padFrac = 0.08, clamp?: [number, number]): Axis {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (log) {
    lo = Math.max(lo, 1e-9);
    const l0 = Math.log(lo) / Math.log(base), l1 = Math.log(hi) / Math.log(base);
    const pad = Math.max((l1 - l0) * padFrac, 0.15);
    const min = base ** (l0 - pad), max = base ** (l1 + pad);
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log(min) / Math.log(base)); base ** e <= max; e++) {
      for (const m of base === 10 ? [1, 2, 5] : [1]) {
        const t = m * base ** e;
        if (t >= min && t <= max) ticks.push(t);
      }
    }
    return { min, max, log, ticks };
  }
  if (lo === hi) { lo -= 1; hi += 1; }
  const span = hi - lo;
  lo -= span * padFrac; hi += span * padFrac;
  if (clamp) { lo = Math.max(lo, clamp[0]); hi = Math.min(hi, clamp[1]); }
  const raw = (hi - lo) / 6, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return { min: lo, max: hi, log, ticks };
}

const scale = (a: Axis, v: number, from: number, to: number): number => {
  const f = a.log ? (Math.log(v) - Math.log(a.min)) / (Math.log(a.max) - Math.log(a.min)) : (v - a.min) / (a.max - a.min);
  return from + f * (to - from);
};
const fmt = (v: number): string => (Math.abs(v) >= 1e6 ? v.toExponential(0) : String(Number(v.toPrecision(3))));

function frame(title: string, xLabel: string, yLabel: string, x: Axis, y: Axis, body: string[]): string {
  const x0 = M.left, x1 = W - M.right, y0 = H - M.bottom, y1 = M.top;
  const grid = [
    ...x.ticks.map((t) => { const px = scale(x, t, x0, x1).toFixed(1); return `<line x1="${px}" y1="${y0}" x2="${px}" y2="${y1}" class="grid"/><text x="${px}" y="${y0 + 18}" text-anchor="middle">${fmt(t)}</text>`; }),
    ...y.ticks.map((t) => { const py = scale(y, t, y0, y1).toFixed(1); return `<line x1="${x0}" y1="${py}" x2="${x1}" y2="${py}" class="grid"/><text x="${x0 - 8}" y="${py}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`; }),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    '<style>.grid{stroke:#e3e3e3;stroke-width:1}.axis{stroke:#333;stroke-width:1.2}.label{font-size:11px;fill:#222}</style>',
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="28" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(title)}</text>`,
    ...grid,
    `<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" class="axis"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}" class="axis"/>`,
    `<text x="${(x0 + x1) / 2}" y="${H - 25}" text-anchor="middle" font-size="14">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(22 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" font-size="14">${escapeXml(yLabel)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

const placeholder = (title: string, why: string): string => frame(title, '', '', makeAxis([0, 1], false), makeAxis([0, 1], false),
  [`<text x="${(M.left + W - M.right) / 2}" y="${H / 2}" text-anchor="middle" font-size="15">${escapeXml(why)}</text>`]);

/** Top-1 vs GFLOPs; bubble area proportional to parameters (one bubble per model, first backend). */
export function accuracyVsFlopsSvg(rows: readonly ModelRow[], title = 'Top-1 accuracy vs. FLOPs (bubble area = parameters)'): string {
  const seen = new Set<string>();
  const pts = rows.filter((r) => r.top1 !== undefined && r.flops !== undefined && r.params !== undefined && !seen.has(r.model) && seen.add(r.model));
  if (pts.length === 0) return placeholder(title, 'No model has both accuracy and FLOPs.');
  const gflops = pts.map((r) => r.flops! / 1e9);
  const log = Math.max(...gflops) / Math.min(...gflops) > 30;
  const x = makeAxis(gflops, log), y = makeAxis(pts.map((r) => r.top1!), false, 10, 0.15, [0, 100]);
  const maxParams = Math.max(...pts.map((r) => r.params!));
  const radius = (p: number): number => 4 + 32 * Math.sqrt(p / maxParams);
  const body = pts.map((r, i) => {
    const cx = scale(x, r.flops! / 1e9, M.left, W - M.right), cy = scale(y, r.top1!, H - M.bottom, M.top), rad = radius(r.params!);
    const c = PALETTE[i % PALETTE.length]!;
    const dash = r.accuracySource?.startsWith('measured') ? '' : ' stroke-dasharray="4 3"';
    return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${rad.toFixed(1)}" fill="${c}" fill-opacity="0.45" stroke="${c}" stroke-width="1.5"${dash}><title>${escapeXml(`${r.model}: ${r.top1!.toFixed(2)}% top-1, ${(r.flops! / 1e9).toFixed(2)} GFLOPs, ${(r.params! / 1e6).toFixed(2)} M params (${r.accuracySource ?? ''})`)}</title></circle>` +
      `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="2" fill="${c}"/>` +
      `<text x="${(cx + rad * 0.72 + 3).toFixed(1)}" y="${(cy - rad * 0.72 - 3).toFixed(1)}" class="label">${escapeXml(r.model)}</text>`;
  });
  // Bubble-size legend.
  const lx = W - M.right + 50;
  const refs = [maxParams, maxParams / 4, maxParams / 16].map((p) => Number((p / 1e6).toPrecision(2)) * 1e6);
  let ly = M.top + 40;
  body.push(`<text x="${lx - 30}" y="${M.top + 10}" font-size="13">Parameters</text>`);
  for (const p of refs) {
    const rad = radius(p);
    ly += rad + 6;
    body.push(`<circle cx="${lx}" cy="${ly.toFixed(1)}" r="${rad.toFixed(1)}" fill="#999" fill-opacity="0.3" stroke="#666"/><text x="${lx + 40}" y="${ly.toFixed(1)}" dominant-baseline="middle">${fmt(p / 1e6)} M</text>`);
    ly += rad;
  }
  body.push(`<text x="${M.left}" y="${H - 6}" font-size="10" fill="#555">FLOPs: conv + matmul per image (1 MAC = 2 FLOPs). Accuracy: solid outline = measured with cnn-zoo eval, dashed = published (hover a bubble for its source).</text>`);
  return frame(title, `GFLOPs per image${log ? ' (log scale)' : ''}`, 'Top-1 accuracy (%)', x, y, body);
}

/** Warm median latency (ms per batch) vs batch size, one line per model and backend (log-log). */
export function latencyVsBatchSvg(rows: readonly ModelRow[], title = 'Latency vs. batch size'): string {
  const series = rows.filter((r) => r.latency.length > 0);
  if (series.length === 0) return placeholder(title, 'No latency measurements.');
  const all = series.flatMap((r) => r.latency);
  const x = makeAxis(all.map((l) => l.batch), true, 2, 0.05), y = makeAxis(all.map((l) => l.warmMedianMs), true);
  const body: string[] = [];
  series.forEach((r, i) => {
    const c = PALETTE[i % PALETTE.length]!;
    const pts = [...r.latency].sort((a, b) => a.batch - b.batch).map((l) => [scale(x, l.batch, M.left, W - M.right), scale(y, l.warmMedianMs, H - M.bottom, M.top)] as const);
    body.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`);
    for (const [px, py] of pts) body.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="${c}"/>`);
    const ly = M.top + 20 + i * 20;
    body.push(`<line x1="${W - M.right + 20}" y1="${ly}" x2="${W - M.right + 44}" y2="${ly}" stroke="${c}" stroke-width="3"/><text x="${W - M.right + 50}" y="${ly}" dominant-baseline="middle">${escapeXml(r.backend ? `${r.model} (${r.backend})` : r.model)}</text>`);
  });
  body.push(`<text x="${M.left}" y="${H - 6}" font-size="10" fill="#555">Warm median of repeated calls, timed until the output is read back.</text>`);
  return frame(title, 'Batch size (log scale)', 'Latency per batch, ms (log scale)', x, y, body);
}
