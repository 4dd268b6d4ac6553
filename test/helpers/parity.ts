/**
 * One mocha case per parity fixture: the model reproduces the reference logits (error below the fixture's
 * own tolerance, top-5 agreeing), and its analytic params/FLOPs equal the fixture's.
 *
 * The same case exports the model (fixture weights loaded) to ONNX (src/onnx) and runs it in onnxruntime-node on
 * the fixture input: the ONNX logits must meet the same bound. For the first fixture of each `parityCases` list
 * (`inferenceForm` to choose others) the inference form (`toInference`) is exported too and run at batch 1 and 3
 * (the dynamic batch axis). Every fixture runs on every backend of `PARITY_BACKENDS` (wasm and cpu), each its own
 * case, with the same bound (on cpu, the fixture's first image: `CPU_IMAGES`).
 */
import { expect } from 'chai';
import { getBackend, type LayersModel } from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { useBackend, type BackendName } from '../../src/backend.js';
import { loadFixture, type Fixture } from '../../src/parity/fixture.js';
import { maxRelError, runParity, top5Agree } from '../../src/parity/run.js';
import { toInference } from '../../src/inference/index.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { outputsPooledFeatures } from '../../src/zoo/heads.js';
import { fixturePath } from './shared.js';

/** Rows `rows` of the fixture input, NCHW -> NHWC (the exported model's input layout). */
function nhwcRows(fx: Fixture, rows: readonly number[]): Float32Array {
  const [, c, h, w] = fx.inputShape;
  const out = new Float32Array(rows.length * h * w * c);
  rows.forEach((r, n) => {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
      out[((n * h + y) * w + x) * c + ch] = fx.input[((r * c + ch) * h + y) * w + x]!;
    }
  });
  return out;
}

function logitRows(fx: Fixture, rows: readonly number[]): Float32Array {
  const k = fx.logitsShape[1];
  const out = new Float32Array(rows.length * k);
  rows.forEach((r, n) => out.set(fx.logits.subarray(r * k, (r + 1) * k), n * k));
  return out;
}

interface OnnxCheck { batch: number; err: number; agree: boolean }

/** Export `model`, run onnxruntime on the fixture rows for each batch, compare with the reference. */
async function onnxChecks(model: LayersModel, fx: Fixture, batches: readonly (readonly number[])[]): Promise<OnnxCheck[]> {
  const session = await ort.InferenceSession.create(await exportOnnx(model), { intraOpNumThreads: 1 });
  try {
    const [, , h, w] = fx.inputShape;
    const checks: OnnxCheck[] = [];
    for (const rows of batches) {
      const out = await session.run({ input: new ort.Tensor('float32', nhwcRows(fx, rows), [rows.length, h, w, 3]) });
      const logits = out.logits!.data as Float32Array;
      const ref = logitRows(fx, rows);
      checks.push({ batch: rows.length, err: maxRelError(logits, ref), agree: top5Agree(logits, ref, fx.logitsShape[1]) });
    }
    return checks;
  } finally {
    await session.release();
  }
}

/** The backends every parity fixture runs on in CI: wasm (the default in Node) and tfjs's pure-JavaScript cpu. */
export const PARITY_BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

/**
 * Images of each fixture that the cpu case runs: the first of its two (pure JavaScript takes ~8x wasm's time, and
 * both images on cpu would put CI past 30 minutes: docs/PARITY.md); `CNN_ZOO_CPU=all` runs both. The batch axis
 * on cpu is checked by test/cpu-kernels.test.ts (batches 2 and 3) and the PyTorch gradient fixture (batch 2).
 */
const CPU_IMAGES = process.env.CNN_ZOO_CPU === 'all' ? Infinity : 1;

/** The fixture with only its first `n` images (and their logits). */
function firstImages(fx: Fixture, n: number): Fixture {
  if (n >= fx.inputShape[0]) return fx;
  const [, c, h, w] = fx.inputShape, k = fx.logitsShape[1];
  return { ...fx, input: fx.input.subarray(0, n * c * h * w), inputShape: [n, c, h, w], logits: fx.logits.subarray(0, n * k), logitsShape: [n, k] };
}

