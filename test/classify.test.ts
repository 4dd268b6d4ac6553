/**
 * The embedded default (MobileNet v2 1.0 from the TFLite checkpoint, uint8, in models/) classifies offline:
 * Grace Hopper comes out as "military uniform" (ImageNet class 652) in the top 5, via the library and the CLI.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { useBackend } from '../src/backend.js';
import { decodeImage } from '../src/image/decode.js';
import { imagenetLabels } from '../src/labels/index.js';
import { modelMetadata } from '../src/artifacts/metadata.js';
import { ZooModel } from '../src/api/zoo-model.js';
import { getSpec } from '../src/zoo/registry.js';
import { DEFAULT_ARCH } from '../src/artifacts/shipped.js';
import { modelWithWeights } from '../src/api/weights.js';
import { CLI, ROOT, SHARED } from './helpers/shared.js';

const GRACE_HOPPER = join(SHARED, 'images', 'grace_hopper.bmp');

describe('classify with the embedded default model', function () {
  before(async () => { await useBackend('wasm'); });

  it('ships ImageNet labels in the standard order', () => {
    const labels = imagenetLabels();
    expect(labels).to.have.length(1000);
    expect(labels[0]).to.deep.include({ wnid: 'n01440764', label: 'tench' });
    expect(labels[652]).to.deep.include({ wnid: 'n03763968', label: 'military uniform' });
  });

  it('load() without weights gives the embedded MobileNet v2 with its metadata; Grace Hopper is in military uniform', async () => {
    const model = await modelWithWeights(DEFAULT_ARCH);
    const meta = modelMetadata(model)!;
    expect(meta).to.include({ arch: 'tf_mobilenet_v2_100', dtype: 'uint8', classOffset: 1, numClasses: 1001 });
    const top5 = await new ZooModel(model, getSpec(DEFAULT_ARCH)).classify(await decodeImage(GRACE_HOPPER), { topK: 5 });
    console.log(`      ${top5.map((p) => `${p.label} ${(100 * p.probability).toFixed(1)}%`).join(', ')}`);
    expect(top5.map((p) => p.index)).to.include(652);
    expect(top5.find((p) => p.index === 652)!.label).to.equal('military uniform');
    model.dispose();
  });

  it('`cnn-zoo classify grace_hopper.bmp` prints military uniform in its top 5', () => {
    const out = execFileSync(process.execPath, [...CLI, 'classify', GRACE_HOPPER, '--json'], { encoding: 'utf8', cwd: ROOT });
    const [result] = JSON.parse(out.slice(out.indexOf('['))) as { image: string; top: { index: number; label: string; probability: number }[] }[];
    expect(result!.top).to.have.length(5);
    expect(result!.top.map((p) => p.label)).to.include('military uniform');
  });
});
