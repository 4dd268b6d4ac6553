import { expect } from 'chai';
import { create, CnnZooError } from '../src/index.js';
import { parityCases } from './helpers/parity.js';

describe('parity: NASNet-A Mobile (Cadene) and Large (timm) (wasm and cpu)', () => {
  parityCases(['nasnetamobile', 'timm_nasnetalarge']);
});

describe('nasnetamobile input sizes', () => {
  it('builds at the sizes where its shifted padding and factorized reductions agree (224, 256)', () => {
    // Cadene's AvgPool2d(7) head fits only 223-226 px (test/fixed-pool-heads.test.ts); the global-pool head, all of these.
    for (const size of [224, 256, 31]) {
      const m = create('nasnetamobile', { inputSize: size, numClasses: 7, globalPool: true });
      expect(m.outputs[0]!.shape).to.deep.equal([null, 7]);
      m.dispose();
    }
  });

  it('rejects a size the reference cannot run, naming sizes that work', () => {
    expect(() => create('nasnetamobile', { inputSize: 299 })).to.throw(CnnZooError, /input side 299 px.*Use 290 or 319/);
    expect(() => create('nasnetamobile', { inputSize: [224, 230] })).to.throw(CnnZooError, /input side 230 px.*Use 226 or 255/);
    expect(() => create('nasnetamobile', { inputSize: 30 })).to.throw(CnnZooError, /at least 31 px/);
  });
});
