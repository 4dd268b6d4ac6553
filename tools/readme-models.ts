/**
 * Rewrites the README's generated tables: the model table (between the `models:start`/`models:end` markers) from
 * the registry, and the agreement of converted checkpoints with their original runtimes (`agreement:start`/
 * `agreement:end`, in README.md and docs/WEIGHTS.md) from docs/agreement.csv (tools/verify-agreement.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { listSpecs } from '../src/zoo/registry.js';
import { modelTableMarkdown } from '../src/api/model-table.js';
import { AGREEMENT_END, AGREEMENT_START, agreementMarkdown, readAgreement } from './agreement-table.js';

function replaceRegion(file: string, start: string, end: string, body: string): void {
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(start), b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} lacks the ${start} ... ${end} markers`);
  writeFileSync(file, `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`);
}

replaceRegion('README.md', '<!-- models:start -->', '<!-- models:end -->', modelTableMarkdown(listSpecs()));
console.log(`README model table: ${listSpecs().length} models`);
const agreement = agreementMarkdown(readAgreement());
for (const file of ['README.md', 'docs/WEIGHTS.md']) replaceRegion(file, AGREEMENT_START, AGREEMENT_END, agreement);
console.log(`agreement table (README.md, docs/WEIGHTS.md): ${readAgreement().length} checkpoints`);
