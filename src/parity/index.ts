/** `cnn-zoo/parity`: the deterministic weight stream, parity fixtures and the parity check (`cnn-zoo parity`). */
export { det } from './det.js';
export { loadFixture, parseFixture, type Fixture } from './fixture.js';
export { runParity, type ParityResult } from './run.js';
