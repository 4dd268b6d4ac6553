/**
 * `npm run convert:all [-- --out DIR] [--only ID,...]`: converts every checkpoint of shared/weights into
 * tfjs artifacts (default out/converted/<id>, git-ignored), checking reference pairs where they exist.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { useBackend } from '../../src/backend.js';
import { saveConverted } from '../../src/artifacts/save.js';
import { convertCheckpoint } from '../../src/convert/convert.js';
import { nodeFileSystem } from '../../src/artifacts/node-fs.js';
import { modelWithWeights } from '../../src/api/weights.js';
import { readNpy } from '../../src/checkpoints/npy.js';
import { compareWithReference } from '../../src/convert/reference.js';
import { checkpointJobs } from './checkpoints.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { out: { type: 'string' }, only: { type: 'string' }, shared: { type: 'string' }, dtype: { type: 'string', default: 'float32' } } });
const shared = values.shared ?? process.env.CNN_ZOO_SHARED ?? join(root, '..', 'shared');
const outRoot = values.out ?? join(root, 'out', 'converted');
const only = values.only?.split(',');

await useBackend('wasm');
let failed = 0;
for (const job of checkpointJobs(join(shared, 'weights'))) {
  if (only && !only.includes(job.id)) continue;
  const dir = join(outRoot, job.id);
  const t0 = performance.now();
  try {
    const { model, metadata, report } = await convertCheckpoint({ ...job.options, dtype: values.dtype as 'float32' });
    await saveConverted(model, nodeFileSystem(dir), metadata);
    model.dispose();
    let parity = '';
    if (job.pairs) {
      const saved = await modelWithWeights(metadata.arch, { weights: dir });
      let worst = 0;
      for (const s of (await readdir(job.pairs)).sort()) {
        const p = join(job.pairs, s);
        const r = await compareWithReference(saved, readNpy(await readFile(join(p, 'input_0.npy'))), readNpy(await readFile(join(p, 'output_0.npy'))), p);
        worst = Math.max(worst, r.maxRelErr);
      }
      saved.dispose();
      parity = `, reference pairs max rel err ${worst.toExponential(2)}`;
    }
    console.log(`${job.id.padEnd(30)} ${metadata.arch} <- ${job.options.from}, matched by ${report.matchedBy}${report.unfoldedBatchNorms ? `, ${report.unfoldedBatchNorms} BN unfolded` : ''}${parity} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`${job.id.padEnd(30)} FAILED: ${(e as Error).message}`);
  }
}
process.exitCode = failed ? 1 : 0;
