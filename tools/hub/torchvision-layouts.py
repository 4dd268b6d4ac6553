#!/usr/bin/env python3
"""
Writes full torchvision state_dicts (random weights, randomised BN statistics; GoogLeNet and Inception v3 with
their auxiliary heads, as torchvision publishes them) plus an input and the reference output, for
tools/hub/check-torchvision-layouts.ts, which serves them on a loopback mirror under the weights table's file
names and checks that `fetchWeights` + `load` reproduce the outputs (key layout, dropped aux keys, BN buffers).

    /usr/bin/python3 tools/hub/torchvision-layouts.py OUT_DIR && npx tsx tools/hub/check-torchvision-layouts.ts OUT_DIR
"""
import sys

import numpy as np
import torch
import torchvision

NAMES = ['googlenet', 'inception_v3', 'resnet50', 'mobilenet_v2', 'densenet121', 'shufflenet_v2_x1_0', 'squeezenet1_1', 'vgg11_bn']
out = sys.argv[1]
torch.manual_seed(0)
for name in NAMES:
    kw = dict(aux_logits=True, init_weights=True, transform_input=False) if name in ('googlenet', 'inception_v3') else {}
    m = getattr(torchvision.models, name)(weights=None, **kw).eval()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.1, 0.1)
            mod.running_var.uniform_(0.5, 1.5)
    torch.save(m.state_dict(), f'{out}/{name}.pth')
    size = 299 if name == 'inception_v3' else 224
    x = torch.rand(1, 3, size, size)
    with torch.no_grad():
        if name == 'googlenet':
            m.aux_logits, m.aux1, m.aux2 = False, None, None
        if name == 'inception_v3':
            m.aux_logits, m.AuxLogits = False, None
        y = m(x)
    np.save(f'{out}/{name}.x.npy', x.numpy())
    np.save(f'{out}/{name}.y.npy', y.numpy())
    print(name, len(m.state_dict()), 'state_dict entries')
