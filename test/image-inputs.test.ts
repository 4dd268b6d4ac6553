/**
 * Images by URL and as Blobs in Node: `classify('http://...')`, `decodeImage(url)` and `cnn-zoo classify URL` read
 * the bytes over http (a loopback server here: no internet) and decode them as the file; `file:` URLs are files. What
 * can go wrong with a URL says so: a 404, a refused connection, a response larger than an image may be (declared, or
 * streamed without a length), a server that stops sending. Each is a CnnZooError naming the URL and what to check.
 * A `Blob` or `File` (what browsers' file inputs give; Node has both) is the image file it holds, named by its name.
 * A pixel tensor is raw 0..255 RGB, int or float: one scaled to 0..1 or normalized, with NaNs, 16-bit samples, or its
 * channels elsewhere than last is refused with the fix, never classified as something else; so are raw pixels given as
 * bytes, or as `{ data, width, height }` whose data is of another length or type.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CnnZooError } from '../src/errors.js';
import { decodeImage } from '../src/image/decode.js';
import { fetchImageBytes } from '../src/image/fetch-bytes.js';
import { load } from '../src/index.js';
import { CLI, ROOT, SHARED } from './helpers/shared.js';

const PHOTO = join(ROOT, 'examples', 'images', 'grace_hopper.jpg');

/** Routes: /photo.jpg, /missing (404), /big (declares 10 MB), /endless (streams without a length), /stall (headers, then nothing). */
function start(): Promise<{ server: Server; url: string; open: Set<import('node:http').ServerResponse> }> {
  const open = new Set<import('node:http').ServerResponse>();
  const server = createServer((req, res) => {
    if (req.url === '/photo.jpg') return void res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(readFileSync(PHOTO));
    if (req.url === '/photo-page') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!DOCTYPE html><html><head><title>Grace Hopper - Wikipedia</title></head><body><img src="/photo.jpg"></body></html>');
    if (req.url === '/big') return void res.writeHead(200, { 'Content-Length': String(10 << 20) }).end();
    if (req.url === '/endless') {
      res.writeHead(200, { 'Content-Type': 'image/jpeg' });
      const chunk = Buffer.alloc(64 * 1024);
      let sent = 0;
      const more = (): void => {
        while (sent < 64) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      return more();
    }
    if (req.url === '/stall') { open.add(res); res.writeHead(200, { 'Content-Type': 'image/jpeg' }); res.write(Buffer.alloc(10)); return; }
    res.writeHead(404).end('not found');
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, open })));
}

async function failure(p: Promise<unknown>): Promise<CnnZooError> {
  try { await p; } catch (e) { expect(e).to.be.instanceOf(CnnZooError); return e as CnnZooError; }
  throw new Error('expected a CnnZooError');
}

