/**
 * Prints (or with --write, pastes) the generated weights tables: the short one between the weights-table markers
 * in README.md, the full one between the weights-full-table markers in docs/WEIGHTS.md.
 *   npx tsx tools/hub/readme-table.ts [--write]
 * test/fetch-table.test.ts fails when the pasted tables differ from the table in src/pretrained.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOC_MARKERS, fullWeightsTable, README_MARKERS, readmeWeightsTable, withTable } from './markdown.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
if (!process.argv.includes('--write')) {
  console.log(readmeWeightsTable());
} else {
  for (const [file, markers, table] of [['README.md', README_MARKERS, readmeWeightsTable()], [join('docs', 'WEIGHTS.md'), DOC_MARKERS, fullWeightsTable()]] as const) {
    const path = join(root, file);
    const next = withTable(readFileSync(path, 'utf8'), markers, table);
    if (next === undefined) throw new Error(`${file} lacks the markers ${markers.join(' ... ')}`);
    writeFileSync(path, next);
    console.log(`wrote the weights table into ${file}`);
  }
}
