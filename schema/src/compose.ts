// npm run compose: prints every subgraph's SDL from its code, then composes the supergraph and its
// client-facing API schema (schema/api.graphql).
import { writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { apiSchemaPath, composeFromFiles, readSupergraphConfig, repoRoot, supergraphPath } from './composition.js';
import { apiSchemaFile, describeCoverage, undocumented } from './descriptions.js';

execFileSync('npx', ['turbo', 'run', 'schema:print', '--output-logs=errors-only'], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });
const entries = await readSupergraphConfig();
const result = await composeFromFiles(entries);
if (!result.ok) {
  process.stderr.write(`Composition failed with ${result.errors.length} error(s):\n${result.errors.map((e) => `  - ${e}`).join('\n')}\n`);
  process.exit(1);
}
await writeFile(supergraphPath, result.supergraphSdl);
const apiSdl = apiSchemaFile(result.supergraphSdl);
await writeFile(apiSchemaPath, apiSdl);
process.stdout.write(
  `Composed ${entries.map((e) => e.name).join(', ')} into ${path.relative(repoRoot, supergraphPath)} and ${path.relative(repoRoot, apiSchemaPath)}` +
    (result.hints.length ? ` (${result.hints.length} hint(s); set COMPOSE_HINTS=1 to see them)` : '') +
    '\n',
);
if (process.env.COMPOSE_HINTS) process.stdout.write(result.hints.map((h) => `  hint ${h}\n`).join(''));
// Not fatal here (schema:check is): say what npm test will refuse.
const missing = undocumented(apiSdl);
if (missing.length)
  process.stderr.write(`${missing.length} element(s) of the API schema have no description (${describeCoverage(apiSdl)}):\n${missing.map((m) => `  - ${m}\n`).join('')}`);
