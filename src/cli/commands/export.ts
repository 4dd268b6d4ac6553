/**
 * `cnn-zoo export NAME [--weights W] --out FILE.onnx [--training-form] [--features] [--nchw]`: the model with its
 * weights (shipped, a converted folder, a URL, or `imagenet` / `<publisher>[:<tag>]`, as `classify --weights`) as
 * an ONNX file (src/onnx/export.ts): the inference form by default, NHWC input with a dynamic batch axis,
 * metadata (preprocessing, labels, source, licence) in `metadata_props`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { useBackend, type BackendName } from '../../backend.js';
import { load } from '../../api/index.js';
import { CnnZooError } from '../../errors.js';
import { exportOnnxWithIo } from '../../onnx/export.js';
import { parse } from '../args.js';

export const usage = 'cnn-zoo export NAME [--weights DIR|URL|imagenet|PUBLISHER[:TAG]] --out FILE.onnx [--training-form] ' +
  '[--features] [--nchw] [--backend wasm|cpu|webgpu|tensorflow] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    weights: { type: 'string' }, out: { type: 'string' }, 'training-form': { type: 'boolean' }, features: { type: 'boolean' },
    nchw: { type: 'boolean' }, backend: { type: 'string', default: 'wasm' }, json: { type: 'boolean' },
  }, usage);
  if (positionals.length !== 1) throw new CnnZooError(`export needs one model name, got ${positionals.length}.\nUsage: ${usage}`, 'BAD_ARGS');
  if (!values.out) throw new CnnZooError(`export needs --out FILE.onnx.\nUsage: ${usage}`, 'BAD_ARGS');
  if (!values.out.endsWith('.onnx')) throw new CnnZooError(`--out "${values.out}" should end in .onnx.`, 'BAD_ARGS');
  await useBackend(values.backend as BackendName);
  const model = await load(positionals[0]!, { inference: !values['training-form'], ...(values.weights ? { weights: values.weights } : {}) });
  try {
    const { bytes, io } = await exportOnnxWithIo(model.model, {
      layout: values.nchw ? 'NCHW' : 'NHWC',
      ...(values.features ? { outputs: model.stages.map((s) => s.layer) } : {}),
    });
    await mkdir(dirname(values.out), { recursive: true });
    await writeFile(values.out, bytes);
    const form = values['training-form'] ? 'training form' : 'inference form';
    if (values.json) console.log(JSON.stringify({ out: values.out, bytes: bytes.byteLength, model: model.name, form, ...io }, null, 2));
    else {
      console.log(`${values.out}: ${model.name} (${form}), ${(bytes.byteLength / 1e6).toFixed(1)} MB, ONNX opset 13`);
      console.log(`  input  ${io.input.name} ${io.input.layout} [${io.input.shape}] float32, preprocessed as metadata_props "cnnZoo" says`);
      for (const o of io.outputs) console.log(`  output ${o.name} [${o.shape}]${o.layout ? ` ${o.layout}` : ''}`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}
