/** `cnn-zoo classify IMAGE... [--weights DIR] [--arch NAME]`: top-k ImageNet classes, offline with the embedded default. */
import { useBackend, type BackendName } from '../../backend.js';
import { decodeImage } from '../../image/decode.js';
import { CnnZooError } from '../../errors.js';
import { checkMetadata, modelMetadata } from '../../artifacts/metadata.js';
import { classify } from '../../api/classify-legacy.js';
import { DEFAULT_ARCH } from '../../artifacts/shipped.js';
import { load, weightsHandler } from '../../artifacts/read.js';
import { archName, parse } from '../args.js';

export const usage = 'cnn-zoo classify IMAGE... [--weights DIR] [--arch NAME (or --model)] [--top K] [--backend wasm|cpu|webgpu|tensorflow] [--json]';
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    weights: { type: 'string' }, arch: { type: 'string' }, model: { type: 'string' }, top: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' }, json: { type: 'boolean' },
  }, usage);
  if (positionals.length === 0) throw new CnnZooError(`classify needs at least one image.\nUsage: ${usage}`, 'BAD_ARGS');
  const k = Number(values.top);
  if (!Number.isInteger(k) || k < 1) throw new CnnZooError(`--top must be a positive integer, got "${values.top}".`, 'BAD_ARGS');
  await useBackend(values.backend as BackendName);
  let arch = archName(values) ?? DEFAULT_ARCH;
  if (values.weights && !archName(values)) {
    const { handler, where } = await weightsHandler(values.weights);
    arch = checkMetadata((await handler.load!()).userDefinedMetadata, where).arch;
  }
  const model = await load(arch, values.weights ? { weights: values.weights } : {});
  const meta = modelMetadata(model)!;
  const results = [];
  for (const path of positionals) {
    const img = await decodeImage(path);
    const top = await classify(model, img, k);
    results.push({ image: path, top });
    if (!values.json) {
      console.log(`${path}  (${arch}, ${meta.source.format} ${meta.dtype})`);
      top.forEach((p, i) => console.log(`  ${i + 1}. ${(100 * p.probability).toFixed(2).padStart(6)}%  ${String(p.classId).padStart(4)}  ${p.label}`));
    }
  }
  if (values.json) console.log(JSON.stringify(results, null, 2));
  model.dispose();
  return 0;
}
