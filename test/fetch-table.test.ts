/**
 * The published-weights table: every registry model has checkpoints or a stated reason for having none; every
 * entry is well formed (one default per model, unique file names, hashes of the right shape, a source for its
 * facts, preprocessing at the model's input size, layouts the spec has); selectors resolve; the README and
 * docs/WEIGHTS.md tables are the generated ones; archives unpack; manual downloads fail before any request.
 */
import { expect } from 'chai';
import { gzipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CnnZooError } from '../src/errors.js';
import { checkPreprocessConfig } from '../src/image/preprocess.js';
import { extractMember, makeTar } from '../src/checkpoints/tar.js';
import { checkFetchable, fetchWeights } from '../src/pretrained/fetch.js';
import { checkpointsFor, isWeightsSelector, PUBLISHED, resolveCheckpoint, UNPUBLISHED } from '../src/pretrained/index.js';
import { DOC_MARKERS, fullWeightsTable, README_MARKERS, readmeWeightsTable, withTable } from '../tools/hub/markdown.js';
import { getSpec, listSpecs } from '../src/zoo/registry.js';
import { ROOT } from './helpers/shared.js';

function throwsZoo(f: () => unknown, code: string): CnnZooError {
  try { f(); } catch (e) {
    expect(e).to.be.instanceOf(CnnZooError);
    expect((e as CnnZooError).code).to.equal(code);
    return e as CnnZooError;
  }
  throw new Error(`expected ${code}`);
}

