/**
 * timm's published ImageNet-1k weights for the registry models whose reference is timm (facts from timm's
 * `default_cfgs` and `results/results-imagenet.csv`). Where timm's config names a release URL with the sha256
 * prefix in its file name, that file is listed (timm loads it when the Hub is not used); otherwise the Hugging
 * Face Hub file, verified against the sha256 the Hub declares for it.
 */
import type { PublishedCheckpoint } from './types.js';
import { IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD, timmPreprocess } from '../image/presets.js';

const TIMM = 'huggingface/pytorch-image-models';
const RESULTS = `${TIMM}@0173a139 results/results-imagenet.csv`;
const APACHE = 'Apache-2.0 (timm model-card default)';
const NC = 'CC-BY-NC-4.0 (timm cfg license; non-commercial use only)';
/** timm's IMAGENET_DPN_MEAN / IMAGENET_DPN_STD (timm/data/constants.py). */
const DPN_MEAN = [124 / 255, 117 / 255, 104 / 255] as const;
const DPN_STD = [1 / (0.0167 * 255), 1 / (0.0167 * 255), 1 / (0.0167 * 255)] as const;

type Entry = Omit<PublishedCheckpoint, 'publisher' | 'url' | 'file' | 'format' | 'hash'>;

/** A release file named `<name>-<sha256 prefix>.pth`. */
function release(url: string, e: Entry): PublishedCheckpoint {
  const file = url.slice(url.lastIndexOf('/') + 1);
  const prefix = /-([0-9a-f]{8,})\.pth$/.exec(file)?.[1];
  if (!prefix) throw new Error(`timm table: ${file} has no hash prefix`);
  return { ...e, publisher: 'timm', url, file, format: 'torch', hash: { algorithm: 'sha256', prefix, from: 'file name (torch.hub check_hash)' } };
}

/** A Hugging Face Hub file `timm/<arch>.<tag>/model.safetensors`. */
function hub(id: string, e: Entry): PublishedCheckpoint {
  const repo = `timm/${id}`;
  return {
    ...e, publisher: 'timm', url: `https://huggingface.co/${repo}/resolve/main/model.safetensors`, file: `timm-${id}.safetensors`,
    format: 'safetensors', hash: { algorithm: 'sha256', hubLfs: { repo, path: 'model.safetensors', revision: 'main' }, from: 'Hugging Face Hub LFS metadata' },
  };
}

const GH = 'https://github.com/rwightman/pytorch-image-models/releases/download';
const GH2 = 'https://github.com/huggingface/pytorch-image-models/releases/download';
const FB = 'https://dl.fbaipublicfiles.com/semiweaksupervision/model_files';
const cfg = (file: string, key: string) => `${TIMM} timm/models/${file} default_cfgs['${key}']; accuracy ${RESULTS}`;

