/**
 * The parity check: build the model a fixture names at the fixture's input size, load the fixture's
 * weights through the generic mapping, run the fixture input and compare with the reference logits.
 */
import * as tf from '@tensorflow/tfjs';
import { listSpecs, resolveOptions } from '../zoo/registry.js';
import type { FixtureRef, ModelSpec } from '../zoo/types.js';
import { CnnZooError, closest } from '../errors.js';
import { loadStateDict } from '../convert/mapping.js';
import { countFlops, countParams } from '../zoo/count.js';
import { withoutInitialisation } from '../zoo/ops.js';
import type { Fixture } from './fixture.js';

/** The model and key layout that reproduce the parity fixture `fixtureName`. */
export function findByFixture(fixtureName: string): { spec: ModelSpec; fixture: FixtureRef } {
  for (const spec of listSpecs({})) {
    const fixture = spec.fixtures.find((f) => f.name === fixtureName);
    if (fixture) return { spec, fixture };
  }
  const spec = listSpecs({}).find((s) => s.name === fixtureName);
  if (spec) return { spec, fixture: { name: fixtureName } };
  const names = listSpecs({}).flatMap((s) => s.fixtures.map((f) => f.name));
  throw new CnnZooError(`No model reproduces fixture "${fixtureName}". Closest fixtures with a model: ${closest(fixtureName, names).join(', ')}.`, 'UNKNOWN_FIXTURE');
}

export interface ParityResult {
  fixture: string;
  model: string;
  /** max|ours - ref| / max|ref| */
  maxRelErr: number;
  tolerance: number;
  /** Every row's top-5 classes agree with the reference (as sets). */
  top5Agree: boolean;
  pass: boolean;
  params: number;
  flops: number;
  /** Milliseconds for build+load and for the forward pass. */
  buildMs: number;
  runMs: number;
}

/** NCHW Float32Array -> NHWC tensor. */
export function nchwToNhwc(data: Float32Array, shape: readonly [number, number, number, number]): tf.Tensor4D {
  return tf.tidy(() => tf.tensor4d(data, shape as [number, number, number, number]).transpose([0, 2, 3, 1]) as tf.Tensor4D);
}

export function maxRelError(ours: Float32Array, ref: Float32Array): number {
  if (ours.length !== ref.length) throw new Error(`output size ${ours.length} differs from reference ${ref.length}`);
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i]! - ref[i]!);
    if (!(d <= maxDiff)) maxDiff = d; // NaN propagates as a failure
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  }
  return maxDiff / maxRef;
}

function topK(row: Float32Array, k: number): number[] {
  return [...row.keys()].sort((a, b) => row[b]! - row[a]!).slice(0, k);
}

export function top5Agree(ours: Float32Array, ref: Float32Array, classes: number): boolean {
  for (let r = 0; r < ref.length / classes; r++) {
    const a = topK(ours.subarray(r * classes, (r + 1) * classes), 5);
    const b = new Set(topK(ref.subarray(r * classes, (r + 1) * classes), 5));
    if (!a.every((i) => b.has(i))) return false;
  }
  return true;
}

export interface ParityOptions {
  /** Called with the built model, fixture weights loaded, before it is disposed (e.g. to export and rerun it). */
  inspect?: (model: tf.LayersModel) => Promise<void>;
}

/** The model a fixture names, built at the fixture's input size with the fixture's weights loaded (dispose it). */
export function fixtureModel(fx: Fixture): { spec: ModelSpec; model: tf.LayersModel } {
  const { spec, fixture } = findByFixture(fx.name);
  const ctx = resolveOptions(spec, { ...fixture.options, inputSize: [fx.inputShape[2], fx.inputShape[3]], numClasses: fx.logitsShape[1] });
  const model = withoutInitialisation(() => spec.build(ctx));
  try {
    const rule = fixture.layout ? spec.keyRules?.[fixture.layout] : undefined;
    if (fixture.layout && !rule) throw new Error(`${spec.name}: fixture ${fx.name} names layout "${fixture.layout}", which the spec lacks`);
    loadStateDict(model, fx.stateDict, { rule, source: `fixture ${fx.name}` });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { spec, model };
}

/** Build the fixture's model, load its weights, predict its input (read asynchronously: WebGPU needs it). */
export async function runParity(fx: Fixture, opts: ParityOptions = {}): Promise<ParityResult> {
  const t0 = performance.now();
  const { spec, model } = fixtureModel(fx);
  try {
    const t1 = performance.now();
    const out = tf.tidy(() => {
      const x = nchwToNhwc(fx.input, fx.inputShape);
      return model.predict(x) as tf.Tensor;
    });
    let ours: Float32Array;
    try { ours = (await out.data()) as Float32Array; } finally { out.dispose(); }
    const t2 = performance.now();
    const maxRelErr = maxRelError(ours, fx.logits);
    const agree = top5Agree(ours, fx.logits, fx.logitsShape[1]);
    await opts.inspect?.(model);
    return {
      fixture: fx.name, model: spec.name, maxRelErr, tolerance: fx.tolerance, top5Agree: agree,
      pass: maxRelErr < fx.tolerance && agree,
      params: countParams(model), flops: countFlops(model),
      buildMs: t1 - t0, runMs: t2 - t1,
    };
  } finally {
    model.dispose();
  }
}
