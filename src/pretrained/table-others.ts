/**
 * Weights published outside torchvision and timm: Keras applications, TF-slim/TFLite hosted models, the authors'
 * releases (Cadene's ports, Megvii's ShuffleNet v1, BVLC GoogLeNet, DeepScale SqueezeNet, FD-MobileNet) and
 * Darknet's own `.weights` files. Each entry names where its facts come from.
 */
import type { PublishedCheckpoint } from './types.js';
import { caffePreprocess, IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD, tfPreprocess, timmPreprocess, tvPreprocess } from '../image/presets.js';

// --- Keras applications: MobileNet v1 (no file hash is published: get_file is called without file_hash) ---
const KERAS_SRC = 'keras-team/keras keras/src/applications/mobilenet.py (BASE_WEIGHT_PATH, mobilenet_%s_%d_tf.h5)';
const SLIM_V1 = 'tensorflow/models@02c04f49 research/slim/nets/mobilenet_v1.md';
const keras = ([
  ['keras_mobilenet_v1_025', '2_5', 49.8, 74.2], ['keras_mobilenet_v1_050', '5_0', 63.3, 84.9],
  ['keras_mobilenet_v1_075', '7_5', 68.4, 88.2], ['keras_mobilenet_v1_100', '1_0', 70.9, 89.9],
] as const).map(([arch, alpha, top1, top5]): PublishedCheckpoint => ({
  arch, publisher: 'keras', tag: '224', url: `https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_${alpha}_224_tf.h5`,
  file: `mobilenet_${alpha}_224_tf.h5`, format: 'keras', licence: 'Apache-2.0 (Keras; weights converted from the TF-slim checkpoints)',
  accuracy: { top1, top5, note: 'TF-slim table for the checkpoints Keras converted' }, preprocessing: tfPreprocess(224), default: true,
  facts: `${KERAS_SRC}; accuracy ${SLIM_V1}`,
}));

