/**
 * A list of images is classified in chunks, the next chunk decoded while the model runs (ZooModel.runRows):
 * the results must be exactly those of one call per image, whatever the chunk size, in the input order, and a
 * bad image in a later chunk must fail the call with its CnnZooError (not an unhandled rejection).
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CnnZooError, decodeImage, load, useBackend, type ZooModel } from '../src/index.js';
import { SHARED } from './helpers/shared.js';

const VAL = join(SHARED, 'imagenet', 'val-subset', 'images');

describe('classify / embed a list of images in pipelined chunks', () => {
  let m: ZooModel;
  const files = [
    ...['grace_hopper.bmp', 'owl.jpg', 'parrot.jpg', 'hot_dog.jpg', 'cat.bmp'].map((f) => join(SHARED, 'images', f)),
    ...readdirSync(VAL).sort().slice(0, 2).map((f) => join(VAL, f)),
  ];
  before(async () => {
    await useBackend('wasm');
    m = await load('tf_mobilenet_v2_100');
  });
  after(() => m.dispose());

  it('gives each image exactly its one-by-one result, for chunk sizes 1, 3 and the default', async () => {
    const single = [];
    for (const f of files) single.push(await m.classify(f, { topK: 5 }));
    const mixed = files.map((f, i) => (i % 2 ? new Uint8Array(readFileSync(f)) : f)); // paths and bytes
    for (const batchSize of [1, 3, undefined]) {
      const rows = await m.classify(mixed, { topK: 5, batchSize });
      expect(rows, `batchSize ${batchSize}`).to.deep.equal(single);
    }
    const embAlone = [];
    for (const f of files.slice(0, 3)) embAlone.push(...await m.embed(f));
    expect(await m.embed(files.slice(0, 3), { batchSize: 2 })).to.deep.equal(embAlone);
  });

  it('takes ImageData-like RGBA pixels (what browsers give) as the RGB image they hold', async () => {
    const img = await decodeImage(files[1]!);
    const data = new Uint8ClampedArray(img.width * img.height * 4).fill(255);
    for (let p = 0; p < img.width * img.height; p++) data.set(img.data.subarray(p * 3, p * 3 + 3), p * 4);
    const rgba = { width: img.width, height: img.height, data } as unknown as ImageData;
    const [a, b] = [await m.preprocess(rgba), await m.preprocess(img)];
    expect(Buffer.from((await a.data()).buffer).equals(Buffer.from((await b.data()).buffer))).to.equal(true);
    tf.dispose([a, b]);
    expect(await m.classify(rgba)).to.deep.equal(await m.classify(files[1]!));
  });

  it('fails with the bad image\'s CnnZooError from any chunk, leaking no tensors', async () => {
    const before = tf.memory().numTensors;
    for (const at of [0, 4]) {
      const list = [...files.slice(0, 5)];
      list[at] = '/nonexistent/cat.jpg';
      let err: unknown;
      try { await m.classify(list, { batchSize: 2 }); } catch (e) { err = e; }
      // By name and code: under mocha the test is loaded as CommonJS, and inputs.ts imports decode.ts lazily (ESM),
      // so the error class may be another instance of the same module.
      expect((err as Error).name, `bad image at ${at}`).to.equal('CnnZooError');
      expect((err as CnnZooError).code).to.equal('IMAGE_NOT_FOUND');
      expect((err as Error).message).to.match(/nonexistent\/cat\.jpg: cannot read the image \(no such file\)/);
    }
    let bad: unknown;
    try { await m.classify(files, { batchSize: 0 }); } catch (e) { bad = e; }
    expect(bad).to.be.instanceOf(CnnZooError);
    expect((bad as Error).message).to.match(/batchSize must be a positive integer/);
    expect(tf.memory().numTensors).to.equal(before);
  });
});
