/** Every family of the zoo, listed explicitly (no side-effect discovery). One module per family. */
import type { Family } from './types.js';
import { family as alexnet } from './alexnet.js';
import { family as squeezenet } from './squeezenet.js';
import { family as vgg } from './vgg.js';
import { family as mobilenet } from './mobilenet.js';
import { family as shufflenet } from './shufflenet.js';
import { family as effnet } from './effnet.js';
import { family as fdMobilenet } from './fd-mobilenet.js';
import { family as resnet } from './resnet.js';
import { family as densenet } from './densenet.js';
import { family as dpn } from './dpn.js';
import { family as googlenet } from './googlenet.js';
import { family as bninception } from './bninception.js';
import { family as inception } from './inception.js';
import { family as xception } from './xception.js';
import { family as nasnet } from './nasnet.js';
import { family as darknet } from './darknet.js';

export const FAMILIES: readonly Family[] = [
  alexnet, squeezenet, vgg, mobilenet, shufflenet, effnet, fdMobilenet, resnet, densenet, dpn,
  googlenet, bninception, inception, xception, nasnet, darknet,
];
