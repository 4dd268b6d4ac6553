/**
 * PyTorch checkpoints (`torch.save`): the ZIP container (PyTorch >= 1.6) and the legacy pickle stream
 * (before 1.6), holding a state_dict directly or wrapped (`{state_dict: ...}`, `{model: ...}`,
 * DataParallel's `module.` prefixes). Only an allow-list of pickle globals is interpreted: tensors,
 * storages and OrderedDict. A pickled whole module is refused with how to save a state_dict instead.
 */
import { ByteReader, DecodeBudget, corrupt, decodeElements, numelOf, unsupported, type DType, DTYPE_SIZE } from './bytes.js';
import { PyGlobal, unpickle, type PyCallable } from './pickle.js';
import { ZipArchive, isZip } from './zip.js';
import type { NamedArray, StateDict } from '../arrays.js';
import { CnnZooError } from '../errors.js';

const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
};

class StorageType { constructor(readonly dtype: DType, readonly name: string) {} }

/** A storage named by a persistent id; its bytes are attached once the container is read. */
class Storage {
  bytes?: Uint8Array;
  /** The whole storage as float32, decoded once however many tensors view it. */
  decoded?: Float32Array;
  constructor(readonly key: string, readonly type: StorageType, readonly numel: number) {}
}

/** A tensor as the pickle describes it (a strided view of a storage). */
class TensorRef {
  constructor(readonly storage: Storage, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}

/** More dimensions than any real tensor has (PyTorch kernels support at most 25 or so). */
const MAX_RANK = 64;

/**
 * A pickled value as text for names and messages, never recursing: a pickle can nest lists millions deep
 * or make them cyclic, so only strings and numbers are spelled out.
 */
function pyText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v === null) return String(v);
  return `<${Array.isArray(v) ? 'tuple' : v instanceof Map ? 'dict' : typeof v}>`;
}

/** Globals that are safe to interpret: exactly what a state_dict of plain tensors needs. */
function allowList(source: string): Map<string, PyCallable> {
  const ints = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v) || v.length > MAX_RANK || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) throw corrupt(source, `tensor ${what} is not a tuple of at most ${MAX_RANK} integers`);
    return v as number[];
  };
  const rebuild: PyCallable = (args) => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof Storage)) throw corrupt(source, 'tensor without a storage');
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw corrupt(source, 'tensor storage offset is not a non-negative integer');
    return new TensorRef(storage, offset, ints(size, 'size'), ints(stride, 'stride'));
  };
  const m = new Map<string, PyCallable>([
    ['collections.OrderedDict', () => new Map()],
    ['torch._utils._rebuild_tensor_v2', rebuild],
    ['torch._utils._rebuild_tensor', rebuild],
    ['torch._utils._rebuild_parameter', (args) => args[0]],
    ['torch._utils._rebuild_parameter_with_state', (args) => args[0]],
  ]);
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) m.set(`torch.${name}`, () => new StorageType(dtype, name));
  return m;
}

function refuser(source: string) {
  return (module: string, name: string): never => {
    if (module.startsWith('torch.nn.') || module === '__main__' || module.startsWith('torchvision.models') || module.startsWith('timm.models')) {
      throw new CnnZooError(`${source}: the checkpoint is a pickled whole model (it names the class ${module}.${name}), ` +
        'not a state_dict of tensors. Reading it would need that Python class and running its code. Save the weights ' +
        'instead: `torch.save(model.state_dict(), path)`, then convert that file.', 'PICKLED_MODULE');
    }
    throw new CnnZooError(`${source}: the checkpoint's pickle uses the global ${module}.${name}, which cnn-zoo does not ` +
      'interpret (only tensors, storages and OrderedDict are allowed, so that loading never runs code). Save a plain ' +
      'state_dict: `torch.save(model.state_dict(), path)`.', 'UNSAFE_PICKLE');
  };
}

function storageType(v: unknown, source: string): StorageType {
  const t = v instanceof PyGlobal ? v.call([]) : v;
  if (t instanceof StorageType) return t;
  throw corrupt(source, 'persistent id without a storage type');
}

