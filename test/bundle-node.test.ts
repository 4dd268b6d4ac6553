/**
 * cnn-zoo bundled into a Node app (esbuild `--bundle --platform=node`, as serverless functions and Electron apps are
 * built): bundled in, its code no longer sits beside its `models/` folder, so `load()` of the shipped model must say
 * so and name the fixes (keep cnn-zoo external; pass `weights:` the folder), and each fix must work. Before, the
 * error was "Cannot read model.json at .../models/tf_mobilenet_v2_100/ (ENOENT)", a path the app never named.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { linkPackage } from './helpers/bundle-app.js';
import { ROOT, SHARED } from './helpers/shared.js';

const WORK = join(ROOT, 'test-artifacts', 'node-bundle'); // inside the checkout: the app's dependencies resolve from its node_modules
const GRACE = join(SHARED, 'images', 'grace_hopper.bmp');
const APP = `import { load } from 'cnn-zoo';
try {
  const model = await load(process.env.MODEL || 'tf_mobilenet_v2_100', { runtime: 'tfjs', weights: process.env.WEIGHTS || undefined });
  console.log(JSON.stringify((await model.classify(process.argv[2], { topK: 1 }))[0]));
} catch (e) {
  console.log(JSON.stringify({ code: e.code, message: e.message }));
}
`;

/** The app bundled into `out/NAME.mjs`: cnn-zoo bundled in (its dependencies external), or external as a whole. */
async function bundle(name: string, cnnZoo: 'bundled' | 'external'): Promise<string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
  const outfile = join(WORK, 'out', `${name}.mjs`);
  await build({ entryPoints: [join(WORK, 'app.mjs')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
    ...(cnnZoo === 'external' ? { packages: 'external' as const } : { external: deps.flatMap((d) => [d, `${d}/*`]) }) });
  return outfile;
}

const run = (app: string, env: Record<string, string> = {}): { code?: string; message?: string; label?: string } =>
  JSON.parse(execFileSync(process.execPath, [app, GRACE], { cwd: WORK, encoding: 'utf8', env: { ...process.env, CNN_ZOO_QUIET: '1', ...env } }).trim().split('\n').at(-1)!);

describe('cnn-zoo in a Node bundle (esbuild)', function () {
  this.timeout(180_000);
  before(() => {
    linkPackage(WORK);
    writeFileSync(join(WORK, 'app.mjs'), APP);
  });

  it('bundled in: the shipped model says where it looked and how to fix it, and weights: the folder works', async () => {
    const app = await bundle('bundled', 'bundled');
    const r = run(app);
    expect(r.code, JSON.stringify(r)).to.equal('SHIPPED_WEIGHTS_UNREADABLE');
    expect(r.message).to.match(/^The weights cnn-zoo ships for "tf_mobilenet_v2_100" are not where its code looks for them \(Nothing is at ".*\/models\/tf_mobilenet_v2_100\/"\), as happens when a bundler/);
    expect(r.message).to.include('keep cnn-zoo external (esbuild --packages=external or --external:cnn-zoo; webpack externals)');
    expect(r.message).to.include('pass weights: the path of node_modules/cnn-zoo/models/tf_mobilenet_v2_100/');
    expect(run(app, { WEIGHTS: join(ROOT, 'models', 'tf_mobilenet_v2_100') }).label).to.equal('mortarboard');
  });

  it('kept external (--packages=external): the shipped model loads', async () => {
    expect(run(await bundle('external', 'external')).label).to.equal('mortarboard');
  });

  it('a Keras .h5 checkpoint: bundled in, the HDF5 worker\'s missing file is named with the fix (it said the .h5 was corrupt); external, it converts', async () => {
    const h5 = join(SHARED, 'weights', 'keras-mobilenet_v1_0.25_224', 'mobilenet_v1_0.25_224.h5');
    const env = () => ({ MODEL: 'keras_mobilenet_v1_025', WEIGHTS: h5, CNN_ZOO_CACHE: mkdtempSync(join(tmpdir(), 'cnn-zoo-bundle-cache-')) });
    const bundled = run(await bundle('bundled-h5', 'bundled'), env());
    expect(bundled.code, JSON.stringify(bundled)).to.equal('H5_WORKER');
    expect(bundled.message).to.match(/^Cannot read mobilenet_v1_0\.25_224\.h5: the worker thread that reads Keras \.h5 files did not start \(.*h5-worker\.js.*\)\. Where cnn-zoo is bundled into an app, keep it external/);
    expect(bundled.message).to.not.include('corrupt');
    const external = run(await bundle('external-h5', 'external'), env());
    expect(external.code, JSON.stringify(external)).to.equal(undefined);
    expect(external.label).to.be.a('string');
  });
});
