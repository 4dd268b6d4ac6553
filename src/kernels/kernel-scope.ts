/**
 * Composing backend kernels inside a kernel: `scope.run('Conv2D', inputs, attrs)` calls the kernel registered
 * for the scope's backend directly (no op, no tape, no engine bookkeeping) and remembers its output, and
 * `scope.finish(result)` frees every intermediate except `result`. Reshapes share their input's data (the
 * backend counts references), so each output is released exactly once.
 */
import * as tf from '@tensorflow/tfjs';
import { writePhase } from './slice-runs.js';
import type { WasmHeapBackend } from './wasm-copy.js';

type Attrs = Record<string, unknown>;

export class KernelScope {
  private readonly temps: tf.TensorInfo[] = [];

  constructor(readonly backend: tf.KernelBackend, readonly backendName: string) {}

  /** Run kernel `name` of this backend on `inputs`; the output is freed by `finish` unless returned. */
  run(name: string, inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[], attrs: Attrs = {}): tf.TensorInfo {
    const config = tf.getKernel(name, this.backendName);
    if (!config) throw new Error(`cnn-zoo gradients: kernel ${name} is not registered for ${this.backendName}`);
    const out = config.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs: attrs as tf.NamedAttrMap });
    if (Array.isArray(out)) throw new Error(`cnn-zoo gradients: kernel ${name} returned several outputs`);
    this.temps.push(out);
    return out;
  }

  /** A float32 scalar, freed like the other intermediates. */
  scalar(value: number): tf.TensorInfo {
    const t: tf.TensorInfo = { dataId: this.backend.write(Float32Array.of(value), [], 'float32'), shape: [], dtype: 'float32' };
    this.temps.push(t);
    return t;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** `x[begin : begin + size]` (contiguous). */
  slice(x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /** Zero padding, `[before, after]` per axis (all non-negative). */
  pad(x: tf.TensorInfo, paddings: [number, number][]): tf.TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /**
   * Interleave phase maps into [n, h, w, c]: `grid[r][t]` holds the rows r, r + sh, ... and columns t, t + sw, ... of
   * the result, [n, ceil((h - r) / sh), ceil((w - t) / sw), c] (sh = grid.length, sw = grid[0].length); a `null`
   * phase is zeros. On a backend whose heap the kernels read (wasm) each phase is written once into the result;
   * elsewhere the phases are padded to one size, concatenated twice and cropped (four copies of the result).
   */
  interleave(grid: (tf.TensorInfo | null)[][], [n, h, w, c]: readonly [number, number, number, number]): tf.TensorInfo {
    const sh = grid.length, sw = grid[0]!.length;
    const heap = this.backend as unknown as Partial<WasmHeapBackend>;
    if (heap.makeOutput && heap.typedArrayFromHeap) {
      const out = heap.makeOutput([n, h, w, c], 'float32');
      this.temps.push(out);
      const view = (t: tf.TensorInfo) => heap.typedArrayFromHeap!(t); // taken after the output is allocated
      if (grid.some((row) => row.includes(null))) view(out).fill(0);
      grid.forEach((row, r) => row.forEach((cell, t) => {
        if (cell) writePhase(view(cell), cell.shape, view(out), h, w, [r, t], [sh, sw]);
      }));
      return out;
    }
    const qh = Math.ceil(h / sh), qw = Math.ceil(w / sw);
    const rows = grid.map((row) => {
      const cells = row.map((cell) => {
        const full = cell ? this.pad(cell, [[0, 0], [0, qh - cell.shape[1]!], [0, qw - cell.shape[2]!], [0, 0]])
          : this.run('Fill', [], { shape: [n, qh, qw, c], value: 0, dtype: 'float32' });
        return this.reshape(full, [n, qh, 1, qw, 1, c]);
      });
      return cells.length > 1 ? this.run('Concat', cells, { axis: 4 }) : cells[0]!;
    });
    const all = rows.length > 1 ? this.run('Concat', rows, { axis: 2 }) : rows[0]!;
    return this.slice(this.reshape(all, [n, qh * sh, qw * sw, c]), [0, 0, 0, 0], [n, h, w, c]);
  }

  /** Free one intermediate now (large ones inside loops). */
  free(t: tf.TensorInfo): void {
    const i = this.temps.indexOf(t);
    if (i < 0) return;
    this.temps.splice(i, 1);
    this.backend.disposeData(t.dataId);
  }

  /** Hand an intermediate over to the caller, who frees it (false when `t` is not one of this scope's). */
  detach(t: tf.TensorInfo): boolean {
    const i = this.temps.indexOf(t);
    if (i < 0) return false;
    this.temps.splice(i, 1);
    return true;
  }

  /** Free every intermediate but `result` (which the caller hands to the engine). */
  finish(result: tf.TensorInfo): tf.TensorInfo {
    for (const t of this.temps) if (t !== result) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
    return result;
  }

  /** Free every intermediate (on failure). */
  abandon(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}
