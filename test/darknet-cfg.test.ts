/**
 * The Darknet-cfg models against the Darknet project's own .cfg files (test/fixtures/darknet): every section's
 * output shape, and the parameter and FLOP totals, computed here from the cfg with Darknet's formulas.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type * as tf from '@tensorflow/tfjs';
import { create, countFlops, countParams, getSpec, useBackend } from '../src/index.js';
import { ROOT } from './helpers/shared.js';

type Section = { type: string; opts: Map<string, string> };

function parseCfg(text: string): Section[] {
  const sections: Section[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) sections.push({ type: head[1]!, opts: new Map() });
    else {
      const [k, v] = line.split('=').map((s) => s.trim());
      sections.at(-1)!.opts.set(k!, v!);
    }
  }
  return sections;
}

interface CfgLayer { index: number; type: string; shape: [number, number, number]; bn: boolean }

/** Darknet's parse_* shape rules, and its parameter/FLOP counts (2 FLOPs per multiply-add). */
function analyse(sections: Section[]): { layers: CfgLayer[]; params: number; flops: number; inputSize: number } {
  const [net, ...rest] = sections;
  const num = (s: Section, k: string, d?: number): number => {
    const v = s.opts.get(k);
    if (v === undefined) {
      if (d === undefined) throw new Error(`[${s.type}] lacks ${k}`);
      return d;
    }
    return Number(v);
  };
  let [h, w, c] = [num(net!, 'height'), num(net!, 'width'), num(net!, 'channels')];
  const layers: CfgLayer[] = [];
  let params = 0, flops = 0;
  rest.forEach((s, index) => {
    const bn = num(s, 'batch_normalize', 0) === 1;
    if (s.type === 'convolutional') {
      const n = num(s, 'filters'), size = num(s, 'size'), stride = num(s, 'stride', 1), groups = num(s, 'groups', 1);
      const pad = s.opts.has('padding') ? num(s, 'padding') : num(s, 'pad', 0) ? Math.floor(size / 2) : 0;
      const oh = Math.floor((h + 2 * pad - size) / stride) + 1, ow = Math.floor((w + 2 * pad - size) / stride) + 1;
      params += (c / groups) * n * size * size + (bn ? 2 * n : n);
      flops += 2 * n * size * size * (c / groups) * oh * ow;
      [h, w, c] = [oh, ow, n];
    } else if (s.type === 'maxpool') {
      const size = num(s, 'size'), stride = num(s, 'stride', 1), padding = num(s, 'padding', size - 1);
      [h, w] = [Math.floor((h + padding - size) / stride) + 1, Math.floor((w + padding - size) / stride) + 1];
    } else if (s.type === 'avgpool') {
      [h, w] = [1, 1];
    } else if (s.type === 'shortcut') {
      const from = layers[index + num(s, 'from')]!;
      expect(from.shape, `shortcut ${index} operands`).to.deep.equal([h, w, c]);
    } else if (s.type !== 'softmax') {
      throw new Error(`unexpected section [${s.type}]`);
    }
    layers.push({ index, type: s.type, shape: [h, w, c], bn });
  });
  return { layers, params, flops, inputSize: num(net!, 'height') };
}

const outShape = (model: tf.LayersModel, name: string): (number | null)[] => model.getLayer(name).outputShape as (number | null)[];

const CASES = [
  ['darknet_reference', 'darknet.cfg'],
  ['tiny_darknet', 'tiny.cfg'],
  ['darknet19', 'darknet19.cfg'],
  ['darknet53_original', 'darknet53.cfg'],
] as const;

describe('Darknet cfg models match the Darknet project configs', () => {
  before(async () => { await useBackend('cpu'); });

  for (const [name, file] of CASES) {
    it(`${name} lays out ${file} section by section`, () => {
      const cfg = analyse(parseCfg(readFileSync(join(ROOT, 'test', 'fixtures', 'darknet', file), 'utf8')));
      const model = create(name, { inputSize: cfg.inputSize });
      try {
        for (const l of cfg.layers) {
          if (l.type === 'softmax') continue;
          // a conv section ends in its leaky activation, or (the classifier, no BN) in the conv itself
          const layer = l.type === 'convolutional' ? `layers.${l.index}.${l.bn ? 'act' : 'conv'}` : `layers.${l.index}`;
          expect(outShape(model, layer), `${file} section ${l.index} [${l.type}]`).to.deep.equal([null, ...l.shape]);
        }
        expect(countParams(model), 'params').to.equal(cfg.params);
        expect(countFlops(model), 'FLOPs').to.equal(cfg.flops);
        expect(getSpec(name).meta.params, 'card params').to.equal(cfg.params);
        expect(getSpec(name).meta.flops, 'card FLOPs').to.equal(cfg.flops);
        expect(getSpec(name).inputSize, 'card input size').to.equal(cfg.inputSize);
      } finally {
        model.dispose();
      }
    });
  }

  it('darknet53_original has timm darknet53\'s parameters (same layout, other activation slope and head)', () => {
    const a = create('darknet53_original'), b = create('darknet53');
    expect(countParams(a)).to.equal(countParams(b));
    expect(countFlops(a)).to.equal(countFlops(b));
    a.dispose();
    b.dispose();
  });
});
