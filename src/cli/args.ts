/** Small argument helpers shared by the CLI commands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CnnZooError } from '../errors.js';

export function parse<T extends ParseArgsConfig['options']>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CnnZooError(`${(e as Error).message}\nUsage: ${usage}`, 'BAD_ARGS');
  }
}

/** `--arch NAME`, also spelled `--model NAME` (what `eval` and `bench` call it). */
export function archName(values: { arch?: string; model?: string }): string | undefined {
  if (values.arch && values.model && values.arch !== values.model) {
    throw new CnnZooError(`--arch "${values.arch}" and --model "${values.model}" name different models; give one.`, 'BAD_ARGS');
  }
  return values.arch ?? values.model;
}
