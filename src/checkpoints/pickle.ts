/**
 * A restricted Python unpickler (protocols 0-5) for checkpoint files. It builds plain values (null,
 * booleans, numbers, bigints, strings, bytes, arrays for lists and tuples, Maps for dicts) and calls a
 * function only for globals on the caller's allow-list; any other global is refused by name, so a pickle
 * can never run code. Memo and stack sizes are bounded, and so is the work, by counting rather than by
 * time: every opcode, every byte it decodes and every item it moves or merges costs one unit of a budget
 * proportional to the pickle's size, and the unpickler refuses the file once the budget is spent (a pickle
 * costs at most 3 units per byte unless it merges one object again and again, as a BUILD of a memoized dict
 * repeated would). The unpickler never recurses, and values are built without recursion too; callers must not
 * recurse into them either (a pickle can nest lists millions deep, or make them cyclic).
 */
import { ByteReader, corrupt, latin1 } from './bytes.js';

/** What an allow-listed global does when called (REDUCE / NEWOBJ). */
export type PyCallable = (args: unknown[]) => unknown;

/** A reference to an allow-listed global, as it sits on the stack until called. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string, readonly call: PyCallable) {}
  get qualified(): string { return `${this.module}.${this.name}`; }
}

export interface UnpickleOptions {
  /** "module.name" -> behaviour. Anything else is passed to `refuse`. */
  globals: ReadonlyMap<string, PyCallable>;
  /** Throws the error for a global not on the allow-list. */
  refuse(module: string, name: string): never;
  /** Resolves a persistent id (PyTorch storages). */
  persistentLoad?(pid: unknown): unknown;
  /** Names the file in errors. */
  source: string;
  /** Receives the work counted (filled in as the unpickler runs, also when it refuses the file). */
  meter?: PickleWork;
}

/** The unpickler's count of its work: units spent (opcodes + bytes decoded + items moved or merged) and allowed. */
export interface PickleWork { ops: number; spent: number; budget: number }

const MAX_MEMO = 1 << 22;
const MAX_STACK = 1 << 22;
/**
 * Work units (opcodes, bytes decoded, items moved or merged) allowed per pickle byte, plus a fixed allowance.
 * A pickle without repeated merges costs at most 3 per byte (a 1-byte opcode whose value is moved off the
 * stack and appended or set once); PyTorch checkpoints measure about 1.2.
 */
export const WORK_PER_BYTE = 4;
export const WORK_SLACK = 1 << 20;

const HEX_DIGITS = new TextEncoder().encode('0123456789abcdef');

/** A little-endian two's-complement integer (LONG1/LONG4), in time linear in its length. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  // Hex digits, most significant first, written into one buffer (6x faster than appending to a string).
  const digits = new Uint8Array(2 * bytes.length);
  for (let i = 0, n = bytes.length; i < n; i++) {
    const x = bytes[n - 1 - i]!;
    digits[2 * i] = HEX_DIGITS[x >> 4]!;
    digits[2 * i + 1] = HEX_DIGITS[x & 15]!;
  }
  let v = BigInt(`0x${new TextDecoder().decode(digits)}`);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Unpickle one pickle starting at `reader.pos`; leaves the reader just after its STOP opcode. */