describe('images by URL and as Blobs (Node)', function () {
  this.timeout(300_000);
  let site: Awaited<ReturnType<typeof start>>;
  before(async () => { site = await start(); });
  after(async () => {
    for (const res of site.open) res.destroy();
    await new Promise((ok) => site.server.close(ok));
  });

  it('decodes an http URL and a file: URL to the same pixels as the file', async () => {
    const file = await decodeImage(PHOTO);
    for (const url of [`${site.url}/photo.jpg`, pathToFileURL(PHOTO).href]) {
      const got = await decodeImage(url);
      expect([got.width, got.height]).to.deep.equal([file.width, file.height]);
      expect(Buffer.from(got.data).equals(Buffer.from(file.data)), url).to.equal(true);
    }
  });

  it('classify(url) gives what classify(file) gives', async () => {
    const model = await load('tf_mobilenet_v2_100');
    try {
      const [fromUrl, fromFile] = await model.classify([`${site.url}/photo.jpg`, PHOTO]);
      expect(fromUrl).to.deep.equal(fromFile);
      expect(fromUrl![0]!.label).to.equal('mortarboard');
    } finally {
      model.dispose();
    }
  });

  it('cnn-zoo classify URL prints the classes, and a URL that fails is one clear line', async () => {
    // Asynchronously: the server answers from this process.
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [...CLI, 'classify', ...args],
      { encoding: 'utf8', cwd: ROOT, env: { ...process.env, CNN_ZOO_QUIET: '1' } });
    const ok = await cli(`${site.url}/photo.jpg`, '--top', '1');
    expect(ok.stdout).to.match(/1\.\s+36\.1\d%\s+667\s+mortarboard/);
    const bad = await cli(`${site.url}/missing.jpg`).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(bad?.code).to.equal(1);
    expect(bad!.stderr.trim().split('\n').at(-1)).to.equal(`cnn-zoo: ${site.url}/missing.jpg: cannot fetch the image (HTTP 404). Check the URL.`);
  });

  it('the address of a web page that shows the image (a copied page link) says so and how to get the image\'s own', async () => {
    const page = await failure(decodeImage(`${site.url}/photo-page`));
    expect(page.code).to.equal('NOT_AN_IMAGE');
    expect(page.message).to.equal(`${site.url}/photo-page: the address gives a web page ("Grace Hopper - Wikipedia"), not an image. ` +
      'Use the image\'s own address (in a browser: right-click the image, Copy image address).');
  });

  it('a folder given to classify() says to pass its image files (the CLI reads folders)', async () => {
    const folder = await failure(decodeImage(join(SHARED, 'images')));
    expect(folder.message).to.equal(`${join(SHARED, 'images')}: cannot read the image (it is a folder). Pass the paths of its image files ` +
      '(cnn-zoo classify takes a folder and reads its images).');
  });

  it('a 404 and a refused connection say which URL and what to check', async () => {
    const missing = await failure(decodeImage(`${site.url}/missing.jpg`));
    expect(missing.code).to.equal('IMAGE_NOT_FOUND');
    expect(missing.message).to.equal(`${site.url}/missing.jpg: cannot fetch the image (HTTP 404). Check the URL.`);
    const closed = await start();
    const url = `${closed.url}/photo.jpg`;
    await new Promise((ok) => closed.server.close(ok));
    const refused = await failure(decodeImage(url));
    expect(refused.message).to.equal(`${url}: cannot fetch the image (ECONNREFUSED). Check the URL and the network (or download it and pass the file).`);
  });

  it('refuses a response larger than an image may be, declared or streamed, and gives up on a stalled server', async () => {
    const declared = await failure(fetchImageBytes(`${site.url}/big`, '', { maxBytes: 1 << 20 }));
    expect(declared.code).to.equal('IMAGE_TOO_LARGE');
    expect(declared.message).to.include(`is ${10 << 20} bytes, more than an image may be (${1 << 20} bytes)`);
    const streamed = await failure(fetchImageBytes(`${site.url}/endless`, '', { maxBytes: 1 << 20 }));
    expect(streamed.code).to.equal('IMAGE_TOO_LARGE');
    expect(streamed.message).to.include(`is over ${1 << 20} bytes`);
    // The whole stream (4 MB) comes through under a bound it fits.
    expect((await fetchImageBytes(`${site.url}/endless`, '', { maxBytes: 8 << 20 })).length).to.equal(64 * 64 * 1024);
    const stalled = await failure(fetchImageBytes(`${site.url}/stall`, 'Check the network.', { idleMs: 300 }));
    expect(stalled.message).to.equal(`${site.url}/stall: cannot fetch the image (nothing arrived for 0.3 s). Check the network.`);
  });

  it('a Blob or File is the image file it holds; a bad File is named by its name', async () => {
    const bytes = readFileSync(PHOTO);
    const model = await load('tf_mobilenet_v2_100');
    try {
      const [fromBlob, fromFile, fromPath] = await model.classify([new Blob([bytes], { type: 'image/jpeg' }), new File([bytes], 'grace.jpg'), PHOTO]);
      expect(fromBlob).to.deep.equal(fromPath);
      expect(fromFile).to.deep.equal(fromPath);
      const bad = await failure(model.classify(new File([new TextEncoder().encode('not an image')], 'notes.txt')));
      expect(bad.code).to.equal('BAD_IMAGE');
      expect(bad.message).to.match(/^notes\.txt: not a readable image/);
      const empty = await failure(model.classify([PHOTO, new Blob([])]));
      expect(empty.message).to.match(/^image \[1\] \(a Blob of 0 bytes\): the image is empty/);
      // Past the first forward pass (batchSize images), an image is still named by its place in the list.
      const late = await failure(model.classify([...Array<string>(9).fill(PHOTO), new Blob([])], { batchSize: 4 }));
      expect(late.message).to.match(/^image \[9\] \(a Blob of 0 bytes\): the image is empty/);
    } finally {
      model.dispose();
    }
  });

  it('a URL object, an ArrayBuffer, a DataView and a data: URL are the image too; a stream or a Float32Array says what to pass', async () => {
    const bytes = readFileSync(PHOTO);
    const model = await load('tf_mobilenet_v2_100');
    try {
      const want = await model.classify(PHOTO);
      // Each crashed inside tf.browser.fromPixels ("pixels passed to tf.browser.fromPixels() must be either ..."), and a
      // data: URL was read as a path ("no such file").
      const inputs = [pathToFileURL(PHOTO), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        `data:image/jpeg;base64,${bytes.toString('base64')}`] as const;
      for (const got of await model.classify([...inputs])) expect(got).to.deep.equal(want);
      const { createReadStream } = await import('node:fs');
      const stream = createReadStream(PHOTO);
      const fromStream = await failure(model.classify(stream as never));
      stream.destroy();
      expect([fromStream.code, fromStream.message]).to.deep.equal(['BAD_INPUT', 'Image is a ReadStream, which is not an image here: pass a file ' +
        'path or URL, the file\'s bytes (Buffer, Uint8Array, ArrayBuffer; read a stream into one first), a Blob, an RgbImage, or a [H, W, 3] pixel tensor.']);
      const floats = await failure(model.classify([PHOTO, new Float32Array(12) as never]));
      expect(floats.message).to.equal('Image [1] is a Float32Array: an image is a file\'s bytes (a Uint8Array, Buffer or ArrayBuffer) or pixels with ' +
        'their shape (a [H, W, 3] tensor, an RgbImage { width, height, data }).');
      const corrupt = await failure(model.classify('data:image/jpeg;base64,AAAA'));
      expect(corrupt.message).to.match(/^image \(a data: URL of 27 characters\): /);
      const home = await failure(model.classify('~/no-such-photo.jpg'));
      expect(home.message).to.equal('~/no-such-photo.jpg: cannot read the image (no such file). Check the path (~ is your home folder only in a shell: give the full path, or os.homedir()).');
    } finally {
      model.dispose();
    }
  });
});

