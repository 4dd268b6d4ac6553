/**
 * WebGPU side by side on a GPU machine (tools/bench/device-bundle.sh bundles this file): the tfjs model on tfjs's
 * `webgpu` backend against its ONNX export (src/onnx) on onnxruntime-web's WebGPU execution provider, float32 and
 * float16 weights (`exportOnnx(model, { fp16: true })`), in Node through Dawn (the `webgpu` package). Model alone:
 * a batch in, the output read back to the CPU; interleaved rounds, min / median ms. Each ONNX run's output is
 * compared with tfjs-webgpu's for the same input (max |a - b| / max |b|).
 *
 *   node webgpu-runtimes.cjs [--models mobilenet_v2,resnet50] [--batch 1,16] [--rounds 20] [--csv FILE] [--ort-dist DIR]
 *   npx tsx tools/bench/webgpu-runtimes.ts --tfjs-backend wasm --ep wasm --models squeezenet1_1 --rounds 2   (no GPU: the flow)
 *
 * Random (registry-initialised) weights: the timing does not depend on their values.
 */
import { parseArgs } from 'node:util';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx, load, useBackend } from '../../src/index.js';

interface OrtTensor { data: unknown; dispose?(): void }
interface OrtSession { inputNames: readonly string[]; outputNames: readonly string[]; run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>; release(): Promise<void> }
interface OrtModule {
  env: { wasm: { wasmPaths?: string; numThreads?: number }; versions?: object; webgpu?: { adapter?: unknown } };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => unknown;
  InferenceSession: { create(bytes: Uint8Array, options: object): Promise<OrtSession> };
}

const { values } = parseArgs({ options: {
  models: { type: 'string', default: 'mobilenet_v2,resnet50,squeezenet1_1,densenet121' },
  batch: { type: 'string', default: '1,16' },
  rounds: { type: 'string', default: '20' },
  csv: { type: 'string' },
  'ort-dist': { type: 'string' },
  // wasm / wasm: the same flow on a machine without a GPU (to try the script)
  'tfjs-backend': { type: 'string', default: 'webgpu' },
  ep: { type: 'string', default: 'webgpu' },
  // onnxruntime-web's build: webgpu (ort.webgpu: the native WebGPU EP, asyncify) or all (ort.all: the JS EP, JSEP)
  'ort-build': { type: 'string', default: 'webgpu' },
  // ort: onnxruntime-web asks navigator.gpu for its device; dawn: this script makes the GPUDevice and hands it over
  'ort-device': { type: 'string', default: 'ort' },
  // onnxruntime-web's log level (verbose, info, warning, error, fatal): why a session fails
  'ort-log': { type: 'string', default: 'warning' },
} });
const rounds = Number(values.rounds);
process.env.CNN_ZOO_QUIET = '1';

const stats = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { min: s[0]!, median: s[Math.floor(s.length / 2)]! }; };
const relDiff = (a: Float32Array, b: Float32Array) => {
  let d = 0; let m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return d / m;
};

