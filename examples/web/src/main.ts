/**
 * The web app: pick a model and a backend, drop or choose an image (or use the camera), see the top 5 with
 * probabilities and the latency; or teach it your own classes (teach.ts) and classify with those. Weights are
 * cached in IndexedDB after the first load.
 */
import { CnnZooError, list, type ImageInput, type ZooModel } from 'cnn-zoo';
import { classifyTimed, loadModel, SHIPPED_WEIGHTS, weightsUrlOf, type Loaded, type ModelChoice } from './session.js';
import { setupTeach } from './teach.js';
import { renderResults, setStatus } from './view.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const modelSelect = $<HTMLSelectElement>('model');
const backendSelect = $<HTMLSelectElement>('backend');
const weightsInput = $<HTMLInputElement>('weights-url');
const fileInput = $<HTMLInputElement>('file');
const drop = $<HTMLElement>('drop');
const preview = $<HTMLImageElement>('preview');
const video = $<HTMLVideoElement>('camera');
const cameraButton = $<HTMLButtonElement>('camera-button');
const modelInfo = $<HTMLElement>('model-info');

/** Architectures without shipped weights run on random weights: small ones only (they are for latency). */
const RANDOM_MAX_PARAMS = 30e6;

function fillModels(): void {
  const cards = list();
  const group = (label: string, names: string[]): HTMLOptGroupElement => {
    const g = document.createElement('optgroup');
    g.label = label;
    for (const n of names) g.append(new Option(n, n));
    return g;
  };
  const shipped = cards.filter((c) => SHIPPED_WEIGHTS.includes(c.name)).map((c) => c.name);
  const others = cards.filter((c) => !SHIPPED_WEIGHTS.includes(c.name) && (c.meta.params ?? Infinity) <= RANDOM_MAX_PARAMS).map((c) => c.name);
  modelSelect.append(group('Pretrained (ImageNet weights)', shipped), group('Random weights unless a weights URL is given', others));
  const params = new URLSearchParams(location.search);
  modelSelect.value = params.get('model') ?? shipped[0] ?? others[0]!;
  backendSelect.value = params.get('backend') ?? 'auto';
}

const choice = (): ModelChoice => ({
  name: modelSelect.value,
  backend: backendSelect.value as ModelChoice['backend'],
  weightsUrl: weightsInput.value.trim(),
});
const sameChoice = (a: ModelChoice, b: ModelChoice): boolean => a.name === b.name && a.backend === b.backend && a.weightsUrl === b.weightsUrl;

let loaded: (Loaded & { choice: ModelChoice }) | null = null;
/** A classifier taught your own classes (teach.ts); classifies instead of the loaded model while set. */
let taught: ZooModel | null = null;
function setTaught(model: ZooModel | null): void {
  if (taught !== model) taught?.dispose();
  taught = model;
}
/** One operation at a time (load, classify), in order. */
let queue: Promise<unknown> = Promise.resolve();
const serial = <T>(job: () => Promise<T>): Promise<T | undefined> => {
  const next = queue.then(job).catch((e: unknown) => {
    const message = e instanceof CnnZooError ? e.message : `Unexpected error: ${(e as Error).message ?? String(e)}`;
    setStatus('error', message);
    console.error(e);
    return undefined;
  });
  queue = next;
  return next;
};

async function ensureModel(): Promise<Loaded & { choice: ModelChoice }> {
  const want = choice();
  if (loaded && sameChoice(loaded.choice, want)) return loaded;
  setTaught(null); // taught on the previous model and backend
  loaded?.model.dispose();
  loaded = null;
  setStatus('loading', `Loading ${want.name} on ${want.backend}…`);
  const l = await loadModel(want);
  loaded = { ...l, choice: want };
  const card = l.model.card;
  modelInfo.textContent = `${card.name}: ${(card.meta.params ?? 0).toLocaleString('en')} parameters, input ${l.model.preprocessing.size} px; ` +
    `weights from ${l.weightsFrom}; loaded in ${l.loadMs.toFixed(0)} ms.`;
  modelInfo.dataset.weightsFrom = l.weightsFrom;
  setStatus('ready', `${card.name} ready on ${l.backend}. Drop an image or choose a file.`);
  return loaded;
}

async function classify(image: ImageInput, what: string): Promise<void> {
  await serial(async () => {
    const l = await ensureModel();
    setStatus('busy', `Classifying ${what}…`);
    const result = await classifyTimed(taught ?? l.model, image);
    renderResults(result);
    const by = taught ? `your classes (taught on ${taught.name})` : l.model.name;
    setStatus('ready', `Classified ${what} with ${by} on ${l.backend}.`);
  });
}

async function classifyFile(file: File): Promise<void> {
  stopCamera();
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  await classify(new Uint8Array(await file.arrayBuffer()), file.name);
}

// --- camera: classify frames while it runs ---------------------------------------------------------------
let stream: MediaStream | null = null;

function stopCamera(): void {
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
  video.hidden = true;
  cameraButton.textContent = 'use the camera';
}

async function cameraLoop(): Promise<void> {
  while (stream) {
    if (video.readyState >= 2) await classify(video, 'camera frame');
    await new Promise((r) => requestAnimationFrame(r));
  }
}

async function toggleCamera(): Promise<void> {
  if (stream) return stopCamera();
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch (e) {
    setStatus('error', `No camera: ${(e as Error).message}. Choose an image file instead.`);
    return;
  }
  video.srcObject = stream;
  video.hidden = false;
  preview.hidden = true;
  cameraButton.textContent = 'stop the camera';
  await video.play();
  void cameraLoop();
}

/** The camera's current frame as pixels (starting the camera first when it is off); null without a camera. */
async function cameraFrame(): Promise<ImageData | null> {
  if (!stream) await toggleCamera();
  if (!stream) return null;
  while (video.readyState < 2) await new Promise((r) => requestAnimationFrame(r));
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const g = canvas.getContext('2d')!;
  g.drawImage(video, 0, 0);
  return g.getImageData(0, 0, canvas.width, canvas.height);
}

// --- wiring --------------------------------------------------------------------------------------------------
fillModels();
fileInput.addEventListener('change', () => { const f = fileInput.files?.[0]; if (f) void classifyFile(f); });
cameraButton.addEventListener('click', () => { void toggleCamera(); });
for (const el of [modelSelect, backendSelect, weightsInput]) el.addEventListener('change', () => { void serial(ensureModel); });
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) void classifyFile(f);
});
setupTeach({
  base: async () => { const l = await ensureModel(); return { name: l.model.name, weightsUrl: weightsUrlOf(l.choice) }; },
  cameraFrame, serial, onModel: setTaught,
});
void serial(ensureModel);
