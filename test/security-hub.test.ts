/** Download archives (TF hosted .tgz): gzip bombs are refused before or while inflating, never inflated whole. */
import { expect } from 'chai';
import { gzipSync } from 'fflate';
import { extractMember } from '../src/checkpoints/tar.js';
import { CnnZooError } from '../src/errors.js';

const withTrailerSize = (gz: Uint8Array, size: number): Uint8Array => {
  const out = gz.slice();
  new DataView(out.buffer).setUint32(out.length - 4, size >>> 0, true);
  return out;
};

describe('hub archives (hostile gzip)', () => {
  const bomb = gzipSync(new Uint8Array(32 * 1024 * 1024)); // 32 MiB of zeros -> ~32 KiB

  it('refuses a trailer that declares more than the inflate limit, before inflating', () => {
    expect(() => extractMember(withTrailerSize(bomb, 0xffffffff), 'model.tflite', 'bomb.tgz'))
      .to.throw(CnnZooError, /bomb\.tgz: the archive inflates to 4294967295 bytes, more than the/);
  });

  it('stops inflating once the output passes what the trailer declares', () => {
    expect(() => extractMember(withTrailerSize(bomb, 1000), 'model.tflite', 'liar.tgz'))
      .to.throw(CnnZooError, /liar\.tgz: the archive inflates past the 1000 bytes its trailer declares/);
  });
});
