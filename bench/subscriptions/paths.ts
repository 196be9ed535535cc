import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder (this file is bench/subscriptions/paths.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
