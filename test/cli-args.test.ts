/** The CLI's model arguments: `--arch` and `--model` are one option; `eval` takes the model as a positional too. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, SHARED } from './helpers/shared.js';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', cwd: ROOT });
const GRACE_HOPPER = join(SHARED, 'images', 'grace_hopper.bmp');

describe('CLI model arguments', function () {

  it('`eval NAME --data DIR` evaluates like `eval --model NAME --data DIR`', () => {
    const r = cli('eval', 'tf_mobilenet_v2_100', '--data', join(SHARED, 'imagenet', 'val-subset'), '--limit', '4', '--batch', '2');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/model tf_mobilenet_v2_100 \(weights: embedded\)/).and.match(/\(4 of 4 images evaluated, 0 failed/);
    const bad = cli('eval', 'tf_mobilenet_v2_100', 'resnet50', '--data', 'x');
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.match(/^cnn-zoo: eval evaluates one model, got tf_mobilenet_v2_100, resnet50: run one eval per model\.\nUsage: cnn-zoo eval /);
    // A model and no --data said "eval needs a model and --data".
    expect(cli('eval', 'squeezenet1_1').stderr).to.match(/^cnn-zoo: eval needs --data DIR, the labelled images to evaluate squeezenet1_1 on\.\nUsage: /);
    expect(cli('eval', '--data', 'x').stderr).to.match(/^cnn-zoo: eval needs a model: NAME, --model NAME, or --weights DIR of converted weights\.\nUsage: /);
    // --weights FILE alone that is no published checkpoint: said so for each command that reads it (it was "eval needs a
    // model", "export needs one model name, got 0").
    const pth = join(SHARED, 'fixtures', 'checkpoints', 'squeezenet1_1.pth');
    for (const args of [['eval', '--data', 'x'], ['export', '--out', 'never.onnx'], ['verify']]) {
      expect(cli(...args, '--weights', pth).stderr, args[0]).to.equal(`cnn-zoo: ${pth} is a checkpoint file that is not a published checkpoint ` +
        `cnn-zoo knows (by its sha256), so its architecture is unknown: name the model with it (NAME --weights ${pth}).\n`);
    }
    // A --data folder or --labels file that is not there is named before the model loads (its weights not read yet).
    const missing = cli('eval', 'squeezenet1_1', '--weights', '/no/such/weights', '--data', '/no/such/data');
    expect([missing.status, missing.stderr]).to.deep.equal([1, 'cnn-zoo: Dataset folder /no/such/data does not exist or is not a folder.\n']);
    const labels = cli('eval', 'squeezenet1_1', '--weights', '/no/such/weights', '--data', join(SHARED, 'imagenet', 'val-subset'), '--labels', '/no/such/labels.txt');
    expect([labels.status, labels.stderr]).to.deep.equal([1, 'cnn-zoo: Cannot read labels file /no/such/labels.txt: it is not there.\n']);
  });

  it('`eval` runs where classify does (onnxruntime-node when installed; tfjs with --runtime tfjs or a --backend): the same accuracy; --backend with --runtime onnxruntime is refused', () => {
    const data = join(SHARED, 'imagenet', 'val-subset');
    const [ort, tfjs, backend] = [[], ['--runtime', 'tfjs'], ['--backend', 'wasm']].map((flags) => cli('eval', 'tf_mobilenet_v2_100', '--data', data, '--limit', '8', ...flags));
    for (const r of [ort, tfjs, backend]) expect(r.status, r.stderr).to.equal(0);
    expect(ort.stdout).to.match(/input 224 px, runtime onnxruntime-node, batch 16\n/);
    expect(tfjs.stdout).to.match(/input 224 px, backend wasm, batch 16\n/);
    expect(backend.stdout).to.match(/input 224 px, backend wasm, batch 16\n/);
    const accuracy = (out: string) => /top-1 [\d.]+%  top-5 [\d.]+%  \(8 of 8 images evaluated/.exec(out)?.[0];
    expect(accuracy(ort.stdout)).to.be.a('string').and.equal(accuracy(tfjs.stdout));
    const both = cli('eval', 'tf_mobilenet_v2_100', '--data', data, '--runtime', 'onnxruntime', '--backend', 'cpu');
    expect([both.status, both.stderr.split('\n')[0]]).to.deep.equal([1, 'cnn-zoo: --backend is tfjs\'s; --runtime onnxruntime runs on onnxruntime. Give one of them.']);
    const unknown = cli('eval', 'tf_mobilenet_v2_100', '--data', data, '--runtime', 'ort');
    expect([unknown.status, unknown.stderr]).to.deep.equal([1, 'cnn-zoo: --runtime must be tfjs, onnxruntime or auto, got "ort".\n']);
  });

  it('`eval --input-size N` evaluates the weights at that size, preprocessed to it', () => {
    const r = cli('eval', 'tf_mobilenet_v2_100', '--data', join(SHARED, 'imagenet', 'val-subset'), '--limit', '4', '--input-size', '160');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/model tf_mobilenet_v2_100 \(weights: embedded\), input 160 px,/).and.match(/"cropFraction":0\.875,.*"size":160\}/);
    const bad = cli('eval', 'tf_mobilenet_v2_100', '--data', 'x', '--input-size', '160px');
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.match(/--input-size must be a positive integer, got "160px"/);
  });

  it('`classify --input-size N` classifies with the weights at that size', () => {
    const r = cli('classify', GRACE_HOPPER, '--input-size', '192', '--top', '3');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^tf_mobilenet_v2_100 \(tflite uint8\) on .*, at 192 px\n/).and.match(/mortarboard/);
    const bad = cli('classify', GRACE_HOPPER, '--input-size', '0');
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.match(/--input-size must be a positive integer, got "0"/);
  });

  it('`bench NAME` benches like `bench --models NAME`; both at once, or neither, is refused', () => {
    const r = cli('bench', 'squeezenet1_1', '--batch', '1', '--runs', '1', '--max-seconds', '1');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.include('bench squeezenet1_1 on wasm ...');
    expect(r.stdout).to.match(/^squeezenet1_1 +wasm +1\.235 /m); // its row in the size table, whatever the speed
    for (const [args, tail] of [[[], '.'], [['squeezenet1_1', '--models', 'resnet18'], ', not both.']] as const) {
      const bad = cli('bench', ...args);
      expect(bad.status).to.equal(1);
      expect(bad.stderr).to.match(new RegExp(`^cnn-zoo: bench needs model names: cnn-zoo bench NAME\\.\\.\\. or --models a,b\\|all${tail.replace('.', '\\.')}\\nUsage: cnn-zoo bench `));
    }
  });

  it('`bench NAME --runtime tfjs,onnxruntime` times the model on tfjs and on onnxruntime (what load() runs): a row each', () => {
    const r = cli('bench', 'squeezenet1_1', '--runtime', 'tfjs,onnxruntime', '--batch', '1', '--runs', '1', '--max-seconds', '1');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.include('bench squeezenet1_1 on wasm ...').and.include('bench squeezenet1_1 on onnxruntime-node ...');
    expect(r.stdout).to.match(/^backend onnxruntime-node \(\d+\.\d+\.\d+, the inference form exported to ONNX\)/m);
    // Size table: no tfjs kernel profile on onnxruntime; latency table: its row, memory not measured.
    expect(r.stdout).to.match(/^squeezenet1_1 +onnxruntime-node +1\.235 +0\.698 +0\.349 +4\.9 +- +- +- +- /m);
    expect(r.stdout).to.match(/^squeezenet1_1 +onnxruntime-node +1 +[\d.]+ +[\d.]+ +[\d.]+ +1 +[\d.]+ +-$/m);
    for (const [args, message] of [[['--runtime', 'ort'], '--runtime takes tfjs, onnxruntime or both (tfjs,onnxruntime), got "ort".'],
      [['--runtime', 'onnxruntime', '--backend', 'cpu'], "--backend is tfjs's; add tfjs to --runtime (--runtime tfjs,onnxruntime) or leave out --backend."]] as const) {
      const bad = cli('bench', 'squeezenet1_1', ...args);
      expect([bad.status, bad.stderr], args.join(' ')).to.deep.equal([1, `cnn-zoo: ${message}\n`]);
    }
  });

  it('every command reads its positive integers alike (one parser), and a size below the model\'s minimum is said in flags', () => {
    for (const [args, flag] of [[['info', 'resnet50', '--input-size', '0'], 'input-size'], [['classify', GRACE_HOPPER, '--top', '2.5'], 'top'],
      [['bench', '--models', 'squeezenet1_1', '--runs', 'x'], 'runs'], [['verify', 'squeezenet1_1', '--limit', '0'], 'limit'],
      [['convert', '--arch', 'squeezenet1_1', '--from', 'torch', 'a.pth', '--out', 'x', '--num-classes', 'ten'], 'num-classes']] as const) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).to.equal(1);
      expect(r.stderr, args.join(' ')).to.match(new RegExp(`^cnn-zoo: --${flag} must be a positive integer, got "[^"]+"\\.\\nUsage: cnn-zoo ${args[0]} `));
    }
    const small = cli('info', 'inception_v3', '--input-size', '40');
    expect(small.status).to.equal(1);
    expect(small.stderr).to.include('at least 75 px: pass --input-size 75 or larger (its default is 299).').and.not.include('inputSize');
  });

  it('--global-pool: a fixed-window head at a size it does not fit pools globally (classify, eval, export, info); without it the error names the flag', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-gp-'));
    try {
      const gn = join(dir, 'googlenet');
      expect(cli('convert', '--arch', 'bvlc_googlenet', '--from', 'caffe', join(SHARED, 'weights', 'caffe-bvlc_googlenet'), '--out', gn).status).to.equal(0);
      const parrot = join(SHARED, 'images', 'parrot.jpg');
      const refused = cli('classify', parrot, '--weights', gn, '--input-size', '300');
      expect(refused.status).to.equal(1);
      expect(refused.stderr).to.include('does not fit a 300x300 input').and.include('or pass --global-pool for a global average pool that takes any size (not the reference).');
      expect(refused.stderr).to.not.match(/globalPool|includeTop/);
      const pooled = cli('classify', parrot, '--weights', gn, '--input-size', '300', '--global-pool', '--top', '1');
      expect(pooled.status, pooled.stderr).to.equal(0);
      expect(pooled.stdout).to.match(/^bvlc_googlenet \(caffe float32\) on .*, at 300 px, global average pool\n/).and.match(/ 88 {2}macaw\n/);
      const evaluated = cli('eval', '--weights', gn, 'bvlc_googlenet', '--data', join(SHARED, 'imagenet', 'val-subset'), '--limit', '2', '--input-size', '300', '--global-pool');
      expect(evaluated.status, evaluated.stderr).to.equal(0);
      expect(evaluated.stdout).to.match(/input 300 px/);
      const exported = cli('export', 'bvlc_googlenet', '--weights', gn, '--input-size', '300', '--global-pool', '--out', join(dir, 'gn300.onnx'));
      expect(exported.status, exported.stderr).to.equal(0);
      expect(exported.stdout).to.include('[N,300,300,3]');
      const card = cli('info', 'bvlc_googlenet', '--input-size', '300', '--global-pool');
      expect(card.status, card.stderr).to.equal(0);
      expect(card.stdout).to.include('(--global-pool pools globally at any size)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`classify --model NAME` is `--arch NAME`; naming two different models is refused', () => {
    const r = cli('classify', GRACE_HOPPER, '--model', 'tf_mobilenet_v2_100', '--top', '5');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/military uniform/);
    const both = cli('classify', GRACE_HOPPER, '--model', 'tf_mobilenet_v2_100', '--arch', 'resnet50');
    expect(both.status).to.equal(1);
    expect(both.stderr).to.match(/--arch "resnet50" and --model "tf_mobilenet_v2_100" name different models/);
  });

  it('a model without embedded weights names --weights imagenet, cnn-zoo fetch and convert', () => {
    const r = cli('classify', GRACE_HOPPER, '--arch', 'resnet50');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/ships no weights for "resnet50".*--weights imagenet.*cnn-zoo fetch resnet50.*cnn-zoo convert/);
  });
});