/** Materialise a strided tensor view as contiguous float32. */
function materialise(t: TensorRef, key: string, source: string, budget: DecodeBudget): NamedArray {
  const { storage } = t;
  if (!storage.bytes) throw corrupt(source, `storage ${storage.key} of "${key}" has no data`);
  const n = numelOf(t.shape, source, `tensor "${key}"`);
  if (t.stride.length !== t.shape.length) throw corrupt(source, `tensor "${key}" has ${t.shape.length} dims but ${t.stride.length} strides`);
  let last = t.offset;
  for (let i = 0; i < t.shape.length; i++) if (t.shape[i]! > 0) last += (t.shape[i]! - 1) * t.stride[i]!;
  if (n > 0 && last >= storage.numel) throw corrupt(source, `tensor "${key}" (shape [${t.shape}], offset ${t.offset}) reads past its storage of ${storage.numel} elements`);
  if (n > storage.numel) {
    throw unsupported(source, `tensor "${key}" (shape [${t.shape}], stride [${t.stride}]) repeats the ${storage.numel} elements of its storage`,
      'Save expanded tensors as copies: `t.contiguous()` (or `.clone()`) before `torch.save`.');
  }
  budget.take(n, `tensor "${key}"`);
  if (!storage.decoded) {
    budget.take(storage.numel, `storage ${storage.key}`);
    storage.decoded = decodeElements(storage.bytes, storage.type.dtype, storage.numel, source, `storage ${storage.key}`);
  }
  const all = storage.decoded;
  const contiguous = t.stride.every((s, i) => s === t.shape.slice(i + 1).reduce((a, b) => a * b, 1) || t.shape[i] === 1);
  if (contiguous) return { shape: t.shape, data: all.slice(t.offset, t.offset + n) };
  const data = new Float32Array(n);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let o = 0; o < n; o++) {
    let src = t.offset;
    for (let a = 0; a < idx.length; a++) src += idx[a]! * t.stride[a]!;
    data[o] = all[src]!;
    for (let a = idx.length - 1; a >= 0; a--) { if (++idx[a]! < t.shape[a]!) break; idx[a] = 0; }
  }
  return { shape: t.shape, data };
}

/** The dict that holds the tensors: the object itself, or its `state_dict` / `model` / `module` entry. */
function findStateDict(root: unknown, source: string): Map<unknown, unknown> {
  let obj = root;
  for (let depth = 0; depth < 4; depth++) {
    if (!(obj instanceof Map)) break;
    if ([...obj.values()].some((v) => v instanceof TensorRef)) return obj;
    const next = ['state_dict', 'model_state_dict', 'model', 'module', 'net', 'network', 'params'].map((k) => obj instanceof Map ? obj.get(k) : undefined).find((v) => v instanceof Map);
    if (!next) break;
    obj = next;
  }
  const keys = root instanceof Map ? [...root.keys()].slice(0, 10).map(pyText).join(', ') : pyText(root);
  throw unsupported(source, `no state_dict of tensors found (top-level keys: ${keys})`, 'Save one with `torch.save(model.state_dict(), path)`.');
}

function toStateDict(root: unknown, source: string, fileBytes: number): StateDict {
  const dict = findStateDict(root, source);
  const out: StateDict = new Map();
  const keys: string[] = [];
  for (const [k, v] of dict) {
    if (!(v instanceof TensorRef)) continue;
    if (typeof k !== 'string' && typeof k !== 'number') throw corrupt(source, `state_dict key ${pyText(k)} is not a string`);
    keys.push(String(k));
  }
  const stripModule = keys.length > 0 && keys.every((k) => k.startsWith('module.'));
  const budget = new DecodeBudget(source, fileBytes);
  for (const [k, v] of dict) {
    if (!(v instanceof TensorRef)) continue;
    const key = stripModule ? String(k).slice('module.'.length) : String(k);
    out.set(key, materialise(v, String(k), source, budget));
  }
  return out;
}

