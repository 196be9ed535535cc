// npm run schema -- <command>: the schema registry's command line, for people and CI.
// Talks to REGISTRY_URL (default http://127.0.0.1:4030) with REGISTRY_TOKEN (a service token).
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readSupergraphConfig, repoRoot } from './composition.js';
import { ciCheck } from './ci-check.js';
import { RegistryClientError, registryClient } from './registry/client.js';

const USAGE = `Usage: npm run schema -- <command> [options]

  publish <subgraph> --sdl FILE --url URL   publish a subgraph's SDL (composed with the latest of the others)
  seed [--config supergraph.yaml]           publish every subgraph of supergraph.yaml at once
  check <subgraph> --sdl FILE [--window-days N] [--approve COORD,...]
                                            what publishing would change, weighed against recorded usage
  fetch [--version N] [--api] [--out FILE]  the supergraph (or, with --api, the client-facing API schema)
  diff <from> <to>                          classified changes between two versions' API schemas
  log [--limit N]                           the versions, newest first
  show <version>                            one version and its changelog
  rollback --to N                           make version N's graph current again (as a new version)
  subgraphs                                 each subgraph's current version and routing URL
  usage operations|fields [--from ISO] [--to ISO] [--client NAME] [--coordinate Type.field]
  ci-check [--base REF]                     check every subgraph whose SDL changed since REF (default HEAD~1) against
                                            the SDL committed at REF; breaking changes need schema/approved-changes.json
                                            (against a live registry, usage-aware, when REGISTRY_URL and REGISTRY_TOKEN are set)
  contracts                                 each contract: tags, current version, approved removals
  changelog <contract> [--limit N]          a contract's versions and their classified changes
  deprecate <contract> <coordinate> <YYYY-MM-DD> <reason...>
                                            approve removing a coordinate from a contract on or after a date (admin token)
  token create <name> --scopes publish,check,read,report   (admin token)
  token revoke <name>                                      (admin token)

Options: --registry URL (REGISTRY_URL), --token TOKEN (REGISTRY_TOKEN), --json (machine-readable output),
         --commit SHA, --author NAME (recorded with a publish; default: git HEAD and the git user).
Exit codes: 0 done, 1 refused or the check failed, 2 bad command line.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sdl: { type: 'string' },
    url: { type: 'string' },
    config: { type: 'string' },
    version: { type: 'string' },
    api: { type: 'boolean' },
    out: { type: 'string' },
    limit: { type: 'string' },
    to: { type: 'string' },
    from: { type: 'string' },
    client: { type: 'string' },
    coordinate: { type: 'string' },
    scopes: { type: 'string' },
    'window-days': { type: 'string' },
    approve: { type: 'string' },
    registry: { type: 'string' },
    token: { type: 'string' },
    commit: { type: 'string' },
    author: { type: 'string' },
    json: { type: 'boolean' },
    base: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

const say = (text: string) => process.stdout.write(`${text}\n`);
function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}
const git = (...args: string[]) => {
  try {
    return (
      execFileSync('git', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || undefined
    );
  } catch {
    return undefined;
  }
};
const provenance = () => ({ commit: values.commit ?? git('rev-parse', 'HEAD'), author: values.author ?? git('config', 'user.name') ?? os.userInfo().username });
async function readSdl(file: string | undefined) {
  if (!file) usageError('--sdl FILE is required: the subgraph SDL to send.');
  try {
    return await readFile(file, 'utf8');
  } catch {
    usageError(`--sdl ${file}: cannot read the file.`);
  }
}
const print = (value: unknown, human: () => string) => say(values.json ? JSON.stringify(value, null, 2) : human());

type Change = {
  level: string;
  path: string | null;
  message: string;
  verdict?: string;
  usage?: { operation: string; name: string | null; count: number; clients: { name: string; version: string; count: number }[] }[];
};
const changeLines = (changes: Change[]) =>
  changes.map((c) => {
    const head = `  ${c.level.padEnd(9)} ${c.message}${c.verdict ? `  [${c.verdict}]` : ''}`;
    const used = (c.usage ?? []).map(
      (u) =>
        `      used by operation ${u.name ?? '(anonymous)'} (${u.operation.slice(0, 12)}), ${u.count} request(s): ${u.clients.map((cl) => `${cl.name} ${cl.version} (${cl.count})`).join(', ')}`,
    );
    return [head, ...used].join('\n');
  });

async function runCiCheck() {
  const remoteUrl = values.registry ?? process.env.REGISTRY_URL;
  const remoteToken = values.token ?? process.env.REGISTRY_TOKEN;
  const result = await ciCheck({
    root: repoRoot,
    base: values.base ?? process.env.SCHEMA_BASE_REF,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    remote: remoteUrl && remoteToken ? { url: remoteUrl, token: remoteToken } : undefined,
    log: say,
  });
  for (const { subgraph, result: r } of result.checked) {
    const lines = [
      `${subgraph}: ${r.ok ? 'PASSED' : 'FAILED'} (against ${remoteUrl && remoteToken ? `${remoteUrl} version ${r.baseVersion}` : `the SDL committed at ${result.base?.slice(0, 10)}`})`,
    ];
    if (r.compositionErrors.length) lines.push('  Composition errors:', ...r.compositionErrors.map((e: string) => `    - ${e}`));
    lines.push(...changeLines(r.changes));
    if (r.notes.length) lines.push(...r.notes.map((n: string) => `  note: ${n}`));
    say(lines.join('\n'));
  }
  if (!result.ok) say('Schema registry check failed: fix the change, or approve a breaking change in schema/approved-changes.json (coordinate, reason).');
  else if (result.checked.length) say('Schema registry check passed.');
  return result.ok ? 0 : 1;
}

async function main() {
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    say(USAGE);
    return 0;
  }
  if (command === 'ci-check') return runCiCheck();
  const token = values.token ?? process.env.REGISTRY_TOKEN ?? process.env.REGISTRY_ADMIN_TOKEN;
  if (!token) usageError('No token: set REGISTRY_TOKEN (a service token with the scope this command needs) or pass --token.');
  const client = registryClient(values.registry ?? process.env.REGISTRY_URL ?? 'http://127.0.0.1:4030', token);

  switch (command) {
    case 'publish': {
      const [name] = rest;
      if (!name) usageError('publish needs the subgraph name: publish <subgraph> --sdl FILE --url URL');
      if (!values.url) usageError('--url URL is required: where the gateway reaches the subgraph (http:// or https://).');
      const result = await client.publish([{ name, sdl: await readSdl(values.sdl), url: values.url }], provenance());
      print(result, () =>
        result.changed
          ? [`Published ${name}: version ${result.version}.`, ...changeLines(result.changes)].join('\n')
          : `Nothing changed: ${name}'s SDL and URL are those of version ${result.version}.`,
      );
      return 0;
    }
    case 'seed': {
      const entries = await readSupergraphConfig(values.config ? path.resolve(values.config) : undefined);
      const subgraphs = await Promise.all(entries.map(async (e) => ({ name: e.name, url: e.url, sdl: await readFile(e.file, 'utf8') })));
      const result = await client.publish(subgraphs, provenance());
      print(result, () =>
        result.changed ? `Published ${entries.map((e) => e.name).join(', ')}: version ${result.version}.` : `Nothing changed: version ${result.version} is current.`,
      );
      return 0;
    }
    case 'check': {
      const [name] = rest;
      if (!name) usageError('check needs the subgraph name: check <subgraph> --sdl FILE');
      const result = await client.check({
        subgraph: name,
        sdl: await readSdl(values.sdl),
        url: values.url,
        windowDays: values['window-days'] ? Number(values['window-days']) : undefined,
        approved: values.approve
          ? values.approve
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : undefined,
      });
      print(result, () => {
        const lines = [`Check of ${name} against version ${result.baseVersion ?? '(none)'} (usage of the last ${result.windowDays} days): ${result.ok ? 'PASSED' : 'FAILED'}`];
        if (result.compositionErrors.length) lines.push('Composition errors:', ...result.compositionErrors.map((e: string) => `  - ${e}`));
        if (result.changes.length) lines.push('Changes:', ...changeLines(result.changes));
        else if (!result.compositionErrors.length) lines.push('No change to the API schema.');
        for (const c of result.contracts ?? []) {
          if (c.changes.length || c.error) lines.push(`Contract ${c.name}: ${c.failed ? 'FAILED' : 'passed'}`, ...(c.error ? [`  ${c.error}`] : changeLines(c.changes)));
        }
        if (result.notes.length) lines.push('Notes:', ...result.notes.map((n: string) => `  - ${n}`));
        return lines.join('\n');
      });
      return result.ok ? 0 : 1;
    }
    case 'fetch': {
      const result = values.api ? await client.apiSchema(values.version) : await client.supergraph(values.version);
      if (values.out) {
        await writeFile(values.out, result.text);
        process.stderr.write(`Wrote version ${result.version}'s ${values.api ? 'API schema' : 'supergraph'} to ${values.out}\n`);
      } else process.stdout.write(result.text);
      return 0;
    }
    case 'diff': {
      const [from, to] = rest;
      if (!from || !to) usageError('diff needs two versions: diff <from> <to>');
      const result = await client.diff(from, to);
      print(result, () => [`Changes from version ${result.from} to ${result.to}:`, result.changelog].join('\n'));
      return 0;
    }
    case 'log': {
      const versions = await client.log(values.limit ? Number(values.limit) : undefined);
      print(
        versions,
        () =>
          versions
            .map(
              (v: { version: number; kind: string; createdAt: string; changedSubgraphs: string[]; author: string | null; commit: string | null; counts: Record<string, number> }) =>
                `${String(v.version).padStart(5)}  ${v.createdAt}  ${v.kind.padEnd(8)} ${v.changedSubgraphs.join(',').padEnd(20)} ` +
                `breaking ${v.counts.BREAKING}, dangerous ${v.counts.DANGEROUS}, safe ${v.counts.SAFE}  by ${v.author ?? '?'}${v.commit ? ` at ${v.commit.slice(0, 10)}` : ''}`,
            )
            .join('\n') || 'Nothing published yet.',
      );
      return 0;
    }
    case 'show': {
      const [version] = rest;
      if (!version) usageError('show needs a version: show <version>');
      const result = await client.version(version);
      print(result, () =>
        [`Version ${result.version} (${result.kind}, ${result.createdAt}, by ${result.author ?? '?'}): ${result.changedSubgraphs.join(', ')}`, result.changelog].join('\n'),
      );
      return 0;
    }
    case 'rollback': {
      if (!values.to) usageError('rollback needs --to <version>');
      const result = await client.rollback(values.to, provenance());
      print(result, () =>
        result.changed
          ? [`Rolled back to version ${result.rolledBackTo}'s graph as version ${result.version}.`, result.changelog].join('\n')
          : `Nothing changed: version ${values.to}'s graph is current.`,
      );
      return 0;
    }
    case 'subgraphs': {
      const list = await client.subgraphs();
      print(list, () =>
        list
          .map(
            (s: { name: string; version: number | null; url: string | null }) =>
              `${s.name.padEnd(10)} ${s.version === null ? 'never published' : `version ${s.version}  ${s.url}`}`,
          )
          .join('\n'),
      );
      return 0;
    }
    case 'usage': {
      const [what] = rest;
      if (what === 'operations') {
        const result = await client.usageOperations({ from: values.from, to: values.to, client: values.client });
        print(
          result,
          () =>
            result.operations
              .map(
                (o: { name: string | null; hash: string; client: { name: string; version: string }; count: number; errors: number; p95Ms: number | null }) =>
                  `${(o.name ?? '(anonymous)').padEnd(24)} ${o.hash.slice(0, 12)}  ${`${o.client.name} ${o.client.version}`.padEnd(20)} ${String(o.count).padStart(8)} req  ${o.errors} err  p95 ${o.p95Ms ?? '-'} ms`,
              )
              .join('\n') || 'No usage in that range.',
        );
        return 0;
      }
      if (what === 'fields') {
        const result = await client.usageFields({ from: values.from, to: values.to, client: values.client, coordinate: values.coordinate });
        print(
          result,
          () =>
            result.fields.map((f: { coordinate: string; client: string; count: number }) => `${f.coordinate.padEnd(40)} ${f.client.padEnd(20)} ${f.count}`).join('\n') ||
            'No usage in that range.',
        );
        return 0;
      }
      usageError('usage needs operations or fields');
      break;
    }
    case 'contracts': {
      const result = await client.contracts();
      print(result, () =>
        result.contracts.length
          ? result.contracts
              .map(
                (c: { name: string; include: string[]; exclude: string[]; version: number | null; deprecations: { coordinate: string; removeAfter: string; reason: string }[] }) =>
                  [
                    `${c.name.padEnd(24)} include ${c.include.join(',') || '-'}  exclude ${c.exclude.join(',') || '-'}  version ${c.version ?? '(none)'}`,
                    ...c.deprecations.map((d) => `    ${d.coordinate} goes on or after ${d.removeAfter}: ${d.reason}`),
                  ].join('\n'),
              )
              .join('\n')
          : 'No contract defined.',
      );
      return 0;
    }
    case 'changelog': {
      const [name] = rest;
      if (!name) usageError('changelog needs a contract: changelog <contract>');
      const result = await client.contractChangelog(name, values.limit ? Number(values.limit) : undefined);
      print(result, () =>
        result.versions
          .map(
            (v: { version: number; schemaVersion: number; createdAt: string; changelog: string }) =>
              `Version ${v.version} (schema version ${v.schemaVersion}, ${v.createdAt}):\n${v.changelog.replace(/^/gm, '  ')}`,
          )
          .join('\n'),
      );
      return 0;
    }
    case 'deprecate': {
      const [name, coordinate, removeAfter, ...reason] = rest;
      if (!name || !coordinate || !removeAfter || reason.length === 0) usageError('deprecate <contract> <coordinate> <YYYY-MM-DD> <reason...>');
      const result = await client.deprecate(name, { coordinate, removeAfter, reason: reason.join(' ') });
      print(result, () => `Approved: ${result.coordinate} leaves contract ${result.contract} on or after ${result.removeAfter} (marked deprecated until then).`);
      return 0;
    }
    case 'token': {
      const [action, name] = rest;
      if (action === 'create' && name) {
        const result = await client.createToken(
          name,
          (values.scopes ?? '')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        );
        print(result, () => `Token "${result.name}" (${result.scopes.join(', ')}); shown once, keep it secret:\n${result.token}`);
        return 0;
      }
      if (action === 'revoke' && name) {
        await client.revokeToken(name);
        say(`Token "${name}" revoked.`);
        return 0;
      }
      usageError('token create <name> --scopes ... | token revoke <name>');
      break;
    }
    default:
      usageError(`Unknown command "${command}".`);
  }
  return 2;
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof RegistryClientError) {
    const lines = [`error ${error.code}${error.body.field ? ` (${error.body.field})` : ''}: ${error.message}`, ...(error.body.details ?? []).map((d) => `  - ${d}`)];
    process.stderr.write(`${values.json ? JSON.stringify({ error: { code: error.code, message: error.message, ...error.body } }) : lines.join('\n')}\n`);
    process.exitCode = 1;
  } else throw error;
}
