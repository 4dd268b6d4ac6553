/**
 * One contender of the side-by-side bench (tools/bench/compare.ts), in its own process: sets up, prints
 * `@@ready <json>`, then for each `run` line on stdin makes one call and prints `@@t <ms> <peak RSS MB>` (the
 * orchestrator interleaves the processes round by round, so all of them see the same machine load; the process's peak
 * resident memory so far, so the last one is the contender's peak).
 * - zoo: cnn-zoo `load(weights[, { runtime }])` (no backend chosen: whatever `load()` picks), then `classify(image)`
 *   end to end, or (`what: 'model'`) the model alone on the preprocessed image;
 * - hf: transformers.js `pipeline('image-classification')` on a local folder (tools/bench/hf-folder.ts), end to end;
 * - ort: onnxruntime-node on an ONNX file (torchvision's own export), model alone, default session options.
 */
import { createInterface } from 'node:readline';
import { peakRssMb } from './common.js';

export interface CompareJob {
  kind: 'zoo' | 'hf' | 'ort';
  image: string;
  /** zoo: converted weights folder; runtime (omitted: load()'s default); classify end to end or the model alone. */
  weights?: string;
  runtime?: string;
  what?: 'classify' | 'model';
  /** hf: env.localModelPath and the model id (folder name). */
  root?: string;
  id?: string;
  /** ort: the ONNX file. */
  onnxPath?: string;
}

type Call = () => Promise<unknown>;

/** Whether `load()` takes a `runtime` option (the onnxruntime runtime of issue #16 item 2). */
export const runtimeUnsupported = (e: unknown): boolean => e instanceof Error && /unknown option "runtime"/.test(e.message);

async function setup(job: CompareJob): Promise<{ call: Call; info: Record<string, unknown> }> {
  if (job.kind === 'zoo') {
    const tf = await import('@tensorflow/tfjs');
    const { load } = await import('../../src/api/index.js');
    const opts = job.runtime ? ({ runtime: job.runtime } as Record<string, unknown>) : {};
    const zoo = await load(job.weights!, opts as Parameters<typeof load>[1]);
    const runtime = (zoo as unknown as { runtime?: unknown }).runtime;
    const info = { runtime: typeof runtime === 'string' ? runtime : `tfjs ${tf.getBackend()}`, top5: (await zoo.classify(job.image)).map((p) => p.label) };
    if (job.what === 'model') {
      const x = await zoo.preprocess(job.image);
      if (zoo.runtime !== 'tfjs') {
        // The model alone on the runtime classify() uses: its own session (a second one would count twice in memory).
        const { runOnRuntime } = await import('../../src/api/zoo-model.js');
        const data = (await x.data()) as Float32Array;
        x.dispose();
        return { info, call: async () => { await runOnRuntime(zoo, data, 1); } };
      }
      return { info, call: async () => { const y = zoo.model.predict(x) as import('@tensorflow/tfjs').Tensor; await y.data(); y.dispose(); } };
    }
    return { info, call: () => zoo.classify(job.image) };
  }
  if (job.kind === 'hf') {
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = job.root!.endsWith('/') ? job.root! : `${job.root!}/`;
    const classifier = await pipeline('image-classification', job.id!, { dtype: 'fp32', device: 'cpu' });
    const classify = async () => (await classifier(job.image, { top_k: 5 })) as { label: string; score: number }[];
    return { info: { top5: (await classify()).map((p) => p.label) }, call: classify };
  }
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(job.onnxPath!);
  const [n, c, h, w] = [1, 3, 224, 224];
  const { inputNchw } = await import('./common.js');
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', inputNchw(n, h, w), [n, c, h, w]) };
  await session.run(feeds);
  return { info: { ort: 'onnxruntime-node, default session options' }, call: () => session.run(feeds) };
}

export async function compareWorkerMain(arg: string): Promise<void> {
  const job = JSON.parse(arg) as CompareJob;
  let ready: { call: Call; info: Record<string, unknown> };
  try {
    ready = await setup(job);
  } catch (e) {
    console.log(`@@failed ${JSON.stringify({ message: (e as Error).message, runtimeUnsupported: runtimeUnsupported(e) })}`);
    return;
  }
  console.log(`@@ready ${JSON.stringify(ready.info)}`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'run') break;
    const t = performance.now();
    await ready.call();
    const ms = performance.now() - t;
    console.log(`@@t ${ms} ${peakRssMb()}`);
  }
}
