/** `cnn-zoo list [--family F]`: the registry as a table. */
import { listSpecs } from '../../zoo/registry.js';
import { parse } from '../args.js';
import { formatCount, table } from '../format.js';
import { modelTableMarkdown } from '../../zoo/model-table.js';

export const usage = 'cnn-zoo list [--family NAME] [--json | --markdown]';
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { family: { type: 'string' }, json: { type: 'boolean' }, markdown: { type: 'boolean' } }, usage);
  const specs = listSpecs({ family: values.family });
  if (values.markdown) {
    console.log(modelTableMarkdown(specs));
    return 0;
  }
  if (values.json) {
    console.log(JSON.stringify(specs.map(({ build: _b, layouts: _l, ...card }) => card), null, 2));
    return 0;
  }
  console.log(table(['name', 'family', 'input', 'classes', 'params', 'GFLOPs', 'top1', 'fixtures'],
    specs.map((s) => [s.name, s.family, String(s.inputSize), String(s.numClasses), s.meta.params ? formatCount(s.meta.params) : '-',
      s.meta.flops ? (s.meta.flops / 1e9).toFixed(2) : '-', s.meta.top1?.toFixed(1) ?? '-', s.fixtures.map((f) => f.name).join(',') || '-'])));
  console.log(`\n${specs.length} models. FLOPs: conv+matmul per image at the default input, 1 multiply-add = 2 FLOPs.`);
  return 0;
}