describe('pixel tensors', function () {
  this.timeout(120_000);
  let model: Awaited<ReturnType<typeof load>>;
  let pixels: tf.Tensor3D;
  before(async () => {
    model = await load('tf_mobilenet_v2_100');
    const rgb = await decodeImage(PHOTO);
    pixels = tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
  });
  after(() => { model.dispose(); pixels.dispose(); });

  it('int and float pixels, and a batch, classify as the file; a resize\'s small overshoot is clamped', async () => {
    const before = tf.memory().numTensors;
    const fromFile = await model.classify(PHOTO);
    const float = tf.tidy(() => pixels.toFloat().add(0.4) as tf.Tensor3D); // rounds back to the same pixels
    const batch = tf.stack([pixels, pixels]) as tf.Tensor4D;
    const overshoot = tf.tidy(() => pixels.toFloat().mul(263 / 255).sub(4.3) as tf.Tensor3D); // [-4.3, 258.7], as a bicubic resize can give
    try {
      expect(await model.classify(pixels)).to.deep.equal(fromFile);
      expect(await model.classify(float)).to.deep.equal(fromFile);
      expect(await model.classify(batch)).to.deep.equal([fromFile, fromFile]);
      expect((await model.classify(overshoot))[0]!.label).to.equal(fromFile[0]!.label);
    } finally {
      tf.dispose([float, batch, overshoot]);
    }
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('refuses pixels scaled to 0..1 or normalized, NaN, 16-bit samples and channels first, saying the fix', async () => {
    const before = tf.memory().numTensors;
    const scaled = tf.tidy(() => pixels.toFloat().div(255) as tf.Tensor3D);
    const normalized = tf.tidy(() => pixels.toFloat().div(255).sub([0.485, 0.456, 0.406]).div([0.229, 0.224, 0.225]) as tf.Tensor3D);
    const withNaN = tf.tidy(() => tf.concat([pixels.toFloat().slice([0, 0, 0], [2, -1, -1]), tf.fill([1, pixels.shape[1], 3], NaN), pixels.toFloat().slice([3, 0, 0], [-1, -1, -1])]) as tf.Tensor3D);
    const sixteen = tf.tidy(() => pixels.mul(257) as tf.Tensor3D);
    const channelsFirst = tf.tidy(() => pixels.transpose([2, 0, 1]).expandDims(0) as tf.Tensor4D);
    const secondScaled = tf.tidy(() => tf.stack([pixels.toFloat(), scaled]) as tf.Tensor4D);
    const gray = tf.zeros([8, 8, 1]) as tf.Tensor3D;
    try {
      const s = await failure(model.classify(scaled));
      expect(s.code).to.equal('BAD_INPUT');
      expect(s.message).to.match(/^Image tensor holds values in \[0, 1\]: pixels scaled to 0\.\.1 or already normalized/);
      expect(s.message).to.include('x.mul(255)');
      expect((await failure(model.embed(normalized))).message).to.match(/^Image tensor holds values in \[-2\.1\d*, 2\.6\d*\]: pixels scaled/);
      expect((await failure(model.classify(withNaN))).message).to.equal(`Image tensor holds NaN at [2, 0, 0] (shape [${withNaN.shape}]); pass finite RGB pixels in 0..255.`);
      expect((await failure(model.classify(sixteen))).message).to.match(/^Image tensor holds values in \[0, 65540?\], far outside the 0\.\.255 of RGB pixels; .*divide by 257/);
      const nchw = await failure(model.classify(channelsFirst));
      expect(nchw.code).to.equal('BAD_INPUT_SHAPE');
      expect(nchw.message).to.equal(`Image tensor has ${pixels.shape[1]} channels (shape [${channelsFirst.shape}]); pass RGB pixels [N, H, W, 3] in 0..255: its channels come first, pass x.transpose([0, 2, 3, 1]).`);
      expect((await failure(model.classify(gray))).message).to.include('(grayscale: tf.tile(x, [1, 1, 3]))');
      expect((await failure(model.features(secondScaled))).message).to.match(/^Image tensor \[1\] holds values in \[0, 1\]/);
      expect((await failure(model.preprocess([PHOTO, scaled]))).message).to.match(/^Image tensor \[1\] holds values/);
    } finally {
      tf.dispose([scaled, normalized, withNaN, sixteen, channelsFirst, secondScaled, gray]);
    }
    expect(tf.memory().numTensors).to.equal(before);
  });

  it('raw pixels given as bytes, or as { data, width, height } of the wrong length or type, say how to pass them', async () => {
    const rgb = await decodeImage(PHOTO);
    const { width: w, height: h } = rgb;
    // Raw pixel bytes were decoded as a file, and the error named only the formats; an object of the wrong size fell
    // through to "not an image here".
    const raw = await failure(model.classify(rgb.data));
    expect(raw.code).to.equal('BAD_IMAGE');
    expect(raw.message).to.match(new RegExp(`^image \\(${w * h * 3} bytes\\): not a readable image .* These bytes do not start as an image file does: ` +
      'if they are raw pixels, pass them with their size, as an RgbImage \\{ data, width, height \\} \\(RGB, 3 bytes a pixel\\) or a tensor, ' +
      'tf\\.tensor3d\\(data, \\[height, width, 3\\]\\)\\.$'));
    expect((await failure(model.classify(Buffer.from('no image')))).message).to.include('These bytes do not start as an image file does');
    // A truncated JPEG starts as one: the hint would mislead.
    expect((await failure(model.classify(readFileSync(PHOTO).subarray(0, 100)))).message).not.to.include('raw pixels');
    expect(await model.classify({ width: w, height: h, data: rgb.data })).to.deep.equal(await model.classify(PHOTO));
    const cases: [unknown, string][] = [
      [{ width: w, height: h + 1, data: rgb.data }, `Image [1] is ${w}x${h + 1} but holds ${w * h * 3} bytes of pixels: an RgbImage holds width x height x 3 ` +
        `(${w * (h + 1) * 3}), ImageData width x height x 4 (${w * (h + 1) * 4}). Check its width and height.`],
      [{ width: w, height: h, data: new Uint8ClampedArray(rgb.data) }, 'Image [1] holds RGB pixels in a Uint8ClampedArray; an RgbImage\'s data is a ' +
        'Uint8Array: pass { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }.'],
      [{ width: 2, height: 2, data: new Float32Array(12) }, 'Image [1] has its pixels in a Float32Array; pixels are bytes (a Uint8Array, 0..255: an ' +
        'RgbImage { data, width, height }), or pass a [H, W, 3] tensor of them.'],
    ];
    for (const [input, message] of cases) {
      const e = await failure(model.classify([PHOTO, input as never]));
      expect([e.code, e.message]).to.deep.equal(['BAD_INPUT', message]);
      expect((await failure(model.preprocess([PHOTO, input as never]))).message).to.equal(message);
    }
  });
});
