#!/usr/bin/env node
/** The `cnn-zoo` command: dispatches to one module per command (src/cli/commands). */
import * as nodeModule from 'node:module';
import { CnnZooError, fsProblem, meant } from '../errors.js';
import { cliWording } from './wording.js';

// Node 22.8+ keeps V8's compiled code of the modules a process loads (tfjs is 6 MB of JavaScript) in a folder of the
// temporary directory, so the next command starts without compiling them again (`cnn-zoo list` 0.36 -> 0.30 s on
// Node 22, docs/PERFORMANCE.md); a command line owns its process, a library does not, so only the CLI asks for it.
// `NODE_COMPILE_CACHE=DIR` moves it, `NODE_DISABLE_COMPILE_CACHE=1` turns it off; Node 20 has no such cache.
(nodeModule.enableCompileCache as typeof nodeModule.enableCompileCache | undefined)?.();

interface Command { usage: string; run(argv: string[]): Promise<number> }
const COMMANDS: Record<string, { about: string; load: () => Promise<Command> }> = {
  list: { about: 'the registry as a table', load: () => import('./commands/list.js') },
  info: { about: 'card, params, FLOPs and MACs of one model', load: () => import('./commands/info.js') },
  parity: { about: 'reproduce parity fixtures (PASS/FAIL per fixture)', load: () => import('./commands/parity.js') },
  verify: { about: 'a model\'s certificate: fixture error at each size, converted weights vs their original runtime', load: () => import('./commands/verify.js') },
  eval: { about: 'Top-1/Top-5 and images/s of a model on a labelled image folder', load: () => import('./commands/eval.js') },
  bench: { about: 'params, FLOPs, tf.profile, latency/throughput/memory per batch size', load: () => import('./commands/bench.js') },
  report: { about: 'merge bench/eval results into CSV, Markdown and SVG charts', load: () => import('./commands/report.js') },
  convert: { about: 'a pretrained checkpoint (torch, safetensors, keras, tflite, onnx, caffe, npy, tfjs) -> tfjs artifacts', load: () => import('./commands/convert.js') },
  classify: { about: 'top-5 ImageNet classes of images (embedded MobileNet v2 by default, offline)', load: () => import('./commands/classify.js') },
  export: { about: 'a model with its weights as an ONNX file (inference form, NHWC input, dynamic batch)', load: () => import('./commands/export.js') },
  train: { about: 'train a new classifier head (and the last backbone layers) on a folder of one sub-folder per class', load: () => import('./commands/train.js') },
  fetch: { about: 'download, verify, convert and cache a model\'s published pretrained weights', load: () => import('./commands/fetch.js') },
  cache: { about: 'what the cache holds (converted weights, ONNX exports, downloads), and their removal', load: () => import('./commands/cache.js') },
};

/** Commands added by other modules register here (one line each). */
export function help(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['Usage: cnn-zoo <command> [options]', '', 'Commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.about}`), '',
    'Run `cnn-zoo <command> --help` for its options; `cnn-zoo --version` prints the version.'].join('\n');
}

/** The package version (package.json sits two folders above both src/cli/main.ts and dist/cli/main.js). */
async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(await version());
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    // `cnn-zoo help CMD` is `cnn-zoo CMD --help`.
    if (name === 'help' && rest[0] && COMMANDS[rest[0]]) return main([rest[0], '--help']);
    console.log(help());
    return name ? 0 : 1;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    const best = meant(name, Object.keys(COMMANDS));
    console.error(`cnn-zoo: unknown command "${name}".${best ? ` Did you mean ${best}?` : ''}\n\n${help()}`);
    return 2;
  }
  const cmd = await entry.load();
  // tfjs's console notes (the "install our node backend" banner on the cpu backend) are not ours to print.
  (await import('@tensorflow/tfjs')).enableProdMode();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`Usage: ${cmd.usage}`);
    return 0;
  }
  return cmd.run(rest);
}

// A reader that stops early (`cnn-zoo classify DIR | head -3`) closes the pipe: stop quietly, as Unix tools do,
// rather than print Node's EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(0);
  });
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    const fs = fsProblem(e); // a path the user gave that cannot be written or read: one line, not a stack trace
    if (e instanceof CnnZooError) console.error(`cnn-zoo: ${cliWording(e.message)}`);
    else if (fs) console.error(`cnn-zoo: ${fs}.`);
    else console.error(e);
    process.exitCode = 1;
  },
);
