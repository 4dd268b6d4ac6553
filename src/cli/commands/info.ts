/** `cnn-zoo info NAME [--input-size N]`: the card, parameters, FLOPs and MACs (counted on the built model). */
import { countFlops, countParams } from '../../analysis/count.js';
import { getSpec, resolveOptions } from '../../zoo/registry.js';
import { CnnZooError } from '../../errors.js';
import { parse } from '../args.js';

export const usage = 'cnn-zoo info NAME [--input-size N] [--json]';
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { 'input-size': { type: 'string' }, json: { type: 'boolean' } }, usage);
  if (positionals.length !== 1) throw new CnnZooError(`info takes one model name.\nUsage: ${usage}`, 'BAD_ARGS');
  const spec = getSpec(positionals[0]!);
  const size = values['input-size'] ? Number(values['input-size']) : spec.inputSize;
  const model = spec.build(resolveOptions(spec, { inputSize: size }));
  const params = countParams(model), flops = countFlops(model);
  model.dispose();
  const { build: _b, layouts: _l, ...card } = spec;
  if (values.json) {
    console.log(JSON.stringify({ ...card, counted: { inputSize: size, params, flops, macs: flops / 2 } }, null, 2));
    return 0;
  }
  console.log(`${spec.name}  (family ${spec.family}${Object.keys(spec.variant).length ? ', ' + JSON.stringify(spec.variant) : ''})`);
  console.log(`  reference:   ${spec.meta.reference}${spec.meta.paper ? `  (paper ${spec.meta.paper})` : ''}`);
  console.log(`  input:       ${size}x${size}x3 (default ${spec.inputSize}, min ${spec.minInputSize}), ${spec.numClasses} classes`);
  if (spec.fixedPoolHead) console.log(`  head:        ${spec.fixedPoolHead.head}: accepts ${spec.fixedPoolHead.accepts} (globalPool: true pools globally at any size)`);
  console.log(`  params:      ${params} (${(params / 1e6).toFixed(3)} M; learnable, BN running stats excluded)`);
  console.log(`  FLOPs:       ${flops} (${(flops / 1e9).toFixed(3)} GFLOPs; conv + matmul, 1 multiply-add = 2 FLOPs)`);
  console.log(`  MACs:        ${flops / 2} (${(flops / 2e9).toFixed(3)} GMACs)`);
  if (spec.meta.top1 !== undefined) console.log(`  accuracy:    top-1 ${spec.meta.top1}%, top-5 ${spec.meta.top5 ?? '-'}% (${spec.meta.accuracySource ?? 'published'})`);
  console.log(`  fixtures:    ${spec.fixtures.map((f) => f.name).join(', ') || '-'}`);
  return 0;
}
