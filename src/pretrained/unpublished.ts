/** Registry models with no published ImageNet weights anywhere we know of, each with the reason. */
import type { Unpublished } from './types.js';

const TIMM_EFF = 'huggingface/pytorch-image-models timm/models/efficientnet.py default_cfgs';

export const UNPUBLISHED: readonly Unpublished[] = [
  { arch: 'effnet', reason: 'EffNet is defined by its paper for CIFAR-10 (and SVHN) only; no weights were released.' },
  { arch: 'fd_mobilenet_1_0x', reason: 'qinzheng93/FD-MobileNet commits only the 0.25x and 0.5x checkpoints (saved_models/); the 1x model was not released.' },
  { arch: 'mobilenet_v1_025', reason: `timm registers mobilenetv1_025 without weights (${TIMM_EFF}); TF-slim/Keras weights of this width load into tf_mobilenet_v1_025 / keras_mobilenet_v1_025 (TF padding).` },
  { arch: 'mobilenet_v1_050', reason: `timm registers mobilenetv1_050 without weights (${TIMM_EFF}); TF-slim/Keras weights of this width load into tf_mobilenet_v1_050 / keras_mobilenet_v1_050.` },
  { arch: 'mobilenet_v1_075', reason: `timm registers mobilenetv1_075 without weights (${TIMM_EFF}); TF-slim/Keras weights of this width load into tf_mobilenet_v1_075 / keras_mobilenet_v1_075.` },
  { arch: 'mobilenet_v2_035', reason: `timm lists mobilenetv2_035 as "untrained" (${TIMM_EFF}) and torchvision publishes only width 1.0; TF-slim weights load into tf_mobilenet_v2_035.` },
  { arch: 'mobilenet_v2_075', reason: `timm lists mobilenetv2_075 as "untrained" (${TIMM_EFF}) and torchvision publishes only width 1.0; TF-slim weights load into tf_mobilenet_v2_075.` },
];
