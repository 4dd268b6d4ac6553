/**
 * One mocha case per parity fixture: the model reproduces the reference logits (error below the fixture's
 * own tolerance, top-5 agreeing), and its analytic params/FLOPs equal the fixture's.
 */
import { expect } from 'chai';
import { useBackend, type BackendName } from '../../src/backend.js';
import { loadFixture } from '../../src/parity/fixture.js';
import { runParity } from '../../src/parity/run.js';
import { fixturePath } from './shared.js';

/** `pathOf` finds a fixture's file (default: ../shared/fixtures/parity/<name>.json.gz). */
export function parityCases(fixtures: readonly string[], backend: BackendName = 'wasm', pathOf: (name: string) => string = fixturePath): void {
  before(async () => { await useBackend(backend); });
  for (const name of fixtures) {
    it(`${name} reproduces its fixture on ${backend}`, async () => {
      const fx = await loadFixture(pathOf(name));
      const r = await runParity(fx);
      console.log(`      ${name}: max_rel_err ${r.maxRelErr.toExponential(3)} (tolerance ${fx.tolerance}), run ${(r.runMs / 1000).toFixed(2)} s`);
      expect(r.maxRelErr, 'max|ours-ref|/max|ref|').to.be.below(fx.tolerance);
      expect(r.top5Agree, 'top-5 classes agree').to.equal(true);
      expect(r.params, 'params').to.equal(fx.paramCount);
      if (fx.flops !== null) expect(r.flops, 'conv+linear FLOPs').to.equal(fx.flops);
    });
  }
}
