/**
 * The mobile models against the numbers their papers print: FD-MobileNet and EffNet (built from the papers,
 * no reference implementation to reproduce), and MobileNet v1's width multipliers. Counts are analytic on the
 * built models; the papers' "MFLOPs" / "Mult-Adds" are millions of multiply-adds = FLOPs / 2 / 1e6.
 */
import { expect } from 'chai';
import type * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { create } from '../src/zoo/registry.js';
import { countFlops, countParams, layerTable } from '../src/zoo/count.js';

const mMacs = (flops: number): number => flops / 2 / 1e6;
/** Round to the printed precision: `digits` decimals. */
const printed = (v: number, digits = 0): number => Number(v.toFixed(digits));

/** Multiply-adds (millions) of the conv/linear layers whose output map is `h` px high, per `h`. */
function macsByResolution(model: tf.LayersModel): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of layerTable(model)) {
    if (l.flops === 0 || l.outputShape.length !== 4) continue;
    const h = l.outputShape[1] as number;
    out.set(h, (out.get(h) ?? 0) + mMacs(l.flops));
  }
  return out;
}

function withModel<T>(name: string, fn: (m: tf.LayersModel) => T): T {
  const m = create(name);
  try {
    return fn(m);
  } finally {
    m.dispose();
  }
}

describe('papers: FD-MobileNet (Qin et al. 2018, arXiv:1802.03750)', () => {
  before(async () => { await useBackend('cpu'); });

  it('Table 2: 144, 40 and 12 MFLOPs at widths 1x, 0.5x and 0.25x', () => {
    // Table 2 (and the authors' README) print integer MFLOPs. Ours: 144.49, 40.13, 12.04.
    expect(withModel('fd_mobilenet_1_0x', (m) => printed(mMacs(countFlops(m))))).to.equal(144);
    expect(withModel('fd_mobilenet_0_5x', (m) => printed(mMacs(countFlops(m))))).to.equal(40);
    expect(withModel('fd_mobilenet_0_25x', (m) => printed(mMacs(countFlops(m))))).to.equal(12);
  });

  it('Table 1 and its text: about 59 MFLOPs on the four largest resolutions, against about 129 for 0.5x MobileNet-224', () => {
    // The paper: at a budget of 140 MFLOPs, MobileNet spends about 129 MFLOPs on its largest 4 resolutions and
    // FD-MobileNet only about 59 (layers counted at their output resolution: 112, 56, 28, 14 px).
    const largestFour = (m: tf.LayersModel) => [112, 56, 28, 14].reduce((a, h) => a + (macsByResolution(m).get(h) ?? 0), 0);
    expect(withModel('fd_mobilenet_1_0x', (m) => printed(largestFour(m)))).to.equal(59); // 58.73
    expect(withModel('mobilenet_v1_050', (m) => printed(largestFour(m)))).to.equal(129); // 129.38
  });

  it('Table 1: 32x downsampling within 12 layers; 1 conv, 11 depthwise-separable convs, 1 FC', () => {
    withModel('fd_mobilenet_1_0x', (m) => {
      const weighted = layerTable(m).filter((l) => l.flops > 0);
      const kinds = weighted.map((l) => l.className);
      expect(kinds.filter((k) => k === 'Conv2D').length).to.equal(1 + 11); // the stem + 11 pointwise
      expect(kinds.filter((k) => k === 'DepthwiseConv2D').length).to.equal(11);
      expect(kinds.filter((k) => k === 'Dense').length).to.equal(1);
      // The 12th weighted layer (conv + 5 separable convs + 1 depthwise conv) already works at 7x7 = 224 / 32.
      expect(weighted[11]!.outputShape.slice(1, 3)).to.deep.equal([7, 7]);
      expect(weighted[10]!.outputShape.slice(1, 3)).to.deep.equal([14, 14]);
    });
  });
});

