/**
 * `cnn-zoo export NAME [--weights W] --out FILE.onnx [--training-form] [--features] [--nchw]`: the model with its
 * weights (shipped, a converted folder, a URL, or `imagenet` / `<publisher>[:<tag>]`, as `classify --weights`) as
 * an ONNX file (src/onnx/export.ts): the inference form by default, NHWC input with a dynamic batch axis,
 * metadata (preprocessing, labels, source, licence) in `metadata_props`. `--int8 --calibrate DIR`: static int8
 * (QDQ) with activation ranges calibrated on the first `--calibration-images` images of DIR (sorted, recursive);
 * `--fp16`: conv/dense weights stored as float16 (half the file, e.g. for WebGPU downloads), cast to float32 in the graph.
 */
import type * as tf from '@tensorflow/tfjs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend, type BackendName } from '../../backend.js';
import { load } from '../../api/index.js';
import { withCheckpointReadsHeld } from '../../pretrained/local.js';
import { CnnZooError } from '../../errors.js';
import { IMAGE_FILE, IMAGE_FORMATS } from '../../image/files.js';
import { exportOnnxWithIo } from '../../onnx/export.js';
import { calibrate } from '../../onnx/quantize.js';
import { embeddingLayer } from '../../zoo/heads.js';
import type { ZooModel } from '../../api/zoo-model.js';
import { checkOutFile, cliWeights, modelAndWeightsArgs, parse, positiveInt, SIZE_FLAGS, sizeOptions, writeOutFile } from '../args.js';

export const usage = 'cnn-zoo export (NAME | --weights DIR) [--weights DIR|URL|imagenet|PUBLISHER[:TAG]|random] --out FILE.onnx [--training-form] ' +
  '[--features] [--nchw] [--input-size N [--global-pool]] [--fp16 | --int8 --calibrate IMAGE_DIR [--calibration-images 64]] [--backend wasm|cpu|webgpu|tensorflow] [--json]\n' +
  '  The model with its weights (as classify --weights takes them; a folder from cnn-zoo train or convert names its model)\n' +
  '  as one ONNX file: the inference form (batch norm folded), input NHWC float32 pixels after the model\'s preprocessing,\n' +
  '  a dynamic batch axis, the preprocessing, labels, source and licence in metadata_props. Then: cnn-zoo classify IMAGE\n' +
  '  --weights FILE.onnx, or any ONNX runtime. --training-form: the graph of the trainable model (batch norm as its own\n' +
  '  nodes). --features: the feature stages (features/LAYER) and the embedding as outputs too, as features() and embed()\n' +
  '  give them. --nchw: input and 4-D outputs in NCHW, as PyTorch exports them. --fp16: conv and dense weights stored as\n' +
  '  float16 (half the file), cast to float32 in the graph. --int8 --calibrate IMAGE_DIR: static int8 (QDQ, per-channel\n' +
  '  weights), activation ranges calibrated on --calibration-images images spread over IMAGE_DIR (sub-folders too).\n' +
  '  --json: the file\'s inputs and outputs as JSON.';

const CALIBRATION_BATCH = 8;

/**
 * `count` image files of `dir` (and its sub-folders), evenly spaced over their sorted paths: a training folder of class
 * sub-folders calibrates on every class (the first `count` paths were all of its first class).
 */
export async function calibrationImages(dir: string, count: number): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is a file, not a folder' : `cannot be read (${code ?? (e as Error).message})`;
    throw new CnnZooError(`--calibrate "${dir}" ${what}; give a folder of images like the model will see.`, 'BAD_ARGS');
  }
  const all = entries.filter((f) => IMAGE_FILE.test(f)).sort();
  const n = Math.min(count, all.length);
  const files = Array.from({ length: n }, (_, i) => join(dir, all[Math.floor((i * all.length) / n)]!));
  if (files.length === 0) throw new CnnZooError(`--calibrate "${dir}" holds no images (${IMAGE_FORMATS}); give a folder of images like the model will see.`, 'BAD_ARGS');
  return files;
}

