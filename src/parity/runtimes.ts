/**
 * The original runtimes a model's numbers are checked against, reached from Node only and only when installed:
 * onnxruntime-node (an ONNX file, or our own export of a model) and the TFLite interpreter of
 * `@tensorflow/tfjs-tflite`, which loads only in a browser page: headless Chromium driven by playwright-core.
 * Neither is a dependency of cnn-zoo; each is imported lazily and its absence is a `CnnZooError` saying so.
 * When `load()` gains a `runtime` option, `onnxLogits` is the one place to switch to it.
 */
import type * as tf from '@tensorflow/tfjs';
import { CnnZooError } from '../errors.js';
import { exportOnnx } from '../onnx/export.js';

type Ort = typeof import('onnxruntime-node');
type OrtSession = import('onnxruntime-node').InferenceSession;

/** onnxruntime-node, or an error naming the package to install. */
async function onnxRuntime(): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    throw new CnnZooError(`onnxruntime-node is not installed (${(e as Error).message.split('\n')[0]}); ` +
      'install it (npm install onnxruntime-node) to check against ONNX Runtime, or use --backend.', 'NO_RUNTIME');
  }
}

/** An ONNX model (file path or bytes) in onnxruntime-node, one input and one output. */
export class OnnxRunner {
  private constructor(private readonly ort: Ort, private readonly session: OrtSession) {}

  static async open(model: string | Uint8Array): Promise<OnnxRunner> {
    const ort = await onnxRuntime();
    const session = typeof model === 'string'
      ? await ort.InferenceSession.create(model, { intraOpNumThreads: 1 })
      : await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
    return new OnnxRunner(ort, session);
  }

  /** The first input's shape (symbolic dimensions as their names). */
  inputShape(): readonly (number | string)[] {
    const meta = (this.session as unknown as { inputMetadata?: readonly { shape?: readonly (number | string)[] }[] }).inputMetadata;
    return meta?.[0]?.shape ?? [];
  }

  /** Runs `data` of `shape` (the model's own layout) and returns the first output. */
  async run(data: Float32Array, shape: readonly number[]): Promise<Float32Array> {
    const out = await this.session.run({ [this.session.inputNames[0]!]: new this.ort.Tensor('float32', data, [...shape]) });
    return out[this.session.outputNames[0]!]!.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** `model` exported to ONNX (src/onnx, NHWC input) and run by onnxruntime-node on `input` ([N, H, W, C]). */
export async function onnxLogits(model: tf.LayersModel, input: Float32Array, shape: readonly [number, number, number, number]): Promise<Float32Array> {
  const runner = await OnnxRunner.open(await exportOnnx(model));
  try {
    return await runner.run(input, shape);
  } finally {
    await runner.close();
  }
}

/** Chromium's flags for headless runs on this kind of machine (no GPU, no network, no sandbox). */
export const CHROMIUM_FLAGS: readonly string[] = ['--headless', '--no-sandbox', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];
export const CHROMIUM_PATH = (): string => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TfliteOutput {
  /** The interpreter's output (uint8 probabilities for the quantized MobileNets). */
  values: Float32Array;
}

/**
 * The TFLite interpreter (`@tensorflow/tfjs-tflite`) in a headless Chromium page. `files` are TFLite models run in a
 * chain (a body whose uint8 output feeds a head, as the split MobileNet v1 1.0); inputs are uint8 HWC pixels.
 */
export class TfliteInChromium {
  private constructor(private readonly close_: () => Promise<void>, private readonly page: import('playwright-core').Page) {}

  static async open(files: readonly Uint8Array[]): Promise<TfliteInChromium> {
    const { createRequire } = await import('node:module');
    const { readFile } = await import('node:fs/promises');
    const { createServer } = await import('node:http');
    const { dirname, join, normalize } = await import('node:path');
    const require = createRequire(import.meta.url);
    let tfliteDir: string, tfDir: string;
    let chromium: typeof import('playwright-core').chromium;
    try {
      tfliteDir = dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
      tfDir = dirname(require.resolve('@tensorflow/tfjs/package.json'));
      ({ chromium } = await import('playwright-core'));
    } catch (e) {
      throw new CnnZooError(`The TFLite interpreter runs only in a browser: it needs @tensorflow/tfjs-tflite and playwright-core ` +
        `(${(e as Error).message.split('\n')[0]}). Install them (npm install -D @tensorflow/tfjs-tflite playwright-core) and Chromium.`, 'NO_RUNTIME');
    }
    const { existsSync } = await import('node:fs');
    if (!existsSync(CHROMIUM_PATH())) {
      throw new CnnZooError(`The TFLite interpreter runs only in a browser, and there is no Chromium at ${CHROMIUM_PATH()}; install it or set CHROMIUM_PATH.`, 'NO_RUNTIME');
    }
    const page = '<!doctype html><script src="/tf.min.js"></script><script src="/tflite/dist/tf-tflite.min.js"></script>';
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x').pathname;
      const send = (body: Uint8Array | string, type: string) => res.writeHead(200, {
        // Cross-origin isolation lets the interpreter use its threaded wasm build.
        'content-type': type, 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
      }).end(body);
      const type = url.endsWith('.wasm') ? 'application/wasm' : url.endsWith('.js') ? 'text/javascript' : 'application/octet-stream';
      const file = url === '/tf.min.js' ? join(tfDir, 'dist', 'tf.min.js')
        : url.startsWith('/tflite/') ? normalize(join(tfliteDir, url.slice(8))) : undefined;
      if (url === '/') send(page, 'text/html');
      else if (url.startsWith('/model/') && files[Number(url.slice(7))]) send(files[Number(url.slice(7))]!, type);
      else if (file && file.startsWith(tfliteDir + '/') || file === join(tfDir, 'dist', 'tf.min.js')) {
        readFile(file!).then((b) => send(b, type), () => res.writeHead(404).end());
      } else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH(), args: [...CHROMIUM_FLAGS, '--disable-gpu'] });
    const close = async () => { await browser.close(); await new Promise((ok) => server.close(ok)); };
    try {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${port}/`);
      await tab.evaluate(async (count) => {
        const g = globalThis as unknown as { tflite: { setWasmPath(p: string): void; loadTFLiteModel(u: string): Promise<unknown> }; models: unknown[] };
        g.tflite.setWasmPath('/tflite/wasm/');
        g.models = [];
        for (let i = 0; i < count; i++) g.models.push(await g.tflite.loadTFLiteModel(`/model/${i}`));
      }, files.length);
      return new TfliteInChromium(close, tab);
    } catch (e) {
      await close();
      throw e;
    }
  }

  /** One image (uint8 pixels, [height, width, 3]) through the chain; the last model's output. */
  async run(pixels: Uint8Array, height: number, width: number): Promise<Float32Array> {
    // One image per call, as base64: large arrays through evaluate() exhaust the heap.
    const out = await this.page.evaluate(({ b64, h, w }) => {
      type T = { dataSync(): ArrayLike<number>; dispose(): void };
      const g = globalThis as unknown as { tf: { tensor(v: Int32Array, s: number[], d: string): T }; models: { predict(x: T): T }[] };
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      let x = g.tf.tensor(Int32Array.from(bytes), [1, h, w, 3], 'int32');
      for (const m of g.models) { const y = m.predict(x); x.dispose(); x = y; }
      const values = Array.from(x.dataSync());
      x.dispose();
      return values;
    }, { b64: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength).toString('base64'), h: height, w: width });
    return Float32Array.from(out);
  }

  async close(): Promise<void> {
    await this.close_();
  }
}
