// npm run schema:check: fails when the committed SDL, supergraph or API schema (schema/api.graphql)
// differs from what the code gives, or when a type, field, argument or enum value of the API schema
// has no description.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { apiSchemaPath, composeFromFiles, readSupergraphConfig, repoRoot, supergraphPath } from './composition.js';
import { conventionBreaches } from './conventions.js';
import { apiSchemaFile, describeCoverage, undocumented } from './descriptions.js';

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
  } else {
    if (result.supergraphSdl !== (await readFile(supergraphPath, 'utf8').catch(() => ''))) {
      problems.push(`${path.relative(repoRoot, supergraphPath)} is not the composition of the current subgraphs`);
    }
    const apiSdl = apiSchemaFile(result.supergraphSdl);
    if (apiSdl !== (await readFile(apiSchemaPath, 'utf8').catch(() => ''))) {
      problems.push(`${path.relative(repoRoot, apiSchemaPath)} is not the API schema of the current supergraph`);
    }
    // The schema is a product: every type, field, argument and enum value a client sees says what it is.
    const missing = undocumented(apiSdl);
    if (missing.length) {
      problems.push(
        `${missing.length} element(s) of the API schema have no description (${describeCoverage(apiSdl)}); add one in the subgraph's code ` +
          `(type-graphql \`description:\`, valuesConfig for enum values):\n${missing.map((m) => `      ${m}`).join('\n')}`,
      );
    }
    // Lists page one way (Relay connections) and deprecations carry their dates (schema/src/conventions.ts).
    const breaches = conventionBreaches(apiSdl);
    if (breaches.length) problems.push(`the API schema breaks its conventions:\n${breaches.map((b) => `      ${b}`).join('\n')}`);
  }
  // The reference web app's operations are typed from schema/api.graphql: they must still fit it,
  // and the committed types must be what codegen writes from it (examples/web-app/codegen-check.ts).
  if (problems.length === 0) {
    try {
      execFileSync('npm', ['run', '-s', 'codegen:check', '-w', 'examples/web-app'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'pipe'] });
    } catch (error) {
      problems.push(`the reference web app: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`);
    }
  }
  if (problems.length) {
    process.stderr.write(`Schema check failed:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRun "npm run compose" and commit the result.\n`);
    process.exit(1);
  }
  process.stdout.write(
    `Schema check passed: ${entries.length} subgraphs, the supergraph and the API schema match the code, every element of the API schema is described, it keeps its conventions, and the reference web app's operations and types fit it.\n`,
  );
} finally {
  await rm(outDir, { recursive: true, force: true });
}