/** Preprocessed batches of `files`, one at a time (each disposed after use). */
async function* batches(model: ZooModel, files: string[]): AsyncGenerator<tf.Tensor4D> {
  for (let i = 0; i < files.length; i += CALIBRATION_BATCH) {
    const x = await model.preprocess(files.slice(i, i + CALIBRATION_BATCH));
    try { yield x; } finally { x.dispose(); }
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    weights: { type: 'string' }, out: { type: 'string' }, 'training-form': { type: 'boolean' }, features: { type: 'boolean' },
    nchw: { type: 'boolean' }, ...SIZE_FLAGS, fp16: { type: 'boolean' }, int8: { type: 'boolean' }, calibrate: { type: 'string' }, 'calibration-images': { type: 'string', default: '64' }, backend: { type: 'string', default: 'wasm' }, json: { type: 'boolean' },
  }, usage);
  // Converted weights (a folder from cnn-zoo train or convert) name their model: --weights DIR alone, or DIR as NAME, will do.
  // A checkpoint file as --weights is read (and hashed) once: to name its model, then to load it.
  const { out, images, model } = await withCheckpointReadsHeld(async () => {
    const { name, weights } = positionals.length > 1 ? {} : await modelAndWeightsArgs(positionals[0], values.weights);
    if (!name) throw new CnnZooError(`export needs one model name (or --weights DIR of converted weights), got ${positionals.length}.\nUsage: ${usage}`, 'BAD_ARGS');
    if (!values.out) throw new CnnZooError(`export needs --out FILE.onnx.\nUsage: ${usage}`, 'BAD_ARGS');
    if (!values.out.endsWith('.onnx')) throw new CnnZooError(`--out "${values.out}" should end in .onnx.`, 'BAD_ARGS');
    await checkOutFile('--out', values.out, 'the ONNX file');
    if (Boolean(values.int8) !== (values.calibrate !== undefined)) {
      throw new CnnZooError(`${values.int8 ? '--int8 needs --calibrate IMAGE_DIR' : '--calibrate needs --int8'} (static int8 calibrates activation ranges on images).\nUsage: ${usage}`, 'BAD_ARGS');
    }
    if (values.fp16 && values.int8) throw new CnnZooError(`choose --fp16 or --int8, not both (weights are stored one way).\nUsage: ${usage}`, 'BAD_ARGS');
    const count = positiveInt(values['calibration-images'], 'calibration-images', usage)!;
    const size = sizeOptions(values, usage);
    const images = values.calibrate ? await calibrationImages(values.calibrate, count) : [];
    await useBackend(values.backend as BackendName);
    // runtime 'tfjs': this command exports model.model itself (no session to start).
    return { out: values.out, images, model: await load(name, { inference: !values['training-form'], runtime: 'tfjs', ...(weights ? { weights: cliWeights(weights) } : {}), ...size }) };
  });
  try {
    const int8 = values.int8 ? await calibrate(model.model, batches(model, images)) : undefined;
    const { bytes, io } = await exportOnnxWithIo(model.model, {
      layout: values.nchw ? 'NCHW' : 'NHWC',
      ...(int8 ? { int8 } : {}),
      ...(values.fp16 ? { fp16: true } : {}),
      ...(values.features ? { outputs: [...model.stages.map((s) => s.layer), ...(embeddingLayer(model.model, () => model.stages) ? ['embedding'] : [])] } : {}),
    });
    await writeOutFile(out, bytes);
    const form = (values['training-form'] ? 'training form' : 'inference form') + (int8 ? `, int8 calibrated on ${images.length} images` : '') + (values.fp16 ? ', float16 weights' : '');
    if (values.json) console.log(JSON.stringify({ out: out, bytes: bytes.byteLength, model: model.name, form, ...io }, null, 2));
    else {
      console.log(`${out}: ${model.name} (${form}), ${(bytes.byteLength / 1e6).toFixed(1)} MB, ONNX opset 13`);
      console.log(`  input  ${io.input.name} ${io.input.layout} [${io.input.shape}] float32, preprocessed as metadata_props "cnnZoo" says`);
      for (const o of io.outputs) console.log(`  output ${o.name} [${o.shape}]${o.layout ? ` ${o.layout}` : ''}`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}
