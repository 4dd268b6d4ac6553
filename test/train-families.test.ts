/**
 * Every family trains on wasm: its smallest model, at a small input size, takes a few Adam steps on a fixed
 * random batch (softmax cross-entropy on the logits, batch norm in training mode) and the loss on that batch
 * falls. This needs the gradient kernels of src/kernels/wasm-gradients.ts (before them, the first step threw
 * "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'" for every family).
 *
 * Dropout is switched off (rate 0) so that the losses compared are deterministic. AlexNet and VGG train with
 * `includeTop: false, pooling: 'avg'` and a small dense head: their own classifiers (57M and 123M weights of
 * Dense/ReLU/Dropout, layers covered by train-wasm-gradients.test.ts) would make this the slowest test.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend.js';
import { create, getSpec, listSpecs } from '../src/zoo/registry.js';
import { FAMILIES } from '../src/zoo/families.js';
import { det } from '../src/parity/det.js';

interface TrainCase {
  /** The family's smallest model. */
  model: string;
  /** 32 px where the model accepts it; 64 for the thin mobile nets (at 32 their batch norms see 1x1 maps). */
  inputSize: number;
  /** Train the backbone under a small dense head instead of the model's own classifier. */
  pooledHead?: boolean;
  /** Adam's learning rate (default 1e-3; lower for the nets without batch norm and for the thin mobile nets). */
  lr?: number;
}

const CASES: Readonly<Record<string, TrainCase>> = {
  alexnet: { model: 'alexnet', inputSize: 63, pooledHead: true, lr: 1e-4 },
  squeezenet: { model: 'squeezenet1_1', inputSize: 32 },
  vgg: { model: 'vgg11', inputSize: 32, pooledHead: true, lr: 1e-4 },
  mobilenet: { model: 'mobilenet_v1_025', inputSize: 64, lr: 3e-4 },
  shufflenet: { model: 'shufflenet_v1_g3_0_5x', inputSize: 64, lr: 3e-4 },
  effnet: { model: 'effnet', inputSize: 32 },
  'fd-mobilenet': { model: 'fd_mobilenet_0_25x', inputSize: 64, lr: 3e-4 },
  resnet: { model: 'resnet18', inputSize: 32 },
  densenet: { model: 'densenet121', inputSize: 32 },
  dpn: { model: 'dpn68', inputSize: 32 },
  googlenet: { model: 'googlenet', inputSize: 32 },
  bninception: { model: 'bninception', inputSize: 32 },
  inception: { model: 'inception_v3', inputSize: 75 },
  xception: { model: 'legacy_xception', inputSize: 32 },
  nasnet: { model: 'nasnetamobile', inputSize: 32 },
  darknet: { model: 'tiny_darknet', inputSize: 32 },
};

const BATCH = 4, CLASSES = 5, STEPS = 4;

function build(c: TrainCase): tf.LayersModel {
  // The reference's fixed-window heads (ShuffleNet v1's AvgPool2d(7), ...) need their own input sizes: pool globally.
  const globalPool = getSpec(c.model).fixedPoolHead ? { globalPool: true } : {};
  if (!c.pooledHead) return create(c.model, { inputSize: c.inputSize, numClasses: CLASSES, ...globalPool });
  const backbone = create(c.model, { inputSize: c.inputSize, includeTop: false, pooling: 'avg' });
  const head = tf.layers.dense({ units: CLASSES, name: 'head' }).apply(backbone.outputs[0]!) as tf.SymbolicTensor;
  return tf.model({ inputs: backbone.inputs, outputs: head });
}

/**
 * Deterministic weights, so that every run takes the same steps: kernels (rank 4 and 2) become the det()
 * stream scaled like He initialisation (uniform, std sqrt(2 / fan-in); a depthwise kernel's fan-in is its
 * window); the rest (biases, batch-norm parameters and statistics) keep their constant initial values.
 */
function setDeterministicWeights(model: tf.LayersModel, family: string): void {
  const depthwise = new Set(model.layers.filter((l) => l.getClassName() === 'DepthwiseConv2D').flatMap((l) => l.weights));
  const values = model.weights.map((w, i) => {
    const shape = w.shape as number[];
    if (shape.length !== 4 && shape.length !== 2) return w.read().clone();
    const fanIn = shape.length === 2 ? shape[0]! : shape[0]! * shape[1]! * (depthwise.has(w) ? 1 : shape[2]!);
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(det(`train/${family}/w${i}`, n, Math.sqrt(3) * Math.sqrt(2 / fanIn)), shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

describe('train: every family trains on wasm (a few Adam steps, loss falls)', function () {
  before(async () => { await useBackend('wasm'); });

  it('the table names every family, with its smallest model', () => {
    expect(Object.keys(CASES).sort()).to.deep.equal(FAMILIES.filter((f) => f.models.length > 0).map((f) => f.name).sort());
    for (const [family, c] of Object.entries(CASES)) {
      const specs = listSpecs({ family });
      const smallest = Math.min(...specs.map((s) => s.meta.params ?? Infinity));
      const spec = specs.find((s) => s.name === c.model);
      expect(spec, `${c.model} is not in ${family}`).to.not.equal(undefined);
      expect(spec!.meta.params, `${c.model} is not ${family}'s smallest model`).to.equal(smallest);
      expect(c.inputSize).to.be.at.least(spec!.minInputSize);
    }
  });

  for (const [family, c] of Object.entries(CASES)) {
    it(`${family}: ${c.model} at ${c.inputSize} px`, async () => {
      const start = tf.memory().numTensors;
      const model = build(c);
      setDeterministicWeights(model, family);
      for (const layer of model.layers) if (layer.getClassName() === 'Dropout') (layer as unknown as { rate: number }).rate = 0;
      const n = BATCH * c.inputSize * c.inputSize * 3;
      const x = tf.tensor4d(det(`train/${family}/x`, n, 1), [BATCH, c.inputSize, c.inputSize, 3]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), CLASSES));
      const optimizer = tf.train.adam(c.lr ?? 1e-3);
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const losses: number[] = [];
      for (let step = 0; step <= STEPS; step++) {
        const loss = () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
        // The last round only measures the loss after STEPS updates.
        const value = step < STEPS ? optimizer.minimize(loss, true, vars)! : tf.tidy(loss);
        losses.push((await value.data())[0]!);
        value.dispose();
      }
      console.log(`      ${c.model}: loss ${losses.map((l) => l.toFixed(4)).join(' -> ')}`);
      expect(losses.every(Number.isFinite), 'losses are finite').to.equal(true);
      expect(losses[STEPS]!, 'loss after the Adam steps').to.be.below(losses[0]!);
      optimizer.dispose();
      tf.dispose([x, y]);
      model.dispose();
      expect(tf.memory().numTensors, 'tensors leaked').to.equal(start);
    });
  }
});
