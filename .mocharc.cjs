// Mocha's settings for `npm test` (test/**/*.test.ts through tsx's ESM loader, 2 worker processes).
//
// The test workers allocate and free model-sized buffers over and over (fixture weights, tfjs tensors, ONNX
// exports: VGG-19's 548 MB several times a case). glibc hands a buffer that large to the OS on free and maps fresh
// pages for the next one, and on a VM where a first touch of a page is slow (3.3 s per GB measured on the 2-core
// CI machine, against 0.08 s per GB for pages the process already holds) that was a third of the parity files'
// time. These two glibc settings keep freed large buffers in the worker's heap for the next one; workers inherit
// them (mocha starts them after reading this file). They change no result, only where memory comes from.
// Elsewhere (macOS, musl) they are ignored.
process.env.MALLOC_MMAP_THRESHOLD_ ??= String(4 * 1024 ** 3);
process.env.MALLOC_TRIM_THRESHOLD_ ??= String(64 * 1024 ** 3);

module.exports = {
  'node-option': ['import=tsx/esm'],
  extension: ['ts'],
  timeout: 900000,
  parallel: true,
  jobs: 2,
  reporter: 'spec',
};
