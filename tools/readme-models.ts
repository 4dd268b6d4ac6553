/** Rewrites the README's model table (between the `models:start`/`models:end` markers) from the registry. */
import { readFileSync, writeFileSync } from 'node:fs';
import { listSpecs } from '../src/zoo/registry.js';
import { modelTableMarkdown } from '../src/api/model-table.js';

const START = '<!-- models:start -->', END = '<!-- models:end -->';
const readme = readFileSync('README.md', 'utf8');
const a = readme.indexOf(START), b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} ... ${END} markers`);
writeFileSync('README.md', `${readme.slice(0, a + START.length)}\n${modelTableMarkdown(listSpecs())}\n${readme.slice(b)}`);
console.log(`README model table: ${listSpecs().length} models`);
