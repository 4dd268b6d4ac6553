/** `cnn-zoo classify IMAGE... [--weights W] [--model NAME]`: top-k ImageNet classes, offline with the shipped model. */
import { resolve } from 'node:path';
import { CnnZooError } from '../../errors.js';
import { load } from '../../api/index.js';
import type { ClassPrediction } from '../../api/predictions.js';
import { DEFAULT_ARCH } from '../../artifacts/shipped.js';
import { isWeightsSelector } from '../../pretrained/index.js';
import { selectBackend } from '../backend.js';
import { archName, parse } from '../args.js';

export const usage = 'cnn-zoo classify IMAGE... [--weights DIR|URL|imagenet] [--model NAME (or --arch)] [--top K] ' +
  '[--backend wasm|cpu|webgpu|tensorflow] [--json]';
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    weights: { type: 'string' }, arch: { type: 'string' }, model: { type: 'string' }, top: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' }, json: { type: 'boolean' },
  }, usage);
  if (positionals.length === 0) throw new CnnZooError(`classify needs at least one image.\nUsage: ${usage}`, 'BAD_ARGS');
  const k = Number(values.top);
  if (!Number.isInteger(k) || k < 1) throw new CnnZooError(`--top must be a positive integer, got "${values.top}".`, 'BAD_ARGS');
  await selectBackend(values.backend!);
  const arch = archName(values);
  if (!arch && values.weights && isWeightsSelector(values.weights)) {
    throw new CnnZooError(`--weights ${values.weights} needs the model: add --model NAME.`, 'BAD_ARGS');
  }
  // Converted weights alone name their architecture in their metadata.
  const model = arch ? await load(arch, values.weights ? { weights: values.weights } : {})
    : values.weights ? await load(/^[a-z]+:\/\//i.test(values.weights) ? values.weights : resolve(values.weights)) : await load(DEFAULT_ARCH);
  const source = model.metadata ? `${model.metadata.training ? `trained on ${model.metadata.training.base.arch}'s ` : ''}${model.metadata.source.format} ${model.metadata.dtype}` : 'random weights';
  const results: { image: string; top: ClassPrediction[] }[] = [];
  let failed = 0;
  try {
    for (const path of positionals) {
      let top: ClassPrediction[];
      try {
        top = await model.classify(path, { topK: k });
      } catch (e) {
        if (!(e instanceof CnnZooError)) throw e;
        failed++;
        console.error(`cnn-zoo: ${path}: ${e.message}`);
        continue;
      }
      results.push({ image: path, top });
      if (!values.json) {
        console.log(`${path}  (${model.name}, ${source})`);
        top.forEach((p, i) => console.log(`  ${i + 1}. ${(100 * p.probability).toFixed(2).padStart(6)}%  ${String(p.index).padStart(4)}  ${p.label}`));
      }
    }
  } finally {
    model.dispose();
  }
  if (values.json) console.log(JSON.stringify(results, null, 2));
  return failed ? 1 : 0;
}
