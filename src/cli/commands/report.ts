/**
 * `cnn-zoo report RESULTS.json... --out DIR`: merge bench/eval results into results.json, results.csv and
 * latency.csv (timm-style columns), results.md (model-zoo table + budget table) and two SVG charts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CnnZooError, refuseTildePath } from '../../errors.js';
import { latencyCsv, markdownReport, resultsCsv } from '../../eval/report.js';
import { bestUnderBudget, mergeResults, parseResults, type AnyResult } from '../../eval/results.js';
import { accuracyVsFlopsSvg, latencyVsBatchSvg } from '../../eval/svg.js';
import { parse } from '../args.js';

export const usage = 'cnn-zoo report RESULTS.json... --out DIR [--title TEXT]\n' +
  '  RESULTS: files written by `cnn-zoo bench --json` / `cnn-zoo eval --json` (or a previous report\'s results.json).';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string' }, title: { type: 'string', default: 'cnn-zoo benchmark' } }, usage);
  const missing = [positionals.length === 0 && 'the RESULTS.json files (from cnn-zoo bench --json or eval --json)', !values.out && '--out DIR'].filter(Boolean);
  if (missing.length > 0 || !values.out) throw new CnnZooError(`report is missing ${missing.join(', ')}.\nUsage: ${usage}`, 'BAD_ARGS');
  const results: AnyResult[] = [];
  for (const p of positionals) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(p, 'utf8'));
    } catch (e) {
      throw new CnnZooError(`Cannot read results ${p}: ${(e as Error).message}.`, 'BAD_RESULTS');
    }
    results.push(...parseResults(json, p));
  }
  const rows = mergeResults(results);
  refuseTildePath('write the report to', values.out);
  await mkdir(values.out, { recursive: true });
  const files: [string, string][] = [
    ['results.json', JSON.stringify({ generated: new Date().toISOString(), rows, budgets: bestUnderBudget(rows), results }, null, 1)],
    ['results.csv', resultsCsv(rows)],
    ['latency.csv', latencyCsv(rows)],
    ['results.md', markdownReport(rows, values.title)],
    ['accuracy-vs-flops.svg', accuracyVsFlopsSvg(rows)],
    ['latency-vs-batch.svg', latencyVsBatchSvg(rows)],
  ];
  for (const [name, text] of files) await writeFile(join(values.out, name), text);
  console.log(`${rows.length} rows from ${results.length} results; wrote ${files.map(([n]) => join(values.out!, n)).join(', ')}`);
  return 0;
}
