/**
 * The README's "Quick start" and "API" sections run as written: every ```js / ```ts block there is saved as a
 * module and run with Node (`cnn-zoo` resolved to this checkout's sources, the working folder holding the
 * sample images the snippets name). A ```text block right after a snippet is its output: each of its lines
 * must appear in what the snippet prints.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
      });
    });
  }
});
