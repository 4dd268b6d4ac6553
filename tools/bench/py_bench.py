"""Bench worker for Python runtimes: onnxruntime (when onnxruntime-node is missing) on the exported ONNX file,
or PyTorch (torchvision architecture, its default initialisation) on CPU or CUDA. Same input images as the
JS workers (tools/bench/det.py), one fresh process per model; prints `@@result <json>` per batch size.
Usage: python3 tools/bench/py_bench.py '<job json>'"""
import json
import os
import resource
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from det import det  # noqa: E402

INPUT_SEED = "cnn-zoo-bench-input"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p90(xs):
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, -(-9 * len(s) // 10) - 1))]


def time_runs(call, runs, budget_s):
    times, start = [], time.perf_counter()
    while len(times) < runs and (len(times) < 3 or time.perf_counter() - start < budget_s):
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1000)
    return times


def emit(r):
    print("@@result " + json.dumps(r), flush=True)


def main():
    job = json.loads(sys.argv[1])
    runtime, batches = job["runtime"], job["batches"]
    skip = False
    if runtime == "onnxruntime":
        import onnxruntime as ort
        t0 = time.perf_counter()
        sess = ort.InferenceSession(job["onnxPath"], providers=["CPUExecutionProvider"])
        setup = (time.perf_counter() - t0) * 1000
        shape = sess.get_inputs()[0].shape
        h, w = int(shape[2]), int(shape[3])
        threads, device = 0, "cpu"
    else:
        import torch
        import torchvision
        device = job.get("device", "cpu")
        torch.set_num_threads(job.get("threads") or os.cpu_count())
        threads = torch.get_num_threads()
        t0 = time.perf_counter()
        model = getattr(torchvision.models, job["model"])().eval().to(device)
        setup = (time.perf_counter() - t0) * 1000
        h = w = 224
    for i, batch in enumerate(batches):
        base = dict(runtime=runtime, backend=device, form="onnx" if runtime == "onnxruntime" else "eager",
                    model=job["model"], batch=batch, threads=threads)
        if skip:
            emit(dict(base, setupMs=0, coldMs=None, warmMs=None, warmP90Ms=None, runs=0, imgPerSec=None,
                      peakRssMb=peak_rss_mb(), deviceMb=None, note="skipped: over the time budget"))
            continue
        x = det(INPUT_SEED, batch * 3 * h * w, 1.0).reshape(batch, 3, h, w)
        first = {}
        device_mb = None
        if runtime == "onnxruntime":
            def call(keep=False):
                y = sess.run(["logits"], {"input": x})[0]
                if keep:
                    first["row"] = y[0].tolist()
        else:
            xt = torch.from_numpy(x).to(device)

            def call(keep=False):
                with torch.no_grad():
                    y = model(xt)
                    if device == "cuda":
                        torch.cuda.synchronize()
                    if keep:
                        first["row"] = y[0].float().cpu().tolist()
        t = time.perf_counter()
        call(True)
        cold = (time.perf_counter() - t) * 1000
        times = time_runs(call, job["runs"], job["maxSeconds"])
        med = statistics.median(times)
        if runtime == "pytorch" and device == "cuda":
            import torch
            device_mb = torch.cuda.max_memory_allocated() / 1e6
        emit(dict(base, setupMs=setup if i == 0 else 0, coldMs=cold, warmMs=med, warmP90Ms=p90(times), runs=len(times),
                  imgPerSec=1000 * batch / med, peakRssMb=peak_rss_mb(), deviceMb=device_mb,
                  firstRow=first.get("row") if runtime == "onnxruntime" else None))
        if cold + 3 * med > job["maxSeconds"] * 1000:
            skip = True


if __name__ == "__main__":
    main()