export function unpickle(reader: ByteReader, opts: UnpickleOptions): unknown {
  const { source } = opts;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const bad = (what: string) => corrupt(source, `pickle ${what} at offset ${reader.pos}`);
  const meter: PickleWork = opts.meter ?? { ops: 0, spent: 0, budget: 0 };
  meter.ops = 0;
  meter.spent = 0;
  const size = reader.end - reader.pos;
  meter.budget = size * WORK_PER_BYTE + WORK_SLACK;
  const spend = (n: number): void => {
    meter.spent += n;
    if (meter.spent > meter.budget) {
      throw bad(`does far more work than its size explains (${meter.spent} work units, more than ${meter.budget} for its ${size} bytes: a repeated BUILD or update of one large object)`);
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) throw bad('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw bad('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw bad('missing MARK');
    spend(stack.length - m);
    return stack.splice(m);
  };
  const push = (v: unknown): void => {
    if (stack.length >= MAX_STACK) throw bad('stack overflow');
    stack.push(v);
  };
  const put = (i: number): void => {
    if (memo.size >= MAX_MEMO && !memo.has(i)) throw bad('memo overflow');
    memo.set(i, top());
  };
  const get = (i: number): void => {
    if (!memo.has(i)) throw bad(`memo key ${i} missing`);
    push(memo.get(i));
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const fn = opts.globals.get(`${module}.${name}`);
    if (!fn) opts.refuse(module, name);
    return new PyGlobal(module, name, fn);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal)) throw bad('call of a non-callable');
    if (!Array.isArray(args)) throw bad(`call of ${fn.qualified} without an argument tuple`);
    return fn.call(args);
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Map)) throw bad('SETITEM on a non-dict');
    if (items.length % 2) throw bad('odd number of dict items');
    spend(items.length);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };
  const appendItems = (list: unknown, items: unknown[]): void => {
    spend(items.length);
    if (Array.isArray(list)) for (const x of items) list.push(x);
    else if (list instanceof Set) for (const x of items) list.add(x);
    else throw bad('APPEND on a non-list');
  };
  /** INST / OBJ: a class called with the items above the mark. */
  const instantiate = (cls: unknown, args: unknown[]): void => push(call(cls, args));
  // Latin-1 by code point (raw-unicode-escape writes characters below 256 as one byte each): TextDecoder('latin1') is
  // windows-1252 from Node 22 on (the WHATWG label), which maps 0x80-0x9f elsewhere.
  const textLine = (): string => latin1(reader.until(0x0a, 'pickle text argument'));

  for (;;) {
    const at = reader.pos;
    spend(1);
    meter.ops++;
    const op = reader.u8('pickle opcode');
    switch (op) {
      case 0x80: reader.u8('protocol'); break; // PROTO
      case 0x95: reader.u64('frame size'); break; // FRAME
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length) throw bad(`STOP with ${stack.length} stack items`);
        return stack[0];
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: push(top()); break; // DUP
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4a: push(reader.i32('BININT')); break;
      case 0x4b: push(reader.u8('BININT1')); break;
      case 0x4d: push(reader.u16('BININT2')); break;
      case 0x8a: push(decodeLong(reader.take(reader.u8('LONG1 size'), 'LONG1'))); break;
      case 0x8b: { const n = reader.i32('LONG4 size'); if (n < 0) throw bad('negative LONG4 size'); push(decodeLong(reader.take(n, 'LONG4'))); break; }
      case 0x49: { // INT
        const t = textLine();
        if (t === '00') push(false); else if (t === '01') push(true);
        else { const v = Number.parseInt(t, 10); if (Number.isNaN(v)) throw bad(`INT "${t}"`); push(v); }
        break;
      }
      case 0x4c: { const t = textLine().replace(/L$/, ''); if (!/^-?\d+$/.test(t)) throw bad(`LONG "${t}"`); const b = BigInt(t); push(b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b); break; }
      case 0x46: { const v = Number.parseFloat(textLine()); push(v); break; } // FLOAT
      case 0x47: push(reader.f64be('BINFLOAT')); break;
      case 0x58: push(reader.utf8(reader.u32('BINUNICODE size'), 'BINUNICODE')); break;
      case 0x8c: push(reader.utf8(reader.u8('SHORT_BINUNICODE size'), 'SHORT_BINUNICODE')); break;
      case 0x8d: push(reader.utf8(reader.u64('BINUNICODE8 size'), 'BINUNICODE8')); break;
      // UNICODE: raw-unicode-escape (characters below 256 as their byte, others and \\ \n \r \0 \x1a as \uXXXX or \UXXXXXXXX).
      case 0x56: push(textLine().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u?: string, w?: string) => {
        const c = Number.parseInt(u ?? w!, 16);
        if (c > 0x10ffff) throw bad(`UNICODE escape \\U${w}`);
        return String.fromCodePoint(c);
      })); break;
      case 0x54: push(reader.latin1(reader.u32('BINSTRING size'), 'BINSTRING')); break;
      case 0x55: push(reader.latin1(reader.u8('SHORT_BINSTRING size'), 'SHORT_BINSTRING')); break;
      case 0x53: push(textLine().replace(/^'(.*)'$|^"(.*)"$/, '$1$2')); break; // STRING
      case 0x42: push(reader.take(reader.u32('BINBYTES size'), 'BINBYTES').slice()); break;
      case 0x43: push(reader.take(reader.u8('SHORT_BINBYTES size'), 'SHORT_BINBYTES').slice()); break;
      case 0x8e: push(reader.take(reader.u64('BINBYTES8 size'), 'BINBYTES8').slice()); break;
      case 0x96: push(reader.take(reader.u64('BYTEARRAY8 size'), 'BYTEARRAY8').slice()); break;
      case 0x7d: push(new Map()); break; // EMPTY_DICT
      case 0x5d: push([]); break; // EMPTY_LIST
      case 0x29: push([]); break; // EMPTY_TUPLE
      case 0x8f: push(new Set()); break; // EMPTY_SET
      case 0x74: push(popMark()); break; // TUPLE
      case 0x85: { const a = pop(); push([a]); break; }
      case 0x86: { const b = pop(), a = pop(); push([a, b]); break; }
      case 0x87: { const c = pop(), b = pop(), a = pop(); push([a, b, c]); break; }
      case 0x6c: push(popMark()); break; // LIST
      case 0x64: { const items = popMark(); const d = new Map(); setItems(d, items); push(d); break; } // DICT
      case 0x91: push(new Set(popMark())); break; // FROZENSET
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x90: { const items = popMark(); appendItems(top(), items); break; } // ADDITEMS
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x71: put(reader.u8('BINPUT')); break;
      case 0x72: put(reader.u32('LONG_BINPUT')); break;
      case 0x70: put(Number.parseInt(textLine(), 10)); break; // PUT
      case 0x94: put(memo.size); break; // MEMOIZE
      case 0x68: get(reader.u8('BINGET')); break;
      case 0x6a: get(reader.u32('LONG_BINGET')); break;
      case 0x67: get(Number.parseInt(textLine(), 10)); break; // GET
      case 0x63: { const module = textLine(); const name = textLine(); push(resolveGlobal(module, name)); break; } // GLOBAL
      case 0x69: { const module = textLine(); const name = textLine(); const cls = resolveGlobal(module, name); instantiate(cls, popMark()); break; } // INST
      case 0x6f: { const [cls, ...args] = popMark(); instantiate(cls, args); break; } // OBJ
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw bad('STACK_GLOBAL without strings');
        push(resolveGlobal(module, name));
        break;
      }
      case 0x52: { const args = pop(), fn = pop(); push(call(fn, args)); break; } // REDUCE
      case 0x81: { const args = pop(), cls = pop(); push(call(cls, args)); break; } // NEWOBJ
      case 0x92: { const kwargs = pop(), args = pop(), cls = pop(); if (kwargs instanceof Map && kwargs.size) throw bad('NEWOBJ_EX with keyword arguments'); push(call(cls, args)); break; }
      case 0x62: { // BUILD
        const state = pop(), obj = top();
        if (obj instanceof Map && state instanceof Map) { spend(state.size); for (const [k, v] of state) obj.set(k, v); break; }
        if (state === null) break;
        throw bad('BUILD of an object that is not a dict');
      }
      case 0x51: { const pid = pop(); if (!opts.persistentLoad) throw bad('persistent id without a loader'); push(opts.persistentLoad(pid)); break; }
      case 0x50: { const pid = textLine(); if (!opts.persistentLoad) throw bad('persistent id without a loader'); push(opts.persistentLoad(pid)); break; }
      default:
        throw corrupt(source, `unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${reader.pos - 1}`);
    }
    if (marks.length && marks[marks.length - 1]! > stack.length) throw bad('MARK beyond the stack');
    spend(reader.pos - at - 1); // the bytes of its argument, decoded
  }
}

