// npm run compose: prints every subgraph's SDL from its code, then composes the supergraph.
import { writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { composeFromFiles, readSupergraphConfig, repoRoot, supergraphPath } from './composition.js';

execFileSync('npx', ['turbo', 'run', 'schema:print', '--output-logs=errors-only'], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });
const entries = await readSupergraphConfig();
const result = await composeFromFiles(entries);
if (!result.ok) {
  process.stderr.write(`Composition failed with ${result.errors.length} error(s):\n${result.errors.map((e) => `  - ${e}`).join('\n')}\n`);
  process.exit(1);
}
await writeFile(supergraphPath, result.supergraphSdl);
process.stdout.write(
  `Composed ${entries.map((e) => e.name).join(', ')} into ${path.relative(repoRoot, supergraphPath)}` +
    (result.hints.length ? ` (${result.hints.length} hint(s); set COMPOSE_HINTS=1 to see them)` : '') +
    '\n',
);
if (process.env.COMPOSE_HINTS) process.stdout.write(result.hints.map((h) => `  hint ${h}\n`).join(''));
