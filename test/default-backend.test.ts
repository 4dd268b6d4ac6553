/**
 * `load(name)` in a plain Node script (no backend call) runs on the fastest backend that starts here, never on tfjs's
 * plain-JavaScript `cpu` while wasm starts, says which in one line (silenced by CNN_ZOO_QUIET=1), and no tfjs banner
 * prints. A backend the script chose first is kept.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers/shared.js';

function script(body: string, env: Record<string, string> = {}): { stdout: string; stderr: string; status: number | null } {
  const code = `import * as tf from '@tensorflow/tfjs';\nimport { load, useBackend } from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))};\n${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('the default backend of load()', function () {
  this.timeout(600_000);

  it('a plain script runs on onnxruntime-node (installed here), tfjs on wasm (not cpu), with one line saying so and no tfjs banner', () => {
    const r = script("const m = await load('squeezenet1_1', { weights: null, inputSize: 64 });\nconsole.log('BACKEND', tf.getBackend(), m.runtime);\nm.dispose();");
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/BACKEND wasm onnxruntime-node/);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('cnn-zoo: running on'));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/running on onnxruntime \(onnxruntime-node .*\); tfjs on wasm .*CNN_ZOO_QUIET=1/);
    expect(r.stdout + r.stderr).to.not.match(/looks like you are running TensorFlow\.js/);
  });

  it('two loads at once: the second waits for the first one\'s pick, so its weights are made on wasm (they were on cpu, after the tfjs banner)', () => {
    const r = script([
      "const [a, b] = await Promise.all([load('squeezenet1_1', { weights: null, inputSize: 64, runtime: 'tfjs' }), load('mobilenet_v2', { weights: null, inputSize: 64, runtime: 'tfjs' })]);",
      'const info = tf.engine().state.tensorInfo; // the backend that holds each tensor\'s data',
      "const on = (m) => [...new Set(m.model.weights.map((w) => info.get(w.read().dataId).backend === tf.findBackend('wasm') ? 'wasm' : 'elsewhere'))].join();",
      "console.log('BACKEND', tf.getBackend(), on(a), on(b));",
      'a.dispose();', 'b.dispose();'].join('\n'));
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/BACKEND wasm wasm wasm/);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('cnn-zoo: running on'))).to.have.length(1);
    expect(r.stdout + r.stderr).to.not.match(/looks like you are running TensorFlow\.js/);
  });

  it('an app\'s own process handlers keep working once wasm starts (tfjs-backend-wasm\'s glue added handlers that rethrow: exit code 7)', () => {
    const r = script([
      "process.on('unhandledRejection', (e) => console.log('LOGGED', String(e)));",
      "process.on('uncaughtException', (e) => console.log('LOGGED', String(e)));",
      "const m = await load('squeezenet1_1', { weights: null, inputSize: 64, runtime: 'tfjs' });",
      "Promise.reject(new Error('a rejection the app logs'));",
      "setTimeout(() => { throw new Error('a throw the app logs'); }, 1);",
      'await new Promise((ok) => setTimeout(ok, 200));',
      "console.log('ALIVE', tf.getBackend(), process.listeners('unhandledRejection').length, process.listeners('uncaughtException').length);",
      'm.dispose();'].join('\n'), { CNN_ZOO_QUIET: '1' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('LOGGED Error: a rejection the app logs').and.include('LOGGED Error: a throw the app logs').and.include('ALIVE wasm 1 1');
  });

  it('CNN_ZOO_QUIET=1 silences the line; a backend chosen first is kept', () => {
    const quiet = script("const m = await load('squeezenet1_1', { weights: null, inputSize: 64 });\nconsole.log('BACKEND', tf.getBackend());\nm.dispose();", { CNN_ZOO_QUIET: '1' });
    expect(quiet.status, quiet.stderr).to.equal(0);
    expect(quiet.stdout).to.match(/BACKEND wasm/);
    expect(quiet.stderr).to.not.match(/cnn-zoo: running on/);
    const chosen = script("await useBackend('cpu');\nconst m = await load('squeezenet1_1', { weights: null, inputSize: 64 });\nconsole.log('BACKEND', tf.getBackend());\nm.dispose();");
    expect(chosen.status, chosen.stderr).to.equal(0);
    expect(chosen.stdout).to.match(/BACKEND cpu/);
    expect(chosen.stderr).to.not.match(/cnn-zoo: running on/);
  });

  it('a tensor made (or tf.ready()) before load() is not a choice: tfjs started cpu by itself and load() ran the model there', () => {
    const body = (before: string) => `${before}\nconst m = await load('squeezenet1_1', { weights: null, inputSize: 64, runtime: 'tfjs' });\n` +
      "console.log('BACKEND', tf.getBackend(), m.model.predict(tf.zeros([1, 64, 64, 3])).shape.join('x'), x.sum().dataSync()[0]);\nm.dispose();";
    for (const before of ["const x = tf.tensor([1, 2, 3]); console.log('BEFORE', tf.getBackend());",
      "await tf.ready(); const x = tf.ones([3]); console.log('BEFORE', tf.getBackend());"]) {
      const r = script(body(before));
      expect(r.status, r.stderr).to.equal(0);
      // The tensor made on cpu stays usable (tfjs moves it) and the model runs on wasm.
      expect(r.stdout, before).to.match(/BEFORE cpu\nBACKEND wasm 1x1000 (6|3)\n/);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('cnn-zoo: running on wasm')), before).to.have.length(1);
    }
    // info() builds the model to count it: tfjs started cpu and printed its banner; create() says once what runs.
    const counted = script("import { info, create } from " + JSON.stringify(join(ROOT, 'src', 'index.ts')) + ";\n" +
      "console.log('PARAMS', info('squeezenet1_1').counted.params); create('squeezenet1_1', { inputSize: 64 }); create('squeezenet1_1', { inputSize: 64 });");
    expect(counted.status, counted.stderr).to.equal(0);
    expect(counted.stdout).to.include('PARAMS 1235496');
    expect(counted.stderr).to.not.include('looks like you are running TensorFlow.js');
    expect(counted.stderr.trim().split('\n')).to.deep.equal(['cnn-zoo: create() builds on the backend in use, and none was chosen: tfjs ' +
      'starts its plain-JavaScript cpu, the slowest; await useBackend() first for the fastest here (load() picks one itself; CNN_ZOO_QUIET=1 silences this line)']);
    const chosen = script("import { create } from " + JSON.stringify(join(ROOT, 'src', 'index.ts')) + ";\nawait useBackend(); create('squeezenet1_1', { inputSize: 64 }); console.log('BACKEND', tf.getBackend());");
    expect([chosen.status, chosen.stdout.trim(), chosen.stderr.trim()]).to.deep.equal([0, 'BACKEND wasm', '']);
    const set = script(body("await tf.setBackend('cpu'); const x = tf.tensor([1, 2, 3]);"));
    expect(set.status, set.stderr).to.equal(0);
    expect(set.stdout).to.match(/BACKEND cpu 1x1000 6\n/);
  });
});
