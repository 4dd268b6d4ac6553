import { parityCases } from './helpers/parity.js';

describe('parity: AlexNet, SqueezeNet, VGG (wasm and cpu)', () => {
  parityCases(['alexnet', 'squeezenet1_0', 'squeezenet1_1', 'vgg11', 'vgg13', 'vgg16', 'vgg19', 'vgg11_bn', 'vgg13_bn', 'vgg16_bn', 'vgg19_bn']);
});
