/**
 * fit() in Chromium (issue 17, item 4): the browser bundle (built from src/ like dist/browser/cnn-zoo.js) in
 * headless Chromium loads the shipped MobileNet v2 with a new head, `load(base, { classes, weights: url })`, on
 * wasm (whose convolution gradient kernels src/kernels registers: wasm has none of its own), fits it on labelled
 * images in memory (an <img>, ImageData and a pixel tensor per class: the `{ classes, items }` form of
 * `TrainingData`), head then the backbone's last layers end to end, and the loss falls; classify() then names the
 * new classes, and no tensor is left behind. Work is bounded by images and steps (3 classes x 3 images, batch 4).
 * The same fit on WebGL over SwiftShader (Chromium's software rasterizer) passed in 167 s against wasm's 16 s
 * (measured once, docs/PERFORMANCE.md "Training"): too slow for CI, so only wasm runs here.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBrowserBundle } from '../tools/build-browser.mjs';
import { ROOT, SHARED } from './helpers/shared.js';
import { serve, type Site } from './helpers/serve.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WORK = join(ROOT, 'test-artifacts', 'train-browser');
const WASM_DIR = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
/** Three images per class to train on, a fourth to classify (ImageNet samples of shared/imagenet/one-per-class). */
const CLASSES: Record<string, string[]> = {
  beetle: ['n02165105_tiger_beetle', 'n02165456_ladybug', 'n02167151_ground_beetle', 'n02168699_long-horned_beetle'],
  dog: ['n02085620_Chihuahua', 'n02085782_Japanese_spaniel', 'n02085936_Maltese_dog', 'n02086079_Pekinese'],
  fish: ['n01440764_tench', 'n01443537_goldfish', 'n01484850_great_white_shark', 'n01491361_tiger_shark'],
};

/** What the page reports back. */
interface PageResult {
  backend: string;
  kernels: Record<string, boolean>;
  epochs: { phase: string; epoch: number; loss: number; accuracy: number }[];
  phases: string[];
  changed: boolean;
  top: { label: string; probability: number }[][];
  reloaded: { label: string; probability: number }[][];
  refused: string;
  tensorsBefore: number;
  tensorsAfter: number;
}

/** The page: fit on in-memory images with the bundle, in the page's own module (tfjs shared with the bundle). */
const ENTRY = `
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { load, useBackend } from './lib/cnn-zoo.js';

const GRADIENTS = ['Conv2DBackpropInput', 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'];
const image = (src) => new Promise((ok, fail) => { const i = new Image(); i.onload = () => ok(i); i.onerror = () => fail(new Error(src)); i.src = src; });
function imageData(img) {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  return g.getImageData(0, 0, c.width, c.height);
}

window.runFit = async (backend, classes) => {
  setWasmPaths('/wasm/');
  await useBackend(backend);
  const kernels = Object.fromEntries(GRADIENTS.map((k) => [k, tf.getKernel(k, tf.getBackend()) !== undefined]));
  const names = Object.keys(classes);
  const items = [], queries = [], tensors = [];
  for (const [label, files] of Object.values(classes).entries()) {
    const imgs = await Promise.all(files.map((f) => image('/images/' + f + '.JPEG')));
    const pixels = tf.browser.fromPixels(imgs[2]);
    tensors.push(pixels);
    items.push({ image: imgs[0], label }, { image: imageData(imgs[1]), label }, { image: pixels, label });
    queries.push(imgs[3]);
  }
  const tensorsBefore = tf.memory().numTensors;
  const clf = await load('tf_mobilenet_v2_100', { classes: names, weights: '/models/tf_mobilenet_v2_100/' });
  // getWeights() gives the variables themselves: read, never dispose.
  const kernel = () => clf.model.getLayer('MobilenetV2.expanded_conv_16.depthwise').getWeights()[0].data();
  const before = await kernel();
  const phases = [];
  const history = await clf.fit({ classes: names, items }, {
    epochs: 4, fineTune: 8, fineTuneEpochs: 3, fineTuneLearningRate: 1e-4, augment: 0, validationSplit: 0, batchSize: 4,
    onProgress: (p) => { if (phases.at(-1) !== p.phase) phases.push(p.phase); },
  });
  const after = await kernel();
  const changed = before.some((v, i) => v !== after[i]);
  const top = await clf.classify(queries, { topK: 3 });
  // Saved into IndexedDB and loaded back by its URL, as a web app keeps a classifier between visits.
  await clf.save('indexeddb://cnn-zoo-test/classifier');
  const again = await load('indexeddb://cnn-zoo-test/classifier');
  const reloaded = await again.classify(queries, { topK: 3 });
  again.dispose();
  const refused = await clf.save('my-classifier').then(() => 'saved', (e) => e.message);
  clf.dispose();
  const tensorsAfter = tf.memory().numTensors;
  tf.dispose(tensors);
  return { backend: tf.getBackend(), kernels, epochs: history.epochs, phases, changed, top, reloaded, refused, tensorsBefore, tensorsAfter };
};
window.ready = true;
`;

