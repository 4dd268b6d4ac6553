/** `cnn-zoo classify IMAGE... [--weights W] [--model NAME]`: top-k ImageNet classes, offline with the shipped model. */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CnnZooError } from '../../errors.js';
import { load } from '../../api/index.js';
import type { ClassPrediction } from '../../api/predictions.js';
import { DEFAULT_ARCH } from '../../artifacts/shipped.js';
import { isWeightsSelector } from '../../pretrained/index.js';
import { startBackend } from '../backend.js';
import { checkRuntime, exportRunAsStored } from '../../api/runtime.js';
import { HEIC_FILE, IMAGE_FILE, IMAGE_FORMATS } from '../../image/files.js';
import { unreadableImageFile } from '../../image/decode.js';
import { cliWording } from '../wording.js';
import { archName, cliWeights, parse, positiveInt, SIZE_FLAGS, sizeOptions } from '../args.js';

export const usage = 'cnn-zoo classify IMAGE... [--model NAME (or --arch)] [--weights imagenet|PUBLISHER[:TAG]|FILE|DIR|URL|random] ' +
  '[--mirror URL|DIR] [--top K] [--input-size N [--global-pool]] [--runtime auto|onnxruntime|tfjs] [--backend wasm|cpu|webgpu|tensorflow] [--json]\n' +
  '  IMAGE: a file, an http(s) URL, a folder (its image files, in name order), or - for the bytes on standard input.\n' +
  '  Without --model and --weights: the shipped MobileNet v2 (offline). --weights imagenet downloads the model\'s published\n' +
  '  checkpoint once into the cache ($CNN_ZOO_CACHE; offline: --mirror DIR, or --weights FILE with the checkpoint file).\n' +
  '  --input-size: the weights at another square size (the preprocessing crops it); --global-pool: a global average\n' +
  '  pool instead of a fixed-window head that does not fit that size (GoogLeNet, NASNet-A, ...; not the reference).\n' +
  '  --runtime: auto (default) runs on onnxruntime-node when it is installed, else tfjs; --backend alone means tfjs on it.';

const STDIN = '(standard input)';