export interface ParityCaseOptions {
  /** Backends, one case each per fixture (default `PARITY_BACKENDS`); the ONNX checks run with the first. */
  backends?: readonly BackendName[];
  /** Fixtures also exported in the inference form at batch 1 and 3 (default: the first). */
  inferenceForm?: readonly string[];
  /** Where a fixture's file is (default: ../shared/fixtures/parity/<name>.json.gz). */
  pathOf?: (name: string) => string;
  /** Also export each model to ONNX and check onnxruntime against the fixture (default true; the export does not depend on the backend). */
  onnx?: boolean;
}

/**
 * A case per fixture and backend, in fixture order (each fixture's file is read once for all its backends). Each
 * case switches to its backend first.
 */
export function parityCases(fixtures: readonly string[], opts: ParityCaseOptions = {}): void {
  const backends = opts.backends ?? PARITY_BACKENDS;
  const inferenceForm = opts.inferenceForm ?? fixtures.slice(0, 1);
  const pathOf = opts.pathOf ?? fixturePath;
  after(async () => { await useBackend(backends[0]!); }); // later files in this mocha worker find the first backend
  for (const name of fixtures) {
    let loaded: Promise<Fixture> | undefined;
    backends.forEach((backend, i) => {
      const onnx = (opts.onnx ?? true) && i === 0;
      const last = i === backends.length - 1;
      const images = backend === 'cpu' ? CPU_IMAGES : Infinity;
      it(`${name} reproduces its fixture on ${backend}${images === 1 ? ' (first image)' : ''}${onnx ? ', also exported to ONNX' : ''}`, async () => {
        await useBackend(backend);
        loaded ??= loadFixture(pathOf(name));
        const fx = await loaded.finally(() => { if (last) loaded = undefined; });
        await checkFixture(firstImages(fx, images), name, onnx, inferenceForm.includes(name));
      });
    });
  }
}

/** Run `fx` on the current backend (and, with `onnx`, exported to onnxruntime) and assert the parity contract. */
async function checkFixture(fx: Fixture, name: string, onnx: boolean, inference: boolean): Promise<void> {
  const checks: { form: string; check: OnnxCheck }[] = [];
  let onnxMs = 0;
  const r = await runParity(fx, !onnx ? {} : {
    inspect: async (model) => {
      expect(outputsPooledFeatures(model), 'the classifier is not taken for pooled features (classify() would refuse it)').to.equal(false);
      const t0 = performance.now();
      for (const check of await onnxChecks(model, fx, [[0, 1]])) checks.push({ form: 'training form', check });
      if (inference) {
        const inferenceModel = toInference(model);
        try {
          for (const check of await onnxChecks(inferenceModel, fx, [[0], [0, 1, 0]])) checks.push({ form: 'inference form', check });
        } finally {
          inferenceModel.dispose();
        }
      }
      onnxMs = performance.now() - t0;
    },
  });
  console.log(`      ${name} on ${getBackend()}: max_rel_err ${r.maxRelErr.toExponential(3)} (tolerance ${fx.tolerance}), run ${(r.runMs / 1000).toFixed(2)} s` + (!onnx ? '' :
    `; onnxruntime ${checks.map(({ form, check }) => `${check.err.toExponential(3)} (${form}, batch ${check.batch})`).join(', ')}, ` +
    `export+run ${(onnxMs / 1000).toFixed(2)} s`));
  expect(r.maxRelErr, 'max|ours-ref|/max|ref|').to.be.below(fx.tolerance);
  expect(r.top5Agree, 'top-5 classes agree').to.equal(true);
  expect(r.params, 'params').to.equal(fx.paramCount);
  if (fx.flops !== null) expect(r.flops, 'conv+linear FLOPs').to.equal(fx.flops);
  expect(checks.length, 'ONNX checks run').to.equal(!onnx ? 0 : inference ? 3 : 1);
  for (const { form, check } of checks) {
    expect(check.err, `onnxruntime ${form} batch ${check.batch}: max|onnx-ref|/max|ref|`).to.be.below(fx.tolerance);
    expect(check.agree, `onnxruntime ${form} batch ${check.batch}: top-5 classes agree`).to.equal(true);
  }
}
