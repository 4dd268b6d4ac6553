/**
 * A local model folder that transformers.js (`pipeline('image-classification', id)` with `env.localModelPath`)
 * loads, built from a cnn-zoo model: `config.json` (a `model_type` transformers.js maps to an image classifier,
 * and the labels), `preprocessor_config.json` (resize of the shorter side, centre crop, scale, mean/std from the
 * weights' preprocessing) and `onnx/model.onnx` (our exportOnnx, NCHW, input `pixel_values`, output `logits`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ZooModel } from '../../src/api/index.js';
import { classNames } from '../../src/api/predictions.js';
import { exportOnnx } from '../../src/onnx/export.js';
import type { PreprocessConfig } from '../../src/image/types.js';

/** PIL resample codes, as transformers.js reads `resample`. */
const RESAMPLE: Record<PreprocessConfig['interpolation'], number> = { nearest: 0, bilinear: 2, bicubic: 3 };

/** transformers.js's image processor settings for our preprocessing (RGB only: it has no BGR option). */
export function preprocessorConfig(p: PreprocessConfig): Record<string, unknown> {
  if (p.channelOrder !== 'RGB') throw new Error(`transformers.js takes RGB input; this model's preprocessing is ${p.channelOrder}.`);
  return {
    image_processor_type: 'ViTImageProcessor', // transformers.js: the base ImageProcessor (resize, crop, rescale, normalize)
    do_convert_rgb: true,
    do_resize: true, size: { shortest_edge: Math.floor(p.size / p.cropFraction) }, resample: RESAMPLE[p.interpolation],
    do_center_crop: true, crop_size: { height: p.size, width: p.size },
    do_rescale: true, rescale_factor: p.scale,
    do_normalize: true, image_mean: [...p.mean], image_std: [...p.std],
  };
}

/** Writes the folder `dir` (transformers.js model id = its name under `env.localModelPath`). Returns the ONNX size in bytes. */
export async function writeTransformersFolder(zoo: ZooModel, dir: string): Promise<number> {
  const outputs = zoo.model.outputs[0]!.shape[1] as number;
  const classes = classNames(zoo.metadata, outputs);
  const id2label: Record<string, string> = {};
  for (let i = 0; i < outputs; i++) id2label[String(i)] = i < classes.offset ? 'background' : classes.names[i - classes.offset] ?? `class ${i}`;
  const config = {
    model_type: 'resnet', // any transformers.js image-classification model_type: the pipeline only feeds pixel_values and reads logits
    architectures: ['ResNetForImageClassification'],
    num_labels: outputs, id2label, label2id: Object.fromEntries(Object.entries(id2label).map(([k, v]) => [v, Number(k)])),
    cnn_zoo: { model: zoo.name, note: 'built by tools/bench/hf-folder.ts from the cnn-zoo ONNX export' },
  };
  const onnx = await exportOnnx(zoo.model, { layout: 'NCHW', inputName: 'pixel_values' });
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 1));
  await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(preprocessorConfig(zoo.preprocessing), null, 1));
  await writeFile(join(dir, 'onnx', 'model.onnx'), onnx);
  return onnx.length;
}
