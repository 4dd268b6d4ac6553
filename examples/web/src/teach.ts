/**
 * "Teach it your own classes": name two or more classes, add a few images of each (files, or frames from the
 * camera), train a new head on the loaded model's pretrained backbone (`load(base, { classes, weights })`, then
 * `fit({ classes, items })`, in this page), then classify with the new classes. The classifier is kept in the
 * page's IndexedDB (`save('indexeddb://...')`), so a later visit can use it again (`load('indexeddb://...')`)
 * without teaching it anew; "back to ImageNet classes" forgets it.
 */
import * as tf from '@tensorflow/tfjs';
import { load, type FitProgress, type ImageInput, type ZooModel } from 'cnn-zoo';

/** Where the taught classifier is kept between visits. */
export const KEPT = 'indexeddb://cnn-zoo-web/taught';

/** One class being taught: its name and its images (file bytes or camera frames). */
interface TaughtClass { name: HTMLInputElement; images: ImageInput[]; thumbs: HTMLElement; count: HTMLElement }

export interface TeachOptions {
  /** The loaded model's registry name and the URL of its pretrained weights ('' when it has none), its backend started. */
  base(): Promise<{ name: string; weightsUrl: string }>;
  /** The camera's current frame, starting the camera if needed; null without a camera. */
  cameraFrame(): Promise<ImageData | null>;
  /** Runs one job at a time with the app's other work (loading, classifying). */
  serial<T>(job: () => Promise<T>): Promise<T | undefined>;
  /** The taught classifier, or null again after "forget". */
  onModel(model: ZooModel | null): void;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** Progress of fit() as one line and a fraction done. */
export function describeProgress(p: FitProgress): { text: string; fraction: number } {
  if (p.phase === 'features') return { text: `Features of the images: ${p.done} / ${p.total}`, fraction: p.total ? p.done / p.total : 0 };
  if (p.phase === 'head') return { text: `Training the new head: epoch ${p.epoch} / ${p.epochs}, loss ${p.loss.toFixed(3)}, accuracy ${(100 * p.accuracy).toFixed(0)}%`, fraction: p.epoch / p.epochs };
  const held = p.valAccuracy === null ? '' : `, held-out ${(100 * p.valAccuracy).toFixed(0)}%`;
  return { text: `Fine-tuning: epoch ${p.epoch} / ${p.epochs}, ${p.done} / ${p.total} images, loss ${p.loss.toFixed(3)}${held}`, fraction: (p.epoch - 1 + p.done / p.total) / p.epochs };
}

export function setupTeach(o: TeachOptions): void {
  const list = $<HTMLElement>('teach-classes');
  const status = $<HTMLElement>('teach-status');
  const progress = $<HTMLProgressElement>('teach-progress');
  const fineTune = $<HTMLInputElement>('teach-fine-tune');
  const classes: TaughtClass[] = [];

  const restore = $<HTMLButtonElement>('teach-restore');
  const say = (state: 'idle' | 'busy' | 'done' | 'error', text: string) => { status.dataset.state = state; status.textContent = text; };
  /** Enables "use the classes taught last time" when a classifier is kept in IndexedDB. */
  const checkKept = async () => { restore.disabled = !(KEPT in await tf.io.listModels().catch(() => ({}))); };

  function addImage(c: TaughtClass, image: ImageInput, thumbUrl: string): void {
    c.images.push(image);
    const img = document.createElement('img');
    img.src = thumbUrl;
    img.alt = '';
    c.thumbs.append(img);
    c.count.textContent = `${c.images.length} image${c.images.length === 1 ? '' : 's'}`;
  }

  function addClass(defaultName: string): void {
    const i = classes.length;
    const row = document.createElement('div');
    row.className = 'teach-class';
    row.innerHTML = `<input id="teach-name-${i}" class="teach-name" type="text" aria-label="class name">` +
      `<label class="button">add images<input id="teach-files-${i}" type="file" accept="image/*" multiple></label>` +
      `<button id="teach-camera-${i}" type="button">add a camera frame</button><span class="count">0 images</span><div class="thumbs"></div>`;
    list.append(row);
    const c: TaughtClass = { name: row.querySelector('input.teach-name')!, images: [], thumbs: row.querySelector('.thumbs')!, count: row.querySelector('.count')! };
    c.name.value = defaultName;
    classes.push(c);
    const files = row.querySelector<HTMLInputElement>('input[type=file]')!;
    files.addEventListener('change', () => {
      void (async () => {
        for (const f of Array.from(files.files ?? [])) addImage(c, new Uint8Array(await f.arrayBuffer()), URL.createObjectURL(f));
        files.value = '';
      })();
    });
    row.querySelector<HTMLButtonElement>(`#teach-camera-${i}`)!.addEventListener('click', () => {
      void (async () => {
        const frame = await o.cameraFrame();
        if (!frame) return say('error', 'No camera frame: start the camera (or add image files).');
        const canvas = document.createElement('canvas');
        canvas.width = frame.width;
        canvas.height = frame.height;
        canvas.getContext('2d')!.putImageData(frame, 0, 0);
        addImage(c, frame, canvas.toDataURL('image/jpeg', 0.7));
      })();
    });
  }

  async function train(): Promise<void> {
    const used = classes.filter((c) => c.images.length > 0);
    const names = used.map((c) => c.name.value.trim());
    if (used.length < 2) return say('error', 'Add images to at least two classes.');
    if (names.some((n) => n === '') || new Set(names).size !== names.length) return say('error', 'Give each class with images a name of its own.');
    await o.serial(async () => {
      o.onModel(null);
      const { name, weightsUrl } = await o.base();
      if (!weightsUrl) return say('error', `${name} has no pretrained weights here: pick tf_mobilenet_v2_100 or give a weights URL.`);
      say('busy', `Loading ${name} with a new head for ${names.join(', ')}…`);
      progress.value = 0;
      const started = performance.now();
      const model = await load(name, { classes: names, weights: weightsUrl });
      try {
        const items = used.flatMap((c, label) => c.images.map((image) => ({ image, label })));
        const history = await model.fit({ classes: names, items }, {
          epochs: 20, augment: 2, validationSplit: 0, fineTune: Math.max(0, Math.floor(Number(fineTune.value) || 0)),
          onProgress: (p) => { const d = describeProgress(p); say('busy', d.text); progress.value = d.fraction; },
        });
        const last = history.epochs.at(-1)!;
        progress.value = 1;
        await model.save(KEPT);
        await checkKept();
        say('done', `Taught ${names.join(', ')} (${items.length} images) in ${((performance.now() - started) / 1000).toFixed(1)} s on ${history.backend}: ` +
          `training accuracy ${(100 * last.accuracy).toFixed(0)}%. Choose an image (or the camera) to classify with your classes. ` +
          'Kept in this browser for your next visit.');
        o.onModel(model);
      } catch (e) {
        model.dispose();
        throw e;
      }
    });
    if (status.dataset.state === 'busy') say('error', 'Training failed (see the status above).');
  }

  addClass('class 1');
  addClass('class 2');
  $<HTMLButtonElement>('teach-add').addEventListener('click', () => addClass(`class ${classes.length + 1}`));
  $<HTMLButtonElement>('teach-train').addEventListener('click', () => { void train(); });
  restore.addEventListener('click', () => {
    void o.serial(async () => {
      await o.base(); // the page's model and backend first: a change of either forgets the taught classifier
      say('busy', 'Loading the classes taught last time…');
      const model = await load(KEPT);
      const labels = model.metadata?.labels;
      o.onModel(model);
      say('done', `Using the classes taught last time (${Array.isArray(labels) ? labels.join(', ') : 'saved labels'}), on ${model.name}. ` +
        'Choose an image (or the camera) to classify with them.');
    });
  });
  $<HTMLButtonElement>('teach-forget').addEventListener('click', () => {
    void o.serial(async () => {
      o.onModel(null);
      await tf.io.removeModel(KEPT).catch(() => undefined);
      await checkKept();
      say('idle', 'Back to the ImageNet classes.');
    });
  });
  void checkKept();
}