describe('published weights table', () => {
  it('covers every registry model: published checkpoints, or a reason why there are none', () => {
    for (const s of listSpecs()) {
      const has = PUBLISHED.some((c) => c.arch === s.name);
      const none = UNPUBLISHED.find((u) => u.arch === s.name);
      expect(has !== (none !== undefined), `${s.name}: exactly one of published / unpublished`).to.equal(true);
      if (none) expect(none.reason.length, s.name).to.be.greaterThan(20);
    }
    console.log(`      ${PUBLISHED.length} checkpoints for ${new Set(PUBLISHED.map((c) => c.arch)).size} models; ${UNPUBLISHED.length} models without published weights`);
  });

  it('every entry is well formed', () => {
    const files = new Set<string>();
    for (const c of PUBLISHED) {
      const what = `${c.arch} ${c.publisher}:${c.tag}`;
      const spec = getSpec(c.arch);
      expect(spec.name, what).to.equal(c.arch);
      expect(files.has(c.file), `${what}: file name ${c.file} is unique`).to.equal(false);
      files.add(c.file);
      expect(c.file, what).to.match(/^[A-Za-z0-9._-]+$/);
      expect(c.url, what).to.match(/^https?:\/\/[^ ]+$/);
      expect(c.facts.length, `${what}: facts have a source`).to.be.greaterThan(15);
      expect(c.licence.length, what).to.be.greaterThan(3);
      const h = c.hash;
      if (h && 'prefix' in h) {
        expect(h.prefix, what).to.match(/^[0-9a-f]{8,}$/);
        expect(c.file, `${what}: the prefix comes from the file name`).to.include(`-${h.prefix}.`);
      }
      if (h && 'hex' in h) expect(h.hex, what).to.match(h.algorithm === 'sha256' ? /^[0-9a-f]{64}$/ : /^[0-9a-f]{40}$/);
      if (h && 'hubLfs' in h) expect(c.url, what).to.equal(`https://huggingface.co/${h.hubLfs.repo}/resolve/${h.hubLfs.revision}/${h.hubLfs.path}`);
      if (!h) expect(['keras', 'tf', 'megvii', 'deepscale', 'authors', 'darknet'], `${what}: only publishers without hashes lack one`).to.include(c.publisher);
      checkPreprocessConfig(c.preprocessing);
      expect(c.preprocessing.size, `${what}: preprocessing at the build's input size`).to.equal(c.build?.inputSize ?? spec.inputSize);
      if (c.build?.layout) expect(spec.keyRules?.[c.build.layout], `${what}: layout ${c.build.layout}`).to.be.a('function');
      if (c.build?.dropKeys) expect(() => new RegExp(c.build!.dropKeys!)).not.to.throw();
      if (c.accuracy) expect(c.accuracy.top1, what).to.be.within(30, 90);
      if (c.member) expect(c.file, what).to.match(/\.(tgz|tar\.gz|tar)$/);
    }
    for (const arch of new Set(PUBLISHED.map((c) => c.arch))) {
      expect(PUBLISHED.filter((c) => c.arch === arch && c.default), `${arch}: one default`).to.have.length(1);
    }
  });

  it('torchvision entries agree with the registry cards (two independent transcriptions)', () => {
    let n = 0;
    for (const c of PUBLISHED.filter((x) => x.publisher === 'torchvision')) {
      const meta = getSpec(c.arch).meta;
      if (!meta.accuracySource?.includes(`${c.tag}`) || !meta.accuracySource.startsWith('torchvision')) continue;
      expect(c.accuracy?.top1, c.arch).to.equal(meta.top1);
      expect(c.accuracy?.top5, c.arch).to.equal(meta.top5);
      n++;
    }
    expect(n).to.be.greaterThan(25);
  });

  it('selectors resolve: imagenet, a publisher, publisher:tag; bad ones fail clearly', () => {
    expect(resolveCheckpoint('resnet50').tag).to.equal('IMAGENET1K_V2');
    expect(resolveCheckpoint('resnet50', 'torchvision:IMAGENET1K_V1').file).to.equal('resnet50-0676ba61.pth');
    expect(resolveCheckpoint('mobilenet_v2', 'timm')).to.include({ tag: 'ra_in1k', file: 'mobilenetv2_100_ra-b33bc2c4.pth' });
    expect(resolveCheckpoint('mobilenet_v2_100', 'imagenet').arch).to.equal('mobilenet_v2');
    expect(checkpointsFor('inception_v3')[0]!.build?.dropKeys).to.equal('^AuxLogits\\.');
    for (const s of ['imagenet', 'timm', 'torchvision:IMAGENET1K_V2', 'tf:mobilenet_v1_1.0_224']) expect(isWeightsSelector(s), s).to.equal(true);
    for (const s of ['./timm', 'models/resnet50', 'https://x/y', 'imagenet2', 'timm:a/b']) expect(isWeightsSelector(s), s).to.equal(false);
    expect(throwsZoo(() => resolveCheckpoint('resnet50', 'timm'), 'NO_WEIGHTS').message).to.include('torchvision:IMAGENET1K_V1');
    expect(throwsZoo(() => resolveCheckpoint('resnet50', 'torchvision:IMAGENET1K_V3'), 'NO_WEIGHTS').message).to.include('closest');
    expect(throwsZoo(() => resolveCheckpoint('effnet'), 'NO_WEIGHTS').message).to.include('CIFAR-10');
    expect(throwsZoo(() => resolveCheckpoint('resnet50', 'nonsense'), 'BAD_ARGS').message).to.match(/^"nonsense" is not a weights source\. Use imagenet, /);
    expect(throwsZoo(() => resolveCheckpoint('resnet50', 'imagent'), 'BAD_ARGS').message).to.match(/^"imagent" is not a weights source\. Did you mean "imagenet"\? Use imagenet, /);
    expect(throwsZoo(() => resolveCheckpoint('resnet50', 'torchvison'), 'BAD_ARGS').message).to.match(/Did you mean "torchvision"\?/);
    expect(throwsZoo(() => resolveCheckpoint('resnet50', { mirror: 'x' } as never), 'BAD_ARGS').message)
      .to.match(/^an object is not a weights source\..*\(fetchWeights\(arch, selector, options\): options come third\)\.$/);
  });

  it('manual-download checkpoints fail before any download unless a mirror serves them', async () => {
    const manual = resolveCheckpoint('shufflenet_v1_g8_1_0x');
    expect(throwsZoo(() => checkFetchable(manual, undefined), 'MANUAL_DOWNLOAD').message).to.include('OneDrive');
    expect(() => checkFetchable(manual, 'http://127.0.0.1:9/')).not.to.throw();
    let err: unknown;
    try { await fetchWeights('shufflenet_v1_g8_1_0x', 'imagenet', { cacheDir: join(ROOT, 'tmp', 'never-created') }); } catch (e) { err = e; }
    expect((err as CnnZooError).code).to.equal('MANUAL_DOWNLOAD');
  });

  it('tar and tar.gz archives give up the named member', () => {
    const a = new Uint8Array([1, 2, 3]), b = new Uint8Array(700).fill(7);
    const tar = makeTar({ './model_info.txt': a, './mobilenet_v1_1.0_224.tflite': b });
    expect([...extractMember(tar, 'mobilenet_v1_1.0_224.tflite', 'x.tar')]).to.deep.equal([...b]);
    expect([...extractMember(gzipSync(tar), 'model_info.txt', 'x.tgz')]).to.deep.equal([...a]);
    expect(throwsZoo(() => extractMember(tar, 'missing.tflite', 'x.tar'), 'MISSING_FILE').message).to.include('model_info.txt');
    throwsZoo(() => extractMember(gzipSync(tar).subarray(0, 40), 'model_info.txt', 'x.tgz'), 'BAD_CHECKPOINT');
    throwsZoo(() => extractMember(tar.subarray(0, 1200), 'mobilenet_v1_1.0_224.tflite', 'x.tar'), 'BAD_CHECKPOINT');
  });

  it('README.md and docs/WEIGHTS.md hold the generated tables (npx tsx tools/hub/readme-table.ts --write)', () => {
    for (const [file, markers, table] of [['README.md', README_MARKERS, readmeWeightsTable()], [join('docs', 'WEIGHTS.md'), DOC_MARKERS, fullWeightsTable()]] as const) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const expected = withTable(text, markers, table);
      expect(expected, `${file} has the markers`).to.be.a('string');
      expect(text === expected, `${file} is in sync with the weights table; run npx tsx tools/hub/readme-table.ts --write`).to.equal(true);
    }
  });
});
