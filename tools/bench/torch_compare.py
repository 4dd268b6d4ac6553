"""PyTorch side of the side-by-side bench (tools/bench/compare.ts).

export MODEL OUTDIR: torchvision's MODEL with its default initialisation under torch.manual_seed(0) (the same
    deterministic weights on every runtime where no real checkpoint exists): OUTDIR/MODEL.seed0.pth (state_dict,
    which cnn-zoo converts) and OUTDIR/MODEL.torchvision.onnx (torch.onnx.export, opset 13, input `input` NCHW,
    output `logits`, dynamic batch).
worker MODEL PTH IMAGE: PyTorch with PIL end to end (open, convert RGB, Resize(256), CenterCrop(224), ToTensor,
    Normalize, model, softmax, top-5; BENCH_TORCH_THREADS threads, default 1), one call per `run` line read on stdin, answering `@@t <ms> <peak RSS MB>` (`@@ready` first).
Usage: python3 tools/bench/torch_compare.py export|worker ..."""
import json
import os
import resource
import sys
import time

import torch
import torchvision
from PIL import Image
from torchvision import transforms


def export(model_name, outdir):
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    model = getattr(torchvision.models, model_name)().eval()
    torch.save(model.state_dict(), os.path.join(outdir, f"{model_name}.seed0.pth"))
    x = torch.zeros(1, 3, 224, 224)
    torch.onnx.export(model, x, os.path.join(outdir, f"{model_name}.torchvision.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    print("@@exported", flush=True)


def worker(model_name, pth, image):
    # One thread: on the shared 2-core machine two threads were 2-3x slower (SqueezeNet 1.2 s against 0.43 s), as
    # for cnn-zoo's wasm (1 thread by default in Node); `npm run bench -- compare --torch-threads N` overrides it.
    torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "1")))
    model = getattr(torchvision.models, model_name)().eval()
    model.load_state_dict(torch.load(pth))
    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

    def classify():
        with torch.no_grad():
            x = tf(Image.open(image).convert("RGB")).unsqueeze(0)
            p = model(x).softmax(1)[0]
            return p.topk(5).indices.tolist()

    top = classify()
    print("@@ready " + json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, "top5": top}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t = time.perf_counter()
        classify()
        ms = (time.perf_counter() - t) * 1000
        print(f"@@t {ms} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "export":
        export(sys.argv[2], sys.argv[3])
    else:
        worker(sys.argv[2], sys.argv[3], sys.argv[4])
