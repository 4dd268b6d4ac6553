/** A downloaded checkpoint (or its archive) -> a converted tfjs model with metadata: shared by Node and browsers. */
import type { WeightDtype } from '../artifacts/metadata.js';
import { convertCheckpoint, type Converted } from '../convert/convert.js';
import { readCheckpoint } from '../checkpoints/read.js';
import { checkpointId } from './table.js';
import type { PublishedCheckpoint } from './types.js';

/** Convert the downloaded bytes `raw` (sha256 `sha256`) of checkpoint `c` in memory. */
export async function convertDownloaded(c: PublishedCheckpoint, raw: Uint8Array, sha256: string, dtype: WeightDtype): Promise<Converted> {
  const bytes = c.member ? (await import('../checkpoints/tar.js')).extractMember(raw, c.member, c.file) : raw;
  const name = c.member ? `${c.file}/${c.member}` : c.file;
  const arrays = await readCheckpoint(c.format, bytes, name, { dropKeys: c.build?.dropKeys, arch: c.arch, inputSize: c.build?.inputSize });
  const source = { ...arrays, info: { format: c.format, files: [{ name: c.file, bytes: raw.length, sha256 }], origin: c.url } };
  return convertCheckpoint({
    arch: c.arch, from: c.format === 'darknet' ? 'torch' : c.format, inputs: [name], source, dtype,
    layout: c.build?.layout, inputSize: c.build?.inputSize, numClasses: c.build?.numClasses,
    preprocess: c.preprocessing, licence: c.licence, origin: `${c.url} (${checkpointId(c)}; facts: ${c.facts})`,
  });
}
