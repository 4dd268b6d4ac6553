/** Rendering: the status line and the top-5 list with probabilities and latency. */
import type { Classification } from './session.js';

export type State = 'loading' | 'ready' | 'busy' | 'error';

export function setStatus(state: State, text: string): void {
  const el = document.getElementById('status')!;
  el.dataset.state = state;
  el.textContent = text;
}

export function renderResults(r: Classification): void {
  const list = document.getElementById('results')!;
  list.replaceChildren(...r.top.map((p) => {
    const li = document.createElement('li');
    li.dataset.index = String(p.index);
    li.dataset.probability = String(p.probability);
    const row = document.createElement('div');
    row.className = 'label';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.label;
    const pct = document.createElement('span');
    pct.className = 'probability';
    pct.textContent = `${(100 * p.probability).toFixed(1)}%`;
    row.append(name, pct);
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.max(1, 100 * p.probability)}%`;
    li.append(row, bar);
    return li;
  }));
  const latency = document.getElementById('latency')!;
  latency.textContent = `Latency: ${r.totalMs.toFixed(0)} ms to classify (decode, preprocess, model); model alone ${r.modelMs.toFixed(0)} ms.`;
}
