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
