/** The registry as a Markdown table (README "Models" section, `cnn-zoo list --markdown`). */
import type { ModelSpec } from './types.js';

const fmt = (n: number | undefined, div: number, digits: number): string => (n === undefined ? '-' : (n / div).toFixed(digits));

export function modelTableMarkdown(specs: readonly ModelSpec[]): string {
  const rows = specs.map((s) => `| \`${s.name}\` | ${s.family} | ${s.inputSize} | ${s.numClasses} | ${fmt(s.meta.params, 1e6, 2)} | ` +
    `${fmt(s.meta.flops, 1e9, 2)} | ${s.meta.top1?.toFixed(2) ?? '-'} | ${s.meta.top5?.toFixed(2) ?? '-'} | ` +
    `${s.fixtures.map((f) => `\`${f.name}\``).join(', ') || '-'} | ${s.meta.reference} |`);
  return ['| model | family | input | classes | params (M) | GFLOPs | top-1 | top-5 | parity fixtures | reference |',
    '|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}
