/**
 * `cnn-zoo convert --arch NAME --from FORMAT CHECKPOINT... --out DIR [--dtype float32|float16|uint8]
 * [--reference INPUT.npy OUTPUT.npy | --reference TEST_DATA_SET_DIR]`: a checkpoint -> tfjs artifacts with metadata.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CnnZooError } from '../../errors.js';
import { quantizationError, saveConverted } from '../../artifacts/save.js';
import { WEIGHT_DTYPES, type WeightDtype } from '../../artifacts/metadata.js';
import { convertCheckpoint } from '../../convert/convert.js';
import { checkpointId, convertCheckpointFile, fileHead, identifyCheckpointFile, isCheckpointFile } from '../../pretrained/index.js';
import { holdCheckpointReads } from '../../pretrained/local.js';
import { nodeFileSystem } from '../../artifacts/node-fs.js';
import { modelWithWeights } from '../../api/weights.js';
import { getSpec } from '../../zoo/registry.js';
import { readNpy } from '../../checkpoints/npy.js';
import { compareWithReference } from '../../convert/reference.js';
import { SOURCE_FORMATS, unreadablePath, type NpyLayout, type SourceFormat } from '../../checkpoints/files.js';
import { formatByMagic } from '../../checkpoints/sniff.js';
import { PRESETS, type PresetName } from '../../image/presets.js';
import { archName, checkOutFolder, parse, positiveInt } from '../args.js';
import { selectBackend } from '../backend.js';

export const usage = 'cnn-zoo convert --arch NAME (or --model) --from ' + SOURCE_FORMATS.join('|') + ' CHECKPOINT... --out DIR ' +
  '[--dtype float32|float16|uint8] [--layout NAME] [--input-size N] [--num-classes N] [--preprocess tf|torch|caffe] ' +
  '[--npy-layout oihw|ohwi|hwio] [--licence TEXT] [--origin TEXT] [--reference INPUT.npy OUTPUT.npy | --reference DIR] [--backend cpu|wasm]\n' +
  '  --from may be left out for one PyTorch, safetensors, Keras .h5 or TFLite file: its first bytes say which.\n' +
  '  One published checkpoint file (recognised by its sha256) needs neither --from nor --arch: it is converted with its\n' +
  '  publisher\'s preprocessing, build options and licence, as cnn-zoo fetch converts it; so does an ONNX file that\n' +
  '  cnn-zoo export wrote, with the classes, preprocessing and licence it carries.\n' +
  '  --out DIR: tfjs artifacts (model.json, shards) with the metadata load(DIR) and classify --weights DIR read.\n' +
  '  --dtype: weights stored as float16 or uint8 (smaller, rounded; the deviation is printed). --layout NAME: the\n' +
  '  checkpoint\'s key naming where a model has more than one (MobileNet v2: timm); else keys match by name or order.\n' +
  '  --input-size, --num-classes: the build of the weights, when not the model\'s defaults. --preprocess: the\n' +
  '  preprocessing the weights were trained with (tf: [-1, 1], torch: ImageNet mean/std, caffe: BGR minus mean).\n' +
  '  --npy-layout: the axis order of conv kernels in .npy files (default oihw). --licence, --origin: recorded in the\n' +
  '  metadata. --reference INPUT.npy OUTPUT.npy (or an ONNX test_data_set folder): the converted model\'s output on\n' +
  '  INPUT against OUTPUT from the original framework: its relative error and whether the top-1 class agrees.';

/** Reference pairs: two .npy files, or a test_data_set folder of `N/input_0.npy` + `N/output_0.npy`. */
async function referencePairs(args: string[]): Promise<[string, string][]> {
  if (args.length === 2) return [[args[0]!, args[1]!]];
  const dir = args[0]!;
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new CnnZooError(`--reference takes INPUT.npy OUTPUT.npy or a folder of test pairs; "${dir}" is neither.`, 'BAD_ARGS');
  const subs = (await readdir(dir)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const pairs = subs.map((s) => [join(dir, s, 'input_0.npy'), join(dir, s, 'output_0.npy')] as [string, string]);
  if (pairs.length === 0) throw new CnnZooError(`${dir} holds no test pairs (N/input_0.npy, N/output_0.npy).`, 'BAD_ARGS');
  return pairs;
}

export async function run(argv: string[]): Promise<number> {
  const release = holdCheckpointReads(); // a single file is read (and hashed) once: to name its model, then to convert it
  try {
    return await convert(argv, release);
  } finally {
    release();
  }
}

async function convert(argv: string[], releaseReads: () => void): Promise<number> {
  // --reference takes one or two values: pull it out before the generic parser.
  const refAt = argv.indexOf('--reference');
  let refArgs: string[] = [];
  if (refAt >= 0) {
    const after = argv.slice(refAt + 1);
    const n = after.length >= 2 && after[0]!.endsWith('.npy') && after[1]!.endsWith('.npy') ? 2 : 1;
    refArgs = after.slice(0, n);
    if (refArgs.length === 0 || refArgs[0]!.startsWith('--')) throw new CnnZooError(`--reference needs INPUT.npy OUTPUT.npy or a folder.\nUsage: ${usage}`, 'BAD_ARGS');
    argv = [...argv.slice(0, refAt), ...argv.slice(refAt + 1 + n)];
  }
  const { values, positionals } = parse(argv, {
    arch: { type: 'string' }, model: { type: 'string' }, from: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string', default: 'float32' },
    layout: { type: 'string' }, 'input-size': { type: 'string' }, 'num-classes': { type: 'string' }, preprocess: { type: 'string' },
    'npy-layout': { type: 'string' }, licence: { type: 'string' }, origin: { type: 'string' }, backend: { type: 'string', default: 'wasm' },
  }, usage);
  // One published checkpoint file (its hash in the publishers' table), converted as `fetch` and load(name, { weights:
  // FILE }) convert it: with its publisher's preprocessing, build options and licence (it got the architecture's
  // defaults: torchvision's IMAGENET1K_V2 ResNets evaluate at a 232 px resize, not 256), and --arch may be left out.
  // Flags that set those facts convert it by them instead.
  const inputSize = positiveInt(values['input-size'], 'input-size', usage), numClasses = positiveInt(values['num-classes'], 'num-classes', usage);
  // A checkpoint path that is not there is said before what is missing (it was "convert is missing --from": no bytes named the format).
  for (const p of positionals) await stat(p).catch((e: unknown) => { throw unreadablePath(p, e); });
  const settingFlags = (['layout', 'input-size', 'num-classes', 'preprocess', 'npy-layout', 'licence', 'origin'] as const).filter((k) => values[k] !== undefined);
  const single = positionals.length === 1 && settingFlags.length === 0 ? positionals[0]! : undefined;
  const id = single && await isCheckpointFile(single) ? await identifyCheckpointFile(single) : undefined;
  const published = id?.published;
  const arch = archName(values) ?? id?.arch;
  // One checkpoint file whose first bytes name its format (PyTorch, safetensors, Keras .h5, TFLite) needs no --from,
  // and a --from that they contradict is a mistake (it said "not a valid ONNX protobuf" of a .pth).
  const magic = positionals.length === 1 ? await fileHead(positionals[0]!).then(formatByMagic) : undefined;
  if (values.from && magic && values.from !== magic && (SOURCE_FORMATS as readonly string[]).includes(values.from)) {
    throw new CnnZooError(`${positionals[0]} is a ${magic} checkpoint by its first bytes, not ${values.from}: --from ${magic} (or leave --from out).`, 'BAD_ARGS');
  }
  const from = values.from ?? magic; // a published file's format is in its table entry
  const missing = [!arch && '--arch NAME (or --model NAME)', !from && !id && `--from ${SOURCE_FORMATS.join('|')}`, !values.out && '--out DIR',
    positionals.length === 0 && 'the checkpoint file(s)'].filter(Boolean);
  if (!arch || !values.out || missing.length) throw new CnnZooError(`convert is missing ${missing.join(', ')}.\nUsage: ${usage}`, 'BAD_ARGS');
  if (from && !(SOURCE_FORMATS as readonly string[]).includes(from)) throw new CnnZooError(`--from must be one of ${SOURCE_FORMATS.join(', ')}; got "${from}".`, 'BAD_ARGS');
  if (!(WEIGHT_DTYPES as readonly string[]).includes(values.dtype)) throw new CnnZooError(`--dtype must be one of ${WEIGHT_DTYPES.join(', ')}; got "${values.dtype}".`, 'BAD_ARGS');
  if (values.preprocess && !(values.preprocess in PRESETS)) throw new CnnZooError(`--preprocess must be one of ${Object.keys(PRESETS).join(', ')}.`, 'BAD_ARGS');
  if (values['npy-layout'] && !['oihw', 'ohwi', 'hwio'].includes(values['npy-layout'])) throw new CnnZooError('--npy-layout must be oihw, ohwi or hwio.', 'BAD_ARGS');
  await checkOutFolder(values.out);
  await selectBackend(values.backend!);
  const t0 = performance.now();
  const { model, metadata, report } = single && id ? await convertCheckpointFile(arch, single, { dtype: values.dtype as WeightDtype }) : await convertCheckpoint({
    arch, from: from as SourceFormat, inputs: positionals, dtype: values.dtype as WeightDtype,
    layout: values.layout, inputSize, numClasses,
    preprocess: values.preprocess as PresetName | undefined, npyLayout: values['npy-layout'] as NpyLayout | undefined,
    licence: values.licence, origin: values.origin,
  });
  releaseReads();
  if (published) console.log(`${single} is the published checkpoint ${checkpointId(published)} of ${published.arch}: converted with its publisher's preprocessing, build options and licence.`);
  if (id?.exported) console.log(`${single} is cnn-zoo's ONNX export of ${id.arch}: converted with the classes, preprocessing and licence it carries.`);
  let quantNote = '';
  try {
    const artifacts = await saveConverted(model, nodeFileSystem(values.out), metadata);
    if (metadata.dtype !== 'float32') {
      const q = await quantizationError(model, artifacts);
      quantNote = `; ${metadata.dtype} weights deviate by at most ${q.relToRms.toExponential(2)} x their tensor's RMS (worst: ${q.weight}); ` +
        'check the outputs with --reference';
    }
  } finally {
    model.dispose();
  }
  const how = report.matchedBy === 'layout' ? `layout "${report.layout}"` : report.matchedBy === 'names' ? 'layer names' : 'graph order (shapes verified)';
  console.log(`${metadata.arch}: ${report.assigned} weights from ${metadata.source.format} (${positionals.join(', ')}), matched by ${how}` +
    (report.unfoldedBatchNorms ? `, ${report.unfoldedBatchNorms} folded conv biases loaded as BN (gamma 1, beta = bias, mean 0, var 1 - eps)` : '') + '.');
  console.log(`wrote ${values.out} (${metadata.dtype}, input ${metadata.inputSize}px, ${metadata.numClasses} classes, class offset ${metadata.classOffset}) in ${((performance.now() - t0) / 1000).toFixed(1)} s${quantNote}`);
  if (refArgs.length) {
    const saved = await modelWithWeights(getSpec(metadata.arch), { weights: values.out! });
    let worst = 0, agree = true;
    for (const [inp, out] of await referencePairs(refArgs)) {
      const r = await compareWithReference(saved, readNpy(await readFile(inp), inp), readNpy(await readFile(out), out), inp);
      worst = Math.max(worst, r.maxRelErr);
      agree &&= r.top1Agree;
      console.log(`  reference ${inp}: max|ours-ref|/max|ref| = ${r.maxRelErr.toExponential(3)}${r.softmax ? ' (probabilities)' : ''}, top-1 ${r.top1Agree ? 'agrees' : 'DIFFERS'}`);
    }
    saved.dispose();
    console.log(`reference parity: worst ${worst.toExponential(3)}, top-1 ${agree ? 'agrees on every pair' : 'differs'}`);
  }
  return 0;
}
