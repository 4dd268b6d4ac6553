/** `cnn-zoo/parity`: the deterministic weight stream, parity fixtures and the parity check (`cnn-zoo parity`). */
export { det } from './det.js';
export { loadFixture, parseFixture, type Fixture } from './fixture.js';
export { runParity, type ParityResult } from './run.js';
export { verify, parseSize, fixtureFiles, defaultFixtureDirs, VERIFY_RUNTIMES, type VerifyOptions, type VerifyReport, type VerifyRuntime, type FixtureCheck, type WeightsCheck } from './verify.js';
export { agreement, runtimeFor, type Agreement, type AgreementOptions, type LabelledImage, type OriginalRuntime } from './agreement.js';
export { OnnxRunner, TfliteInChromium, onnxLogits } from './runtimes.js';