// --- TF-slim / TFLite hosted float models (the .tflite inside each .tgz) ---
const tfV1 = ([
  ['tf_mobilenet_v1_025', '0.25', 49.8, 74.2], ['tf_mobilenet_v1_050', '0.5', 63.3, 84.9], ['tf_mobilenet_v1_075', '0.75', 68.4, 88.2],
] as const).map(([arch, d, top1, top5]): PublishedCheckpoint => ({
  arch, publisher: 'tf', tag: `mobilenet_v1_${d}_224`, url: `http://download.tensorflow.org/models/mobilenet_v1_2018_02_22/mobilenet_v1_${d}_224.tgz`,
  file: `mobilenet_v1_2018_02_22-mobilenet_v1_${d}_224.tgz`, member: `mobilenet_v1_${d}_224.tflite`, format: 'tflite',
  licence: 'Apache-2.0 (tensorflow/models)', accuracy: { top1, top5 }, preprocessing: tfPreprocess(224), build: { inputSize: 224 }, default: true,
  facts: `${SLIM_V1} (table and download links; the .tgz holds a converted TFLite flatbuffer)`,
}));
const tfV1Full: PublishedCheckpoint = {
  arch: 'tf_mobilenet_v1_100', publisher: 'tf', tag: 'mobilenet_v1_1.0_224', url: 'https://storage.googleapis.com/download.tensorflow.org/models/mobilenet_v1_2018_08_02/mobilenet_v1_1.0_224.tgz',
  file: 'mobilenet_v1_2018_08_02-mobilenet_v1_1.0_224.tgz', member: 'mobilenet_v1_1.0_224.tflite', format: 'tflite',
  hash: { algorithm: 'sha256', hex: '2fadeabb9968ec6833bee903900dda6e61b3947200535874ce2fe42a8493abc0', from: 'tensorflow/tensorflow@a61bb6a5 tensorflow/workspace.bzl (tflite_mobilenet_float)' },
  licence: 'Apache-2.0 (tensorflow/models)', accuracy: { top1: 70.9, top5: 89.9 }, preprocessing: tfPreprocess(224), build: { inputSize: 224 }, default: true,
  facts: `${SLIM_V1} (accuracy); URL and sha256 from tensorflow/tensorflow@a61bb6a5 tensorflow/workspace.bzl`,
};
const SLIM_V2 = 'tensorflow/models@0ba83cf0 research/slim/nets/mobilenet/README.md';
const tfV2 = ([
  ['tf_mobilenet_v2_035', '0.35', 60.3, 82.9], ['tf_mobilenet_v2_050', '0.5', 65.4, 86.4], ['tf_mobilenet_v2_075', '0.75', 69.8, 89.6],
  ['tf_mobilenet_v2_100', '1.0', 71.8, 91.0], ['tf_mobilenet_v2_140', '1.4', 75.0, 92.5],
] as const).map(([arch, d, top1, top5]): PublishedCheckpoint => ({
  arch, publisher: 'tf', tag: `mobilenet_v2_${d}_224`, url: `https://storage.googleapis.com/mobilenet_v2/checkpoints/mobilenet_v2_${d}_224.tgz`,
  file: `mobilenet_v2-mobilenet_v2_${d}_224.tgz`, member: `mobilenet_v2_${d}_224.tflite`, format: 'tflite',
  licence: 'Apache-2.0 (tensorflow/models)', accuracy: { top1, top5 }, preprocessing: tfPreprocess(224), build: { inputSize: 224 }, default: true,
  facts: `${SLIM_V2} (table and download links)`,
}));
const tfSqueeze: PublishedCheckpoint = {
  arch: 'tf_squeezenet1_0', publisher: 'tf', tag: 'squeezenet_2018_04_27',
  url: 'https://storage.googleapis.com/download.tensorflow.org/models/tflite/model_zoo/upload_20180427/squeezenet_2018_04_27.tgz',
  file: 'squeezenet_2018_04_27.tgz', member: 'squeezenet.tflite', format: 'tflite', licence: 'Apache-2.0 (TensorFlow hosted models)',
  accuracy: { top1: 49.0, top5: 72.9 }, preprocessing: { ...tfPreprocess(224) }, build: { layout: 'tflite' }, default: true,
  facts: 'TensorFlow Lite hosted models list (tensorflow/tensorflow lite/g3doc/guide/hosted_models.md, SqueezeNet row); member name as used by tflite tools (squeezenet.tflite)',
};

// --- Cadene/pretrained-models.pytorch ---
const cadene: PublishedCheckpoint[] = [
  {
    arch: 'bninception', publisher: 'cadene', tag: 'imagenet', url: 'http://data.lip6.fr/cadene/pretrainedmodels/bn_inception-239d2248.pth',
    file: 'bn_inception-239d2248.pth', format: 'torch', hash: { algorithm: 'sha256', prefix: '239d2248', from: 'file name (torch.hub check_hash)' },
    licence: 'BSD-3-Clause (Cadene/pretrained-models.pytorch)', accuracy: { top1: 73.524, top5: 91.562 },
    preprocessing: { size: 224, cropFraction: 0.875, interpolation: 'bilinear', scale: 1, mean: [104, 117, 128], std: [1, 1, 1], channelOrder: 'BGR' },
    default: true, note: 'BN weights are stored as [1, C] (same values, reshaped on load)',
    facts: 'Cadene/pretrained-models.pytorch@181b05df pretrainedmodels/models/bninception.py pretrained_settings (url, BGR, 0-255, mean [104, 117, 128]); accuracy: its README',
  },
  {
    arch: 'nasnetamobile', publisher: 'cadene', tag: 'imagenet', url: 'http://data.lip6.fr/cadene/pretrainedmodels/nasnetamobile-7e03cead.pth',
    file: 'nasnetamobile-7e03cead.pth', format: 'torch', hash: { algorithm: 'sha256', prefix: '7e03cead', from: 'file name (torch.hub check_hash)' },
    licence: 'BSD-3-Clause (Cadene/pretrained-models.pytorch)', accuracy: { top1: 74.08, top5: 91.74 },
    preprocessing: timmPreprocess(224, 224 / 256, 'bilinear', INCEPTION_MEAN, INCEPTION_STD), default: true,
    facts: 'Cadene/pretrained-models.pytorch pretrainedmodels/models/nasnet_mobile.py pretrained_settings (url, RGB, [0, 1], mean/std 0.5, "resize 256"); accuracy: its README',
  },
];

