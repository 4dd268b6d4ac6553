/**
 * The registry's types: a model card (what a model is: name, family, sizes, metadata) and the spec that
 * adds its builder and how checkpoint keys map onto its layers.
 */
import type * as tf from '@tensorflow/tfjs';

/**
 * The largest input side a model is built at (by an option, or by saved weights' metadata). One 4096 px image's first
 * feature maps already take hundreds of megabytes to gigabytes; well before 10^5 px one image no longer fits in a typed
 * array, so a larger side is refused as a mistake rather than failing deep inside the preprocessing or a runtime.
 */
export const MAX_INPUT_SIDE = 4096;

/** Global pooling applied when `includeTop` is false. */
export type Pooling = 'avg' | 'max';

/** Options of `create(name, options)`. */
export interface CreateOptions {
  /**
   * Input height = width in pixels, or [height, width]. Defaults to the model's `inputSize` (with pretrained weights in
   * `load()`: the weights' size; another is one number, see docs/SIZES.md).
   */
  inputSize?: number | readonly [number, number];
  /** Classes of the classifier (a new head when it differs from the model's). */
  numClasses?: number;
  /** Keep the classifier (default true). Without it the model ends at its last feature map. */
  includeTop?: boolean;
  /** With `includeTop: false`, pool the last feature map globally (refused with the classifier kept). */
  pooling?: Pooling | null;
  /**
   * Replace the reference's fixed-window pooling head (models whose card has `fixedPoolHead`, e.g. ShuffleNet
   * v1's `AvgPool2d(7)`) by a global average pool, so the classifier takes any input size. Not the reference
   * wherever its window does not cover the whole final map. Default false: the reference's head, and the
   * reference's input sizes only.
   */
  globalPool?: boolean;
}

/** What a builder receives: `CreateOptions` with every default filled in. */
export interface BuildContext {
  inputHeight: number;
  inputWidth: number;
  numClasses: number;
  includeTop: boolean;
  pooling: Pooling | null;
  /** `CreateOptions.globalPool` (absent: false). */
  globalPool?: boolean;
}

/** Published facts about a model. */
export interface ModelMeta {
  /** Learnable parameters at the default class count (BN running statistics excluded). */
  params?: number;
  /** Conv + matmul FLOPs for one image at `inputSize` (1 multiply-add = 2 FLOPs). */
  flops?: number;
  /** Reference ImageNet-1k Top-1 / Top-5 (%), as published by `accuracySource`. */
  top1?: number;
  top5?: number;
  accuracySource?: string;
  /** The paper that defines the architecture. */
  paper?: string;
  /** The reference implementation this builder reproduces. */
  reference: string;
}

/**
 * How a checkpoint's keys become our layer keys (`<layer name>.<torch suffix>`): returns the new key, or
 * null to drop a tensor the model deliberately has no place for. Small per-family naming rules.
 */
export type KeyRule = (key: string) => string | null;

/** A parity fixture this model reproduces, with the key layout its state_dict uses. */
export interface FixtureRef {
  name: string;
  /** A key of `ModelSpec.keyRules`; absent: keys are our layer names already. */
  layout?: string;
  /** Build options the fixture needs beyond input size and classes. */
  options?: CreateOptions;
}

/** Where a feature stage can be tapped: the layer whose output it is, its channels and stride. */
export interface FeatureStage {
  layer: string;
  channels: number;
  reduction: number;
}

/**
 * A reference head that pools a fixed window instead of the whole final map, then flattens into its Linear: it
 * fits only some input sizes (the reference fails, or silently changes, at the others). Builders refuse those
 * sizes; `globalPool: true` swaps the head for a global average pool. docs/SIZES.md lists every family.
 */
export interface FixedPoolHead {
  /** The reference's head, e.g. `AvgPool2d(7) -> view(-1, C) -> Linear`. */
  head: string;
  /** The inputs it fits, e.g. `193 to 416 px per side`. */
  accepts: string;
}

/** The public description of a model, as `list()` and `info()` return it. */
export interface ModelCard {
  /** Stable id (`resnet50`, `mobilenet_v2`); frozen once weights are published. */
  name: string;
  family: string;
  /** The row of the family's table this model is built from. */
  variant: Readonly<Record<string, string | number | boolean | readonly number[] | null>>;
  /** Default input height = width. */
  inputSize: number;
  /** Smallest input height = width that the architecture accepts. */
  minInputSize: number;
  /** Set when the reference's classifier head pools a fixed window (see `FixedPoolHead`, `globalPool`). */
  fixedPoolHead?: FixedPoolHead;
  numClasses: number;
  meta: ModelMeta;
  aliases?: readonly string[];
}

/** A registry entry: the card, its builder and its checkpoint key rules. */
export interface ModelSpec extends ModelCard {
  build(ctx: BuildContext): tf.LayersModel;
  /** The parity fixtures this model reproduces (test data: not on the public card). */
  fixtures: readonly FixtureRef[];
  /** Checkpoint key rules by name (`timm`, `tflite`, ...): how keys of checkpoints named otherwise map to our layer names. */
  keyRules?: Readonly<Record<string, KeyRule>>;
}

/** A family module's export: its models, in table order. */
export interface Family {
  name: string;
  models: readonly ModelSpec[];
}
