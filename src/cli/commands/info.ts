/** `cnn-zoo info NAME [--input-size N]`: the card, its weights, parameters, FLOPs and MACs (counted on the built model). */
import { info } from '../../api/index.js';
import { CnnZooError } from '../../errors.js';
import { parse, SIZE_FLAGS, sizeOptions } from '../args.js';

export const usage = 'cnn-zoo info NAME [--input-size N [--global-pool]] [--json]';
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...SIZE_FLAGS, json: { type: 'boolean' } }, usage);
  if (positionals.length !== 1) throw new CnnZooError(`info takes one model name.\nUsage: ${usage}`, 'BAD_ARGS');
  const card = info(positionals[0]!, sizeOptions(values, usage));
  if (values.json) {
    console.log(JSON.stringify(card, null, 2));
    return 0;
  }
  const { params, flops, macs, inputSize } = card.counted;
  const w = card.weights;
  console.log(`${card.name}  (family ${card.family}${Object.keys(card.variant).length ? ', ' + JSON.stringify(card.variant) : ''})`);
  console.log(`  reference:   ${card.meta.reference}${card.meta.paper ? `  (paper ${card.meta.paper})` : ''}`);
  console.log(`  input:       ${inputSize}x${inputSize}x3 (default ${card.inputSize}, min ${card.minInputSize}), ${card.numClasses} classes`);
  if (card.fixedPoolHead) console.log(`  head:        ${card.fixedPoolHead.head}: accepts ${card.fixedPoolHead.accepts} (--global-pool pools globally at any size)`);
  console.log(`  params:      ${params} (${(params / 1e6).toFixed(3)} M; learnable, BN running stats excluded)`);
  console.log(`  FLOPs:       ${flops} (${(flops / 1e9).toFixed(3)} GFLOPs; conv + matmul, 1 multiply-add = 2 FLOPs)`);
  console.log(`  MACs:        ${macs} (${(macs / 1e9).toFixed(3)} GMACs)`);
  if (card.meta.top1 !== undefined) console.log(`  accuracy:    top-1 ${card.meta.top1}%, top-5 ${card.meta.top5 ?? '-'}% (${card.meta.accuracySource ?? 'published'})`);
  console.log(`  weights:     ${w.shipped ? 'shipped in the package (classify works offline); ' : ''}` +
    (w.published.length ? `published: ${w.published.join(', ')} (--weights imagenet = ${w.imagenet!.id}, ${w.imagenet!.licence})` : w.shipped ? '' : 'none published (convert your own checkpoint, or random weights)'));
  return 0;
}