// --- Megvii ShuffleNet v1: a OneDrive folder only (no direct links, no hashes) ---
const MEGVII = 'megvii-model/ShuffleNet-Series@13bbe30b README.md (Trained Models: OneDrive), ShuffleNetV1/README.md (top-1/top-5 error), ShuffleNetV1/train.py (validation transform)';
const megvii = ([
  ['shufflenet_v1_g3_0_5x', 'Group3', '0.5x', 57.3, 80.0], ['shufflenet_v1_g3_1_0x', 'Group3', '1.0x', 67.8, 87.7],
  ['shufflenet_v1_g3_1_5x', 'Group3', '1.5x', 71.6, 90.2], ['shufflenet_v1_g3_2_0x', 'Group3', '2.0x', 74.1, 91.4],
  ['shufflenet_v1_g8_0_5x', 'Group8', '0.5x', 58.8, 81.0], ['shufflenet_v1_g8_1_0x', 'Group8', '1.0x', 68.0, 86.4],
  ['shufflenet_v1_g8_1_5x', 'Group8', '1.5x', 71.0, 89.6], ['shufflenet_v1_g8_2_0x', 'Group8', '2.0x', 72.9, 90.8],
] as const).map(([arch, group, size, top1, top5]): PublishedCheckpoint => ({
  arch, publisher: 'megvii', tag: `${group}-${size}`, url: 'https://1drv.ms/f/s!AgaP37NGYuEXhRfQxHRseR7eSxXo',
  manual: 'published in a OneDrive folder (ShuffleNetV1/' + group + '), which has no direct file links: download it and serve it through --mirror, or convert it with `cnn-zoo convert --from torch`',
  file: `${arch}.pth.tar`, format: 'torch', licence: 'MIT (megvii-model/ShuffleNet-Series)',
  accuracy: { top1, top5, note: '100 minus the published error rates' },
  preprocessing: { size: 224, cropFraction: 224 / 256, interpolation: 'bilinear', scale: 1, mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'BGR' },
  note: 'trained on BGR 0-255 pixels without mean/std; Megvii resizes with OpenCV (no antialiasing)', default: true, facts: MEGVII,
}));

// --- BVLC GoogLeNet and DeepScale SqueezeNet (Caffe) ---
const bvlc: PublishedCheckpoint = {
  arch: 'bvlc_googlenet', publisher: 'bvlc', tag: 'bvlc_googlenet', url: 'http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel',
  file: 'bvlc_googlenet.caffemodel', format: 'caffe',
  hash: { algorithm: 'sha1', hex: '405fc5acd08a3bb12de8ee5e23a96bec22f08204', from: 'BVLC/caffe models/bvlc_googlenet/readme.md (sha1)' },
  licence: 'unrestricted (BVLC model zoo readme: "license: unrestricted")', accuracy: { top1: 68.7, top5: 88.9, note: 'single centre crop' },
  preprocessing: caffePreprocess(224, [104, 117, 123]), default: true,
  facts: 'BVLC/caffe models/bvlc_googlenet/readme.md (caffemodel_url, sha1, licence, accuracy)',
};
const FORRESTI = 'forresti/SqueezeNet README.md';
const deepscale: PublishedCheckpoint[] = [
  {
    arch: 'squeezenet1_0', publisher: 'deepscale', tag: 'v1.0', url: 'https://github.com/forresti/SqueezeNet/raw/master/SqueezeNet_v1.0/squeezenet_v1.0.caffemodel',
    file: 'squeezenet_v1.0.caffemodel', format: 'caffe', licence: 'BSD-2-Clause (forresti/SqueezeNet)', accuracy: { top1: 57.5, top5: 80.3 },
    preprocessing: caffePreprocess(227, [104, 117, 123]), build: { inputSize: 227 }, facts: `${FORRESTI} (v1.0 accuracy); deploy.prototxt input 227`,
  },
  {
    arch: 'squeezenet1_1', publisher: 'deepscale', tag: 'v1.1', url: 'https://github.com/forresti/SqueezeNet/raw/master/SqueezeNet_v1.1/squeezenet_v1.1.caffemodel',
    file: 'squeezenet_v1.1.caffemodel', format: 'caffe', licence: 'BSD-2-Clause (forresti/SqueezeNet)',
    preprocessing: caffePreprocess(227, [104, 117, 123]), build: { inputSize: 227 },
    note: 'the README states v1.1 matches v1.0 accuracy with 2.4x less computation; no separate number',
    facts: `${FORRESTI}; shared/weights/README.md (the same network converts into squeezenet1_1)`,
  },
];