function readZip(bytes: Uint8Array, source: string): StateDict {
  const zip = new ZipArchive(bytes, source);
  const pkl = zip.names().find((n) => /(^|\/)data\.pkl$/.test(n));
  if (!pkl) throw unsupported(source, 'ZIP archive without data.pkl: not a PyTorch checkpoint (TorchScript archives hold code, not a state_dict)');
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.read(`${prefix}byteorder`)) : 'little';
  if (order !== 'little') throw unsupported(source, `big-endian checkpoint (byteorder "${order}")`);
  const storages = new Map<string, Storage>();
  const root = unpickle(new ByteReader(zip.read(pkl), source), {
    source, globals: allowList(source), refuse: refuser(source),
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw corrupt(source, 'unexpected persistent id');
      const [, type, key, , numel] = pid as [string, unknown, unknown, unknown, unknown];
      const k = pyText(key);
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw corrupt(source, `storage ${k} has a bad size`);
      let s = storages.get(k);
      if (!s) {
        s = new Storage(k, storageType(type, source), numel);
        const data = zip.read(`${prefix}data/${k}`);
        if (data.length < numel * DTYPE_SIZE[s.type.dtype]) throw corrupt(source, `storage ${k} holds ${data.length} bytes, ${numel} ${s.type.dtype} values need ${numel * DTYPE_SIZE[s.type.dtype]}`);
        s.bytes = data;
        storages.set(k, s);
      }
      return s;
    },
  });
  return toStateDict(root, source, bytes.length);
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function readLegacy(bytes: Uint8Array, source: string): StateDict {
  const r = new ByteReader(bytes, source);
  const plain = { source, globals: new Map<string, PyCallable>(), refuse: refuser(source) };
  const magic = unpickle(r, plain);
  if (typeof magic !== 'bigint' || magic !== LEGACY_MAGIC) throw corrupt(source, 'not a PyTorch checkpoint (no ZIP header and no legacy magic number)');
  const version = unpickle(r, plain);
  if (version !== 1001) throw unsupported(source, `legacy checkpoint protocol ${pyText(version)}; only 1001 is known`);
  const sysInfo = unpickle(r, plain);
  if (sysInfo instanceof Map && sysInfo.get('little_endian') === false) throw unsupported(source, 'big-endian legacy checkpoint');
  const storages = new Map<string, Storage>();
  const root = unpickle(r, {
    source, globals: allowList(source), refuse: refuser(source),
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 6) throw corrupt(source, 'unexpected persistent id');
      const [, type, key, , numel, view] = pid as [string, unknown, unknown, unknown, unknown, unknown];
      if (view !== null) throw unsupported(source, 'legacy storage views', 'Re-save the checkpoint with a current PyTorch.');
      const k = pyText(key);
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw corrupt(source, `storage ${k} has a bad size`);
      let s = storages.get(k);
      if (!s) { s = new Storage(k, storageType(type, source), numel); storages.set(k, s); }
      return s;
    },
  });
  const keys = unpickle(r, plain);
  if (!Array.isArray(keys)) throw corrupt(source, 'legacy storage key list missing');
  for (const key of keys) {
    const s = storages.get(pyText(key));
    if (!s) throw corrupt(source, `legacy data for unknown storage ${pyText(key)}`);
    const n = Number(r.i64(`size of storage ${s.key}`));
    if (n !== s.numel) throw corrupt(source, `storage ${s.key} holds ${n} values, its tensors expect ${s.numel}`);
    s.bytes = r.take(n * DTYPE_SIZE[s.type.dtype], `data of storage ${s.key}`);
  }
  return toStateDict(root, source, bytes.length);
}

/** Read a `.pth`/`.pt` checkpoint into a StateDict (float32, PyTorch layout). */
export function readTorch(bytes: Uint8Array, source = 'checkpoint'): StateDict {
  if (bytes.length < 4) throw corrupt(source, `only ${bytes.length} bytes`);
  if (isZip(bytes)) return readZip(bytes, source);
  if (bytes[0] === 0x80) return readLegacy(bytes, source);
  throw corrupt(source, 'not a PyTorch checkpoint (neither a ZIP archive nor a pickle)');
}
