#!/usr/bin/python3
"""PyTorch CPU training throughput for tools/bench/train.ts's table: torchvision models, train mode, SGD step,
torch.set_num_threads(2) (default; --threads), 1 warm-up step then --steps timed steps.
Usage: /usr/bin/python3 tools/bench/train_torch.py [--models mobilenet_v2,resnet18,resnet50] [--batches 16,32]"""
import argparse
import time

import torch
import torchvision

ap = argparse.ArgumentParser()
ap.add_argument('--models', default='mobilenet_v2,resnet18,resnet50')
ap.add_argument('--batches', default='16,32')
ap.add_argument('--size', type=int, default=224)
ap.add_argument('--steps', type=int, default=2)
ap.add_argument('--threads', type=int, default=2)
a = ap.parse_args()
torch.set_num_threads(a.threads)
print(f'# PyTorch {torch.__version__} CPU, {a.threads} threads; {a.size} px; {a.steps} timed steps after 1 warm-up')
for name in a.models.split(','):
    for batch in map(int, a.batches.split(',')):
        model = getattr(torchvision.models, name)().train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        x = torch.randn(batch, 3, a.size, a.size)
        y = torch.arange(batch) % 1000

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return float(loss)
        step()
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        sec = (time.perf_counter() - t0) / a.steps
        print(f'| PyTorch CPU {a.threads} threads | {name} | {batch} | {sec:.2f} | {batch / sec:.2f} |')
