// npm run schema:check: fails when the committed SDL or supergraph differs from what the code gives.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { composeFromFiles, readSupergraphConfig, repoRoot, supergraphPath } from './composition.js';

const outDir = await mkdtemp(path.join(os.tmpdir(), 'analytica-schema-'));
try {
  execFileSync('npx', ['turbo', 'run', 'schema:print', '--force', '--output-logs=errors-only'], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, SCHEMA_OUT_DIR: outDir, TURBO_TELEMETRY_DISABLED: '1' },
  });
  const entries = await readSupergraphConfig();
  const problems: string[] = [];
  for (const entry of entries) {
    const fresh = await readFile(path.join(outDir, `${entry.name}.graphql`), 'utf8');
    const committed = await readFile(entry.file, 'utf8').catch(() => '');
    if (fresh !== committed) problems.push(`${path.relative(repoRoot, entry.file)} differs from the ${entry.name} subgraph's code`);
  }
  const result = await composeFromFiles(entries.map((e) => ({ ...e, file: path.join(outDir, `${e.name}.graphql`) })));
  if (!result.ok) {
    problems.push(`composition fails:\n${result.errors.map((e) => `      ${e}`).join('\n')}`);
  } else if (result.supergraphSdl !== (await readFile(supergraphPath, 'utf8').catch(() => ''))) {
    problems.push(`${path.relative(repoRoot, supergraphPath)} is not the composition of the current subgraphs`);
  }
  if (problems.length) {
    process.stderr.write(`Schema check failed:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRun "npm run compose" and commit the result.\n`);
    process.exit(1);
  }
  process.stdout.write(`Schema check passed: ${entries.length} subgraphs and the supergraph match the code.\n`);
} finally {
  await rm(outDir, { recursive: true, force: true });
}
