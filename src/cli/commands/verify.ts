/**
 * `cnn-zoo verify NAME [--weights W] [--backend B | --runtime R] [--sizes ...] [--images DIR --limit N] [--json]`:
 * the certificate of src/parity/verify.ts, printed; non-zero exit when a check fails or nothing could be checked.
 */
import { writeFile } from 'node:fs/promises';
import { CnnZooError } from '../../errors.js';
import { parseSize, verify, VERIFY_RUNTIMES, type VerifyReport, type VerifyRuntime } from '../../parity/verify.js';
import { modelAndWeightsArgs, parse, positiveInt } from '../args.js';
import { startBackend } from '../backend.js';
import { withCheckpointReadsHeld } from '../../pretrained/local.js';

export const usage = 'cnn-zoo verify (NAME | --weights DIR) [--weights DIR|FILE] [--backend wasm|cpu|webgpu|tensorflow | --runtime onnxruntime] ' +
  '[--sizes 224,128x192] [--fixtures DIR[,DIR]] [--original FILE[,FILE]] [--images DIR] [--limit N] [--json [--out FILE]]\n' +
  '  Fixture error at each size a parity fixture exists for (default: CNN_ZOO_FIXTURES, else the dev checkout\'s\n' +
  '  ../shared/fixtures/parity and test/fixtures/parity-sizes), pass/fail against its tolerance; with --weights, the\n' +
  '  agreement of converted weights with their original runtime (ONNX: onnxruntime-node; TFLite: the interpreter in\n' +
  '  headless Chromium) on labelled images (default ../shared/imagenet/val-subset); an ONNX file from cnn-zoo export\n' +
  '  against onnxruntime running it (--images DIR: sub-folders named as its classes). --json prints the report as JSON\n' +
  '  (--out FILE writes it there). --sizes: only the fixtures at these sizes. --fixtures: the folders of FIXTURE.json.gz\n' +
  '  files. --original: the original checkpoint file(s) of --weights (default: found by name and sha256 beside them or in\n' +
  '  ../shared/weights). --limit N: the agreement on the first N images. --runtime onnxruntime: the fixtures run on the\n' +
  '  model exported to ONNX.';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The report as text lines. */
export function certificate(r: VerifyReport): string[] {
  const lines = [`cnn-zoo verify ${r.model}: backend ${r.backend}${r.runtime === 'onnxruntime' ? ' (exported to ONNX)' : ''}`];
  if (r.fixtures.length > 0) {
    lines.push('  parity fixtures (max|ours - ref| / max|ref| against the fixture\'s tolerance):');
    const w = Math.max(...r.fixtures.map((f) => f.fixture.length));
    for (const f of r.fixtures) {
      lines.push(`    ${f.fixture.padEnd(w)}  ${f.size.padEnd(7)}  ${f.maxRelErr.toExponential(2)} < ${f.tolerance.toExponential(1)}  ` +
        `top-5 ${f.top5Agree ? 'agrees' : 'DIFFERS'}  ${f.pass ? 'PASS' : 'FAIL'}`);
    }
  } else lines.push(`  parity fixtures: none checked: ${r.fixtureNote}`);
  const wc = r.weights;
  if (wc) {
    lines.push(`  weights ${wc.weights} (${wc.format} checkpoint)`);
    if (wc.agreement) {
      const a = wc.agreement;
      lines.push(`    original runtime ${a.runtime}: ${a.original.join(' + ')}`,
        `    on ${a.images} images: top-1 agrees on ${pct(a.top1Agreement)}; max |p_ours - p_original| ${a.maxProbDiff.toFixed(3)}; ` +
        (a.maxRelErr === undefined ? '' : `outputs max|ours - original| / max|original| ${a.maxRelErr.toExponential(2)}; `) +
        `Top-1 ours ${pct(a.top1.ours)}, original ${pct(a.top1.original)}`);
    } else lines.push(`    agreement not measured: ${wc.note}`);
  }
  lines.push(r.pass ? 'PASS' : r.fixtures.some((f) => !f.pass) ? 'FAIL' : 'NOTHING VERIFIED (no fixture or runtime found; see above)');
  return lines;
}

const list = (v: string | undefined): string[] | undefined => v?.split(',').map((s) => s.trim()).filter(Boolean);

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    weights: { type: 'string' }, backend: { type: 'string' }, runtime: { type: 'string' }, sizes: { type: 'string' },
    fixtures: { type: 'string' }, original: { type: 'string' }, images: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' },
    out: { type: 'string' },
  }, usage);
  // Converted weights (a folder from cnn-zoo convert) name their model: --weights DIR alone, or the folder as NAME, will do.
  // A checkpoint file as --weights is read (and hashed) once: to name its model, then in the check of its weights.
  const report = await withCheckpointReadsHeld(async () => {
    const { name, weights } = positionals.length > 1 ? {} : await modelAndWeightsArgs(positionals[0], values.weights);
    if (!name) throw new CnnZooError(`verify needs one model name (or --weights DIR of converted weights).\nUsage: ${usage}`, 'BAD_ARGS');
    if (values.backend && values.runtime) throw new CnnZooError(`Give --backend or --runtime, not both.\nUsage: ${usage}`, 'BAD_ARGS');
    const runtime = (values.runtime ?? 'tfjs') as VerifyRuntime;
    if (!VERIFY_RUNTIMES.includes(runtime)) throw new CnnZooError(`Unknown runtime "${values.runtime}"; runtimes: ${VERIFY_RUNTIMES.join(', ')}.\nUsage: ${usage}`, 'BAD_ARGS');
    const limit = positiveInt(values.limit, 'limit', usage);
    const sizes = list(values.sizes)?.map(parseSize);
    // The agreement's converted model and the tfjs fixture runs use the backend; onnxruntime needs none, wasm does the rest.
    await startBackend(values.backend ?? 'wasm');
    return verify(name, {
      runtime, ...(weights !== undefined ? { weights } : {}),
      ...(sizes ? { sizes } : {}), ...(values.fixtures ? { fixtureDirs: list(values.fixtures)! } : {}),
      ...(values.original ? { original: list(values.original)! } : {}), ...(values.images ? { images: values.images } : {}),
      ...(limit ? { limit } : {}),
      onProgress: values.json ? undefined : (line) => process.stderr.write(`  ${line}\n`),
    });
  });
  if (values.json) {
    const text = JSON.stringify(report, null, 1);
    if (values.out) await writeFile(values.out, text); else console.log(text);
  }
  if (!values.json || values.out) for (const line of certificate(report)) console.log(line);
  return report.pass ? 0 : 1;
}
