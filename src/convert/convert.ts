/**
 * Checkpoint -> tfjs LayersModel: read the source (sources.ts), name its arrays for the architecture (the
 * spec's layout rule, our layer names, or graph order verified by shape), load folded conv biases into BN
 * form, and feed everything through the one mapping engine (`loadStateDict`). The result carries
 * cnn-zoo metadata (preprocessing, labels, class offset, source with sha256, licence).
 */
import * as tf from '@tensorflow/tfjs';
import { CnnZooError, checkOptionNames, meant, shown } from '../errors.js';
import type { PreprocessConfig } from '../image/types.js';
import { getSpec, resolveOptions } from '../zoo/registry.js';
import { withoutInitialisation } from '../zoo/ops.js';
import type { ModelSpec } from '../zoo/types.js';
import type { CnnZooMetadata, WeightDtype } from '../artifacts/metadata.js';
import { loadStateDict } from './mapping.js';
import { matchByOrder, renameKeys, splitKey, unfoldBiases } from './match.js';
import { defaultPreprocess, readSource, SOURCE_FORMATS, type NpyLayout, type SourceFormat, type SourceWeights } from '../checkpoints/files.js';
import { PRESETS, type PresetName } from '../image/presets.js';
import type { StateDict } from '../arrays.js';
import { classOffsetFor } from '../labels/index.js';

export interface ConvertOptions {
  /** Registry name of the architecture. */
  arch: string;
  from: SourceFormat;
  /** Checkpoint files or folders. */
  inputs: string[];
  dtype?: WeightDtype;
  /** A layout (key rule) of the spec; defaults to one named after the format, if the spec has it. */
  layout?: string;
  inputSize?: number;
  numClasses?: number;
  preprocess?: PresetName | PreprocessConfig;
  npyLayout?: NpyLayout;
  licence?: string;
  origin?: string;
  /** Arrays already read (e.g. from downloaded bytes); `inputs` then only name the source. */
  source?: SourceWeights;
}

/** Every option name of `ConvertOptions` (the type makes the list complete). */
const CONVERT_OPTIONS = Object.keys({
  arch: 1, from: 1, inputs: 1, dtype: 1, layout: 1, inputSize: 1, numClasses: 1, preprocess: 1, npyLayout: 1, licence: 1, origin: 1, source: 1,
} satisfies Record<keyof ConvertOptions, 1>);

export interface ConvertReport {
  /** How source arrays were matched to layers. */
  matchedBy: 'layout' | 'names' | 'order';
  layout?: string;
  /** Folded conv biases loaded into BN layers (gamma 1, beta = bias, mean 0, var 1 - eps). */
  unfoldedBatchNorms: number;
  assigned: number;
}

export interface Converted {
  model: tf.LayersModel;
  metadata: CnnZooMetadata;
  report: ConvertReport;
}

/** Name the source arrays after our layers. */
export function nameForModel(spec: ModelSpec, model: tf.LayersModel, src: Pick<SourceWeights, 'stateDict' | 'naming'>, format: string, layout: string | undefined, source: string): { stateDict: StateDict; matchedBy: ConvertReport['matchedBy']; layout?: string } {
  const name = layout ?? (spec.keyRules?.[format] ? format : undefined);
  if (name) {
    const rule = spec.keyRules?.[name];
    if (!rule) throw new CnnZooError(`${spec.name} has no checkpoint layout "${name}". Its key rules: ${Object.keys(spec.keyRules ?? {}).join(', ') || 'none'}.`, 'BAD_ARGS');
    return { stateDict: renameKeys(src.stateDict, rule, source), matchedBy: 'layout', layout: name };
  }
  const layerNames = new Set(model.layers.map((l) => l.name));
  const byName = src.naming === 'names' && [...src.stateDict.keys()].every((k) => layerNames.has(splitKey(k)[0]));
  if (byName) return { stateDict: src.stateDict, matchedBy: 'names' };
  return { stateDict: matchByOrder(model, src.stateDict, source), matchedBy: 'order' };
}

/** Convert a checkpoint into a model of `opts.arch` with cnn-zoo metadata. */
export async function convertCheckpoint(opts: ConvertOptions): Promise<Converted> {
  checkOptionNames('convertCheckpoint', opts, CONVERT_OPTIONS);
  for (const key of ['arch', 'from', 'inputs'] as const) {
    if (opts[key] === undefined) {
      throw new CnnZooError(`convertCheckpoint: options need arch, from and inputs, e.g. { arch: 'resnet18', from: 'torch', inputs: ['resnet18.pth'] }; ${key} is missing.`, 'BAD_OPTION');
    }
  }
  if (!Array.isArray(opts.inputs)) throw new CnnZooError(`convertCheckpoint: inputs is a list of checkpoint files or folders, got ${shown(opts.inputs)}.`, 'BAD_OPTION');
  if (!(SOURCE_FORMATS as readonly string[]).includes(opts.from)) {
    const best = meant(String(opts.from), SOURCE_FORMATS) ?? (/pytorch|pth|pt$/i.test(String(opts.from)) ? 'torch' : undefined);
    throw new CnnZooError(`convertCheckpoint: from must be one of ${SOURCE_FORMATS.join(', ')}, got ${shown(opts.from)}.${best ? ` Did you mean '${best}'?` : ''}`, 'BAD_OPTION');
  }
  const spec = getSpec(opts.arch);
  const src = opts.source ?? await readSource(opts.from, opts.inputs, { npyLayout: opts.npyLayout });
  const source = opts.inputs.join(' + ');
  const ctx = resolveOptions(spec, { inputSize: opts.inputSize ?? src.inputSize, numClasses: opts.numClasses });
  const model = withoutInitialisation(() => spec.build(ctx)); // every weight comes from the checkpoint (strict mapping)
  try {
    const named = nameForModel(spec, model, src, opts.from, opts.layout, source);
    const { stateDict, unfolded } = unfoldBiases(model, named.stateDict, source, src.foldedBatchNorms === true);
    const mapping = loadStateDict(model, stateDict, { source });
    const pre = opts.preprocess ?? defaultPreprocess(opts.from, opts.npyLayout);
    const preprocessing = typeof pre === 'string' ? PRESETS[pre](ctx.inputHeight) : pre;
    const metadata: CnnZooMetadata = {
      format: 'cnn-zoo-weights/1',
      arch: spec.name,
      inputSize: ctx.inputHeight,
      numClasses: ctx.numClasses,
      preprocessing,
      labels: 'imagenet1k',
      classOffset: classOffsetFor(ctx.numClasses),
      source: { ...src.info, ...(opts.origin ? { origin: opts.origin } : {}) },
      licence: opts.licence ?? 'unknown: check the licence of the original checkpoint',
      dtype: opts.dtype ?? 'float32',
    };
    model.setUserDefinedMetadata({ cnnZoo: metadata });
    return { model, metadata, report: { matchedBy: named.matchedBy, layout: named.layout, unfoldedBatchNorms: unfolded, assigned: mapping.assigned } };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
