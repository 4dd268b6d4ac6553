#!/usr/bin/env bash
# The bench on a GPU device machine (see bench/device-bundle.sh). Usage: bash bench/device-run.sh PHASE
#   main:  resnet50 + mobilenet_v2 on WebGPU vs onnxruntime (CPU) vs PyTorch (CUDA), then ResNet-50 tuning runs
#   rest:  squeezenet1_1, densenet121, vgg16 the same way, then wasm threads on this machine's cores
# Results: $OUT/results.csv and $OUT/*.log
set -uo pipefail
source .device-carry/setup.sh
out=${OUT:-/tmp/out}; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c "import torch, onnxruntime; print('torch', torch.__version__, 'onnxruntime', onnxruntime.__version__)"
bench() { /tmp/node .device-carry/bench.cjs --csv "$out/results.csv" "$@"; }
case "${1:-main}" in
  main)
    bench --models resnet50,mobilenet_v2 --batch 1,8,32,64 --backends webgpu --runs 30 --max-seconds 3 --label h100 2>&1 | tee "$out/main.log"
    for v in "--form training" "--flag WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=1000" "--dawn enable-dawn-features=skip_validation,disable_robustness" \
             "--compile-warmup" "--flag WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=1000 --dawn enable-dawn-features=skip_validation,disable_robustness"; do
      echo "=== variant: $v"
      bench --models resnet50 --batch 1,64 --backends webgpu --no-ort --no-torch --runs 30 --max-seconds 3 --label "h100 tuning: $v" $v 2>&1 | grep -v '^  ' | tee -a "$out/tuning.log"
    done ;;
  rest)
    bench --models squeezenet1_1,densenet121,vgg16 --batch 1,8,32,64 --backends webgpu --runs 30 --max-seconds 3 --label h100 2>&1 | tee "$out/rest.log"
    bench --models mobilenet_v2,resnet50 --batch 1 --backends wasm --wasm-threads 1,2,4,8 --no-torch --runs 20 --max-seconds 5 --label "h100 host cpu: wasm threads" 2>&1 | tee "$out/wasm-threads.log" ;;
esac
