// Composes the scenario's four subgraphs (subgraphs.ts) with the repository's composition
// (@analytica/schema, @apollo/composition) into bench/gateway/fixtures/supergraph.graphql, routing URLs on
// port 4200 as published. The bench checks at start that the committed file is what this composes.
//
//   npx tsx bench/gateway/compose.ts
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compose } from '@analytica/schema';
import { SDL, SUBGRAPH_NAMES } from './subgraphs.js';

export const SUPERGRAPH_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/supergraph.graphql');
export const PUBLISHED_PORT = 4200;

export function composeScenario(port = PUBLISHED_PORT): string {
  const result = compose(SUBGRAPH_NAMES.map((name) => ({ name, url: `http://127.0.0.1:${port}/${name}`, sdl: SDL[name] })));
  if (!result.ok) throw new Error(`the scenario does not compose:\n${result.errors.join('\n')}`);
  return result.supergraphSdl;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(SUPERGRAPH_FILE, composeScenario());
  process.stdout.write(`wrote ${path.relative(process.cwd(), SUPERGRAPH_FILE)}\n`);
}
