/** `cnn-zoo parity FIXTURE... [--backend NAME]`: reproduce parity fixtures; non-zero exit on any FAIL. */
import { loadFixture } from '../../parity/fixture.js';
import { runParity } from '../../parity/run.js';
import { stat } from 'node:fs/promises';
import { CnnZooError } from '../../errors.js';
import { getSpec } from '../../zoo/registry.js';
import { parse } from '../args.js';
import { startBackend } from '../backend.js';

export const usage = 'cnn-zoo parity FIXTURE.json.gz... [--backend wasm|cpu|webgpu|tensorflow]';

const isModelName = (name: string): boolean => { try { return getSpec(name) !== undefined; } catch { return false; } };
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { backend: { type: 'string', default: 'wasm' } }, usage);
  if (positionals.length === 0) throw new CnnZooError(`parity needs at least one fixture file.\nUsage: ${usage}`, 'BAD_ARGS');
  const backend = await startBackend(values.backend!);
  let failed = 0;
  console.log(`backend ${backend.name} (${backend.detail})`);
  console.log(`${'fixture (input HxW)'.padEnd(32)}  ${'max_rel_err'.padEnd(9)}  ${'tolerance'.padEnd(7)}  result  (model, time; differences)`);
  for (const path of positionals) {
    try {
      // A model name (the way every other command takes a model) is not a fixture's path: verify runs its fixtures.
      if (!(await stat(path).then(() => true, () => false)) && isModelName(path)) {
        throw new CnnZooError(`${path} is a model name; parity takes fixture files (FIXTURE.json.gz). cnn-zoo verify ${path} runs that model's fixtures.`, 'BAD_ARGS');
      }
      const fx = await loadFixture(path);
      const r = await runParity(fx);
      if (!r.pass) failed++;
      const extra = [r.top5Agree ? '' : 'top-5 differs',
        r.params !== fx.paramCount ? `params ${r.params} != ${fx.paramCount}` : '',
        fx.flops !== null && r.flops !== fx.flops ? `flops ${r.flops} != ${fx.flops}` : ''].filter(Boolean).join('; ');
      const label = `${r.fixture} ${fx.inputSize[0]}x${fx.inputSize[1]}`;
      console.log(`${label.padEnd(32)}  ${r.maxRelErr.toExponential(3)}  ${r.tolerance.toExponential(1)}  ${r.pass ? 'PASS' : 'FAIL'}` +
        `  (${r.model}, ${(r.runMs / 1000).toFixed(2)} s${extra ? '; ' + extra : ''})`);
    } catch (e) {
      failed++;
      console.log(`${path}  ERROR  ${(e as Error).message}`);
    }
  }
  console.log(failed === 0 ? `all ${positionals.length} PASS` : `${failed} of ${positionals.length} failed`);
  return failed === 0 ? 0 : 1;
}