describe('fit() in Chromium (browser bundle)', function () {
  this.timeout(600_000);
  let browser: Browser | undefined;
  let site: Site | undefined;

  before(async () => {
    expect(existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (CI installs it: apt-get install -y chromium)`).to.equal(true);
    mkdirSync(WORK, { recursive: true });
    // The bundle of dist/browser, built into this test's folder (tests running in parallel may rebuild dist/browser).
    await buildBrowserBundle({ outdir: join(WORK, 'lib'), quiet: true });
    writeFileSync(join(WORK, 'entry.js'), ENTRY);
    await build({ entryPoints: [join(WORK, 'entry.js')], outfile: join(WORK, 'out', 'entry.js'), bundle: true, format: 'esm', platform: 'browser',
      target: 'es2022', logLevel: 'error' });
    writeFileSync(join(WORK, 'out', 'index.html'), '<!doctype html><script type="module" src="/entry.js"></script>');
    site = await serve({ '/index.html': join(WORK, 'out', 'index.html'), '/entry.js': join(WORK, 'out', 'entry.js'), '/wasm/': WASM_DIR,
      '/models/': join(ROOT, 'models'), '/images/': join(SHARED, 'imagenet', 'one-per-class') });
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });

  async function fitIn(backend: 'wasm' | 'webgl', extraFlags: string[] = []): Promise<PageResult> {
    await browser?.close();
    // webgl on SwiftShader: extraFlags ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'].
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...extraFlags] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${site!.url}/index.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const t0 = performance.now();
    const result = await page.evaluate(([b, c]) => (window as unknown as { runFit(b: string, c: unknown): Promise<PageResult> }).runFit(b, c), [backend, CLASSES] as const);
    const losses = result.epochs.map((e) => `${e.phase} ${e.epoch}: ${e.loss.toFixed(3)}`).join(', ');
    console.log(`      ${result.backend}: ${((performance.now() - t0) / 1000).toFixed(1)} s; ${losses}`);
    expect(errors, 'page errors').to.deep.equal([]);
    return result;
  }

  function check(r: PageResult, backend: string): void {
    expect(r.backend).to.equal(backend);
    expect(r.phases).to.deep.equal(['features', 'head', 'fine-tune']);
    const head = r.epochs.filter((e) => e.phase === 'head'), ft = r.epochs.filter((e) => e.phase === 'fine-tune');
    expect(head).to.have.length(4);
    expect(ft).to.have.length(3);
    expect(head.at(-1)!.loss, 'head loss falls').to.be.below(head[0]!.loss);
    expect(ft.at(-1)!.loss, 'fine-tuning loss falls').to.be.below(ft[0]!.loss);
    expect(r.changed, 'fine-tuning changed the backbone\'s last depthwise kernel').to.equal(true);
    const names = Object.keys(CLASSES);
    r.top.forEach((top, i) => {
      expect(top.map((p) => p.label).sort()).to.deep.equal([...names].sort());
      expect(top[0]!.label, `the 4th ${names[i]} image`).to.equal(names[i]);
    });
    expect(r.reloaded, 'classes of the reloaded classifier, per query').to.have.length(r.top.length);
    r.reloaded.forEach((top, i) => {
      expect(top.map((p) => p.label), `reloaded from indexeddb://, image ${i}`).to.deep.equal(r.top[i]!.map((p) => p.label));
      top.forEach((p, j) => expect(p.probability, `reloaded from indexeddb://, image ${i}, class ${j}`).to.be.closeTo(r.top[i]![j]!.probability, 1e-4));
    });
    expect(r.refused).to.match(/^save\("my-classifier"\): a browser saves to "indexeddb:\/\/NAME" \(then load\("indexeddb:\/\/NAME"\)\), "downloads:\/\/NAME"/);
    expect(r.tensorsAfter, 'tensors left by load + fit + classify + save + load + dispose').to.equal(r.tensorsBefore);
  }

  it('wasm: the gradient kernels are registered; head + fine-tuning on an <img>, ImageData and a tensor per class; loss falls; classify names the new classes', async () => {
    const r = await fitIn('wasm');
    expect(r.kernels).to.deep.equal({ Conv2DBackpropInput: true, Conv2DBackpropFilter: true, DepthwiseConv2dNativeBackpropInput: true, DepthwiseConv2dNativeBackpropFilter: true });
    check(r, 'wasm');
  });
});
