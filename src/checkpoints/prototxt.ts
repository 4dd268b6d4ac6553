/**
 * A small parser for protobuf text format (Caffe `.prototxt`): `key: value` and `key { ... }` into plain
 * objects whose values are always arrays (fields may repeat). Nesting depth and size are bounded.
 */
import { corrupt } from './bytes.js';

export type TextValue = string | number | TextMessage;
export interface TextMessage { [field: string]: TextValue[] }

const MAX_DEPTH = 64;

export function parsePrototxt(text: string, source = 'prototxt'): TextMessage {
  const tokens = text.replace(/#[^\n]*/g, '').match(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{}:]|[^\s{}:"']+/g) ?? [];
  let i = 0;
  const parseMessage = (depth: number, closing: boolean): TextMessage => {
    if (depth > MAX_DEPTH) throw corrupt(source, `nesting deeper than ${MAX_DEPTH}`);
    const msg: TextMessage = {};
    while (i < tokens.length) {
      const key = tokens[i++]!;
      if (key === '}') {
        if (!closing) throw corrupt(source, 'unbalanced "}"');
        return msg;
      }
      if (!/^[A-Za-z_][\w]*$/.test(key)) throw corrupt(source, `unexpected token "${key}"`);
      let tok = tokens[i++];
      if (tok === ':') tok = tokens[i++];
      if (tok === undefined) throw corrupt(source, `field "${key}" has no value`);
      let value: TextValue;
      if (tok === '{') value = parseMessage(depth + 1, true);
      else if (/^["']/.test(tok)) value = tok.slice(1, -1).replace(/\\(.)/g, '$1');
      else value = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(tok) ? Number(tok) : tok;
      (msg[key] ??= []).push(value);
    }
    if (closing) throw corrupt(source, 'missing "}"');
    return msg;
  };
  return parseMessage(0, false);
}

/** First value of `field` as a message / number / string. */
export const sub = (m: TextMessage | undefined, field: string): TextMessage | undefined => m?.[field]?.find((v): v is TextMessage => typeof v === 'object');
export const num = (m: TextMessage | undefined, field: string): number | undefined => m?.[field]?.find((v): v is number => typeof v === 'number');
export const str = (m: TextMessage | undefined, field: string): string | undefined => { const v = m?.[field]?.[0]; return v === undefined || typeof v === 'object' ? undefined : String(v); };
