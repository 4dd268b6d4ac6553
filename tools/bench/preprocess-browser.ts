/**
 * Browser preprocessing speed in headless Chromium (playwright-core): JPEG bytes -> createImageBitmap -> 2D canvas
 * RGBA (only the window the preprocessing reads, as `classify` reads it; "total, all read": the whole image) ->
 * PIL-exact resize of the shorter side + centre crop + normalise into a Float32Array, per image, median and min of
 * interleaved rounds. "decoded ImageBitmap" / "decoded <img>": an image the page has already decoded (what
 * `classify(img)` gets in a web app), read back and preprocessed. "before" is the previous pipeline (RGBA -> RGB copy, full-image resize, centre crop,
 * per-pixel normalisation formula); the page also checks that both give the same floats.
 * Usage: npx tsx tools/bench/preprocess-browser.ts [--rounds 100]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import sharp from 'sharp';

const ROOT = join(import.meta.dirname, '..', '..');
const SHARED = join(ROOT, '..', 'shared');
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '100' } } });
const rounds = Number(values.rounds);

const owl = readFileSync(join(SHARED, 'images', 'owl.jpg'));
const images: [string, Buffer][] = [
  ['owl.jpg 1155x866 (1 MP, q90)', await sharp(owl).resize(1155, 866).jpeg({ quality: 90 }).toBuffer()],
  ['parrot.jpg 512x929', readFileSync(join(SHARED, 'images', 'parrot.jpg'))],
  ['owl.jpg 512x384', owl],
  ['grace_hopper.bmp 512x600', readFileSync(join(SHARED, 'images', 'grace_hopper.bmp'))],
];

// The page's code: the browser decoder and the preprocessing from src/, plus the previous path for comparison.
const page = `
import { decodePixels, decodeImage, sourcePixels } from './src/image/browser-decode.ts';
import { preprocessInto } from './src/image/resize-crop.ts';
import { resizePil } from './src/image/resample.ts';
import { centerCrop, resizedSize, IMAGENET_DEFAULT as cfg } from './src/image/preprocess.ts';
function before(img) {
  const [w, h] = resizedSize(img.width, img.height, Math.floor(cfg.size / cfg.cropFraction));
  const crop = centerCrop(resizePil(img, w, h, cfg.interpolation), cfg.size, cfg.size);
  const f = Math.fround, out = new Float32Array(crop.data.length);
  for (let i = 0; i < crop.data.length; i++) { const c = i % 3; out[i] = f(f(f(crop.data[i] * f(cfg.scale)) - f(cfg.mean[c])) / f(cfg.std[c])); }
  return out;
}
window.bench = async (list, rounds) => {
  const imgs = list.map((b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  const out = new Float32Array(cfg.size * cfg.size * 3);
  const stages = [
    ['decode RGBA', (b) => decodePixels(b, {}, cfg)],
    ['resize+crop+norm', async (b, px) => preprocessInto(px, cfg, out)],
    ['total', async (b) => preprocessInto(await decodePixels(b, {}, cfg), cfg, out)],
    ['total, all read', async (b) => preprocessInto(await decodePixels(b), cfg, out)],
    ['decoded ImageBitmap', async (b, px, rgb, bmp) => preprocessInto(sourcePixels(bmp, 'bitmap', cfg), cfg, out)],
    ['decoded <img>', async (b, px, rgb, bmp, img) => preprocessInto(sourcePixels(img, 'img', cfg), cfg, out)],
    ['before: prep', async (b, px, rgb) => before(rgb)],
    ['before: total', async (b) => before(await decodeImage(b))],
  ];
  const same = [];
  const pixels = [], rgbs = [], bitmaps = [], elements = [];
  for (const b of imgs) {
    bitmaps.push(await createImageBitmap(new Blob([b])));
    const el = new Image();
    el.src = URL.createObjectURL(new Blob([b]));
    await el.decode();
    elements.push(el);
    rgbs.push(await decodeImage(b));
    const px = await decodePixels(b);
    pixels.push(px);
    preprocessInto(px, cfg, out);
    const ref = before(await decodeImage(b));
    same.push(ref.every((v, i) => Object.is(v, out[i])));
  }
  const times = imgs.map(() => stages.map(() => []));
  for (let r = 0; r < rounds + 5; r++) {
    for (let i = 0; i < imgs.length; i++) {
      for (let s = 0; s < stages.length; s++) {
        const t = performance.now();
        await stages[s][1](imgs[i], pixels[i], rgbs[i], bitmaps[i], elements[i]);
        if (r >= 5) times[i][s].push(performance.now() - t);
      }
    }
  }
  return { stages: stages.map((s) => s[0]), times, same };
};
`;
const bundle = await build({
  stdin: { contents: page, resolveDir: ROOT, loader: 'js' }, bundle: true, write: false, format: 'iife', target: 'es2022',
});
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const tab = await browser.newPage();
  await tab.setContent('<!doctype html><html><body></body></html>');
  await tab.addScriptTag({ content: bundle.outputFiles[0]!.text });
  const res = await tab.evaluate(([list, n]) => (window as unknown as { bench(l: string[], n: number): Promise<{ stages: string[]; times: number[][][]; same: boolean[] }> }).bench(list, n),
    [images.map(([, b]) => b.toString('base64')), rounds] as [string[], number]);
  const stat = (ts: number[]): string => {
    const s = [...ts].sort((a, b) => a - b);
    return `${s[Math.floor(s.length / 2)]!.toFixed(2).padStart(6)} / ${s[0]!.toFixed(2).padStart(5)}`;
  };
  console.log(`Chromium ${browser.version()} headless, 224px crop 0.875 bilinear, ${rounds} interleaved rounds, ms median / min`);
  console.log(`${'image'.padEnd(30)} ${res.stages.map((n) => n.padStart(16)).join(' ')}  same floats as before`);
  images.forEach(([name], i) => console.log(`${name.padEnd(30)} ${res.times[i]!.map((ts) => stat(ts).padStart(16)).join(' ')}  ${res.same[i]}`));
} finally {
  await browser.close();
}
