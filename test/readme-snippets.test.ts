/**
 * The README's "Quick start" and "API" sections run as written: every ```js / ```ts block there is saved as a
 * module and run with Node (`cnn-zoo` resolved to this checkout's sources, the working folder holding the
 * sample images the snippets name). A ```text block right after a snippet is its output: each of its lines
 * must appear in what the snippet prints.
 *
 * The set-up commands (lines of ```sh blocks that start with `npm ci`): exactly two, the user's main job (offline
 * classification of the photo in examples/images) and the tests (what .ci/run runs). The main job runs here as
 * written after its `npm ci &&` (the dependencies are installed and `npm test` built dist/), and prints its
 * ```text block.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SHARED, HANG_MS } from './helpers/shared.js';

/** The sections whose snippets must run. */
const SECTIONS = ['Quick start', 'API'];
const WORK = join(ROOT, 'test-artifacts', 'readme-snippets');

interface Snippet { section: string; lang: 'js' | 'ts'; code: string; output?: string[] }

/** The level-2 section `title` of a Markdown text (with its sub-sections). */
function section(markdown: string, title: string): string {
  const start = markdown.search(new RegExp(`^## ${title}\\s*$`, 'm'));
  if (start < 0) return '';
  const rest = markdown.slice(start + 3);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Fenced js/ts blocks of `text`, each with the ```text block that directly follows it, if any. */
function snippets(text: string, sectionName: string): Snippet[] {
  const fence = /^```(\w*)\n([\s\S]*?)^```\s*$/gm;
  const blocks = [...text.matchAll(fence)].map((m) => ({ lang: m[1]!, code: m[2]!, start: m.index!, end: m.index! + m[0].length }));
  const out: Snippet[] = [];
  blocks.forEach((b, i) => {
    const lang = ({ js: 'js', javascript: 'js', ts: 'ts', typescript: 'ts' } as const)[b.lang as 'js'];
    if (!lang) return;
    const next = blocks[i + 1];
    const output = next && next.lang === 'text' && text.slice(b.end, next.start).trim() === ''
      ? next.code.split('\n').map((l) => l.trim()).filter((l) => l) : undefined;
    out.push({ section: sectionName, lang, code: b.code, ...(output ? { output } : {}) });
  });
  return out;
}

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README snippets (Quick start, API) run as written', function () {

  before(() => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    for (const f of readdirSync(join(SHARED, 'images'))) symlinkSync(join(SHARED, 'images', f), join(WORK, f));
    for (const f of readdirSync(join(ROOT, 'examples', 'images'))) symlinkSync(join(ROOT, 'examples', 'images', f), join(WORK, f));
  });

  for (const name of SECTIONS) {
    const found = snippets(section(readme, name), name);
    it(`"${name}" has runnable snippets`, () => {
      expect(section(readme, name), `README.md has no "## ${name}" section`).to.not.equal('');
      expect(found.length).to.be.greaterThan(0);
    });
    found.forEach((s, i) => {
      const first = s.code.split('\n').find((l) => l.trim() && !l.startsWith('import'))?.trim() ?? '';
      it(`${name} #${i + 1} (${s.lang}): ${first.slice(0, 70)}`, () => {
        const file = join(WORK, `${name.replace(/\W+/g, '-').toLowerCase()}-${i + 1}.${s.lang === 'ts' ? 'mts' : 'mjs'}`);
        writeFileSync(file, s.code);
        const run = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'test', 'helpers', 'cnn-zoo-from-src.mjs'), file],
          { cwd: WORK, encoding: 'utf8', timeout: HANG_MS });
        expect(run.status, `${file} failed:\n${run.stderr}`).to.equal(0);
        for (const line of s.output ?? []) expect(run.stdout, `${file} should print "${line}"`).to.include(line);
        // As written, a snippet runs on a fast backend: tfjs prints its banner when it starts its plain-JavaScript cpu.
        expect(run.stderr, `${file}: tfjs's cpu backend started`).to.not.include('looks like you are running TensorFlow.js in Node.js');
      });
    });
  }
});

describe('README set-up commands', function () {
  this.timeout(180_000);
  const commands = [...readme.matchAll(/^```sh\n([\s\S]*?)^```\s*$/gm)]
    .flatMap((m) => m[1]!.split('\n')).map((l) => l.trim()).filter((l) => l.startsWith('npm ci'));
  const MAIN = /^npm ci && (npx cnn-zoo classify (examples\/images\/[\w.-]+))$/;

  it('are exactly two: offline classification of a photo in the repository, and the tests', () => {
    expect(commands).to.have.length(2);
    expect(commands.filter((c) => MAIN.test(c)), 'the main job: npm ci && npx cnn-zoo classify examples/images/...').to.have.length(1);
    expect(commands).to.include('npm ci && npm test');
    expect(readme.indexOf('npm ci && npx cnn-zoo classify'), 'the user\'s command comes before the developer\'s')
      .to.be.lessThan(readme.indexOf('npm ci && npm test'));
  });

  it('.ci/run runs the README\'s test command and sets nothing else', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    const lines = ci.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(lines.filter((l) => /\b(npm|npx)\b/.test(l))).to.deep.equal(['npm ci && npm test']);
    expect(lines.filter((l) => /^export\b|^[A-Z_]+=\S* +\w|npm_config|ONNXRUNTIME/.test(l)), 'environment set for npm').to.deep.equal([]);
  });

  it('the main job runs as written after `npm ci` and prints what the README shows', () => {
    const command = commands.find((c) => MAIN.test(c))!;
    const [, run, image] = MAIN.exec(command)!;
    expect(existsSync(join(ROOT, image!)), `${image} is in the repository`).to.equal(true);
    const after = readme.slice(readme.indexOf(command) + command.length);
    const shown = /^```\s*\n```text\n([\s\S]*?)^```/m.exec(after);
    expect(shown, 'a ```text block with its output follows the main job').to.not.equal(null);
    const res = spawnSync('sh', ['-c', run!], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
    expect(res.status, res.stderr).to.equal(0);
    const printed = res.stdout.split('\n').map((l) => l.trim()).filter((l) => l);
    expect(printed).to.deep.equal(shown![1]!.split('\n').map((l) => l.trim()).filter((l) => l));
  });
});
