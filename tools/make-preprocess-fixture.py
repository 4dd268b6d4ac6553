#!/usr/bin/env python3
"""Reference numbers for test/image-preprocess.test.ts, computed once with Debian's torchvision 0.14 / Pillow 9.4.

Run from the repository root (with ../shared beside it):
    /usr/bin/python3 tools/make-preprocess-fixture.py > test/fixtures/preprocess-reference.json

- formats: tiny images in other modes (palette/grey/1-bit/32-bit BMP, LA/P PNG, CMYK/grey JPEG, and an RGB JPEG
  and PNG carrying a Display P3 ICC profile, test/fixtures/display-p3.icc, saucecontrol's CC0 compact
  profile as libvips ships it: PIL ignores embedded profiles) written to test/fixtures/images/, with the sha256 of
  PIL's RGB conversion.
- decode: sha256 of `Image.open(f).convert('RGB').tobytes()` (torchvision's pil_loader) per image.
- resize: tiny synthetic images resized with PIL (all three filters, up and down), full outputs (base64).
- pipelines: timm/torchvision eval transforms (Resize(floor(size / crop_pct)), CenterCrop(size), ToTensor,
  Normalize) on the shared photos: sha256 of the cropped 8-bit image, and float32 values at sampled positions.
Not needed at test time.
"""
import base64, hashlib, json, math, os, sys

import numpy as np
import torch
import torchvision
import PIL
from PIL import Image
from torchvision import transforms as T

SHARED = os.environ.get('CNN_ZOO_SHARED', os.path.join(os.path.dirname(__file__), '..', '..', 'shared'))
IMAGES = os.path.join(SHARED, 'images')
PIL_FILTER = {'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC, 'nearest': Image.NEAREST}
TV_FILTER = {'bilinear': T.InterpolationMode.BILINEAR, 'bicubic': T.InterpolationMode.BICUBIC,
             'nearest': T.InterpolationMode.NEAREST}
SAMPLES = 128  # positions (i * 7919 + 13) % n of the flattened HWC tensor


def load(name):
    with open(os.path.join(IMAGES, name), 'rb') as f:
        return Image.open(f).convert('RGB')


def sha(b):
    return hashlib.sha256(b).hexdigest()


def synthetic(w, h, seed):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8), 'RGB')


def pipeline(name, cfg):
    img = load(name)
    short = math.floor(cfg['size'] / cfg['cropFraction'])
    crop = T.Compose([T.Resize(short, interpolation=TV_FILTER[cfg['interpolation']]), T.CenterCrop(cfg['size'])])(img)
    x = torch.from_numpy(np.asarray(crop, dtype=np.uint8).copy()).permute(2, 0, 1).float()  # CHW, 0..255
    if cfg['scale'] == 1 / 255:
        x = x.div(255)  # exactly ToTensor
    else:
        x = x.mul(torch.tensor(cfg['scale'], dtype=torch.float32))
    if cfg['channelOrder'] == 'BGR':
        x = x.flip(0)
    x = T.Normalize(cfg['mean'], cfg['std'])(x)
    hwc = x.permute(1, 2, 0).contiguous().numpy().reshape(-1)
    n = hwc.size
    idx = [(i * 7919 + 13) % n for i in range(SAMPLES)]
    return {
        'image': name, 'config': cfg, 'resizedShort': short, 'cropSha256': sha(crop.tobytes()),
        'sampleValues': [float(hwc[i]) for i in idx],
        'mean': float(hwc.astype(np.float64).mean()),
    }


def imagenet(**kw):
    cfg = {'size': 224, 'cropFraction': 0.875, 'interpolation': 'bilinear', 'scale': 1 / 255,
           'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225], 'channelOrder': 'RGB'}
    cfg.update(kw)
    return cfg


def formats():
    out_dir = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'images')
    os.makedirs(out_dir, exist_ok=True)
    base = synthetic(21, 13, 5)
    variants = {
        'rgb24.bmp': base, 'grey8.bmp': base.convert('L'), 'mono1.bmp': base.convert('1'),
        'palette4.bmp': base.convert('P', palette=Image.ADAPTIVE, colors=16),
        'palette8.bmp': base.convert('P', palette=Image.ADAPTIVE, colors=200), 'rgba32.bmp': base.convert('RGBA'),
        'grey-alpha.png': base.convert('LA'), 'palette.png': base.convert('P'), 'rgba.png': base.convert('RGBA'),
        'cmyk.jpg': base.convert('CMYK'), 'grey.jpg': base.convert('L'),
    }
    with open(os.path.join(out_dir, '..', 'display-p3.icc'), 'rb') as f:
        p3 = f.read()
    save_options = {'icc-p3.jpg': {'icc_profile': p3, 'quality': 90}, 'icc-p3.png': {'icc_profile': p3}}
    variants['icc-p3.jpg'] = base
    variants['icc-p3.png'] = base
    rows = []
    for name, im in variants.items():
        path = os.path.join(out_dir, name)
        im.save(path, **save_options.get(name, {}))
        with open(path, 'rb') as f:
            back = Image.open(f)
            rows.append({'file': name, 'mode': back.mode, 'sha256': sha(back.convert('RGB').tobytes())})
    return rows


def main():
    decode = [{'image': n, 'width': load(n).size[0], 'height': load(n).size[1], 'sha256': sha(load(n).tobytes())}
              for n in sorted(os.listdir(IMAGES)) if n.split('.')[-1] in ('bmp', 'jpg')]
    resize = []
    for seed, (w, h) in enumerate([(41, 29), (7, 64)]):
        src = synthetic(w, h, seed)
        for (ow, oh) in [(17, 11), (23, 37), (41, 13), (3, 9), (1, 1)]:
            for f in ('bilinear', 'bicubic', 'nearest'):
                resize.append({'seed': seed, 'input': [w, h], 'output': [ow, oh], 'filter': f,
                               'data': base64.b64encode(src.resize((ow, oh), PIL_FILTER[f]).tobytes()).decode()})
    synth = [{'seed': s, 'size': list(wh), 'data': base64.b64encode(synthetic(*wh, s).tobytes()).decode()}
             for s, wh in enumerate([(41, 29), (7, 64)])]
    pipelines = [
        pipeline('grace_hopper.bmp', imagenet()),
        pipeline('owl.jpg', imagenet(interpolation='bicubic', cropFraction=0.9, mean=[0.5] * 3, std=[0.5] * 3)),
        pipeline('parrot.jpg', imagenet(size=299, interpolation='bicubic', mean=[0.5] * 3, std=[0.5] * 3)),
        pipeline('hot_dog.jpg', imagenet(size=227, cropFraction=227 / 256, scale=1, mean=[104, 117, 123],
                                         std=[1, 1, 1], channelOrder='BGR')),
        pipeline('cat.bmp', imagenet(interpolation='nearest', cropFraction=1.0)),
        pipeline('bird.bmp', imagenet(size=160, cropFraction=1.25)),  # resized image smaller than the crop: padded
    ]
    json.dump({'made_by': 'tools/make-preprocess-fixture.py', 'torch': torch.__version__,
               'torchvision': torchvision.__version__, 'pillow': PIL.__version__,
               'synthetic': synth, 'formats': formats(), 'decode': decode, 'resize': resize, 'pipelines': pipelines}, sys.stdout)


main()
