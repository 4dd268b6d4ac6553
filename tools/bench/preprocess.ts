/**
 * Node preprocessing speed: decode (sharp / our BMP reader) + PIL-exact resize of the shorter side + centre crop +
 * scale/mean/std into a Float32Array NHWC, per image, as median and min of many interleaved rounds (each round runs
 * every image and stage once, so machine load hits all of them alike). "prep in JS" is resize+crop+norm with the
 * JavaScript passes (what runs without WebAssembly SIMD) instead of resample-simd.ts. "before" is the previous pipeline in the
 * same process: the extra libvips metadata() call it made per JPEG, then the full-image PIL resize (`resizePil`),
 * `centerCrop` and the per-pixel normalisation formula (the reference path of test/image-fast-preprocess.test.ts).
 * Usage: npx tsx tools/bench/preprocess.ts [--rounds 200] [--config imagenet|inception|caffe] [--val 3]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage } from '../../src/image/decode.js';
import sharp from 'sharp';
import { IMAGENET_DEFAULT, centerCrop, normalize, resizeAndCrop, resizedSize } from '../../src/image/preprocess.js';
import { isBmp } from '../../src/image/bmp.js';
import { resizePil } from '../../src/image/resample.js';
import { setSimdResample } from '../../src/image/resample-simd.js';
import type { PreprocessConfig, RgbImage } from '../../src/image/types.js';

const SHARED = join(import.meta.dirname, '..', '..', '..', 'shared');
const CONFIGS: Record<string, PreprocessConfig> = {
  imagenet: IMAGENET_DEFAULT,
  inception: { ...IMAGENET_DEFAULT, size: 299, interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  caffe: { ...IMAGENET_DEFAULT, size: 227, cropFraction: 227 / 256, scale: 1, mean: [104, 117, 123], std: [1, 1, 1], channelOrder: 'BGR' },
};
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '200' }, config: { type: 'string', default: 'imagenet' }, val: { type: 'string', default: '3' } } });
const cfg = CONFIGS[values.config!];
if (!cfg) throw new Error(`--config: one of ${Object.keys(CONFIGS).join(', ')}`);
const rounds = Number(values.rounds);

const valDir = join(SHARED, 'imagenet', 'val-subset', 'images');
const files = [
  ...['hot_dog.jpg', 'owl.jpg', 'parrot.jpg', 'grace_hopper.bmp', 'cat.bmp'].map((f) => join(SHARED, 'images', f)),
  ...readdirSync(valDir).sort().slice(0, Number(values.val)).map((f) => join(valDir, f)),
];
const images = await Promise.all(files.map(async (path) => {
  const bytes = new Uint8Array(readFileSync(path));
  return { name: path.split('/').pop()!, bytes, decoded: await decodeImage(bytes) };
}));

/** The previous preprocessing: full resize, crop, per-pixel formula. */
function before(img: RgbImage, c: PreprocessConfig): Float32Array {
  const [w, h] = resizedSize(img.width, img.height, Math.floor(c.size / c.cropFraction));
  const crop = centerCrop(resizePil(img, w, h, c.interpolation), c.size, c.size).data;
  const f = Math.fround, order = c.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const out = new Float32Array(crop.length);
  for (let i = 0; i < crop.length; i++) {
    const ch = i % 3;
    out[i] = f(f(f(crop[i - ch + order[ch]!]! * f(c.scale)) - f(c.mean[ch]!)) / f(c.std[ch]!));
  }
  return out;
}

type Stage = [string, (im: { bytes: Uint8Array; decoded: RgbImage }) => Promise<unknown> | unknown];
const stages: Stage[] = [
  ['decode', (im) => decodeImage(im.bytes)],
  ['resize+crop+norm', (im) => normalize(resizeAndCrop(im.decoded, cfg), cfg)],
  ['total', async (im) => normalize(resizeAndCrop(await decodeImage(im.bytes), cfg), cfg)],
  ['prep in JS', (im) => {
    setSimdResample(false);
    try { return normalize(resizeAndCrop(im.decoded, cfg), cfg); } finally { setSimdResample(true); }
  }],
  ['before: prep', (im) => before(im.decoded, cfg)],
  ['before: total', async (im) => {
    if (!isBmp(im.bytes)) await sharp(im.bytes, { limitInputPixels: false }).metadata();
    return before(await decodeImage(im.bytes), cfg);
  }],
];
const times = images.map(() => stages.map(() => [] as number[]));
const warm = 5;
for (let r = 0; r < rounds + warm; r++) {
  for (const [i, im] of images.entries()) {
    for (const [s, [, run]] of stages.entries()) {
      const t = performance.now();
      await run(im);
      if (r >= warm) times[i]![s]!.push(performance.now() - t);
    }
  }
}
const stat = (ts: number[]): string => {
  const s = [...ts].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)]!.toFixed(2).padStart(6)} / ${s[0]!.toFixed(2).padStart(5)}`;
};
console.log(`preprocess ${values.config} (${cfg.size}px, crop ${cfg.cropFraction}, ${cfg.interpolation}), ${rounds} interleaved rounds, ms median / min`);
console.log(`${'image'.padEnd(30)} ${'size'.padEnd(9)} ${stages.map(([n]) => n.padStart(16)).join(' ')}`);
for (const [i, im] of images.entries()) {
  const size = `${im.decoded.width}x${im.decoded.height}`;
  console.log(`${im.name.padEnd(30)} ${size.padEnd(9)} ${times[i]!.map((ts) => stat(ts).padStart(16)).join(' ')}`);
}