// --- FD-MobileNet: the authors commit two checkpoints to their repository (no licence file, no hashes) ---
const FD = 'qinzheng93/FD-MobileNet';
const fd = ([
  ['fd_mobilenet_0_5x', '0.5x', 56.3], ['fd_mobilenet_0_25x', '0.25x', 45.1],
] as const).map(([arch, w, top1]): PublishedCheckpoint => ({
  arch, publisher: 'authors', tag: `${w}-FDMobileNet-224`, url: `https://github.com/${FD}/raw/3376e5cddb2e639abfe28a867e92d0b62387f5d2/saved_models/${w}-FDMobileNet-224.pth.tar`,
  file: `${w}-FDMobileNet-224.pth.tar`, format: 'torch', licence: 'none stated (the repository has no licence file)', accuracy: { top1 },
  preprocessing: tvPreprocess(224, 256, 'bilinear', IMAGENET_MEAN, IMAGENET_STD), default: true,
  facts: `${FD}@58f55c93 README.md (accuracy, "our pre-trained models are single-GPU models"), pyvision/dataloaders/ImageNet.py (validation transform); files saved_models/ @3376e5cd`,
}));

// --- Darknet's own ImageNet classifiers (.weights; read by ./darknet.ts against the cfg models' shapes) ---
const DARKNET = 'https://pjreddie.com/darknet/imagenet/';
const darknet = ([
  ['darknet_reference', 'darknet.weights', 61.1, 83.0, 'https://pjreddie.com/darknet/tiny-darknet/ (Darknet Reference)'],
  ['tiny_darknet', 'tiny.weights', 58.7, 81.7, 'https://pjreddie.com/darknet/tiny-darknet/ (Tiny Darknet)'],
  ['darknet19', 'darknet19.weights', 72.9, 91.2, 'YOLO9000 paper, Sec. 3'],
  ['darknet53_original', 'darknet53.weights', 77.2, 93.8, 'YOLOv3 paper, Table 2'],
] as const).map(([arch, file, top1, top5, acc]): PublishedCheckpoint => ({
  arch, publisher: 'darknet', tag: file.replace('.weights', ''), url: `https://pjreddie.com/media/files/${file}`, file, format: 'darknet',
  licence: 'GPL-3.0+ or MIT or WTFPL (pjreddie/darknet code, per Debian\'s copyright file; no separate weights licence)', accuracy: { top1, top5 },
  preprocessing: { size: arch === 'tiny_darknet' ? 224 : 256, cropFraction: 1, interpolation: 'bilinear', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'RGB' },
  note: 'Darknet\'s classifier resizes the shorter side to the input size and centre-crops, RGB in [0, 1]', default: true,
  facts: `${DARKNET} (weights files); accuracy: ${acc}`,
}));

export const OTHER_WEIGHTS: readonly PublishedCheckpoint[] = [
  ...keras, ...tfV1, tfV1Full, ...tfV2, tfSqueeze, ...cadene, ...megvii, bvlc, ...deepscale,
  ...fd, ...darknet,
];
