/**
 * A text progress bar for long CLI runs: redrawn in place on a terminal, one line every ~10% otherwise
 * (so CI logs stay short).
 */
export interface ProgressBar {
  update(done: number, total: number, suffix?: string): void;
  finish(): void;
}

interface Out { write(s: string): unknown; isTTY?: boolean }

export function progressBar(label: string, out: Out = process.stderr, width = 30): ProgressBar {
  let lastDecile = -1;
  let lastLine = '';
  let drawn = false;
  return {
    update(done, total, suffix = '') {
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      const line = `${label} [${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${done}/${total} ${suffix}`;
      if (out.isTTY) {
        out.write(`\r${line}\x1b[K`);
        drawn = true;
      } else {
        // Without a terminal: a line per tenth, and the finished line again when its text changes (e.g. a
        // held-out accuracy measured after the last step).
        const decile = Math.floor(frac * 10);
        if (decile !== lastDecile || (frac === 1 && line !== lastLine)) {
          lastDecile = decile;
          lastLine = line;
          out.write(`${line}\n`);
        }
      }
    },
    finish() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
