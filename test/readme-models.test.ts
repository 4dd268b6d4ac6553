import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listSpecs } from '../src/zoo/registry.js';
import { modelTableMarkdown } from '../src/api/model-table.js';
import { ROOT } from './helpers/shared.js';

describe('README model table', () => {
  it('is in sync with the registry (regenerate: npm run readme:models)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const a = readme.indexOf('<!-- models:start -->'), b = readme.indexOf('<!-- models:end -->');
    expect(a, 'markers').to.be.greaterThan(0);
    expect(readme.slice(a + '<!-- models:start -->'.length, b).trim()).to.equal(modelTableMarkdown(listSpecs()));
  });
});
