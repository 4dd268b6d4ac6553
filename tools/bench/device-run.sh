#!/usr/bin/env bash
# The bench on a GPU device machine (see tools/bench/device-bundle.sh). Usage: bash tools/bench/device-run.sh [PHASE]
#   all (default): four models on WebGPU vs onnxruntime (CPU) vs PyTorch (CUDA), ResNet-50 tuning variants,
#                  wasm threads on this machine's cores
#   vgg:           VGG-16 the same way (a 550 MB ONNX export)
#   runtimes:      tfjs-webgpu against onnxruntime-web's WebGPU EPs, native and JSEP (fp32 / fp16 weights;
#                  MODELS=a,b; rows as in docs/webgpu-runtimes.csv), then the size
#                  fixtures (test/fixtures/parity-sizes) on webgpu (NO_PARITY=1 leaves them out)
#   fixtures:      the fixtures carried in .device-fixtures/ on webgpu (../shared/fixtures/parity does not travel:
#                  here, `mkdir .device-fixtures && cp ../shared/fixtures/parity/*.json.gz
#                  test/fixtures/parity-sizes/mobilenet_v2*.json.gz .device-fixtures/`), and
#                  `cnn-zoo verify mobilenet_v2 --backend webgpu`
# Results: $OUT/results.csv and $OUT/*.log
set -uo pipefail
source .device-carry/setup.sh
set +e # setup.sh's -e would end the run at the first failing step
export XDG_RUNTIME_DIR=/tmp
out=${OUT:-/tmp/out}; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c "import torch, onnxruntime; print('torch', torch.__version__, 'onnxruntime', onnxruntime.__version__)"
bench() { /tmp/node .device-carry/bench.cjs --csv "$out/results.csv" "$@"; }
# `cnn-zoo parity` on webgpu over FILES, in $jobs processes (the weights are generated on the CPU, one core each).
parity() { # LOG FILES...
  local log=$1; shift
  printf '%s\n' "$@" | xargs -P "${jobs:-6}" -n 8 /tmp/node .device-carry/cli.cjs parity --backend webgpu > "$log" 2>&1
  grep -c ' PASS ' "$log"; grep -E ' FAIL|rror' "$log" | head -20; echo "($# fixtures)"
}
case "${1:-all}" in
  short)
    bench --models resnet50,mobilenet_v2 --batch 1,8,32,64 --backends webgpu --runs 15 --max-seconds 1.5 --label h100 2>&1 | tee "$out/main.log"
    for v in "--form training" "--flag WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=1000 --dawn enable-dawn-features=skip_validation,disable_robustness" "--compile-warmup"; do
      echo "=== variant: $v"
      bench --models resnet50 --batch 1,64 --backends webgpu --no-ort --no-torch --runs 15 --max-seconds 1.5 --label "h100 tuning: $v" $v 2>&1 | grep -v '^  ' | tee -a "$out/tuning.log"
    done ;;
  all)
    bench --models resnet50,mobilenet_v2,squeezenet1_1,densenet121 --batch 1,8,32,64 --backends webgpu --runs 20 --max-seconds 2 --label h100 2>&1 | tee "$out/main.log"
    for v in "--form training" "--compile-warmup" "--flag WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=1000" \
             "--flag WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=1000 --dawn enable-dawn-features=skip_validation,disable_robustness"; do
      echo "=== variant: $v"
      bench --models resnet50 --batch 1,64 --backends webgpu --no-ort --no-torch --runs 20 --max-seconds 2 --label "h100 tuning: $v" $v 2>&1 | grep -v '^  ' | tee -a "$out/tuning.log"
    done
    bench --models mobilenet_v2,resnet50 --batch 1 --backends wasm --wasm-threads 1,4 --no-torch --runs 10 --max-seconds 3 --label "h100 host cpu: wasm threads" 2>&1 | tee "$out/wasm-threads.log" ;;
  final)
    bench --models squeezenet1_1,densenet121,vgg16 --batch 1,8,32,64 --backends webgpu --runs 10 --max-seconds 1.5 --label h100 2>&1 | tee "$out/rest.log"
    bench --models resnet50 --batch 1 --backends webgpu --no-ort --no-torch --runs 15 --max-seconds 1.5 --label "h100 kernels" 2>&1 | tee "$out/kernels.log"
    bench --models mobilenet_v2,resnet50 --batch 1 --backends wasm --wasm-threads 1,2,4,8 --no-torch --runs 10 --max-seconds 2 --label "h100 host cpu: wasm threads" 2>&1 | tee "$out/wasm-threads.log" ;;
  runtimes)
    for v in "--ort-build webgpu --ort-device ort" "--ort-build all --ort-device ort"; do
      echo "=== onnxruntime-web variant: $v"
      timeout 150 /tmp/node .device-carry/webgpu-runtimes.cjs --ort-dist "$PWD/.device-carry/ort" --csv "$out/webgpu-runtimes.csv" \
        --models "${MODELS:-mobilenet_v2,resnet50,squeezenet1_1,densenet121}" --rounds 15 $v 2>&1 | grep -v '^|' | tee -a "$out/webgpu-runtimes.log"
    done
    [ -n "${NO_PARITY:-}" ] || time timeout 200 bash -c "$(declare -f parity); parity $out/parity-sizes.log test/fixtures/parity-sizes/*.json.gz" ;;
  fixtures)
    time timeout 420 bash -c "$(declare -f parity); parity $out/parity-shared.log .device-fixtures/*.json.gz"
    timeout 120 /tmp/node .device-carry/cli.cjs verify mobilenet_v2 --backend webgpu --fixtures .device-fixtures 2>&1 | tee "$out/verify.log" ;;
  vgg)
    bench --models vgg16 --batch 1,8,32,64 --backends webgpu --runs 10 --max-seconds 2 --label h100 2>&1 | tee "$out/vgg.log" ;;
esac
