/**
 * The package as users get it: `npm pack`, install the tarball into an empty folder, then run the CLI and import
 * the API from there (a missing `files` entry or export fails this), and compile a fresh strict TypeScript project
 * against it as the README's "TypeScript" section says (cnn-zoo's own declarations must be error-free).
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/shared.js';

describe('packed package', function () {
  let dir = '';
  /** Paths in the tarball, as `npm pack --json` lists them. */
  let packed: string[] = [];
  const run = (cmd: string, args: string[], cwd: string) =>
    execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' }, stdio: ['ignore', 'pipe', 'pipe'] });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cnn-zoo-pack-'));
    const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
    const [{ filename, files }] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    packed = files.map((f) => f.path);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, filename!)], dir);
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('ships the Apache-2.0 LICENSE with the copyright line', () => {
    expect(packed).to.include('LICENSE');
    const text = readFileSync(join(dir, 'node_modules', 'cnn-zoo', 'LICENSE'), 'utf8');
    expect(text.split('\n')[0]).to.equal('Copyright 2026 cnn-zoo contributors');
    expect(text).to.contain('Apache License\n                           Version 2.0, January 2004').and.contain('END OF TERMS AND CONDITIONS');
  });

  it('runs the CLI from the installed tarball', () => {
    const list = run('npx', ['--no-install', 'cnn-zoo', 'list'], dir);
    expect(list).to.match(/squeezenet1_1/).and.match(/vgg16/);
    const info = spawnSync('npx', ['--no-install', 'cnn-zoo', 'info', 'squeezenet1_1'], { cwd: dir, encoding: 'utf8' });
    expect(info.status, info.stderr).to.equal(0);
    expect(info.stdout).to.match(/params:\s+1235496/);
    expect(info.stderr + info.stdout, 'tfjs console banner').to.not.match(/looks like you are running TensorFlow\.js/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(run('npx', ['--no-install', 'cnn-zoo', '--version'], dir).trim()).to.equal(pkg.version);
    // `cnn-zoo fetch --list` points to docs/WEIGHTS.md: it ships.
    expect(existsSync(join(dir, 'node_modules', 'cnn-zoo', 'docs', 'WEIGHTS.md'))).to.equal(true);
  });

  it('imports the API and builds a model from the installed tarball', () => {
    const script = `import { create, countParams } from 'cnn-zoo';
      import { listSpecs } from 'cnn-zoo/zoo';
      const m = create('squeezenet1_1', { inputSize: 96 });
      console.log(JSON.stringify({ n: listSpecs().length, params: countParams(m), out: m.outputs[0].shape }));`;
    writeFileSync(join(dir, 'use.mjs'), script);
    const res = JSON.parse(run('node', ['use.mjs'], dir).trim().split('\n').pop()!) as { n: number; params: number; out: number[] };
    expect(res.params).to.equal(1235496);
    expect(res.out).to.deep.equal([null, 1000]);
    expect(res.n).to.be.greaterThan(10);
  });

  it('imports without Node lexing a CommonJS package or loading a checkpoint parser, and shares one tfjs with the app', () => {
    // Node's ESM loader lexes a CommonJS file's whole source for export names (tfjs: 6 MB, 150-200 ms a process);
    // tools/build-node.mjs has dist/ require() them. A load hook lists what the ESM loader loads from node_modules.
    writeFileSync(join(dir, 'hook.mjs'), `export async function load(url, context, next) {
      const r = await next(url, context);
      if (url.includes('/node_modules/')) process.stderr.write('ESM-LOADED ' + r.format + ' ' + url.replace(/.*\\/node_modules\\//, '') + '\\n');
      return r;
    }\n`);
    writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hook.mjs', import.meta.url);\n");
    writeFileSync(join(dir, 'just-import.mjs'), "import { create } from 'cnn-zoo';\ncreate('squeezenet1_1', { inputSize: 96 }).dispose();\n");
    const r = spawnSync('node', ['--import', './register.mjs', 'just-import.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const loaded = r.stderr.split('\n').filter((l) => l.startsWith('ESM-LOADED '));
    expect(loaded.filter((l) => l.startsWith('ESM-LOADED commonjs')), 'CommonJS packages imported through ESM').to.deep.equal([]);
    expect(loaded.filter((l) => /(protobufjs|flatbuffers|fflate)\//.test(l)), 'checkpoint parsers loaded by the import').to.deep.equal([]);
    // The app's own `import * as tf` gets the tfjs cnn-zoo built the model with: its classes and its engine.
    writeFileSync(join(dir, 'share.mjs'), `import * as tf from '@tensorflow/tfjs';
      import { create } from 'cnn-zoo';
      const before = tf.memory().numTensors;
      const m = create('squeezenet1_1', { inputSize: 96 });
      console.log(JSON.stringify({ layersModel: m instanceof tf.LayersModel, made: tf.memory().numTensors - before, weights: m.weights.length }));`);
    const share = JSON.parse(run('node', ['share.mjs'], dir).trim().split('\n').pop()!) as { layersModel: boolean; made: number; weights: number };
    expect(share.layersModel).to.equal(true);
    expect(share.made).to.equal(share.weights);
  });

  it('compiles a fresh strict TypeScript project against the tarball (README "TypeScript") and runs it', () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // Every entry point, so every one of cnn-zoo's declaration files is in the program.
    writeFileSync(join(dir, 'classify.mts'), `import { load, useBackend, type ClassPrediction, type ZooModel } from 'cnn-zoo';
import * as zoo from 'cnn-zoo/zoo';
import * as layers from 'cnn-zoo/layers';
import * as checkpoints from 'cnn-zoo/checkpoints';
import * as convert from 'cnn-zoo/convert';
import * as pretrained from 'cnn-zoo/pretrained';
import * as image from 'cnn-zoo/image';
import * as evaluation from 'cnn-zoo/eval';
import * as parity from 'cnn-zoo/parity';
import * as browser from 'cnn-zoo/browser';

const entries: number = [zoo, layers, checkpoints, convert, pretrained, image, evaluation, parity, browser].length;
await useBackend('wasm');
const model: ZooModel = await load('tf_mobilenet_v2_100');
const top: ClassPrediction[] = await model.classify('grace_hopper.jpg', { topK: 3 });
console.log(JSON.stringify({ entries, labels: top.map((p) => p.label) }));
model.dispose();
`);
    copyFileSync(join(ROOT, 'examples', 'images', 'grace_hopper.jpg'), join(dir, 'grace_hopper.jpg'));
    const tsconfig = (extra: object) => JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', ...extra }, files: ['classify.mts'] });
    // Without skipLibCheck: errors may only come from other packages' declarations (tfjs-layers', see README), never cnn-zoo's.
    writeFileSync(join(dir, 'tsconfig.json'), tsconfig({ noEmit: true, types: [] }));
    const strict = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
    const errors = strict.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors.filter((l) => !l.startsWith('node_modules/@tensorflow/')), errors.join('\n')).to.deep.equal([]);
    expect(errors.filter((l) => /classify\.mts|node_modules\/cnn-zoo\//.test(l))).to.deep.equal([]);
    // The README's tsconfig: compiles clean, and the program runs.
    writeFileSync(join(dir, 'tsconfig.json'), tsconfig({ skipLibCheck: true, outDir: 'build' }));
    const build = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).to.equal(0);
    const out = JSON.parse(run('node', [join('build', 'classify.mjs')], dir).trim().split('\n').pop()!) as { entries: number; labels: string[] };
    expect(out).to.deep.equal({ entries: 9, labels: ['mortarboard', 'military uniform', 'academic gown'] });
  });
});
