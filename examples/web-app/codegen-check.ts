// npm run codegen:check -w examples/web-app (part of npm run schema:check): fails when src/gql is not
// what codegen.ts writes from the current schema/api.graphql, or when an operation of the app no
// longer fits the schema (codegen refuses it) — a schema change that breaks the app is caught here.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import config from './codegen.js';

const here = path.dirname(new URL(import.meta.url).pathname);
process.chdir(here);
const outputs = await generate({ ...config, silent: true, errorsOnly: true }, false);
const stale: string[] = [];
for (const output of outputs) {
  const committed = await readFile(path.resolve(here, output.filename), 'utf8').catch(() => '');
  if (committed !== output.content) stale.push(path.relative(here, path.resolve(here, output.filename)));
}
if (stale.length) {
  process.stderr.write(`The web app's generated types are stale (${stale.join(', ')}): run "npm run codegen -w examples/web-app" and commit the result.\n`);
  process.exit(1);
}
