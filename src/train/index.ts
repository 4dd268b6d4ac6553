/**
 * Training (issue 17): `fit()` of classifiers made by `load(base, { classes })`, the data it reads and the
 * augmentation. Importing this module registers the trainer with `ZooModel.fit()` (src/api/training.ts).
 */
import { registerTrainer } from '../api/training.js';
import { fit } from './fit.js';

registerTrainer(fit);

export { fit, checkGradients, splitHead, GRADIENT_KERNELS } from './fit.js';
export { readImageFolder, labelledImages, splitPerClass, type LabelledImage, type UnusedEntry } from './data.js';
export { augment } from './augment.js';
export { Random } from './random.js';