describe('papers: EffNet (Freeman et al. 2018, arXiv:1801.06434)', () => {
  before(async () => { await useBackend('cpu'); });

  it('the paper: "replacing the first layer with our EffNet block saves ~30% of the computations for the respective layer"', () => {
    // The baseline's first layer: a 3x3 conv with 64 filters on the 32x32 RGB input (then a 2x2 max pool).
    const baselineFirst = 32 * 32 * 64 * 3 * 3 * 3;
    const block1 = withModel('effnet', (m) => layerTable(m).filter((l) => l.name.startsWith('block1.')).reduce((a, l) => a + l.flops / 2, 0));
    const saving = 1 - block1 / baselineFirst; // 0.269
    expect(printed(saving, 1)).to.equal(0.3); // "~30%": one significant digit
  });

  it('Fig. 1: the 1x3 and 3x1 depthwise convs around the separable pooling cost half a 3x3 depthwise conv', () => {
    withModel('effnet', (m) => {
      const table = layerTable(m);
      for (const b of [1, 2, 3]) {
        const dw = (k: string) => table.find((l) => l.name === `block${b}.depthwise_${k}`)!;
        const [h, w, c] = dw('1x3').outputShape.slice(1) as number[];
        expect(dw('1x3').flops + dw('3x1').flops, `block${b}`).to.equal(0.5 * 2 * h! * w! * c! * 9);
      }
    });
  });

  it('Fig. 1: the strided 2x1 conv costs what a 1x1 pointwise conv on the pooled map would', () => {
    withModel('effnet', (m) => {
      const table = layerTable(m);
      for (const b of [1, 2, 3]) {
        const strided = table.find((l) => l.name === `block${b}.strided_2x1`)!;
        const pooled = table.find((l) => l.name === `block${b}.pool_2x1`)!.outputShape as number[];
        const pointwise = 2 * pooled[1]! * pooled[2]! * pooled[3]! * (strided.outputShape[3] as number);
        expect(strided.flops, `block${b}`).to.equal(pointwise);
      }
    });
  });

  it('the Cifar-10 network: 32x32 input, blocks 32 -> 64 -> 128 -> 256, 10 classes', () => {
    withModel('effnet', (m) => {
      expect(m.inputs[0]!.shape).to.deep.equal([null, 32, 32, 3]);
      expect(m.getLayer('block3.strided_2x1.bn').outputShape).to.deep.equal([null, 4, 4, 256]);
      expect(m.outputs[0]!.shape).to.deep.equal([null, 10]);
      // Not asserted against the paper: its comparison tables (accuracy and FLOPs per model on Cifar-10, SVHN,
      // GTSRB) exist offline only as images (blog copies of the figures; the stored arXiv HTML copy is cut off
      // after the introduction). Ours: 151,146 parameters and 5.64 M multiply-adds, as the card's meta says.
      expect(countParams(m)).to.equal(151146);
    });
  });
});

describe('papers: MobileNet v1 width multipliers (Howard et al. 2017, arXiv:1704.04861)', () => {
  before(async () => { await useBackend('cpu'); });

  it('Table 6: million Mult-Adds 569 / 325 / 149 / 41 and million parameters 4.2 / 2.6 / 1.3 / 0.5 at 224 px', () => {
    // Ours: 568.74 / 325.40 / 149.50 / 41.03 M Mult-Adds; 4.23 / 2.59 / 1.33 / 0.47 M parameters.
    const table6: [string, number, number][] = [
      ['mobilenet_v1_100', 569, 4.2], ['mobilenet_v1_075', 325, 2.6], ['mobilenet_v1_050', 149, 1.3], ['mobilenet_v1_025', 41, 0.5],
    ];
    for (const [name, macs, params] of table6) {
      withModel(name, (m) => {
        expect(printed(mMacs(countFlops(m))), name).to.equal(macs);
        expect(printed(countParams(m) / 1e6, 1), name).to.equal(params);
      });
    }
  });
});
