/**
 * `cnn-zoo info NAME|DIR|URL [--input-size N]`: the card, its weights, parameters, FLOPs and MACs (counted on the built
 * model); for converted weights (a folder from `cnn-zoo convert` or `train`, or its URL), also what their metadata says.
 */
import { resolve } from 'node:path';
import { info, isWeightsPlace } from '../../api/index.js';
import { readArtifactsMetadata } from '../../artifacts/read.js';
import type { CnnZooMetadata } from '../../artifacts/metadata.js';
import { CnnZooError } from '../../errors.js';
import { checkpointFileOf, checkpointId, identifyCheckpointFile, unnamedCheckpoint } from '../../pretrained/index.js';
import { parse, SIZE_FLAGS, sizeOptions } from '../args.js';

export const usage = 'cnn-zoo info NAME|DIR|URL|FILE [--input-size N [--global-pool]] [--json]\n' +
  '  DIR or URL: converted weights (cnn-zoo convert or train): their model, classes, source, preprocessing and training;\n' +
  '  FILE: a published checkpoint file (recognised by its sha256): which one, and its model; an ONNX file from\n' +
  '  cnn-zoo export: the metadata it carries, as for DIR.';

/** Converted weights' metadata, as lines. */
function weightsLines(where: string, m: CnnZooMetadata, exportedAs?: string): string[] {
  const labels = typeof m.labels === 'string' ? `${m.labels}${m.classOffset ? ` (offset ${m.classOffset}: output 0 is background)` : ''}`
    : `${m.labels.length}: ${m.labels.slice(0, 8).join(', ')}${m.labels.length > 8 ? ', ...' : ''}`;
  const p = m.preprocessing;
  const lines = [
    exportedAs ? `cnn-zoo's ONNX export ${where} (${exportedAs} weights), of the model with this metadata:` : `converted weights ${where}`,
    `  model:       ${m.arch} at ${m.inputSize} px, ${m.numClasses} outputs${m.includeTop === false ? `, without its classifier (includeTop: false, pooling ${m.pooling ?? 'none'})` : ''}${m.globalPool ? ', global average pool (--global-pool)' : ''}`,
    `  classes:     ${labels}`,
    `  source:      ${m.source.format}${m.source.origin ? ` from ${m.source.origin}` : ''}${m.source.files.map((f) => `\n               ${f.name} (${f.bytes} bytes, sha256 ${f.sha256.slice(0, 16)}...)`).join('')}`,
    `  licence:     ${m.licence}`,
    `  stored as:   ${m.dtype}`,
    `  preprocess:  ${p.size} px, resize ${p.interpolation} to size / ${p.cropFraction} then centre crop, x * ${+p.scale.toPrecision(6)} - mean [${p.mean.map((v) => +v.toPrecision(6)).join(', ')}] / std [${p.std.map((v) => +v.toPrecision(6)).join(', ')}], ${p.channelOrder}`,
  ];
  const t = m.training;
  if (t) {
    lines.push(`  trained on:  ${t.base.arch} (weights ${t.base.weights}${t.base.source ? `, ${t.base.source.format}` : ''})`);
    if (t.fit) {
      const f = t.fit;
      lines.push(`  training:    ${f.trainImages} images (${f.validationImages} held out${f.validationData ? ` in ${f.validationData}` : ''}${f.validationAccuracy === null ? '' : `: ${(100 * f.validationAccuracy).toFixed(1)}% right`}` +
        `${f.skippedImages ? `; ${f.skippedImages} unreadable left out` : ''}), ` +
        `head ${f.epochs} epochs at ${f.learningRate}${f.fineTune ? `, last ${f.fineTune} layers fine-tuned ${f.fineTuneEpochs} epochs at ${f.fineTuneLearningRate}` : ''}, ` +
        `augment ${f.augment}, batch ${f.batchSize}, seed ${f.seed}, on ${f.backend}${f.featuresRuntime ? ` (features on ${f.featuresRuntime})` : ''}`);
    }
  }
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...SIZE_FLAGS, json: { type: 'boolean' } }, usage);
  if (positionals.length !== 1) throw new CnnZooError(`info takes one model name, or a folder or URL of converted weights.\nUsage: ${usage}`, 'BAD_ARGS');
  const target = positionals[0]!;
  // A path or URL that is not a model name: converted weights, which name their model; a checkpoint file names its
  // model when it is a published one (it said "not valid JSON (Unexpected token 'P', "PK..."); an image is no weights.
  const place = await isWeightsPlace(target);
  const file = place ? await checkpointFileOf(target) : undefined;
  const id = file ? await identifyCheckpointFile(file) : undefined;
  const published = id?.published;
  if (file && !id) {
    throw await unnamedCheckpoint(target, `it does not name its model; info reads converted weights: cnn-zoo convert --arch NAME ${target} --out DIR, then cnn-zoo info DIR.`);
  }
  // cnn-zoo's ONNX export carries the metadata of the model it was exported from.
  const weights = id?.exported ? { where: target, meta: id.exported }
    : place && !file ? await readArtifactsMetadata(/^[a-z]+:\/\//i.test(target) ? target : resolve(target)) : undefined;
  const size = sizeOptions(values, usage);
  if (published && !values.json) console.log(`${target}: the published checkpoint ${checkpointId(published)} of ${published.arch} (${published.licence})\n`);
  const card = info(weights ? weights.meta.arch : published ? published.arch : target, weights ? { inputSize: weights.meta.inputSize, numClasses: weights.meta.numClasses, ...(weights.meta.globalPool ? { globalPool: true } : {}), ...size } : size);
  if (values.json) {
    console.log(JSON.stringify(weights ? { ...card, converted: { where: weights.where, metadata: weights.meta } } : card, null, 2));
    return 0;
  }
  if (weights) for (const line of [...weightsLines(weights.where, weights.meta, id?.exportedAs), '']) console.log(line);
  const { params, flops, macs, inputSize, numClasses } = card.counted;
  const w = card.weights;
  console.log(`${card.name}  (family ${card.family}${Object.keys(card.variant).length ? ', ' + JSON.stringify(card.variant) : ''})`);
  console.log(`  reference:   ${card.meta.reference}${card.meta.paper ? `  (paper ${card.meta.paper})` : ''}`);
  console.log(`  input:       ${inputSize}x${inputSize}x3 (default ${card.inputSize}, min ${card.minInputSize}), ${numClasses} classes${numClasses === card.numClasses ? '' : ` (default ${card.numClasses})`}`);
  if (card.fixedPoolHead) console.log(`  head:        ${card.fixedPoolHead.head}: accepts ${card.fixedPoolHead.accepts} (--global-pool pools globally at any size)`);
  console.log(`  params:      ${params} (${(params / 1e6).toFixed(3)} M; learnable, BN running stats excluded)`);
  console.log(`  FLOPs:       ${flops} (${(flops / 1e9).toFixed(3)} GFLOPs; conv + matmul, 1 multiply-add = 2 FLOPs)`);
  console.log(`  MACs:        ${macs} (${(macs / 1e9).toFixed(3)} GMACs)`);
  if (card.meta.top1 !== undefined) console.log(`  accuracy:    top-1 ${card.meta.top1}%, top-5 ${card.meta.top5 ?? '-'}% (${card.meta.accuracySource ?? 'published'})`);
  console.log(`  weights:     ${w.shipped ? 'shipped in the package (classify works offline); ' : ''}` +
    (w.published.length ? `published: ${w.published.join(', ')} (--weights imagenet = ${w.imagenet!.id}, ${w.imagenet!.licence})` : w.shipped ? '' : 'none published (convert your own checkpoint, or random weights)'));
  return 0;
}
