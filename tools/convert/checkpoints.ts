/**
 * Every real checkpoint in shared/weights (see its README) and how it converts: architecture, source
 * format, options, the publisher's accuracy, and reference pairs where the folder has them.
 */
import { join } from 'node:path';
import type { ConvertOptions } from '../../src/convert/convert.js';

export interface CheckpointJob {
  /** Output folder name under out/converted. */
  id: string;
  options: Omit<ConvertOptions, 'inputs'> & { inputs: string[] };
  /** Publisher's Top-1 / Top-5 (%), as shared/weights/README.md states it. */
  reference: { top1: number; top5?: number; source: string };
  /** test_data_set folder of input/output .npy pairs. */
  pairs?: string;
}

export function checkpointJobs(weights: string): CheckpointJob[] {
  const w = (...p: string[]) => join(weights, ...p);
  const tflite = (f: string) => w('tflite-mobilenet', f);
  const TFLITE_LICENCE = 'Apache-2.0 (TensorFlow hosted models; google-coral/test_data@104342d2)';
  const slim = 'TF-slim table, _quant row';
  return [
    { id: 'tf_mobilenet_v1_025_128', options: { arch: 'tf_mobilenet_v1_025', from: 'tflite', inputs: [tflite('mobilenet_v1_0.25_128_quant.tflite')], licence: TFLITE_LICENCE }, reference: { top1: 39.9, top5: 65.8, source: slim } },
    { id: 'tf_mobilenet_v1_050_160', options: { arch: 'tf_mobilenet_v1_050', from: 'tflite', inputs: [tflite('mobilenet_v1_0.5_160_quant.tflite')], licence: TFLITE_LICENCE }, reference: { top1: 57.7, top5: 81.3, source: slim } },
    { id: 'tf_mobilenet_v1_075_192', options: { arch: 'tf_mobilenet_v1_075', from: 'tflite', inputs: [tflite('mobilenet_v1_0.75_192_quant.tflite')], licence: TFLITE_LICENCE }, reference: { top1: 66.2, top5: 87.1, source: slim } },
    { id: 'tf_mobilenet_v1_100_224', options: { arch: 'tf_mobilenet_v1_100', from: 'tflite', inputs: [tflite('mobilenet_v1_1.0_224_quant_embedding_extractor.tflite'), tflite('mobilenet_quant_v1_224_head_layers.tflite')], licence: TFLITE_LICENCE }, reference: { top1: 69.7, top5: 89.5, source: slim } },
    { id: 'tf_mobilenet_v2_100_224', options: { arch: 'tf_mobilenet_v2_100', from: 'tflite', inputs: [tflite('mobilenet_v2_1.0_224_quant.tflite')], licence: TFLITE_LICENCE }, reference: { top1: 70.8, source: 'TF hosted-model list' } },
    { id: 'keras_mobilenet_v1_025_tfjs', options: { arch: 'keras_mobilenet_v1_025', from: 'tfjs', inputs: [w('tfjs-mobilenet_v1_0.25_224')], licence: 'MIT (kylecorry31/ML4K-AI-Extension@da02a755); weights Apache-2.0 (Google)' }, reference: { top1: 49.8, top5: 74.2, source: 'TF-slim table' } },
    { id: 'keras_mobilenet_v1_025_h5', options: { arch: 'keras_mobilenet_v1_025', from: 'keras', inputs: [w('keras-mobilenet_v1_0.25_224', 'mobilenet_v1_0.25_224.h5')], licence: 'Apache-2.0 (bvenreply/stm32ai-modelzoo@2d9c4594)' }, reference: { top1: 49.8, top5: 74.2, source: 'TF-slim table' } },
    { id: 'caffe_squeezenet1_1', options: { arch: 'squeezenet1_1', from: 'caffe', inputs: [w('caffe-squeezenet_v1.1')], licence: 'BSD-2-Clause (SqueezeNet); MIT (chaosmail/caffejs@d161d610)' }, reference: { top1: 58.2, top5: 80.6, source: 'Cadene table (torchvision port)' } },
    { id: 'caffe_bvlc_googlenet', options: { arch: 'bvlc_googlenet', from: 'caffe', inputs: [w('caffe-bvlc_googlenet')], licence: 'BVLC model zoo: unrestricted use; MIT (chaosmail/caffejs@d161d610)' }, reference: { top1: 68.7, top5: 88.9, source: 'BVLC model zoo' } },
    { id: 'onnx_squeezenet1_1_npy', options: { arch: 'squeezenet1_1', from: 'npy', inputs: [w('onnx-squeezenet1.1-npy', 'weights')], licence: 'Apache-2.0 (ONNX model zoo via webmachinelearning/test-data)' }, reference: { top1: 56.3, top5: 79.1, source: 'ONNX model zoo' }, pairs: w('onnx-squeezenet1.1-npy', 'test_data_set') },
    { id: 'tflite_squeezenet1_0_npy', options: { arch: 'tf_squeezenet1_0', from: 'npy', inputs: [w('tflite-squeezenet1.0-npy', 'weights')], npyLayout: 'ohwi', layout: 'tflite', licence: 'Apache-2.0 (TF hosted models via webmachinelearning/test-data)' }, reference: { top1: 49.0, top5: 72.9, source: 'TF hosted models' }, pairs: w('tflite-squeezenet1.0-npy', 'test_data_set') },
    { id: 'onnx_mobilenet_v2_int8', options: { arch: 'mobilenet_v2', from: 'onnx', inputs: [w('onnx-mobilenetv2-int8', 'mobilenet_v2_quant.onnx')], licence: 'Apache-2.0 (nnstreamer/nnstreamer@5b13ea61)' }, reference: { top1: 71.8, source: 'torchvision float' } },
  ];
}