async function main(): Promise<void> {
  console.log('tfjs backend:', await useBackend(values['tfjs-backend'] as 'webgpu'));
  const adapter = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  console.log('adapter:', JSON.stringify(adapter ?? {}));
  const gpuName = [adapter?.vendor, adapter?.architecture].filter((x) => x).join(' ') || values['tfjs-backend']!;

  // onnxruntime-web's wasm memory is a SharedArrayBuffer (its threaded builds), and Dawn's Node addon refuses views
  // of one in GPUQueue.writeBuffer ("no overload matched for writeBuffer"), which browsers accept: copy such data.
  if (values['tfjs-backend'] === 'webgpu') {
    type Queue = { writeBuffer(...args: unknown[]): unknown };
    const Q = (globalThis as unknown as { GPUQueue?: { prototype: Queue } }).GPUQueue;
    const proto = Q?.prototype ?? Object.getPrototypeOf((tf.backend() as unknown as { device: { queue: Queue } }).device.queue) as Queue;
    const write = proto.writeBuffer;
    proto.writeBuffer = function (this: Queue, ...args: unknown[]) {
      const data = args[2];
      if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
        const copy = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
        const Ctor = data.constructor as new (b: ArrayBuffer) => ArrayBufferView;
        args[2] = new Ctor(copy.buffer);
      } else if (data instanceof SharedArrayBuffer) {
        args[2] = new Uint8Array(data).slice().buffer;
      }
      return write.apply(this, args);
    };
  }

  // onnxruntime-web's WebGPU build, from the package (or a folder holding its dist files on a machine without node_modules).
  const dist = values['ort-dist'];
  const build = values['ort-build'] === 'all' ? 'all' : 'webgpu';
  const ort = (await import(dist ? `${dist}/ort.${build}.min.mjs` : `onnxruntime-web/${build}`)) as unknown as OrtModule;
  if (dist) ort.env.wasm.wasmPaths = `${dist}/`;
  ort.env.wasm.numThreads = 1;
  (ort.env as unknown as { logLevel: string }).logLevel = values['ort-log']!;
  console.log('onnxruntime-web', JSON.stringify(ort.env.versions ?? {}), `ort.${build}`, `device from ${values['ort-device']}`);
  if (values['ort-device'] === 'dawn' && values.ep === 'webgpu') {
    type Gpu = { requestAdapter(o: object): Promise<{ features: Set<string>; limits: Record<string, number>; requestDevice(d: object): Promise<unknown> } | null> };
    const a = await (globalThis as unknown as { navigator: { gpu: Gpu } }).navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!a) throw new Error('no WebGPU adapter');
    const wanted = ['shader-f16', 'timestamp-query', 'subgroups', 'chromium-experimental-timestamp-query-inside-passes'];
    const limits: Record<string, number> = {};
    for (const k of ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
      'maxComputeWorkgroupSizeZ', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage']) {
      if (typeof a.limits[k] === 'number') limits[k] = a.limits[k]!;
    }
    const device = await a.requestDevice({ requiredFeatures: wanted.filter((f) => a.features.has(f)), requiredLimits: limits });
    (ort.env as unknown as { webgpu: { device: unknown } }).webgpu.device = device;
    console.log('device features:', wanted.filter((f) => a.features.has(f)).join(','));
  }

  const header = 'date,gpu,ort_build,ort_device,model,batch,runtime,weights,onnx_mb,min_ms,median_ms,rel_diff_vs_tfjs_webgpu';
  if (values.csv && !existsSync(values.csv)) writeFileSync(values.csv, `${header}\n`);
  const rows = ['| model | batch | tfjs webgpu ms | ORT webgpu fp32 ms | ORT webgpu fp16 weights ms | rel. diff fp32 / fp16 vs tfjs | ONNX MB fp32 / fp16 |', '|---|---|---|---|---|---|---|'];
  const date = new Date().toISOString().slice(0, 16);

  for (const name of values.models!.split(',')) {
    const zoo = await load(name, { weights: null, runtime: 'tfjs' });
    const [, h, w, c] = zoo.model.inputs[0]!.shape as number[];
    const onnx = { fp32: await exportOnnx(zoo.model), fp16: await exportOnnx(zoo.model, { fp16: true }) };
    const sessions: Partial<Record<'fp32' | 'fp16', OrtSession>> = {};
    for (const k of ['fp32', 'fp16'] as const) {
      try {
        sessions[k] = await ort.InferenceSession.create(onnx[k], { executionProviders: [values.ep!], graphOptimizationLevel: 'all' });
      } catch (e) { console.log(`${name} ${k}: onnxruntime-web webgpu session failed: ${String((e as Error).stack ?? e).slice(0, 900)}`); }
    }
    for (const b of values.batch!.split(',').map(Number)) {
      const data = new Float32Array(b * h! * w! * c!).map((_, i) => Math.sin(i * 0.37) * 1.5);
      const x = tf.tensor4d(data, [b, h!, w!, c!]);
      const times: Record<string, number[]> = { tfjs: [], fp32: [], fp16: [] };
      const outs: Record<string, Float32Array> = {};
      for (let r = -3; r < rounds; r++) { // three warm-up rounds (shader compiles, uploads)
        let t = performance.now();
        const y = zoo.model.predict(x) as tf.Tensor;
        const yd = (await y.data()) as Float32Array;
        y.dispose();
        if (r >= 0) times.tfjs!.push(performance.now() - t); else outs.tfjs = yd;
        for (const k of ['fp32', 'fp16'] as const) {
          const s = sessions[k];
          if (!s) continue;
          t = performance.now();
          let res: Record<string, OrtTensor>;
          try {
            res = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', data, [b, h!, w!, c!]) });
          } catch (e) {
            console.log(`${name} ${k} batch ${b}: run failed: ${String((e as Error).stack ?? e).slice(0, 900)}`);
            delete sessions[k];
            continue;
          }
          const o = res[s.outputNames[0]!]!.data as Float32Array;
          if (r >= 0) times[k]!.push(performance.now() - t); else outs[k] = o;
        }
      }
      x.dispose();
      const cell = (k: string) => { if (!times[k]!.length) return 'failed'; const s = stats(times[k]!); return `${s.min.toFixed(2)} / ${s.median.toFixed(2)}`; };
      const diff = (k: string) => outs[k] ? relDiff(outs[k]!, outs.tfjs!).toExponential(1) : '-';
      const mb = (k: 'fp32' | 'fp16') => (onnx[k].byteLength / 1e6).toFixed(1);
      rows.push(`| ${name} | ${b} | ${cell('tfjs')} | ${cell('fp32')} | ${cell('fp16')} | ${diff('fp32')} / ${diff('fp16')} | ${mb('fp32')} / ${mb('fp16')} |`);
      console.log(rows[rows.length - 1]);
      if (values.csv) {
        for (const [k, label, weights] of [['tfjs', 'tfjs-webgpu', 'float32'], ['fp32', 'onnxruntime-web-webgpu', 'float32'], ['fp16', 'onnxruntime-web-webgpu', 'float16']] as const) {
          if (!times[k]!.length) continue;
          const s = stats(times[k]!);
          const size = k === 'tfjs' ? '' : mb(k);
          const variant = k === 'tfjs' ? ',' : `${build === 'all' ? 'all (JSEP)' : 'webgpu (native EP)'},${values['ort-device']}`;
          appendFileSync(values.csv, `${date},${gpuName.replaceAll(',', ' ')},${variant},${name},${b},${label},${weights},${size},${s.min.toFixed(3)},${s.median.toFixed(3)},${k === 'tfjs' ? '' : diff(k)}\n`);
        }
      }
    }
    for (const s of Object.values(sessions)) await s?.release();
    zoo.dispose();
  }
  console.log(`\n${rows.join('\n')}`);
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
