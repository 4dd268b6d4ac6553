/** `cnn-zoo list [--family F] [--weights shipped|published]`: the registry as a table, with the weights each model has. */
import { list } from '../../api/index.js';
import { familyNames, listSpecs } from '../../zoo/registry.js';
import { CnnZooError, meant } from '../../errors.js';
import { parse } from '../args.js';
import { formatCount, table } from '../format.js';
import { modelTableMarkdown } from '../../api/model-table.js';

export const usage = 'cnn-zoo list [--family NAME] [--weights shipped|published] [--max-params N (5e6, 5M, 500k)] [--json | --markdown]';
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    family: { type: 'string' }, weights: { type: 'string' }, 'max-params': { type: 'string' }, json: { type: 'boolean' }, markdown: { type: 'boolean' },
  }, usage);
  const max = values['max-params'];
  const unit = max === undefined ? 1 : /m$/i.test(max) ? 1e6 : /k$/i.test(max) ? 1e3 : 1;
  const maxParams = max === undefined ? undefined : Number(max.replace(/[mk]$/i, '')) * unit;
  if (maxParams !== undefined && !(maxParams > 0)) throw new CnnZooError(`--max-params must be a positive count such as 5e6, 5M or 500k, got "${max}".\nUsage: ${usage}`, 'BAD_ARGS');
  if (values.weights !== undefined && values.weights !== 'shipped' && values.weights !== 'published') {
    throw new CnnZooError(`--weights must be shipped or published, got "${values.weights}".\nUsage: ${usage}`, 'BAD_ARGS');
  }
  if (values.family !== undefined && !familyNames().includes(values.family)) {
    const best = meant(values.family, familyNames());
    throw new CnnZooError(`--family: no family "${values.family}".${best ? ` Did you mean --family ${best}?` : ''} ` +
      `Families: ${familyNames().join(', ')}.\nUsage: ${usage}`, 'BAD_ARGS');
  }
  const cards = list({ family: values.family, weights: values.weights, ...(maxParams !== undefined ? { maxParams } : {}) });
  if (values.markdown) {
    const names = new Set(cards.map((c) => c.name));
    console.log(modelTableMarkdown(listSpecs({ family: values.family }).filter((s) => names.has(s.name))));
    return 0;
  }
  if (values.json) {
    console.log(JSON.stringify(cards, null, 2));
    return 0;
  }
  console.log(table(['name', 'family', 'input', 'classes', 'params', 'GFLOPs', 'top1', 'weights'],
    cards.map((c) => [c.name, c.family, String(c.inputSize), String(c.numClasses), c.meta.params ? formatCount(c.meta.params) : '-',
      c.meta.flops ? (c.meta.flops / 1e9).toFixed(2) : '-', c.meta.top1?.toFixed(1) ?? '-',
      c.weights.shipped ? 'shipped' : c.weights.imagenet ? `${c.weights.imagenet.id}${c.weights.published.length > 1 ? ` (+${c.weights.published.length - 1})` : ''}` : '-'])));
  console.log(`\n${cards.length} models. FLOPs: conv+matmul per image at the default input, 1 multiply-add = 2 FLOPs. ` +
    'top1: the publisher\'s number for the checkpoint `--weights imagenet` gets (else the paper\'s). weights: shipped in the package, ' +
    'or the default published checkpoint (`cnn-zoo fetch NAME --list` shows all).');
  return 0;
}