export const TIMM_WEIGHTS: readonly PublishedCheckpoint[] = [
  // MobileNet v1/v2 (timm/models/efficientnet.py; _cfg: bicubic, crop 0.875, ImageNet mean/std unless given)
  hub('mobilenetv1_100.ra4_e3600_r224_in1k', {
    arch: 'mobilenet_v1_100', tag: 'ra4_e3600_r224_in1k', licence: APACHE, default: true,
    preprocessing: timmPreprocess(224, 0.875, 'bicubic', INCEPTION_MEAN, INCEPTION_STD),
    note: 'timm test size 256 px, crop 0.95; no accuracy row in the results file used here',
    facts: `${TIMM} timm/models/efficientnet.py default_cfgs['mobilenetv1_100.ra4_e3600_r224_in1k']`,
  }),
  release(`${GH}/v0.1-weights/mobilenetv2_050-3d30d450.pth`, {
    arch: 'mobilenet_v2_050', tag: 'lamb_in1k', licence: APACHE, accuracy: { top1: 65.95, top5: 86.088 },
    preprocessing: timmPreprocess(224, 0.875, 'bicubic'), build: { layout: 'timm' }, default: true,
    facts: cfg('efficientnet.py', 'mobilenetv2_050.lamb_in1k'),
  }),
  release(`${GH}/v0.1-weights/mobilenetv2_100_ra-b33bc2c4.pth`, {
    arch: 'mobilenet_v2', tag: 'ra_in1k', licence: APACHE, accuracy: { top1: 72.976, top5: 91.01 },
    preprocessing: timmPreprocess(224, 0.875, 'bicubic'), build: { layout: 'timm' },
    facts: cfg('efficientnet.py', 'mobilenetv2_100.ra_in1k'),
  }),
  release(`${GH}/v0.1-weights/mobilenetv2_140_ra-21a4e913.pth`, {
    arch: 'mobilenet_v2_140', tag: 'ra_in1k', licence: APACHE, accuracy: { top1: 76.52, top5: 92.986 },
    preprocessing: timmPreprocess(224, 0.875, 'bicubic'), build: { layout: 'timm' }, default: true,
    facts: cfg('efficientnet.py', 'mobilenetv2_140.ra_in1k'),
  }),

  // ResNeXt / ResNet-v2 / SE-ResNet (timm/models/resnet.py, resnetv2.py; _cfg: bilinear, crop 0.875)
  release(`${FB}/semi_supervised_resnext101_32x4-dc43570a.pth`, {
    arch: 'resnext101_32x4d', tag: 'fb_ssl_yfcc100m_ft_in1k', licence: NC, accuracy: { top1: 80.924, top5: 95.734 },
    preprocessing: timmPreprocess(224, 0.875, 'bilinear'), default: true,
    note: 'Facebook semi-supervised weights (facebookresearch/semi-supervised-ImageNet1K-models)',
    facts: cfg('resnet.py', 'resnext101_32x4d.fb_ssl_yfcc100m_ft_in1k'),
  }),
  release(`${FB}/semi_weakly_supervised_resnext101_32x4-3f87e46b.pth`, {
    arch: 'resnext101_32x4d', tag: 'fb_swsl_ig1b_ft_in1k', licence: NC, accuracy: { top1: 83.232, top5: 96.758 },
    preprocessing: timmPreprocess(224, 0.875, 'bilinear'),
    note: 'Facebook semi-weakly supervised weights (facebookresearch/semi-supervised-ImageNet1K-models)',
    facts: cfg('resnet.py', 'resnext101_32x4d.fb_swsl_ig1b_ft_in1k'),
  }),
  hub('resnetv2_50.a1h_in1k', {
    arch: 'resnetv2_50', tag: 'a1h_in1k', licence: APACHE, accuracy: { top1: 81.398, top5: 95.726, note: 'at 288 px, crop 1.0' },
    preprocessing: timmPreprocess(224, 0.95, 'bicubic'), default: true, facts: cfg('resnetv2.py', 'resnetv2_50.a1h_in1k'),
  }),
  hub('resnetv2_101.a1h_in1k', {
    arch: 'resnetv2_101', tag: 'a1h_in1k', licence: APACHE, accuracy: { top1: 83.002, top5: 96.454, note: 'at 288 px, crop 1.0' },
    preprocessing: timmPreprocess(224, 0.95, 'bicubic'), default: true, facts: cfg('resnetv2.py', 'resnetv2_101.a1h_in1k'),
  }),
  release(`${GH2}/v0.1-rsb-weights/seresnet50_a1_0-ffa00869.pth`, {
    arch: 'seresnet50', tag: 'a1_in1k', licence: APACHE, accuracy: { top1: 81.102, top5: 95.12, note: 'at 288 px, crop 1.0' },
    preprocessing: timmPreprocess(224, 0.95, 'bicubic'), default: true, facts: cfg('resnet.py', 'seresnet50.a1_in1k'),
  }),
  release(`${GH2}/v0.1-rsb-weights/seresnet50_a2_0-850de0d9.pth`, {
    arch: 'seresnet50', tag: 'a2_in1k', licence: APACHE, accuracy: { top1: 81.106, top5: 95.222, note: 'at 288 px, crop 1.0' },
    preprocessing: timmPreprocess(224, 0.95, 'bicubic'), facts: cfg('resnet.py', 'seresnet50.a2_in1k'),
  }),
  release(`${GH2}/v0.1-rsb-weights/seresnet50_a3_0-317ecd56.pth`, {
    arch: 'seresnet50', tag: 'a3_in1k', licence: APACHE, accuracy: { top1: 77.028, top5: 93.074, note: 'at 224 px, crop 0.95' },
    preprocessing: timmPreprocess(160, 0.95, 'bicubic'), build: { inputSize: 160 }, facts: cfg('resnet.py', 'seresnet50.a3_in1k'),
  }),
  release(`${GH}/v0.1-weights/seresnet50_ra_224-8efdb4bb.pth`, {
    arch: 'seresnet50', tag: 'ra2_in1k', licence: APACHE, accuracy: { top1: 81.284, top5: 95.652, note: 'at 288 px, crop 0.95' },
    preprocessing: timmPreprocess(224, 0.875, 'bicubic'), facts: cfg('resnet.py', 'seresnet50.ra2_in1k'),
  }),

  // Legacy SENet (timm/models/senet.py @0173a139: release URLs only; _cfg: bilinear, crop 0.875)
  ...([
    ['legacy_seresnet18', 'v0.1-weights/seresnet18-4bb0ce65.pth', 'bicubic', 71.766, 90.332],
    ['legacy_seresnet34', 'v0.1-weights/seresnet34-a4004e63.pth', 'bilinear', 74.808, 92.126],
    ['legacy_seresnet50', 'v0.1-cadene/se_resnet50-ce0d4300.pth', 'bilinear', 77.644, 93.758],
    ['legacy_seresnet101', 'v0.1-cadene/se_resnet101-7e38fcc6.pth', 'bilinear', 78.386, 94.262],
    ['legacy_seresnet152', 'v0.1-cadene/se_resnet152-d17c99b7.pth', 'bilinear', 78.66, 94.37],
    ['legacy_seresnext26_32x4d', 'v0.1-weights/seresnext26_32x4d-65ebdb501.pth', 'bicubic', 77.108, 93.314],
    ['legacy_seresnext50_32x4d', 'v0.1-weights/legacy_se_resnext50_32x4d-f3651bad.pth', 'bilinear', 79.076, 94.432],
    ['legacy_seresnext101_32x4d', 'v0.1-weights/legacy_se_resnext101_32x4d-37725eac.pth', 'bilinear', 80.23, 95.026],
    ['legacy_senet154', 'v0.1-weights/legacy_senet154-e9eb9fe6.pth', 'bilinear', 81.308, 95.492],
  ] as const).map(([arch, path, interp, top1, top5]) => release(`${GH}/${path}`, {
    arch, tag: 'in1k', licence: APACHE, accuracy: { top1, top5 }, preprocessing: timmPreprocess(224, 0.875, interp), default: true,
    facts: `${TIMM}@0173a139 timm/models/senet.py default_cfgs['${arch}.in1k']; accuracy ${RESULTS}`,
  })),

  // DPN (timm/models/dpn.py; _cfg: bicubic, crop 0.875, DPN mean/std; Hub files only)
  ...([
    ['dpn68', 76.346, 93.008], ['dpn92', 80.038, 94.86], ['dpn98', 79.67, 94.654], ['dpn107', 80.168, 94.942], ['dpn131', 79.814, 94.7],
  ] as const).map(([arch, top1, top5]) => hub(`${arch}.mx_in1k`, {
    arch, tag: 'mx_in1k', licence: APACHE, accuracy: { top1, top5 }, preprocessing: timmPreprocess(224, 0.875, 'bicubic', DPN_MEAN, DPN_STD),
    default: true, note: 'ported from the authors\' MXNet weights (cypw/DPNs)', facts: cfg('dpn.py', `${arch}.mx_in1k`),
  })),
  hub('dpn68b.ra_in1k', {
    arch: 'dpn68b', tag: 'ra_in1k', licence: APACHE, accuracy: { top1: 79.362, top5: 94.438, note: 'at 288 px, crop 1.0' },
    preprocessing: timmPreprocess(224, 0.95, 'bicubic', IMAGENET_MEAN, IMAGENET_STD), default: true, facts: cfg('dpn.py', 'dpn68b.ra_in1k'),
  }),
  hub('dpn68b.mx_in1k', {
    arch: 'dpn68b', tag: 'mx_in1k', licence: APACHE, accuracy: { top1: 77.518, top5: 93.852 },
    preprocessing: timmPreprocess(224, 0.875, 'bicubic', DPN_MEAN, DPN_STD), facts: cfg('dpn.py', 'dpn68b.mx_in1k'),
  }),

  // Inception v4 / Inception-ResNet-v2 (ported from TF-slim; Hub files only)
  hub('inception_v4.tf_in1k', {
    arch: 'inception_v4', tag: 'tf_in1k', licence: APACHE, accuracy: { top1: 80.156, top5: 94.968 },
    preprocessing: timmPreprocess(299, 0.875, 'bicubic', INCEPTION_MEAN, INCEPTION_STD), default: true,
    facts: `${TIMM}@00851493 timm/models/inception_v4.py default_cfgs['inception_v4.tf_in1k']; accuracy ${RESULTS}`,
  }),
  hub('inception_resnet_v2.tf_in1k', {
    arch: 'inception_resnet_v2', tag: 'tf_in1k', licence: APACHE, accuracy: { top1: 80.462, top5: 95.308 },
    preprocessing: timmPreprocess(299, 0.8975, 'bicubic', INCEPTION_MEAN, INCEPTION_STD), default: true,
    facts: cfg('inception_resnet_v2.py', 'inception_resnet_v2.tf_in1k'),
  }),
  hub('inception_resnet_v2.tf_ens_adv_in1k', {
    arch: 'inception_resnet_v2', tag: 'tf_ens_adv_in1k', licence: APACHE, accuracy: { top1: 79.978, top5: 94.946 },
    preprocessing: timmPreprocess(299, 0.8975, 'bicubic', INCEPTION_MEAN, INCEPTION_STD), note: 'ensemble adversarial training (arXiv:1705.07204)',
    facts: cfg('inception_resnet_v2.py', 'inception_resnet_v2.tf_ens_adv_in1k'),
  }),

  // Xception (legacy: Cadene's port of the Keras weights; aligned: timm/models/xception_aligned.py, _cfg crop 0.903)
  release(`${GH}/v0.1-cadene/xception-43020ad28.pth`, {
    arch: 'legacy_xception', tag: 'tf_in1k', licence: APACHE, accuracy: { top1: 79.04, top5: 94.382 },
    preprocessing: timmPreprocess(299, 0.8975, 'bicubic', INCEPTION_MEAN, INCEPTION_STD), default: true,
    note: 'timm named this checkpoint `xception` before 0.9 (then legacy_xception.tf_in1k)',
    facts: `${TIMM} timm/models/xception.py default_cfgs['xception'] (pre-0.9); accuracy ${RESULTS} (legacy_xception.tf_in1k)`,
  }),
  hub('xception41.tf_in1k', {
    arch: 'xception41', tag: 'tf_in1k', licence: APACHE, accuracy: { top1: 78.504, top5: 94.276 },
    preprocessing: timmPreprocess(299, 0.903, 'bicubic', INCEPTION_MEAN, INCEPTION_STD), default: true,
    facts: cfg('xception_aligned.py', 'xception41.tf_in1k'),
  }),
  hub('xception65.ra3_in1k', {
    arch: 'xception65', tag: 'ra3_in1k', licence: APACHE, accuracy: { top1: 83.182, top5: 96.592 },
    preprocessing: timmPreprocess(299, 0.94, 'bicubic', INCEPTION_MEAN, INCEPTION_STD), default: true,
    facts: cfg('xception_aligned.py', 'xception65.ra3_in1k'),
  }),
  hub('xception65.tf_in1k', {
    arch: 'xception65', tag: 'tf_in1k', licence: APACHE, accuracy: { top1: 79.556, top5: 94.654 },
    preprocessing: timmPreprocess(299, 0.903, 'bicubic', INCEPTION_MEAN, INCEPTION_STD),
    facts: cfg('xception_aligned.py', 'xception65.tf_in1k'),
  }),

  // NASNet-A Large (ported from TF via Cadene), DarkNet-53 (timm/models/cspnet.py; _cfg: 256 px, crop 0.887)
  release(`${GH}/v0.1-weights/nasnetalarge-dc4a7b8b.pth`, {
    arch: 'nasnetalarge', tag: 'tf_in1k', licence: 'Apache-2.0 (timm model card for nasnetalarge.tf_in1k)', accuracy: { top1: 82.626, top5: 96.042 },
    preprocessing: timmPreprocess(331, 0.911, 'bicubic', INCEPTION_MEAN, INCEPTION_STD), build: { inputSize: 331 }, default: true,
    facts: cfg('nasnet.py', 'nasnetalarge.tf_in1k'),
  }),
  release(`${GH}/v0.1-tpu-weights/darknet53_256_c2ns-3aeff817.pth`, {
    arch: 'darknet53', tag: 'c2ns_in1k', licence: APACHE, accuracy: { top1: 80.536, top5: 95.434, note: 'at 288 px, crop 1.0' },
    preprocessing: timmPreprocess(256, 0.887, 'bicubic'), build: { inputSize: 256 }, default: true,
    facts: cfg('cspnet.py', 'darknet53.c2ns_in1k'),
  }),
];
