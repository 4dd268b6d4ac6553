/**
 * Every layer cnn-zoo adds to tfjs, registered for serialization under one package name ("CnnZoo>..."), so
 * saved models load again with `tf.loadLayersModel` once this module is imported.
 */
import * as tf from '@tensorflow/tfjs';
import { AdaptiveAvgPool2D } from './adaptive-avg-pool2d.js';
import { GroupedConv2D } from './grouped-conv2d.js';
import { Pool2D } from './pool2d.js';
import { LRN } from './lrn.js';
import { ChannelShuffle } from './channel-shuffle.js';
import { ChannelSlice } from './channel-slice.js';
import { FusedConv2D } from './fused-conv2d.js';
import { FusedDense } from './fused-dense.js';

export { AdaptiveAvgPool2D, GroupedConv2D, Pool2D, LRN, ChannelShuffle, ChannelSlice, FusedConv2D, FusedDense };
export const LAYER_PACKAGE = 'CnnZoo';

/** Add a family's custom layer here (one place) so that saved models using it load again. */
const CUSTOM_LAYERS = [AdaptiveAvgPool2D, GroupedConv2D, Pool2D, LRN, ChannelShuffle, ChannelSlice, FusedConv2D, FusedDense];

let registered = false;
export function registerLayers(): void {
  if (registered) return;
  for (const cls of CUSTOM_LAYERS) tf.serialization.registerClass(cls, LAYER_PACKAGE);
  registered = true;
}
registerLayers();
