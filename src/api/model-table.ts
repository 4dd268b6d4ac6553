/** The registry as a Markdown table (README "Models" section, `cnn-zoo list --markdown`). */
import type { ModelSpec } from '../zoo/types.js';
import { cardOf } from './cards.js';

const fmt = (n: number | undefined, div: number, digits: number): string => (n === undefined ? '-' : (n / div).toFixed(digits));

export function modelTableMarkdown(specs: readonly ModelSpec[]): string {
  const rows = specs.map((s) => {
    const c = cardOf(s);
    return `| \`${s.name}\` | ${s.family} | ${s.inputSize} | ${s.numClasses} | ${fmt(s.meta.params, 1e6, 2)} | ` +
      `${fmt(s.meta.flops, 1e9, 2)} | ${c.meta.top1?.toFixed(2) ?? '-'} | ${c.meta.top5?.toFixed(2) ?? '-'} | ` +
      `${c.weights.shipped ? 'shipped' : c.weights.imagenet ? `\`${c.weights.imagenet.id}\`` : '-'} | ` +
      `${s.fixtures.map((f) => `\`${f.name}\``).join(', ') || '-'} | ${s.meta.reference} |`;
  });
  return ['| model | family | input | classes | params (M) | GFLOPs | top-1 | top-5 | weights | parity fixtures | reference |',
    '|---|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}