/** The bytes piped in (`curl -s URL | cnn-zoo classify -`). */
async function stdinBytes(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** A folder's image files (not its sub-folders), in name order; null for anything that is not a folder. */
async function folderImages(path: string): Promise<string[] | null> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || !(await stat(path).then((s) => s.isDirectory(), () => false))) return null;
  // HEIC photos too (an iPhone folder): each is refused with how to convert it, rather than left out unsaid.
  return (await readdir(path)).filter((f) => (IMAGE_FILE.test(f) || HEIC_FILE.test(f)) && !f.startsWith('.')).sort().map((f) => join(path, f));
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    weights: { type: 'string' }, arch: { type: 'string' }, model: { type: 'string' }, top: { type: 'string', default: '5' },
    backend: { type: 'string' }, runtime: { type: 'string' }, json: { type: 'boolean' }, mirror: { type: 'string' }, ...SIZE_FLAGS,
  }, usage);
  if (positionals.length === 0) throw new CnnZooError(`classify needs at least one image.\nUsage: ${usage}`, 'BAD_ARGS');
  const dashes = positionals.filter((p) => p === '-').length;
  if (dashes > 1) throw new CnnZooError('classify: - (standard input) can be given once: it holds one image.', 'BAD_ARGS');
  if (dashes && process.stdin.isTTY) {
    throw new CnnZooError('classify -: reads one image from standard input, but it is a terminal, so none would come. Pipe an ' +
      'image in (curl -s URL | cnn-zoo classify -, or cnn-zoo classify - < photo.jpg), or name the file.', 'BAD_ARGS');
  }
  const k = positiveInt(values.top, 'top', usage)!;
  const size = sizeOptions(values, usage);
  const runtimeName = values.runtime ?? (values.backend ? 'tfjs' : 'auto');
  try {
    checkRuntime(runtimeName, '--runtime');
  } catch {
    throw new CnnZooError(`--runtime must be auto, onnxruntime or tfjs, got "${runtimeName}".`, 'BAD_ARGS');
  }
  const backend = await startBackend(values.backend ?? 'wasm');
  const arch = archName(values);
  if (!arch && values.weights && (isWeightsSelector(values.weights) || values.weights === 'random')) {
    throw new CnnZooError(`--weights ${values.weights} needs the model: add --model NAME.`, 'BAD_ARGS');
  }
  let failed = 0;
  const images: string[] = [];
  for (const path of positionals) {
    const inFolder = path === '-' ? null : await folderImages(path);
    if (inFolder === null) images.push(path);
    else if (inFolder.length) images.push(...inFolder);
    else {
      failed++;
      // Converted weights given as the image (`cnn-zoo classify ./my-classifier`): say where they go.
      const weights = await stat(join(path, 'model.json')).then(() => true, () => false);
      // Images one level down (a dataset's DIR/images, class folders): name the folders to pass, as it reads no deeper.
      const below: string[] = [];
      for (const d of weights ? [] : (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort()) {
        if ((await folderImages(join(path, d)))?.length) below.push(join(path, d));
      }
      const shownBelow = below.length > 3 ? `${join(path, '*')} (its ${below.length} folders)` : below.join(' ');
      console.error(`cnn-zoo: ${path}: a folder without image files (${IMAGE_FORMATS}). Pass image files, URLs or folders of images` +
        (weights ? `; it holds converted weights (model.json): cnn-zoo classify IMAGE... --weights ${path}.`
          : below.length ? `; its sub-folders hold images, and classify reads only the folders it is given: cnn-zoo classify ${shownBelow}.` : '.'));
    }
  }
  // When no image can be read (a mistyped name, empty folders), that is said before a model loads (VGG-16: 19 s to
  // the error). Otherwise each unreadable one is said in its turn.
  // The files are looked at in turn up to the first that opens (a folder of thousands: the first).
  let readable = images.includes('-');
  const unreadable: CnnZooError[] = [];
  for (const path of images) {
    if (readable) break;
    const e = await unreadableImageFile(path);
    if (e) unreadable.push(e);
    else readable = true;
  }
  if (!readable) {
    for (const e of unreadable) console.error(`cnn-zoo: ${cliWording(e.message)}`);
    if (values.json) console.log('[]');
    return 1;
  }
  const hub = { ...(values.mirror ? { hub: { mirror: values.mirror } } : {}), ...size, runtime: runtimeName };
  // Converted weights alone name their architecture in their metadata (a checkpoint file: when it is a published one).
  const model = arch ? await load(arch, values.weights ? { weights: cliWeights(values.weights), ...hub } : hub)
    : values.weights ? await load(/^(?:[a-z]+:\/\/|~)/i.test(values.weights) ? values.weights : resolve(values.weights), hub) : await load(DEFAULT_ARCH, hub);
  const runtime = model.runtime === 'tfjs' ? `${backend.name} (${backend.detail})` : `${model.runtime} (CPU)`;
  // cnn-zoo's ONNX export run as stored: its weights are the file's (int8, float16), not the dtype they were converted to.
  const stored = exportRunAsStored(model);
  const source = model.metadata && model.metadata.source.format !== 'random' ? `${model.metadata.training ? `trained on ${model.metadata.training.base.arch}'s ` : ''}${model.metadata.source.format}${stored ? `, ${stored} ONNX export` : ` ${model.metadata.dtype}`}` : 'random weights';
  const results: { image: string; model: string; backend: string; top: ClassPrediction[] }[] = [];
  if (!values.json) console.log(`${model.name} (${source}) on ${runtime}${size.inputSize ? `, at ${model.preprocessing.size} px` : ''}${size.globalPool ? ', global average pool' : ''}`);
  try {
    for (const path of images) {
      const name = path === '-' ? STDIN : path;
      let top: ClassPrediction[];
      try {
        top = await model.classify(path === '-' ? await stdinBytes() : path, { topK: k });
      } catch (e) {
        if (!(e instanceof CnnZooError) || e.code === 'NO_CLASSIFIER') throw e; // the model's problem, not the image's: said once
        failed++;
        // The decoders' errors start with the file name already; bytes from standard input are named "image (N bytes)".
        console.error(`cnn-zoo: ${e.message.startsWith(path) ? '' : `${name}: `}${cliWording(e.message)}`);
        continue;
      }
      results.push({ image: path, model: model.name, backend: runtime, top });
      if (!values.json) {
        console.log(`${name}  (${model.name}, ${source})`);
        top.forEach((p, i) => console.log(`  ${i + 1}. ${(100 * p.probability).toFixed(2).padStart(6)}%  ${String(p.index).padStart(4)}  ${p.label}`));
      }
    }
  } finally {
    model.dispose();
  }
  if (values.json) console.log(JSON.stringify(results, null, 2));
  return failed ? 1 : 0;
}
