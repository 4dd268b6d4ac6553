/**
 * The README's browser snippet ("Web app") as written, in Debian's Chromium (headless, no GPU): the snippet is
 * bundled with esbuild against the package's browser build (`cnn-zoo` resolved through its `exports`, `browser`
 * condition, like a user's bundler), served on 127.0.0.1 with the shipped weights at /models/ and tfjs's wasm
 * binaries at /wasm/, and its top 5 for the photo in examples/images must be Node's. Without a GPU, WebGL is a
 * software renderer (SwiftShader) or absent: `useBackend()` must not take it, and pickBackend() says why.
 *
 * A user's own Vite app importing cnn-zoo builds without warnings (the HDF5 worker's
 * `new URL('./h5-worker.js', import.meta.url)` once made Vite warn that the file does not exist).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ROOT } from './helpers/shared.js';
import { bundleApp, linkPackage } from './helpers/bundle-app.js';
import { serve } from './helpers/serve.js';
import { launchChromium, pageResult } from './helpers/page-result.js';
import { CHROMIUM_PATH } from '../src/parity/runtimes.js';

const CHROMIUM = CHROMIUM_PATH();
const WORK = join(ROOT, 'test-artifacts', 'readme-browser');
const PHOTO = join(ROOT, 'examples', 'images', 'grace_hopper.jpg');
const WASM_DIR = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');

/** The first ```js block of the README's "## Web app" section. */
function browserSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.search(/^## Web app\s*$/m);
  expect(start, 'README.md has a "## Web app" section').to.be.at.least(0);
  const rest = readme.slice(start + 3);
  const section = rest.slice(0, rest.search(/^## /m) >>> 0);
  const m = /^```js\n([\s\S]*?)^```\s*$/m.exec(section);
  expect(m, 'a ```js block in "## Web app"').to.not.equal(null);
  return m![1]!;
}


describe('README browser snippet in Chromium (as written)', function () {
  this.timeout(240_000);
  let browser: Browser | undefined;
  let site: Awaited<ReturnType<typeof serve>> | undefined;

  before(async () => {
    expect(existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (CI installs it: apt-get install -y chromium)`).to.equal(true);
    expect(existsSync(join(ROOT, 'dist', 'browser', 'cnn-zoo.js')), 'the browser build (npm run build)').to.equal(true);
    // The snippet unchanged, then what the test reads back (after its last line, in the same module).
    const app = await bundleApp(WORK, `${browserSnippet()}
const tfjs = await import('@tensorflow/tfjs');
const backend = tfjs.getBackend();
const { pickBackend } = await import('cnn-zoo');
const webgl = (await pickBackend({ order: ['webgl', 'cpu'] })).reasons.webgl ?? '';
window.__result = { top5, backend, webgl };
`);
    writeFileSync(join(WORK, 'out', 'index.html'),
      '<!doctype html><img src="/grace_hopper.jpg" onload="import(\'/app.js\')" onerror="window.__result = { error: \'photo\' }">');
    site = await serve({ '/': join(WORK, 'out', 'index.html'), '/app.js': app, '/grace_hopper.jpg': PHOTO,
      '/models/': join(ROOT, 'models'), '/wasm/': WASM_DIR });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise((ok) => (site ? site.server.close(ok) : ok(undefined)));
  });

  it('classifies the photo with the shipped weights at /models/ (root-relative URL) on wasm, never on software WebGL', async () => {
    const { result, errors } = await pageResult<{ top5: { label: string; probability: number }[]; backend: string; webgl: string }>(browser!, `${site!.url}/`);
    expect(errors, 'page errors').to.deep.equal([]);
    expect(result, 'the snippet finished').to.not.equal(undefined);
    console.log(`      ${result!.backend}; webgl: ${result!.webgl}; top 5: ${result!.top5.map((p) => `${p.label} ${(100 * p.probability).toFixed(1)}%`).join(', ')}`);
    expect(result!.backend).to.equal('wasm');
    expect(result!.webgl).to.match(/software renderer|no WebGL context/);
    // Node's top 5 for the same file (README "Classify a photo"): sharp and Chromium decode the JPEG alike.
    expect(result!.top5.map((p) => p.label)).to.deep.equal(['mortarboard', 'military uniform', 'academic gown', 'comic book', 'suit']);
    const node = [0.3611, 0.2683, 0.2087, 0.0372, 0.0248];
    result!.top5.forEach((p, i) => expect(p.probability).to.be.closeTo(node[i]!, 0.005));
  });
});

describe('a user\'s Vite app importing cnn-zoo', function () {
  this.timeout(180_000);

  it('builds without warnings', () => {
    const app = join(ROOT, 'test-artifacts', 'vite-user-app');
    linkPackage(app);
    writeFileSync(join(app, 'index.html'), '<!doctype html><img id="photo" src="photo.jpg"><script type="module" src="./main.js"></script>');
    copyFileSync(PHOTO, join(app, 'photo.jpg'));
    writeFileSync(join(app, 'main.js'), `import { load, useBackend } from 'cnn-zoo';
await useBackend();
const model = await load('tf_mobilenet_v2_100', { weights: '/models/tf_mobilenet_v2_100/' });
console.log(await model.classify(document.getElementById('photo')));
`);
    // tfjs alone is over Vite's 500 kB chunk warning (README "Web app" says to raise it).
    writeFileSync(join(app, 'vite.config.js'), 'export default { build: { chunkSizeWarningLimit: 4096 } };\n');
    const res = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', join(app, 'dist'), '--emptyOutDir'],
      { cwd: app, encoding: 'utf8', timeout: 170_000 });
    const output = `${res.stdout}\n${res.stderr}`;
    expect(res.status, output).to.equal(0);
    expect(output.split('\n').filter((l) => /\(!\)|warn|does not exist|doesn't exist/i.test(l)), output).to.deep.equal([]);
  });
});
