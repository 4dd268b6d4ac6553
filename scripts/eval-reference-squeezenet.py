#!/usr/bin/env python3
"""Reference Top-1/Top-5 for `cnn-zoo eval` (run once while developing; not needed by tests or the package).

torchvision's squeezenet1_1 filled with the ONNX model-zoo SqueezeNet 1.1 weights (.npy, same layer order),
evaluated with torchvision's eval transforms on a labelled folder (`labels.txt`: file index [wnid], images/).
    /usr/bin/python3 scripts/eval-reference-squeezenet.py ../shared/weights/onnx-squeezenet1.1-npy/weights ../shared/imagenet/val-subset
Measured (torch 1.13, torchvision 0.14, Pillow 9.4): top-1 69.870%, top-5 90.190% on val-subset (999 images), the
same numbers as `cnn-zoo eval --model squeezenet1_1 --weights <converted> --data ../shared/imagenet/val-subset`.
"""
import os, re, sys
import numpy as np
import torch, torchvision
from torchvision import transforms as T
from PIL import Image

weights_dir, root = sys.argv[1], sys.argv[2]
model = torchvision.models.squeezenet1_1()
sd = model.state_dict()
files = sorted(os.listdir(weights_dir), key=lambda f: (int(re.search(r'conv(\d+)', f).group(1)), 0 if f.endswith('weight.npy') else 1))
assert len(files) == len(sd)
model.load_state_dict({k: torch.from_numpy(np.load(os.path.join(weights_dir, f))) for k, f in zip(sd.keys(), files)})
model.eval()
tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
lines = sorted(l.split()[:2] for l in open(os.path.join(root, 'labels.txt')) if l.strip())
t1 = t5 = 0
with torch.no_grad():
    for i in range(0, len(lines), 32):
        chunk = lines[i:i + 32]
        x = torch.stack([tf(Image.open(os.path.join(root, 'images', f)).convert('RGB')) for f, _ in chunk])
        for (f, label), top in zip(chunk, model(x).topk(5, 1).indices.tolist()):
            t1 += top[0] == int(label)
            t5 += int(label) in top
print(f'top-1 {100 * t1 / len(lines):.3f}%  top-5 {100 * t5 / len(lines):.3f}%  ({len(lines)} images)')
