import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where model artefacts come from. Keys are `<model>/<version>/<file>`, as object keys in a
 * bucket will be: the folder store below serves the committed `ml/artefacts`; an S3 store (stack
 * mode, production) implements the same three calls against a bucket.
 */
export interface ModelStore {
  /** Names the store in logs and errors, e.g. `folder:/app/ml/artefacts` or `s3://models`. */
  readonly description: string;
  /** The version a model serves, or null when none is active. */
  activeVersion(model: string): Promise<string | null>;
  /** One file of a version; rejects when it is missing. */
  read(model: string, version: string, file: string): Promise<Buffer>;
}

const SAFE = /^[A-Za-z0-9._-]+$/;
function checkPart(part: string, what: string) {
  if (!SAFE.test(part) || part === '.' || part === '..') throw new Error(`not a valid ${what}: ${JSON.stringify(part)}`);
  return part;
}

/** Artefacts in a folder: `<root>/<model>/ACTIVE` names the version, `<root>/<model>/<version>/<file>`. */
export function folderModelStore(root: string): ModelStore {
  const at = (...parts: string[]) => path.join(root, ...parts);
  return {
    description: `folder:${root}`,
    async activeVersion(model) {
      try {
        const text = (await readFile(at(checkPart(model, 'model'), 'ACTIVE'), 'utf8')).trim();
        return text ? checkPart(text, 'version') : null;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    read: (model, version, file) => readFile(at(checkPart(model, 'model'), checkPart(version, 'version'), checkPart(file, 'file'))),
  };
}

/** The repository's committed artefacts (`ml/artefacts`), found from this file. */
export const committedArtefacts = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../../ml/artefacts');
