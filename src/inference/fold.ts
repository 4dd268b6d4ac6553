/** Inference form of a model (batch norm folded into convolutions, fused activations): see issue 9. */
export {};
