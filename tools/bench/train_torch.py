#!/usr/bin/python3
"""PyTorch CPU training throughput for tools/bench/train.ts's table: torchvision models, train mode, SGD step,
torch.set_num_threads(2) (default; --threads), 1 warm-up step then --steps timed steps (the minimum is reported).
Usage: /usr/bin/python3 tools/bench/train_torch.py [--models mobilenet_v2,resnet18,resnet50] [--batches 16,32]
  [--csv docs/bench-results.csv --label TEXT] (rows in train.ts's columns)"""
import argparse
import datetime
import os
import platform
import resource
import time

import torch
import torchvision

ap = argparse.ArgumentParser()
ap.add_argument('--models', default='mobilenet_v2,resnet18,resnet50')
ap.add_argument('--batches', default='16,32')
ap.add_argument('--size', type=int, default=224)
ap.add_argument('--steps', type=int, default=2)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--csv', default='')
ap.add_argument('--label', default='')
a = ap.parse_args()
date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


CSV_HEADER = ('date,label,host,cpu,cores,mem_gb,os,node,gpu,model,batch,runtime,backend,form,threads,setup_ms,cold_ms,warm_ms,warm_p90_ms,runs,'
              'img_per_s,peak_rss_mb,device_mb,kernels,kernel_ms,ort_warm_ms,ratio_warm_vs_ort,ratio_cold_vs_ort,max_rel_err_vs_ort,flags,note')


def cpu_model():
    try:
        return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration):
        return platform.processor()


def csv_row(name, batch, cold_ms, best_ms):
    cell = lambda v: f'"{v}"' if ',' in str(v) else str(v)
    mem = round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = [date, a.label, platform.node(), cpu_model(), os.cpu_count(), mem, f'{platform.system()} {platform.release()}', '', '', name, batch,
           'pytorch', 'cpu', 'fit', a.threads, '', f'{cold_ms:.0f}', f'{best_ms:.0f}', '', a.steps, f'{batch / best_ms * 1000:.3f}', f'{rss:.0f}',
           '', '', '', '', '', '', '', '', f'train step {a.size} px, SGD, batch norm in training mode: PyTorch {torch.__version__} CPU, {a.threads} threads']
    header = '' if os.path.exists(a.csv) else CSV_HEADER + '\n'
    with open(a.csv, 'a') as f:
        f.write(header + ','.join(cell(v) for v in row) + '\n')

torch.set_num_threads(a.threads)
print(f'# PyTorch {torch.__version__} CPU, {a.threads} threads; {a.size} px; min of {a.steps} timed steps after 1 warm-up')
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
        t0 = time.perf_counter()
        step()
        cold = time.perf_counter() - t0
        best = float('inf')
        for _ in range(a.steps):
            t0 = time.perf_counter()
            step()
            best = min(best, time.perf_counter() - t0)
        sec = best
        if a.csv:
            csv_row(name, batch, cold * 1000, best * 1000)
        print(f'| PyTorch CPU {a.threads} threads | {name} | {batch} | {sec:.2f} | {batch / sec:.2f} |')
