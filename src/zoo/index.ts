/** `cnn-zoo/zoo`: the registry, model specs and the building blocks families are written with. */
export { create, getSpec, listSpecs, familyNames, toCard, resolveOptions, CREATE_OPTIONS } from './registry.js';
export type { BuildContext, CreateOptions, Family, FeatureStage, KeyRule, ModelCard, ModelMeta, ModelSpec, Pooling } from './types.js';
export { countParams, countFlops, layerTable } from './count.js';
export { checkInputShape, predictChecked } from './input-check.js';
