/**
 * `cnn-zoo verify` through the real CLI (src/cli/main.ts through tsx): the certificate of a model with fixtures
 * (every size found, on wasm and through onnxruntime), of converted TFLite weights against the TFLite interpreter in
 * Chromium (8 val-subset images: --limit keeps it cheap), a failing fixture (exit 1, FAIL), and what it says when no
 * fixture can be found (an installed package ships none) or the arguments are wrong.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'fflate';
import type { VerifyReport } from '../src/parity/verify.js';
import { CLI, ROOT, HANG_MS } from './helpers/shared.js';
import { sizeFixturePath } from './helpers/size-fixtures.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [...CLI, 'verify', ...args],
  { cwd: ROOT, encoding: 'utf8', timeout: HANG_MS, env: { ...process.env, NODE_NO_WARNINGS: '1' } });

describe('cnn-zoo verify', () => {
  let tmp: string;
  before(() => { tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-verify-')); });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('mobilenet_v2: a certificate with the fixture error at every size a fixture exists for (224, 160, 128x192), PASS, exit 0', () => {
    const r = cli('mobilenet_v2');
    console.log(r.stdout.replace(/^/gm, '      '));
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^cnn-zoo verify mobilenet_v2: backend wasm$/m);
    for (const size of ['224', '160', '128x192']) expect(r.stdout).to.match(new RegExp(`^ +mobilenet_v2 +${size} +\\d\\.\\d+e-\\d+ < 1\\.0e-4 +top-5 agrees +PASS$`, 'm'));
    expect(r.stdout).to.match(/^ +timm_mobilenetv2_100 +224 .* PASS$/m);
    expect(r.stdout.trim().split('\n').at(-1)).to.equal('PASS');
  });

  it('--runtime onnxruntime --sizes 128x192 --json: the exported model in onnxruntime-node meets the fixture bound', () => {
    const r = cli('mobilenet_v2', '--runtime', 'onnxruntime', '--sizes', '128x192', '--json');
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as VerifyReport;
    expect(report.backend).to.equal('onnxruntime-node');
    expect(report.fixtures.map((f) => [f.fixture, f.size])).to.deep.equal([['mobilenet_v2', '128x192']]);
    expect(report.fixtures[0]!.maxRelErr).to.be.below(report.fixtures[0]!.tolerance);
    expect(report.pass).to.equal(true);
  });

  it('tf_mobilenet_v2_100 --weights models/tf_mobilenet_v2_100: agreement with the TFLite interpreter in Chromium (8 images)', () => {
    const r = cli('tf_mobilenet_v2_100', '--weights', 'models/tf_mobilenet_v2_100', '--limit', '8', '--json', '--out', join(tmp, 'tfl.json'));
    console.log(r.stdout.replace(/^/gm, '      '));
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/no parity fixture/);
    expect(r.stdout).to.match(/original runtime tflite-chromium: .*mobilenet_v2_1\.0_224_quant\.tflite/);
    const a = (JSON.parse(readFileSync(join(tmp, 'tfl.json'), 'utf8')) as VerifyReport).weights!.agreement!;
    expect(a.runtime).to.equal('tflite-chromium');
    expect(a.images).to.equal(8);
    // Measured: 8/8 agree, max prob diff 0.02 (uint8 interpreter vs the dequantized float model). The whole
    // val-subset agrees on ~95% (docs/WEIGHTS.md), so 7 of 8 is the margin of one image.
    expect(a.top1Agreement).to.be.at.least(7 / 8);
    expect(a.maxProbDiff).to.be.within(0, 0.2);
    // The interpreter outputs probabilities (a softmax), not logits: no output error beside them.
    expect(a.maxRelErr).to.equal(undefined);
  });

  it('a fixture the model does not reproduce: FAIL, exit 1', () => {
    const dir = join(tmp, 'bad');
    spawnSync('mkdir', ['-p', dir]);
    const raw = JSON.parse(new TextDecoder().decode(gunzipSync(readFileSync(sizeFixturePath('mobilenet_v2-128x192'))))) as { logits: { b64: string } };
    const logits = new Float32Array(Uint8Array.from(Buffer.from(raw.logits.b64, 'base64')).buffer);
    logits[0] = logits[0]! + 1; // one logit off by 1: far beyond the 1e-4 relative bound
    raw.logits.b64 = Buffer.from(logits.buffer).toString('base64');
    writeFileSync(join(dir, 'mobilenet_v2-128x192.json.gz'), gzipSync(new TextEncoder().encode(JSON.stringify(raw))));
    const r = cli('mobilenet_v2', '--fixtures', dir);
    expect(r.status).to.equal(1);
    expect(r.stdout).to.match(/^ +mobilenet_v2 +128x192 .* FAIL$/m);
    expect(r.stdout.trim().split('\n').at(-1)).to.equal('FAIL');
  });

  it('no fixture found (as in an installed package): says so and where it looked, exit 1', () => {
    const r = cli('mobilenet_v2', '--fixtures', tmp + '/none');
    expect(r.status).to.equal(1);
    expect(r.stdout).to.match(/none checked: no fixture file of mobilenet_v2 .* not shipped in the package; give --fixtures DIR \(or CNN_ZOO_FIXTURES\)/);
    expect(r.stdout).to.match(/NOTHING VERIFIED/);
  });

  it('--weights DIR alone names the model; a trained classifier has no original to agree with (it failed: "1001 classes, the converted model 2")', async () => {
    const { load } = await import('../src/api/index.js');
    const clf = await load('tf_mobilenet_v2_100', { classes: ['cat', 'dog'] });
    const dir = join(tmp, 'classifier');
    await clf.save(dir);
    clf.dispose();
    const r = cli('--weights', dir, '--limit', '2');
    expect(r.stdout, r.stderr).to.match(/^cnn-zoo verify tf_mobilenet_v2_100: /m);
    expect(r.stdout).to.include("agreement not measured: a classifier trained by cnn-zoo on tf_mobilenet_v2_100's weights (its own 2 classes): " +
      'there is no original checkpoint that gives its outputs to compare with');
    expect(r.stderr).to.not.match(/not the same model/);
  });

  it('bad arguments: an unknown model (did you mean), --backend with --runtime, a bad size, weights that are not there', () => {
    let r = cli('mobilenet_v3');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/mobilenet_v2/);
    r = cli('mobilenet_v2', '--backend', 'cpu', '--runtime', 'onnxruntime');
    expect(r.stderr).to.match(/Give --backend or --runtime, not both/);
    r = cli('mobilenet_v2', '--sizes', '12y3');
    expect(r.stderr).to.match(/Bad size "12y3": give H \(square\) or HxW/);
    r = cli('mobilenet_v2', '--runtime', 'tflite');
    expect(r.stderr).to.match(/Unknown runtime "tflite"; runtimes: tfjs, onnxruntime/);
    // Weights that are not there fail before any fixture runs (they failed after all of them).
    r = cli('squeezenet1_1', '--weights', '/nonexistent/weights');
    expect([r.status, r.stderr]).to.deep.equal([1, 'cnn-zoo: Nothing is at "/nonexistent/weights". Weights are a folder that holds model.json and its ' +
      'weight shards (from cnn-zoo train or cnn-zoo convert), or a checkpoint file (.pth, .safetensors, .h5, .tflite, .onnx, ...): check the path.\n']);
  });
});
