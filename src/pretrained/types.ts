/**
 * The published-weights table's types: one `PublishedCheckpoint` per (registry model, checkpoint), with where
 * the file lives, how to verify it, its licence, the accuracy its publisher states, the preprocessing it was
 * trained with, and where each of those facts came from.
 */
import type { PreprocessConfig } from '../image/types.js';
import type { SourceFormat } from '../checkpoints/files.js';

/** Who publishes a checkpoint (the `source` part of a selector such as `torchvision:IMAGENET1K_V2`). */
export const PUBLISHERS = ['torchvision', 'timm', 'keras', 'tf', 'cadene', 'megvii', 'bvlc', 'deepscale', 'authors', 'darknet'] as const;
export type Publisher = (typeof PUBLISHERS)[number];

/** Checkpoint formats: every reader's format, plus Darknet's `.weights` (listed, not readable yet). */
export type HubFormat = SourceFormat | 'darknet';

/** How a download is verified. `from` says where the expected value was published. */
export type ExpectedHash =
  /** The full digest. */
  | { algorithm: 'sha256' | 'sha1'; hex: string; from: string }
  /** The leading hex digits of the sha256 that the publisher encodes in the file name (torch.hub's check). */
  | { algorithm: 'sha256'; prefix: string; from: string }
  /** Hugging Face Hub LFS file: the sha256 the Hub declares for it (`/api/models/<repo>/tree/<rev>`). */
  | { algorithm: 'sha256'; hubLfs: { repo: string; path: string; revision: string }; from: string };

/** Options the architecture is built with to receive these weights. */
export interface CheckpointBuild {
  inputSize?: number;
  numClasses?: number;
  /** A key layout of the model spec (`timm`, `tflite`, ...). */
  layout?: string;
  /** Regular expression (source) of checkpoint keys the model has no place for (auxiliary heads). */
  dropKeys?: string;
}

export interface PublishedCheckpoint {
  /** Registry name of the architecture these weights fit. */
  arch: string;
  publisher: Publisher;
  /** The publisher's own name for this checkpoint (`IMAGENET1K_V1`, `mx_in1k`, `224`). */
  tag: string;
  /** Direct download URL, or the page to download from when `manual` is set. */
  url: string;
  /** Why the file cannot be downloaded automatically (it can still come through a mirror). */
  manual?: string;
  /** Unique file name: the cache's and a mirror's name for the download. */
  file: string;
  /** The checkpoint inside a `.tgz`/`.tar` download. */
  member?: string;
  format: HubFormat;
  /** Absent when the publisher publishes no hash for the file. */
  hash?: ExpectedHash;
  licence: string;
  /** ImageNet-1k accuracy (%) as the publisher states it; `note` says at what input, when that differs. */
  accuracy?: { top1: number; top5?: number; note?: string };
  /** The evaluation preprocessing these weights were trained for. */
  preprocessing: PreprocessConfig;
  build?: CheckpointBuild;
  /** Anything a user must know (features-only weights, folded options). */
  note?: string;
  /** The checkpoint `imagenet` selects for its architecture (exactly one per architecture). */
  default?: true;
  /** Where the facts above come from: repository@version path, or URL. */
  facts: string;
}

/** An architecture with no published weights, and why. */
export interface Unpublished {
  arch: string;
  reason: string;
}
