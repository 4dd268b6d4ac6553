#!/usr/bin/env bash
# Builds .device-carry/ for running the bench on a GPU machine that has no Node and no node_modules:
# a node binary, the Vulkan loader and Dawn (../shared/tools/prepare-device-carry.sh), the bench bundled to one
# CommonJS file, and the few package files it reads at run time (Dawn's addon, tfjs-backend-wasm's binaries).
# The working tree and the carried folder travel within 64 MiB together: for the `runtimes` phase leave out what it
# does not read (mv .device-carry/{bench,cli}.cjs.xz .device-carry/node_modules/@tensorflow elsewhere first).
# On the device:  bash .device-carry/setup.sh && /tmp/node .device-carry/bench.cjs --backends webgpu ...
#                  /tmp/node .device-carry/cli.cjs parity .device-fixtures/*.json.gz --backend webgpu
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.device-carry
[ -f "$dir/node.xz" ] || bash ../shared/tools/prepare-device-carry.sh "$dir"
# The NVIDIA Vulkan ICD (libGLX_nvidia.so.0) needs the GL dispatch libraries too, or Dawn finds no adapter.
if [ ! -f "$dir"/debs/libglvnd0_*.deb ]; then
  lists=$(mktemp -d); mkdir -p "$lists/partial"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  apt-get $o update >/dev/null
  (cd "$dir/debs" && apt-get $o download libglvnd0 libegl1 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
fi
nm=$dir/node_modules
rm -rf "$nm" && mkdir -p "$nm/webgpu/dist/linux-x64" "$nm/@tensorflow/tfjs-backend-wasm/dist" "$nm/@tensorflow/tfjs-backend-wasm/wasm-out"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$nm/webgpu/"
xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$dir/dawn.node.xz"
rm -rf "$dir/webgpu"
w=node_modules/@tensorflow/tfjs-backend-wasm
cp $w/package.json "$nm/@tensorflow/tfjs-backend-wasm/"
cp $w/dist/*.wasm "$nm/@tensorflow/tfjs-backend-wasm/dist/"
cp $w/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js $w/wasm-out/tfjs-backend-wasm-threaded-simd.js "$nm/@tensorflow/tfjs-backend-wasm/wasm-out/"
# Bundles are minified and xz-compressed (the working tree and the carried folder travel within 64 MiB together);
# setup.sh unpacks them.
bundle() { # ENTRY OUT [esbuild flags...]
  local entry=$1 out=$2; shift 2
  npx esbuild "$entry" --bundle --minify --platform=node --format=cjs --outfile="$dir/$out" \
    --external:onnxruntime-node --external:onnxruntime-web --external:webgpu --external:sharp \
    --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --log-level=error \
    --banner:js="const __cnnZooImportMetaUrl = require('url').pathToFileURL(__filename).href;" \
    --define:import.meta.url=__cnnZooImportMetaUrl "$@"
  xz -T2 -6 -f "$dir/$out"
}
bundle tools/bench/main.ts bench.cjs
# The CLI too (e.g. `cnn-zoo parity FIXTURES --backend webgpu` on the GPU; fixtures travel in .device-fixtures/).
bundle src/cli/main.ts cli.cjs
# tfjs-webgpu against onnxruntime-web's WebGPU EP (float32 and float16 weights), with onnxruntime-web's WebGPU build.
bundle tools/bench/webgpu-runtimes.ts webgpu-runtimes.cjs
o=node_modules/onnxruntime-web/dist
mkdir -p "$dir/ort"
cp $o/ort.webgpu.min.mjs $o/ort-wasm-simd-threaded.asyncify.mjs $o/ort.all.min.mjs $o/ort-wasm-simd-threaded.jsep.mjs "$dir/ort/"
for w in asyncify jsep; do xz -T2 -6 -c $o/ort-wasm-simd-threaded.$w.wasm > "$dir/ort/ort-wasm-simd-threaded.$w.wasm.xz"; done
xz -9 -f "$dir"/ort/*.mjs
cp tools/bench/py_bench.py tools/bench/det.py "$dir/"
cat > "$dir/setup.sh" <<'SETUP'
# Unpacks what .device-carry holds: the Vulkan loader, node, Dawn's addon. Run from the repository root.
set -e
for f in .device-carry/debs/*.deb; do dpkg -x "$f" /; done; ldconfig
xz -dc .device-carry/node.xz > /tmp/node && chmod +x /tmp/node
xz -dc .device-carry/dawn.node.xz > .device-carry/node_modules/webgpu/dist/linux-x64/dawn.node
shopt -s nullglob # what was left out of the carry (see above) is simply not there
for f in .device-carry/*.cjs.xz .device-carry/ort/*.xz; do xz -dkf "$f"; done
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
SETUP
du -sh "$dir"
