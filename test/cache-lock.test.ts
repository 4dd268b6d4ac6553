/**
 * The cache lock across processes (src/pretrained/lock.ts), with the processes real: a holder whose thread is busy
 * for longer than the lock's staleness keeps it (it is touched from a worker thread), and waiters that find the same
 * stale lock take it over one at a time. Timing here is the lock's own (how long untouched counts as stale), never
 * a bound on how long anything takes.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withCacheLock } from '../src/pretrained/lock.js';
import { ROOT } from './helpers/shared.js';

const LOCK_MODULE = join(ROOT, 'src', 'pretrained', 'lock.ts');

/** A Node process running `body` (an ES module's top level, `withCacheLock` imported); resolves with its output. */
function child(body: string): { said: (text: string) => Promise<void>; exit: Promise<{ code: number | null; out: string }> } {
  const p = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e',
    `import { withCacheLock } from ${JSON.stringify(LOCK_MODULE)};\nimport { appendFileSync, existsSync, writeFileSync } from 'node:fs';\n${body}`],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waits: { text: string; then: () => void }[] = [];
  const take = (d: Buffer) => {
    out += String(d);
    for (const w of waits.filter((x) => out.includes(x.text))) { waits.splice(waits.indexOf(w), 1); w.then(); }
  };
  p.stdout.on('data', take);
  p.stderr.on('data', take);
  const exit = new Promise<{ code: number | null; out: string }>((r) => p.on('close', (code) => r({ code, out })));
  const said = (text: string) => new Promise<void>((then, fail) => {
    if (out.includes(text)) then();
    else {
      waits.push({ text, then });
      void exit.then(() => { if (!out.includes(text)) fail(new Error(`the process ended without saying "${text}": ${out}`)); });
    }
  });
  return { said, exit };
}

describe('cache lock across processes', function () {
  this.timeout(120_000);
  let tmp = '';
  before(() => { tmp = mkdtempSync(join(tmpdir(), 'cnn-zoo-lock-')); });
  after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

  it('a holder whose thread is busy for 3x the staleness keeps its lock: a waiter gets it only once it is released', async () => {
    const path = join(tmp, 'busy.bin');
    // The holder blocks its own thread (Atomics.wait: no timer or callback of its runs) for 6 s, staleness 2 s.
    const holder = child(`await withCacheLock(${JSON.stringify(path)}, async () => {
      console.log('held');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 6000);
      writeFileSync(${JSON.stringify(`${path}.released`)}, '');
    }, { staleMs: 2000 });`);
    await holder.said('held');
    const said: string[] = [];
    const releasedFirst = await withCacheLock(path, async () => existsSync(`${path}.released`), { staleMs: 2000, pollMs: 50, onWait: (m) => said.push(m) });
    const { code, out } = await holder.exit;
    expect(code, out).to.equal(0);
    expect(said, 'the waiter said whom it waits for').to.have.length(1);
    expect(releasedFirst, 'the waiter took the lock over while its holder still held it').to.equal(true);
  });

  it('waiters that find the same stale lock take it over one at a time', async () => {
    const path = join(tmp, 'stale.bin');
    const log = join(tmp, 'stale.log');
    writeFileSync(log, '');
    writeFileSync(`${path}.lock`, JSON.stringify({ host: 'build-box-7', pid: 1, since: new Date().toISOString() }));
    utimesSync(`${path}.lock`, new Date(0), new Date(0)); // untouched since 1970: stale
    // Four processes poll the stale lock from the same moment (each waits, ready, until the test writes the go file),
    // each holding the lock for a while when it gets it.
    const go = join(tmp, 'stale.go');
    const waiters = Array.from({ length: 4 }, () => child(`console.log('ready');
      while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 1));
      await withCacheLock(${JSON.stringify(path)}, async () => {
        appendFileSync(${JSON.stringify(log)}, 'in ' + process.pid + '\\n');
        await new Promise((r) => setTimeout(r, 300));
        appendFileSync(${JSON.stringify(log)}, 'out ' + process.pid + '\\n');
      }, { pollMs: 5 });`));
    await Promise.all(waiters.map((w) => w.said('ready')));
    writeFileSync(go, '');
    for (const { exit } of waiters) {
      const { code, out } = await exit;
      expect(code, out).to.equal(0);
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).to.have.length(8);
    for (let i = 0; i < lines.length; i += 2) {
      expect([lines[i]!.split(' ')[0], lines[i + 1]], `one holder at a time:\n${lines.join('\n')}`).to.deep.equal(['in', `out ${lines[i]!.split(' ')[1]}`]);
    }
    expect(existsSync(`${path}.lock`), 'the lock is gone once all are done').to.equal(false);
  });
});
