/**
 * CLI paper cuts (issue #19, items 8 and 9, and the CLI side of item 7): did-you-mean for unknown flags and
 * commands, --version, one line per bad image (a truncated JPEG included) with the good ones still classified,
 * --json in the API's prediction shape with the backend that ran, errors in CLI syntax (never `weights: null` or
 * `load(...)`), --weights FILE and --mirror DIR on classify, convert naming what is missing, --backend listing what
 * runs in Node, parity's column headers, every command's --help, and `fetch --list` agreeing with the cards and
 * pointing to docs that ship in the package. Each check runs the real CLI (src/cli/main.ts through tsx).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { list } from '../src/api/index.js';
import { toRgbImages } from '../src/api/inputs.js';
import { resolveCheckpoint } from '../src/pretrained/index.js';
import { cliWording } from '../src/cli/wording.js';
import { missingRuntimeError } from '../src/onnx/runtime.js';
import { checkGradients } from '../src/train/fit.js';
import { CLI, fixturePath, ROOT, SHARED } from './helpers/shared.js';

const GRACE_HOPPER = join(SHARED, 'images', 'grace_hopper.bmp');
const SQUEEZE_PTH = join(SHARED, 'fixtures', 'checkpoints', 'squeezenet1_1.pth');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; files: string[] };

describe('CLI paper cuts', function () {
  this.timeout(300_000);
  let tmp = '';
  let cache = '';
  const cli = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args],
    { encoding: 'utf8', cwd: ROOT, env: { ...process.env, CNN_ZOO_CACHE: cache, CNN_ZOO_MIRROR: '' } });
  /** Error output must be CLI syntax: no API option spelling. */
  const cliSyntax = (text: string) => expect(text).not.to.match(/weights: (null|'|")|load\(|\{ weights|inputSize|validationSplit|runtime: |globalPool|fineTune|\.fit\(\)/);

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-cli-'));
    cache = join(tmp, 'cache');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('--version and -v print the package version; a mistyped command gets "did you mean"', () => {
    for (const flag of ['--version', '-v']) {
      const r = cli(flag);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.trim()).to.equal(PKG.version);
    }
    const typo = cli('clasify', 'x.jpg');
    expect(typo.status).to.equal(2);
    expect(typo.stderr).to.match(/unknown command "clasify"\. Did you mean classify\?/);
  });

  it('an unknown flag names the closest one, in plain quoting; a flag without its value says so', () => {
    const r = cli('classify', GRACE_HOPPER, '--tpo', '3');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('Unknown option --tpo. Did you mean --top?');
    expect(r.stderr).not.to.include('\'-- "--tpo"');
    expect(r.stderr).to.include('Usage: cnn-zoo classify');
    const missing = cli('classify', GRACE_HOPPER, '--top');
    expect(missing.stderr).to.include('Option --top needs a value (--top VALUE).');
    const family = cli('list', '--family', 'vg'); // was an empty table
    expect(family.status).to.equal(1);
    expect(family.stderr).to.include('--family: no family "vg". Did you mean --family vgg? Families: alexnet, ');
    expect(family.stderr).to.include('Usage: cnn-zoo list');
  });

  it('classify a.bmp notes.txt truncated.jpg --json: the good image in the API shape with the backend, one line per bad file, exit 1', () => {
    const notes = join(tmp, 'notes.txt');
    writeFileSync(notes, 'not an image\n');
    const truncated = join(tmp, 'truncated.jpg');
    writeFileSync(truncated, readFileSync(join(SHARED, 'images', 'parrot.jpg')).subarray(0, 300));
    const r = cli('classify', GRACE_HOPPER, notes, truncated, '--json');
    expect(r.status).to.equal(1);
    const results = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { image: string; model: string; backend: string; top: object[] }[];
    expect(results).to.have.length(1);
    expect(results[0]!.image).to.equal(GRACE_HOPPER);
    expect(results[0]!.backend).to.match(/^onnxruntime-node \(/); // --runtime auto: installed in a checkout
    expect(Object.keys(results[0]!.top[0]!).sort()).to.deep.equal(['index', 'label', 'probability', 'wnid']);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).to.have.length(2);
    expect(lines[0]).to.match(/^cnn-zoo: \S*notes\.txt: not a readable image/);
    expect(lines[1]).to.match(/^cnn-zoo: \S*truncated\.jpg: not a readable image/);
    for (const line of lines) expect(line.split(tmp).length - 1, line).to.equal(1); // the file is named once
    expect(lines[1]!.match(/premature end of JPEG image/g)).to.have.length(1); // libvips' repeats collapsed
    // Text output says once which model and runtime (backend) ran.
    const text = cli('classify', GRACE_HOPPER);
    expect(text.stdout.split('\n')[0]).to.match(/^tf_mobilenet_v2_100 \(.*\) on onnxruntime-node \(CPU\)$/);
    const tfjs = cli('classify', GRACE_HOPPER, '--runtime', 'tfjs');
    expect(tfjs.stdout.split('\n')[0]).to.match(/^tf_mobilenet_v2_100 \(.*\) on wasm \(/);
    expect(cli('classify', GRACE_HOPPER, '--backend', 'wasm').stdout.split('\n')[0], '--backend alone: tfjs').to.match(/ on wasm \(/);
  });

  it('classify - reads one image from standard input (curl -s URL | cnn-zoo classify -), named "(standard input)"', () => {
    const piped = (input: Uint8Array, ...args: string[]) => spawnSync(process.execPath, [...CLI, 'classify', ...args],
      { encoding: 'utf8', cwd: ROOT, input, env: { ...process.env, CNN_ZOO_CACHE: cache } });
    const r = piped(readFileSync(GRACE_HOPPER), '-', '--top', '1');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/\n\(standard input\) {2}\(tf_mobilenet_v2_100, tflite uint8\)\n {2}1\. +\d+\.\d+% +667 {2}mortarboard\n/);
    const json = piped(readFileSync(GRACE_HOPPER), '-', GRACE_HOPPER, '--top', '1', '--json');
    const rows = JSON.parse(json.stdout) as { image: string; top: { label: string; probability: number }[] }[];
    expect(rows.map((x) => x.image)).to.deep.equal(['-', GRACE_HOPPER]);
    expect(rows[0]!.top).to.deep.equal(rows[1]!.top);
    const empty = piped(new Uint8Array(0), '-');
    expect(empty.status).to.equal(1);
    expect(empty.stderr).to.match(/^cnn-zoo: \(standard input\): image \(0 bytes\): the image is empty/m);
    const twice = piped(new Uint8Array(0), '-', '-');
    expect(twice.status).to.equal(1);
    expect(twice.stderr).to.include('- (standard input) can be given once');
  });

  it('a reader that stops early (cnn-zoo classify DIR | head -1) ends it quietly, without an EPIPE stack trace', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [...CLI, 'classify', join(SHARED, 'images')],
      { cwd: ROOT, env: { ...process.env, CNN_ZOO_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += String(d); });
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.stdout.destroy(); // as head does after its line
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(stderr).to.not.include('EPIPE');
    expect(code, stderr).to.equal(0);
  });

  it('a path that cannot be written is one line naming it and why, from the CLI and from save() (they were Node stack traces)', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, '');
    for (const [args, line] of [
      // Checked before the work too (they failed when writing: bench's results after all its runs).
      [['export', 'squeezenet1_1', '--weights', 'random', '--input-size', '64', '--out', join(file, 'x.onnx')], `Cannot write the ONNX file to ${join(file, 'x.onnx')}: ${file} is a file, not a folder.`],
      [['bench', 'squeezenet1_1', '--json', join(file, 'b.json')], `Cannot write the results to ${join(file, 'b.json')}: ${file} is a file, not a folder.`],
      [['bench', 'squeezenet1_1', '--json', tmp], `--json ${tmp} is a folder: give the name of the file to write the results to.`],
      [['convert', '--arch', 'squeezenet1_1', '--from', 'torch', SQUEEZE_PTH, '--out', join(file, 'sub')],
        `Cannot save the model to ${join(file, 'sub')}: ${file} is a file, not a folder. Choose a folder you can write.`],
      // Checked before the work (training took minutes, then the save failed).
      [['train', join(SHARED, 'imagenet', 'no-such-data'), '--model', 'squeezenet1_1', '--out', file],
        `--out ${file} is a file: give a folder (new or existing) for model.json and its weight shards.`],
      [['convert', '--arch', 'squeezenet1_1', '--from', 'torch', SQUEEZE_PTH, '--out', file],
        `--out ${file} is a file: give a folder (new or existing) for model.json and its weight shards.`],
      [['eval', 'tf_mobilenet_v2_100', '--data', join(SHARED, 'imagenet', 'val-subset'), '--limit', '1', '--json', join(file, 'e.json')],
        `Cannot write the results to ${join(file, 'e.json')}: ${file} is a file, not a folder.`],
      // A URL made a folder named "http:" (or "file:") in the working folder, and train said "saved to http://...".
      [['train', join(SHARED, 'imagenet', 'no-such-data'), '--model', 'squeezenet1_1', '--out', 'http://127.0.0.1:9/clf'],
        '--out takes a path on this machine for the model (a folder), got the URL http://127.0.0.1:9/clf: write it here, then upload it.'],
      [['export', 'squeezenet1_1', '--weights', 'random', '--input-size', '64', '--out', pathToFileURL(join(tmp, 'x.onnx')).href],
        `--out takes a path on this machine for the ONNX file, got the URL ${pathToFileURL(join(tmp, 'x.onnx')).href}: give the path, ${join(tmp, 'x.onnx')}.`],
    ] as const) {
      const r = cli(...args);
      expect(r.status, args[0]).to.equal(1);
      expect(r.stderr.trim().split('\n').pop(), args[0]).to.equal(`cnn-zoo: ${line}`);
      expect(r.stderr, args[0]).to.not.match(/\n {4}at /);
      if (['export', 'bench', 'eval'].includes(args[0])) expect(r.stdout, args[0]).to.equal(''); // before any work
    }
    expect(readdirSync(ROOT).filter((f) => f.endsWith(':'))).to.deep.equal([]);
    const { load } = await import('../src/api/index.js');
    const clf = await load('squeezenet1_1', { weights: null, classes: ['a', 'b'], inputSize: 64 });
    try {
      let e: unknown;
      try { await clf.save(file); } catch (x) { e = x; }
      expect((e as Error).message).to.equal(`Cannot save the model to ${file}: cannot mkdir ${file} (EEXIST: a file is there, not a folder). Choose a folder you can write.`);
      expect((e as { code?: string }).code).to.equal('CANNOT_WRITE');
    } finally {
      clf.dispose();
    }
  });

  it('~ in paths: --out=~/x is the home folder as --out ~/x is; a ~ the shell left (quoted, or in code) is refused before writing, and named when not found', async () => {
    const home = join(tmp, 'home');
    mkdirSync(home);
    const inHome = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args],
      { encoding: 'utf8', cwd: ROOT, env: { ...process.env, HOME: home, CNN_ZOO_CACHE: cache, CNN_ZOO_MIRROR: '' } });
    const exported = inHome('export', 'squeezenet1_1', '--weights', 'random', '--input-size', '64', '--out=~/m.onnx');
    expect(exported.status, exported.stderr).to.equal(0);
    expect(readdirSync(home)).to.deep.equal(['m.onnx']);
    const quoted = inHome('export', 'squeezenet1_1', '--weights', 'random', '--input-size', '64', '--out', '~/m.onnx');
    expect(quoted.status).to.equal(1);
    expect(quoted.stderr.trim().split('\n').pop()).to.equal('cnn-zoo: Cannot write the ONNX file to "~/m.onnx": ~ is your home folder only in a shell, ' +
      'and Node would make a folder named "~" in the working folder. Give the full path, or ~ unquoted at the start of an argument.');
    const missing = inHome('classify', GRACE_HOPPER, '--weights', '~/nowhere');
    expect(missing.stderr).to.include('cnn-zoo: Nothing is at "~/nowhere" (~ is your home folder only where the shell expands it: unquoted, at the start of an argument).');
    cliSyntax(missing.stderr);
    const cacheFlag = inHome('cache', '--cache', '~/models');
    expect(cacheFlag.stderr.trim()).to.equal('cnn-zoo: Cannot use as the cache (--cache) "~/models": ~ is your home folder only in a shell, ' +
      'and Node would make a folder named "~" in the working folder. Give the full path, or ~ unquoted at the start of an argument.');
    // A URL as the cache made a folder named "http:" in the working folder; an empty CNN_ZOO_CACHE made the working folder the cache.
    expect(inHome('cache', '--cache', 'https://example.org/models').stderr.trim()).to.equal('cnn-zoo: The cache (--cache) is a folder on this ' +
      'machine, got the URL https://example.org/models; downloads come from a mirror (--mirror URL).');
    const unset = spawnSync(process.execPath, [...CLI, 'cache'], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, HOME: home, CNN_ZOO_CACHE: '' } });
    expect(unset.stdout).to.match(new RegExp(`^cache ${join(home, '.cache', 'cnn-zoo').replace(/[.]/g, '\\.')}: `));

    const { load } = await import('../src/index.js');
    const refused = async (call: () => Promise<unknown>): Promise<{ code?: string; message: string }> => {
      try { await call(); } catch (e) { return e as { code?: string; message: string }; }
      throw new Error('expected an error');
    };
    const clf = await load('squeezenet1_1', { weights: null, classes: ['a', 'b'], inputSize: 64 });
    try {
      const save = await refused(() => clf.save('~/classifier'));
      expect(save.code).to.equal('BAD_PATH');
      expect(save.message).to.equal('Cannot save the model to "~/classifier": ~ is your home folder only in a shell, and Node would make a folder ' +
        'named "~" in the working folder. Give the full path (path.join(os.homedir(), ...)).');
      expect((await refused(() => clf.fit('~/photos'))).message).to.equal(
        'Training folder ~/photos does not exist or is not a folder (~ is your home folder only in a shell: give the full path, or os.homedir()).');
    } finally {
      clf.dispose();
    }
    const weights = await refused(() => load('squeezenet1_1', { weights: '~/squeezenet1_1.pth' }));
    expect(weights.code).to.equal('MISSING_FILE');
    expect(weights.message).to.match(/^Nothing is at "~\/squeezenet1_1\.pth" \(~ is your home folder only in a shell: give the full path, or os\.homedir\(\)\)\. Weights are a folder that holds model\.json .* or a checkpoint file/);
    const mirror = await refused(() => load('squeezenet1_1', { weights: 'imagenet', hub: { mirror: '~/mirror', cacheDir: join(tmp, 'mirror-cache') } }));
    expect(mirror.message).to.equal('The mirror folder "~/mirror" does not exist (~ is your home folder only in a shell: give the full path, or os.homedir()).');
    const cacheDir = await refused(() => load('squeezenet1_1', { weights: 'imagenet', hub: { cacheDir: '~/cache' } }));
    expect(cacheDir.code).to.equal('BAD_PATH');
    expect(cacheDir.message).to.match(/^Cannot use as the cache \(cacheDir\) "~\/cache": ~ is your home folder only in a shell/);
    expect(readdirSync(ROOT)).to.not.include('~');
  });

  it('an image given as weights (--weights photo.jpg IMG, load(\'photo.jpg\')) is named as an image, in each syntax', async () => {
    // It was "a checkpoint file that is not a published checkpoint ... its architecture is unknown", or "cannot tell which checkpoint format".
    const r = cli('classify', '--weights', GRACE_HOPPER, join(SHARED, 'images', 'parrot.jpg'));
    expect(r.status).to.equal(1);
    expect(r.stderr.trim()).to.equal(`cnn-zoo: "${GRACE_HOPPER}" is an image, not weights. Weights are converted weights (a folder with model.json, ` +
      'from cnn-zoo train or cnn-zoo convert), a checkpoint file (.pth, .safetensors, .h5, .tflite, .onnx, ...), imagenet or random; ' +
      'images go after the command: cnn-zoo classify IMAGE... --weights W.');
    expect(cli('info', GRACE_HOPPER).stderr).to.include(`cnn-zoo: "${GRACE_HOPPER}" is an image, not weights.`);
    // A checkpoint file that is not a published one does not name its model (info said: not valid JSON).
    expect(cli('info', SQUEEZE_PTH).stderr.trim()).to.equal(`cnn-zoo: ${SQUEEZE_PTH} is a checkpoint file that is not a published checkpoint ` +
      `cnn-zoo knows (by its sha256), so it does not name its model; info reads converted weights: cnn-zoo convert --arch NAME ${SQUEEZE_PTH} --out DIR, then cnn-zoo info DIR.`);
    // A file in no checkpoint format (README.md as weights) is said to be none (it was "a checkpoint file that is not a published checkpoint").
    const readme = join(ROOT, 'README.md');
    expect(cli('info', readme).stderr.trim()).to.match(new RegExp(`^cnn-zoo: ${readme.replace(/[/\\.]/g, '.')}: cannot tell which checkpoint format this is \\(no known magic number or extension\\)\\. Formats read: `));
    const { load } = await import('../src/index.js');
    expect((await load(readme).catch((e: Error) => e) as Error).message).to.match(/^".*README\.md": cannot tell which checkpoint format this is/);
    for (const call of [() => load(GRACE_HOPPER), () => load('resnet18', { weights: 'https://example.com/photos/cat.JPG?size=2' })]) {
      let e: unknown;
      try { await call(); } catch (x) { e = x; }
      expect((e as { code?: string }).code).to.equal('NOT_WEIGHTS');
      expect((e as Error).message).to.match(/" is an image, not weights\. .* an image goes to model\.classify\(image\)\.$/);
    }
  });

  it('weights saved without a classifier: classify and eval say so once, in CLI words; eval --weights DIR names its model', async () => {
    const { load } = await import('../src/api/index.js');
    const [headlessDir, tenDir] = [join(tmp, 'headless'), join(tmp, 'ten')];
    const headless = await load('squeezenet1_1', { weights: null, includeTop: false, pooling: 'avg', inputSize: 64 });
    const ten = await load('squeezenet1_1', { weights: null, classes: Array.from({ length: 10 }, (_, i) => `c${i}`), inputSize: 64 });
    try {
      await headless.save(headlessDir);
      await ten.save(tenDir);
    } finally {
      headless.dispose();
      ten.dispose();
    }
    const line = 'cnn-zoo: squeezenet1_1 has no classifier (its weights were saved without one), so it gives features, not classes: ' +
      'give --weights that have a classifier.';
    // It printed the API's advice ("use embed() or features()") once per image; eval printed top-1 0.00% as a result.
    const classify = cli('classify', GRACE_HOPPER, join(SHARED, 'images', 'parrot.jpg'), '--weights', headlessDir);
    expect(classify.status).to.equal(1);
    expect(classify.stderr.trim().split('\n')).to.deep.equal([line]);
    const evaluated = cli('eval', '--weights', headlessDir, '--data', join(SHARED, 'imagenet', 'val-subset'), '--limit', '1');
    expect(evaluated.status).to.equal(1);
    expect(evaluated.stderr.trim()).to.equal('cnn-zoo: the model has no classifier (its weights were saved without one), so it gives features, ' +
      'not classes: give --weights that have a classifier.');
    for (const r of [classify, evaluated]) cliSyntax(r.stderr);
    // Converted weights name their model: `eval --weights DIR` said "eval needs a model"; a folder of c0..c9 class sub-folders.
    const data = join(tmp, 'ten-classes');
    for (let i = 0; i < 10; i++) {
      mkdirSync(join(data, `c${i}`), { recursive: true });
      copyFileSync(GRACE_HOPPER, join(data, `c${i}`, 'a.bmp'));
    }
    const other = cli('eval', 'resnet18', '--weights', tenDir, '--data', data);
    expect(other.stderr.trim()).to.equal(`cnn-zoo: ${tenDir} holds weights for "squeezenet1_1", not "resnet18". Use --model squeezenet1_1 (or leave the model out: the weights name it).`);
    const own = cli('eval', '--weights', tenDir, '--data', data);
    expect(own.status, own.stderr).to.equal(0);
    expect(own.stdout).to.match(/^squeezenet1_1 on ten-classes: top-1 10\.00% {2}top-5 50\.00% {2}\(10 of 10 images evaluated, 0 failed;/m);
    // The folder as the model argument, as load(DIR) takes it (it said: Unknown model "DIR". Closest names: ...).
    const asName = cli('eval', tenDir, '--data', data);
    expect(asName.status, asName.stderr).to.equal(0);
    expect(asName.stdout).to.match(/^squeezenet1_1 on ten-classes: top-1 10\.00% {2}top-5 50\.00%/m);
    const verified = cli('verify', tenDir);
    expect(verified.status, verified.stderr).to.equal(0);
    expect(verified.stdout + verified.stderr).to.include(`cnn-zoo verify squeezenet1_1: backend wasm`);
    expect(verified.stdout + verified.stderr).to.include(`weights ${tenDir} (`);
    expect(cli('eval', tenDir, '--weights', headlessDir, '--data', data).stderr.trim()).to.equal(
      `cnn-zoo: ${tenDir} holds converted weights, and --weights ${headlessDir} names others: give one of them.`);
    // info DIR: what the weights are (it said: Unknown model "DIR". Closest names: dpn107, ...), counted with their head.
    const about = cli('info', tenDir);
    expect(about.status, about.stderr).to.equal(0);
    expect(about.stdout).to.include(`converted weights ${tenDir}\n  model:       squeezenet1_1 at 64 px, 10 outputs\n  classes:     10: c0, c1, c2, c3, c4, c5, c6, c7, ...\n  source:      random\n`);
    expect(about.stdout).to.include('  input:       64x64x3 (default 224, min 17), 10 classes (default 1000)\n');
    expect(about.stdout).to.include(`  params:      ${1235496 - 513 * 990} (`);
    expect(cli('info', headlessDir).stdout).to.include('  model:       squeezenet1_1 at 64 px, 1000 outputs, without its classifier (includeTop: false, pooling avg)\n');
    // export --weights DIR alone (it said "export needs one model name, got 0"); features come out as "features".
    const exported = cli('export', '--weights', headlessDir, '--out', join(tmp, 'headless.onnx'));
    expect(exported.status, exported.stderr).to.equal(0);
    expect(exported.stdout).to.match(/^\S+headless\.onnx: squeezenet1_1 \(inference form\)[^\n]*\n[^\n]*\n {2}output features \[N,512\]$/m);
  });

  it('eval --crop-fraction and --interpolation evaluate with another crop or resampling, and the result says which ran', () => {
    const json = join(tmp, 'crop.json');
    const r = cli('eval', 'tf_mobilenet_v2_100', '--data', join(SHARED, 'imagenet', 'val-subset'), '--limit', '2', '--crop-fraction', '0.95', '--interpolation', 'bicubic', '--json', json);
    expect(r.status, r.stderr).to.equal(0);
    const result = JSON.parse(readFileSync(json, 'utf8')) as { preprocess: { cropFraction: number; interpolation: string; scale: number; size: number } };
    expect(result.preprocess).to.include({ cropFraction: 0.95, interpolation: 'bicubic', scale: 2 / 255, size: 224 });
    for (const [flag, value, line] of [['--crop-fraction', '0', 'cnn-zoo: --crop-fraction must be a number above 0 and at most 1 (0.875, 0.95), got "0".'],
      ['--interpolation', 'lanczos', 'cnn-zoo: --interpolation must be bilinear, bicubic or nearest, got "lanczos".']] as const) {
      const bad = cli('eval', 'tf_mobilenet_v2_100', '--data', join(SHARED, 'imagenet', 'val-subset'), flag, value);
      expect([bad.status, bad.stderr.trim(), bad.stdout]).to.deep.equal([1, line, '']);
    }
  });

  it('list --max-params (5e6, 5M, 500k) filters like list({ maxParams }), in the table, --json and --markdown', async () => {
    const { list } = await import('../src/api/index.js');
    const want = list({ maxParams: 1e6 }).map((c) => c.name);
    expect(want.length).to.be.within(2, 20);
    for (const v of ['1e6', '1M', '1000k']) {
      const r = cli('list', '--max-params', v, '--json');
      expect(r.status, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as { name: string }[]).map((c) => c.name), v).to.deep.equal(want);
    }
    const md = cli('list', '--max-params', '1M', '--markdown').stdout.trim().split('\n');
    expect(md.slice(2).map((l) => /^\| `([^`]+)`/.exec(l)![1])).to.deep.equal(want);
    expect(cli('list', '--max-params', 'lots').stderr).to.match(/^cnn-zoo: --max-params must be a positive count such as 5e6, 5M or 500k, got "lots"\./);
  });

  it('classify FOLDER takes the folder\'s image files in name order (not its sub-folders); a folder without images is one line', () => {
    const folder = join(tmp, 'photos');
    mkdirSync(join(folder, 'nested'), { recursive: true });
    copyFileSync(GRACE_HOPPER, join(folder, 'b.bmp'));
    copyFileSync(join(SHARED, 'images', 'parrot.jpg'), join(folder, 'a.JPG'));
    copyFileSync(GRACE_HOPPER, join(folder, 'nested', 'c.bmp'));
    writeFileSync(join(folder, 'notes.txt'), 'not an image\n');
    const empty = join(tmp, 'no-photos');
    mkdirSync(empty, { recursive: true });
    const r = cli('classify', folder, empty, GRACE_HOPPER, '--json', '--top', '1');
    expect(r.status).to.equal(1);
    const results = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { image: string; top: { label: string }[] }[];
    expect(results.map((x) => x.image)).to.deep.equal([join(folder, 'a.JPG'), join(folder, 'b.bmp'), GRACE_HOPPER]);
    expect(results[0]!.top[0]!.label).to.equal('macaw');
    expect(r.stderr.trim()).to.equal(`cnn-zoo: ${empty}: a folder without image files (JPEG, PNG, BMP, WebP, GIF, TIFF, AVIF). Pass image files, URLs or folders of images.`);
    // A folder of converted weights given as the image says where it goes.
    const weights = join(tmp, 'weights-folder');
    mkdirSync(weights, { recursive: true });
    writeFileSync(join(weights, 'model.json'), '{}');
    expect(cli('classify', weights).stderr.trim()).to.equal(`cnn-zoo: ${weights}: a folder without image files (JPEG, PNG, BMP, WebP, GIF, TIFF, AVIF). ` +
      `Pass image files, URLs or folders of images; it holds converted weights (model.json): cnn-zoo classify IMAGE... --weights ${weights}.`);
    // Images one level down (a dataset's DIR/images, class folders): the folders to pass are named.
    const dataset = join(tmp, 'dataset');
    mkdirSync(join(dataset, 'images'), { recursive: true });
    copyFileSync(GRACE_HOPPER, join(dataset, 'images', 'g.bmp'));
    writeFileSync(join(dataset, 'labels.txt'), 'g.bmp 652\n');
    expect(cli('classify', dataset).stderr.trim()).to.equal(`cnn-zoo: ${dataset}: a folder without image files (JPEG, PNG, BMP, WebP, GIF, TIFF, AVIF). ` +
      `Pass image files, URLs or folders of images; its sub-folders hold images, and classify reads only the folders it is given: cnn-zoo classify ${join(dataset, 'images')}.`);
    for (const c of ['a', 'b', 'c']) {
      mkdirSync(join(dataset, c));
      copyFileSync(GRACE_HOPPER, join(dataset, c, 'g.bmp'));
    }
    expect(cli('classify', dataset).stderr.trim().endsWith(`: cnn-zoo classify ${join(dataset, '*')} (its 4 folders).`)).to.equal(true);
    // No image there at all (a mistyped name): said before a model loads, so no model line (VGG-16 took 19 s to say it).
    const typo = join(tmp, 'grace_hoper.jpg');
    const none = cli('classify', typo, '--model', 'vgg16', '--weights', 'random');
    expect([none.status, none.stdout, none.stderr]).to.deep.equal([1, '', `cnn-zoo: ${typo}: cannot read the image (no such file). Check the path.\n`]);
  });

  it('errors use CLI syntax: --weights random, --model NAME --weights FILE', () => {
    const r = cli('classify', GRACE_HOPPER, '--model', 'resnet50');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('--weights imagenet').and.include('--weights random');
    cliSyntax(r.stderr);
    const lonely = join(tmp, 'one-image-class');
    for (const [cls, f] of [['a', 'parrot.jpg'], ['b', 'owl.jpg'], ['b', 'cat.bmp']] as const) {
      mkdirSync(join(lonely, cls), { recursive: true });
      copyFileSync(join(SHARED, 'images', f), join(lonely, cls, f));
    }
    const train = cli('train', lonely, '--model', 'squeezenet1_1', '--weights', 'random', '--input-size', '64', '--out', join(tmp, 'never'));
    expect(train.status).to.equal(1);
    expect(train.stderr).to.include('one to hold out; or --validation-split 0)');
    cliSyntax(train.stderr);
    const deep = cli('train', lonely, '--model', 'squeezenet1_1', '--weights', 'random', '--input-size', '64', '--validation-split', '0',
      '--fine-tune', '500', '--out', join(tmp, 'never'));
    expect([deep.status, deep.stderr.trim().split('\n').at(-1)]).to.deep.equal([1, 'cnn-zoo: --fine-tune 500 is more than the 25 backbone layers with weights of squeezenet1_1.']);
    let gradientsError = ''; // a backend without convolution gradients (none here: every Node backend has them)
    try { checkGradients('no-such-backend'); } catch (e) { gradientsError = (e as Error).message; }
    const noGradients = cliWording(gradientsError);
    expect(noGradients).to.include('Fine-tuning (--fine-tune) trains convolutions').and.include('Train the head only (leave out --fine-tune)')
      .and.include('or fine-tune on another backend (--backend NAME): wasm');
    cliSyntax(noGradients);
    expect(cli('info', 'inception_v3', '--input-size', '40').stderr).to.include('pass --input-size 75 or larger');
    // Sizes too large and a --global-pool that does not apply: flags, not inputSize / globalPool.
    expect(cli('info', 'inception_v3', '--input-size', '5000').stderr).to.include('pass --input-size 4096 or smaller (its default is 299)');
    const pool = cli('info', 'resnet18', '--input-size', '160', '--global-pool');
    expect(pool.stderr.trim()).to.equal('cnn-zoo: resnet18: --global-pool only applies to models whose reference head pools a fixed window; ' +
      "resnet18's head already takes every input size of at least 1 px. Drop --global-pool.");
    cliSyntax(pool.stderr);
    // onnxruntime-node missing (not so here): the fix is a flag.
    const noOrt = cliWording(missingRuntimeError(`load('tf_mobilenet_v2_100')`).message);
    expect(noOrt).to.include('(or use --runtime tfjs, or');
    cliSyntax(noOrt);
    const unknownFile = cli('classify', GRACE_HOPPER, '--weights', SQUEEZE_PTH);
    expect(unknownFile.status).to.equal(1);
    expect(unknownFile.stderr).to.include(`--model NAME --weights ${SQUEEZE_PTH}`);
    cliSyntax(unknownFile.stderr);
  });

  it('export and train take the --weights random that the missing-weights error suggests (they read it as a folder named "random")', () => {
    const data = join(tmp, 'two-classes');
    for (const [cls, files] of [['birds', ['parrot.jpg', 'owl.jpg']], ['other', ['hot_dog.jpg', 'cat.bmp', 'grace_hopper.bmp']]] as const) {
      mkdirSync(join(data, cls), { recursive: true });
      for (const f of files) copyFileSync(join(SHARED, 'images', f), join(data, cls, f));
    }
    for (const args of [['export', 'resnet50', '--out', join(tmp, 'r50.onnx')], ['train', data, '--model', 'resnet50', '--out', join(tmp, 'clf')]]) {
      const r = cli(...args);
      expect(r.status, args[0]).to.equal(1);
      expect(r.stderr, args[0]).to.include('--weights random');
      cliSyntax(r.stderr);
    }
    const onnx = join(tmp, 'random.onnx');
    const exported = cli('export', 'squeezenet1_1', '--weights', 'random', '--input-size', '64', '--out', onnx);
    expect(exported.status, exported.stderr).to.equal(0);
    expect(exported.stdout).to.include('[N,64,64,3]');
    expect(readFileSync(onnx).length).to.be.greaterThan(4e6);
    const trained = cli('train', data, '--model', 'squeezenet1_1', '--weights', 'random', '--input-size', '64', '--epochs', '1', '--out', join(tmp, 'from-scratch'));
    expect(trained.status, trained.stderr).to.equal(0);
    expect(trained.stdout + trained.stderr).to.include('base squeezenet1_1 (random weights)');
    const classified = cli('classify', GRACE_HOPPER, '--weights', join(tmp, 'from-scratch'), '--top', '1');
    expect(classified.status, classified.stderr).to.equal(0);
    expect(classified.stdout).to.match(/\b(birds|other)\n/);
  });

  it('train takes the images in sub-folders of a class folder (as ImageFolder does) and says what it leaves out', () => {
    const data = join(tmp, 'nested-classes');
    const files: [string, string][] = [['cat/cat.bmp', 'cat.bmp'], ['cat/grace_hopper.bmp', 'grace_hopper.bmp'], ['dog/owl.jpg', 'owl.jpg'],
      ['dog/2019/parrot.jpg', 'parrot.jpg'], ['bird/a/hot_dog.jpg', 'hot_dog.jpg'], ['bird/a/b/bird.bmp', 'bird.bmp'], ['loose.jpg', 'owl.jpg']];
    for (const [to, from] of files) {
      mkdirSync(join(data, to, '..'), { recursive: true });
      copyFileSync(join(SHARED, 'images', from), join(data, to));
    }
    mkdirSync(join(data, 'empty'));
    writeFileSync(join(data, 'dog', 'notes.txt'), 'not an image');
    writeFileSync(join(data, 'cat', 'IMG_0001.HEIC'), 'not decoded');
    symlinkSync('..', join(data, 'bird', 'a', 'loop')); // a link that loops is walked once
    const r = cli('train', data, '--model', 'squeezenet1_1', '--weights', 'random', '--input-size', '64', '--epochs', '1', '--out', join(tmp, 'nested-out'));
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).to.match(/^3 classes \(bird, cat, dog\), 6 images; base squeezenet1_1/);
    expect(lines.slice(1, 5)).to.deep.equal([
      `not used in ${data}: 1 file beside the class folders (loose.jpg; an image goes in the folder of its class)`,
      `not used in ${data}: 1 folder without images (empty/; not a class)`,
      `not used in ${data}: 1 file that is not an image (dog/notes.txt; images are JPEG, PNG, BMP, WebP, GIF, TIFF, AVIF)`,
      `not used in ${data}: 1 HEIC photo (cat/IMG_0001.HEIC; no decoder here reads HEIC: convert to JPEG, on macOS sips -s format jpeg IN.heic --out OUT.jpg)`,
    ]);
    expect(r.stdout).to.include('3 training images (9 examples with augmented copies), 3 held out');
    // eval reads class folders the same way.
    const e = cli('eval', '--weights', join(tmp, 'nested-out'), '--data', data, '--per-class');
    expect(e.status, e.stderr).to.equal(0);
    expect(e.stdout).to.include('dataset nested-classes (class-folders): 6 images, 0 problems');
    // The per-class table names the classifier's classes once (its "wnid" column repeated each name).
    expect(e.stdout).to.match(/^class +name +images +top-1 % +top-5 %$/m).and.match(/^0 +bird +\d+ /m);
    // A folder holding the class folders one level down is one class, and the error names the folder to give.
    const wrapped = join(tmp, 'wrapped');
    for (const c of ['cat', 'dog']) {
      mkdirSync(join(wrapped, 'images', c), { recursive: true });
      copyFileSync(join(SHARED, 'images', 'owl.jpg'), join(wrapped, 'images', c, 'owl.jpg'));
    }
    const one = cli('train', wrapped, '--model', 'squeezenet1_1', '--weights', 'random', '--out', join(tmp, 'never'));
    expect(one.status).to.equal(1);
    expect(one.stderr).to.include(`images of one class only (images); training needs one sub-folder of images per class`)
      .and.include(`Its sub-folder images holds folders: give the one with the class folders (${join(wrapped, 'images')}).`);
  });

  it('classify --model NAME --weights FILE.pth converts the checkpoint into the cache and classifies; --weights random runs', () => {
    const r = cli('classify', GRACE_HOPPER, '--model', 'squeezenet1_1', '--weights', SQUEEZE_PTH, '--top', '1');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^squeezenet1_1 \(torch float32\) on onnxruntime-node/);
    expect(readdirSync(join(cache, 'models', 'squeezenet1_1'))[0]).to.match(/^file-[0-9a-f]{16}-float32-v2$/);
    const random = cli('classify', GRACE_HOPPER, '--model', 'squeezenet1_1', '--weights', 'random', '--top', '1');
    expect(random.status, random.stderr).to.equal(0);
    expect(random.stdout).to.match(/^squeezenet1_1 \(random weights\)/);
  });

  it('cache lists what the cache holds and removes a model\'s entries, or all, keeping what a fetch is writing', () => {
    const dir = join(tmp, 'cache-command');
    const run = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args],
      { encoding: 'utf8', cwd: ROOT, env: { ...process.env, CNN_ZOO_CACHE: dir, CNN_ZOO_MIRROR: '' } });
    expect(run('cache').stdout).to.equal(`cache ${dir}: 0 entries, 0.0 MB\n`);
    const classified = run('classify', GRACE_HOPPER, '--model', 'squeezenet1_1', '--weights', SQUEEZE_PTH, '--top', '1');
    expect(classified.status, classified.stderr).to.equal(0);
    // A download a running fetch is writing (its lock beside it), and a kept one.
    const r18 = resolveCheckpoint('resnet18').file, vgg = resolveCheckpoint('vgg16').file;
    mkdirSync(join(dir, 'downloads'));
    writeFileSync(join(dir, 'downloads', `${r18}.part`), 'partial');
    writeFileSync(join(dir, 'downloads', `${r18}.lock`), JSON.stringify({ host: 'elsewhere', pid: 1, since: new Date(0).toISOString() }));
    writeFileSync(join(dir, 'downloads', vgg), 'kept');
    const listed = run('cache', '--json');
    expect(listed.status, listed.stderr).to.equal(0);
    const { cache, entries } = JSON.parse(listed.stdout) as { cache: string; entries: { kind: string; arch?: string; path: string; bytes: number; checkpoint?: string; written?: string; busy?: string }[] };
    expect(cache).to.equal(dir);
    const model = readdirSync(join(dir, 'models', 'squeezenet1_1'))[0]!;
    const modelBytes = readdirSync(join(dir, 'models', 'squeezenet1_1', model)).reduce((n, f) => n + readFileSync(join(dir, 'models', 'squeezenet1_1', model, f)).length, 0);
    // onnxruntime's optimized form of the export, for this machine (src/onnx/runtime.ts openCached), in the cache's onnx/:
    // a folder of the graph and its weights, counted together.
    const [optimized, ...others] = readdirSync(join(dir, 'onnx', 'squeezenet1_1'));
    expect([optimized, others]).to.satisfy(([o, rest]: [string, string[]]) => /^[0-9a-f]{32}\.ort-[\w.-]+-[0-9a-f]{12}$/.test(o) && rest.length === 0);
    const optimizedDir = join(dir, 'onnx', 'squeezenet1_1', optimized!);
    expect(readdirSync(optimizedDir).sort()).to.deep.equal(['model.onnx', 'model.onnx.data']);
    const optimizedBytes = readdirSync(optimizedDir).reduce((n, f) => n + readFileSync(join(optimizedDir, f)).length, 0);
    expect(entries).to.deep.equal([
      { kind: 'model', arch: 'squeezenet1_1', path: `models/squeezenet1_1/${model}`, bytes: modelBytes, checkpoint: 'file:squeezenet1_1.pth', dtype: 'float32',
        written: entries[0]!.written },
      { kind: 'optimized', arch: 'squeezenet1_1', path: `onnx/squeezenet1_1/${optimized}`, bytes: optimizedBytes },
      { kind: 'unfinished', arch: 'resnet18', path: `downloads/${r18}.part`, bytes: 7, busy: `a fetch holds downloads/${r18}.lock` },
      { kind: 'download', arch: 'vgg16', path: `downloads/${vgg}`, bytes: 4 },
    ]);
    expect(readdirSync(join(dir, 'models', 'squeezenet1_1', model))).to.include('model.onnx'); // the export beside the weights counts in their size
    const text = run('cache', 'squeezenet1_1').stdout.split('\n');
    const both = (modelBytes + optimizedBytes) / 1e6;
    expect(text[0]).to.equal(`cache ${dir}: 2 entries of squeezenet1_1, ${both.toFixed(1)} MB`);
    expect(text[3]).to.match(new RegExp(`^squeezenet1_1 +converted +file:squeezenet1_1\\.pth +float32 +${(modelBytes / 1e6).toFixed(1)} MB +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d +models/squeezenet1_1/${model}$`));
    expect(text[4]).to.match(new RegExp(`^squeezenet1_1 +ONNX optimized \\(this machine\\) +- +- +${(optimizedBytes / 1e6).toFixed(1)} MB +- +onnx/squeezenet1_1/${optimized!.replace(/\./g, '\\.')}$`));
    expect(text[5]).to.equal('Remove: cnn-zoo cache squeezenet1_1 --remove (fetched, converted or exported again when next needed).');
    expect(run('cache', 'squeezenet1_1', '--remove').stdout).to.equal(`removed 2 of 2 entries of squeezenet1_1 from ${dir} (${both.toFixed(1)} MB)\n`);
    expect(readdirSync(join(dir, 'models', 'squeezenet1_1'))).to.deep.equal([]);
    expect(readdirSync(join(dir, 'onnx', 'squeezenet1_1'))).to.deep.equal([]);
    expect(run('cache', 'all', '--remove').stdout).to.equal(`removed 1 of 2 entries from ${dir} (0.0 MB)\n  kept downloads/${r18}.part: a fetch holds downloads/${r18}.lock\n`);
    expect(readdirSync(join(dir, 'downloads')).sort()).to.deep.equal([`${r18}.lock`, `${r18}.part`]);
    const bare = run('cache', '--remove');
    expect([bare.status, bare.stderr.split('\n')[0]]).to.deep.equal([1, 'cnn-zoo: --remove needs what to remove: a model name, or all.']);
    for (const verb of ['clear', 'rm', 'purge']) { // other tools' cache verbs name the option, not an unknown model
      const r = run('cache', verb);
      expect([r.status, r.stderr.split('\n')[0]]).to.deep.equal([1,
        `cnn-zoo: cache takes a model name or all, not "${verb}": \`cnn-zoo cache\` lists everything, \`cnn-zoo cache all --remove\` (or NAME --remove) removes.`]);
    }
  });

  it('classify --mirror DIR reads the published file from the folder (and its hash is checked)', () => {
    const c = resolveCheckpoint('squeezenet1_1');
    const mirror = join(tmp, 'mirror');
    mkdirSync(mirror, { recursive: true });
    copyFileSync(SQUEEZE_PTH, join(mirror, c.file)); // not the published bytes: verification must refuse it
    const r = cli('classify', GRACE_HOPPER, '--model', 'squeezenet1_1', '--weights', 'imagenet', '--mirror', mirror);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include(`${c.file} (from ${pathToFileURL(join(mirror, c.file)).href}) failed verification`);
    expect(r.stderr).not.to.match(/Unknown option|not an http/);
  });

  it('train and report name each argument that is missing (train said "train needs DATA, --model and --out" for any of them)', () => {
    const first = (r: { stderr: string }) => r.stderr.split('\n')[0];
    expect(first(cli('train', tmp, '--model', 'squeezenet1_1'))).to.equal('cnn-zoo: train is missing --out DIR.');
    expect(first(cli('train', '--out', join(tmp, 'never')))).to.equal('cnn-zoo: train is missing DATA (a folder with one sub-folder of images per class), --model NAME.');
    expect(first(cli('train', tmp, tmp, '--model', 'squeezenet1_1', '--out', join(tmp, 'never'))))
      .to.equal(`cnn-zoo: train takes one DATA folder (one sub-folder of images per class), got ${tmp}, ${tmp}.`);
    expect(first(cli('report', '--out', join(tmp, 'never')))).to.equal('cnn-zoo: report is missing the RESULTS.json files (from cnn-zoo bench --json or eval --json).');
    expect(first(cli('report', join(tmp, 'results.json')))).to.equal('cnn-zoo: report is missing --out DIR.');
  });

  it('convert names what is missing, reads --from from a file\'s first bytes, and refuses one they contradict; --backend lists the backends that run in Node', () => {
    const r = cli('convert', '--arch', 'squeezenet1_1', SQUEEZE_PTH);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/convert is missing --out DIR\./);
    const onnx = join(SHARED, 'weights', 'onnx-mobilenetv2-int8', readdirSync(join(SHARED, 'weights', 'onnx-mobilenetv2-int8')).find((f) => f.endsWith('.onnx'))!);
    expect(cli('convert', '--arch', 'mobilenet_v2', onnx).stderr).to.match(/convert is missing --from torch\|[a-z|]+, --out DIR\./);
    // A path that is not there is said as such (it was "convert is missing --from ...": no bytes to name the format).
    const absent = join(tmp, 'no-such.pth');
    expect(cli('convert', '--arch', 'resnet18', absent, '--out', join(tmp, 'never')).stderr).to.equal(`cnn-zoo: Cannot read "${absent}" (ENOENT). Check the path.\n`);
    // It said: "squeezenet1_1.pth: not a valid ONNX protobuf (illegal tag: field number 0)".
    const wrong = cli('convert', '--arch', 'squeezenet1_1', '--from', 'onnx', SQUEEZE_PTH, '--out', join(tmp, 'never'));
    expect([wrong.status, wrong.stderr.trim()]).to.deep.equal([1, `cnn-zoo: ${SQUEEZE_PTH} is a torch checkpoint by its first bytes, not onnx: --from torch (or leave --from out).`]);
    const ok = cli('convert', '--arch', 'squeezenet1_1', SQUEEZE_PTH, '--out', join(tmp, 'sniffed'));
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/^squeezenet1_1: 52 weights from torch /);
    const gl = cli('parity', fixturePath('squeezenet1_1'), '--backend', 'webgl');
    expect(gl.status).to.equal(1);
    expect(gl.stderr).to.include('WebGL runs in browsers only. Backends in Node: tensorflow, webgpu, wasm, cpu');
  });

  it('parity prints column headers above its rows', () => {
    const r = cli('parity', fixturePath('squeezenet1_1'));
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.split('\n');
    expect(lines[1]).to.match(/^fixture \(input HxW\)\s+max_rel_err\s+tolerance\s+result/);
    expect(lines[2]).to.match(/^squeezenet1_1 224x224\s+\S+\s+\S+\s+PASS/);
    // A model name said: Cannot read fixture "squeezenet1_1": ENOENT.
    const named = cli('parity', 'squeezenet1_1');
    expect([named.status, named.stdout.split('\n')[2]]).to.deep.equal([1,
      'squeezenet1_1  ERROR  squeezenet1_1 is a model name; parity takes fixture files (FIXTURE.json.gz). cnn-zoo verify squeezenet1_1 runs that model\'s fixtures.']);
  });

  it('every command has --help with its usage; classify\'s names --weights imagenet; `help CMD` is `CMD --help`', async () => {
    const commands = readdirSync(join(ROOT, 'src', 'cli', 'commands')).map((f) => f.replace(/\.ts$/, ''));
    for (const name of commands) {
      const { usage } = await import(`../src/cli/commands/${name}.js`) as { usage: string };
      expect(usage, name).to.match(new RegExp(`^cnn-zoo ${name} `));
    }
    const r = cli('classify', '--help');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/^Usage: cnn-zoo classify IMAGE/).and.include('--weights imagenet').and.include('--mirror');
    expect(cli('help', 'fetch').stdout).to.match(/^Usage: cnn-zoo fetch NAME/);
    // Each flag of these commands' usage line is explained below it (export --help was the usage line alone), but for
    // the ones every command shares.
    const shared = new Set(['--backend', '--model', '--models', '--out', '--input-size', '--global-pool', '--batch']);
    for (const name of ['export', 'fetch', 'convert', 'verify', 'bench', 'train']) {
      const { usage } = await import(`../src/cli/commands/${name}.js`) as { usage: string };
      const [line, ...rest] = usage.split('\n');
      const unexplained = [...new Set(line!.match(/--[a-z0-9-]+/g))].filter((f) => !shared.has(f) && !rest.join('\n').includes(f));
      expect(unexplained, `cnn-zoo ${name} --help`).to.deep.equal([]);
    }
  });

  it('fetch --list agrees with the model cards and points to docs that ship in the package', () => {
    const r = cli('fetch', '--list', 'resnet50');
    expect(r.status, r.stderr).to.equal(0);
    const card = list().find((c) => c.name === 'resnet50')!;
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('resnet50 '));
    expect(rows.map((l) => l.split(/\s+/)[1])).to.deep.equal(card.weights.published);
    expect(rows[0]).to.include(`${card.weights.imagenet!.id} *`).and.include(String(card.weights.imagenet!.top1));
    const docs = [...r.stdout.matchAll(/\b(docs\/[\w.-]+\.md|README\.md)\b/g)].map((m) => m[1]!);
    expect(docs).to.include('docs/WEIGHTS.md');
    for (const doc of docs) expect(PKG.files, doc).to.include(doc);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).to.match(/^### Weights without internet$/m);
  });

  it('image bytes without a name are named in errors by their place in the batch and their size (not "image:")', async () => {
    const good = new Uint8Array(readFileSync(GRACE_HOPPER));
    let err: unknown;
    try { await toRgbImages([good, new Uint8Array([1, 2, 3])]); } catch (e) { err = e; }
    expect((err as Error).name).to.equal('CnnZooError'); // (the decoder is imported lazily, as its own module instance under tsx)
    expect((err as Error).message).to.match(/^image \[1\] \(3 bytes\): not a readable image/);
    err = undefined;
    try { await toRgbImages(new Uint8Array([1, 2, 3, 4])); } catch (e) { err = e; }
    expect((err as Error).message).to.match(/^image \(4 bytes\): /);
  });

  it('a tfjs model that cnn-zoo did not write says what it is and how to use its weights (was "no cnn-zoo metadata")', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { load, nodeFileSystem } = await import('../src/index.js');
    const layersDir = join(tmp, 'layers-model'), graphDir = join(tmp, 'graph-model');
    for (const d of [layersDir, graphDir]) mkdirSync(d);
    const net = tf.sequential({ name: 'my_net', layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    await net.save(nodeFileSystem(layersDir));
    net.dispose();
    writeFileSync(join(graphDir, 'model.json'), JSON.stringify({ format: 'graph-model', generatedBy: '2.15.0', convertedBy: 'TensorFlow.js Converter v4.17.0',
      modelTopology: { node: [] }, weightsManifest: [] }));
    const layers = `${layersDir}: a tfjs layers model ("my_net") that cnn-zoo did not write: no cnn-zoo metadata (userDefinedMetadata.cnnZoo) names its ` +
      'architecture and preprocessing. To use its weights in a zoo model: `cnn-zoo convert --arch NAME --from tfjs MODEL.json --out DIR` (its layers matched by name or order)';
    const graph = (fix: string) => `${graphDir}: a tfjs graph model (tensorflowjs_converter's output of a SavedModel or frozen graph), which has no layers to ` +
      `build a zoo model from and no cnn-zoo metadata (userDefinedMetadata.cnnZoo): ${fix}convert the original checkpoint (Keras .h5, TFLite, ONNX, PyTorch, ...) ` +
      'with `cnn-zoo convert --arch NAME CHECKPOINT --out DIR`.';
    const refused = async (p: Promise<unknown>) => p.then(() => 'loaded', (e: Error) => e.message);
    expect(await refused(load(layersDir))).to.equal(`${layers}; to run it as it is, tf.loadLayersModel.`);
    expect(await refused(load('resnet18', { weights: join(layersDir, 'model.json') }))).to.equal(`${join(layersDir, 'model.json')}${layers.slice(layersDir.length)}; to run it as it is, tf.loadLayersModel.`);
    expect(await refused(load(graphDir))).to.equal(graph('run it with tf.loadGraphModel, or '));
    // The CLI says the same without the code.
    const classify = cli('classify', GRACE_HOPPER, '--weights', layersDir);
    expect([classify.status, classify.stderr.trim().split('\n').at(-1)]).to.deep.equal([1, `cnn-zoo: ${layers}.`]);
    const info = cli('info', graphDir);
    expect([info.status, info.stderr.trim().split('\n').at(-1)]).to.deep.equal([1, `cnn-zoo: ${graph('')}`]);
  });
});
