/**
 * Fixed-window pooling heads (`FixedPoolHead` in types.ts): the reference pools a fixed window of its final map
 * and flattens it into the Linear, so only some input sizes fit. One error for every family that has one.
 */
import { CnnZooError } from '../errors.js';
import type { BuildContext, FixedPoolHead } from './types.js';

/** The `BAD_INPUT_SIZE` error for an input whose final `map` (height, width) the reference's head does not fit. */
export function fixedHeadError(model: string, head: FixedPoolHead, ctx: BuildContext, map: readonly [number, number]): CnnZooError {
  return new CnnZooError(`${model}: the reference's head ${head.head} does not fit a ${ctx.inputHeight}x${ctx.inputWidth} input ` +
    `(its final map is ${map[0]}x${map[1]} there); it accepts ${head.accepts}. Resize the input, or pass globalPool: true ` +
    'for a global average pool that takes any size (not the reference), or includeTop: false.', 'BAD_INPUT_SIZE');
}
