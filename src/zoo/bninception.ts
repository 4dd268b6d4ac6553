/** bninception: family placeholder, filled in by its own issue. */
import type { Family } from './types.js';

export const family: Family = { name: 'bninception', models: [] };
