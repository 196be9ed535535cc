// CI's registry check on a throwaway git repository holding the six subgraphs, against real PostgreSQL.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services } from '@analytica/testing';
import { ciCheck } from './ci-check.js';
import { repoRoot } from './composition.js';
import { USER_ID, withoutField } from './sdl-edits.js';

let root: string;
const git = (...args: string[]) => execFileSync('git', ['-C', root, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'pipe' }).toString();
const newsFile = () => path.join(root, 'schema/subgraphs/news.graphql');
let news: string;
const check = () => ciCheck({ root, databaseUrl: services.databaseUrl, log: () => undefined });

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'ci-check-'));
  await mkdir(path.join(root, 'schema'), { recursive: true });
  await cp(path.join(repoRoot, 'schema/subgraphs'), path.join(root, 'schema/subgraphs'), { recursive: true });
  await cp(path.join(repoRoot, 'supergraph.yaml'), path.join(root, 'supergraph.yaml'));
  news = await readFile(newsFile(), 'utf8');
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  git('commit', '-q', '--allow-empty', '-m', 'head');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ci-check', () => {
  it('passes when no subgraph changed', async () => {
    expect(await check()).toMatchObject({ ok: true, checked: [] });
  });

  it('passes a safe change, fails an unapproved breaking one (no usage in CI), and passes it once approved', async () => {
    await writeFile(newsFile(), news.replace('  title: String!\n', '  title: String!\n  subtitle: String\n'));
    const safe = await check();
    expect(safe.ok).toBe(true);
    expect(safe.checked.map((c) => c.subgraph)).toEqual(['news']);
    expect(safe.checked[0]!.result.changes).toEqual([expect.objectContaining({ level: 'SAFE', path: 'Article.subtitle' })]);

    await writeFile(newsFile(), withoutField(news, 'body: String!'));
    const breaking = await check();
    expect(breaking.ok).toBe(false);
    expect(breaking.checked[0]!.result.changes).toEqual([expect.objectContaining({ level: 'BREAKING', path: 'Article.body', verdict: 'UNAPPROVED' })]);

    await writeFile(path.join(root, 'schema/approved-changes.json'), JSON.stringify({ approved: [{ coordinate: 'Article.body', reason: 'moved to Article.content' }] }));
    const approved = await check();
    expect(approved.ok).toBe(true);
    expect(approved.checked[0]!.result.changes[0]).toMatchObject({ verdict: 'APPROVED' });
    await rm(path.join(root, 'schema/approved-changes.json'));
  }, 60_000);

  it("fails a change that breaks a partner contract until its removal's deprecation period has passed", async () => {
    await cp(path.join(repoRoot, 'schema/contracts.yaml'), path.join(root, 'schema/contracts.yaml'));
    const approvals = (contract: { removeAfter: string; approvedOn: string } | null) =>
      writeFile(
        path.join(root, 'schema/approved-changes.json'),
        JSON.stringify({
          approved: [
            { coordinate: 'Article.body', reason: 'moved to Article.content' },
            // Every contract that has Article: both partner contracts and the admin console's.
            ...(contract
              ? ['market-data', 'budget-with-consent', 'console'].map((name) => ({ contract: name, coordinate: 'Article.body', reason: 'use Article.content', ...contract }))
              : []),
          ],
        }),
      );
    try {
      await writeFile(newsFile(), withoutField(news, 'body: String!'));
      // Approved for the API, but Article is public: both contracts lose a field partners may use.
      await approvals(null);
      const unapproved = await check();
      expect(unapproved.ok).toBe(false);
      const marketData = unapproved.checked[0]!.result.contracts.find((c) => c.name === 'market-data')!;
      expect(marketData).toMatchObject({ failed: true });
      expect(marketData.changes).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'Article.body', verdict: 'UNAPPROVED' })]));

      await approvals({ approvedOn: '2026-01-05', removeAfter: '2099-01-01' });
      const notYetDue = await check();
      expect(notYetDue.ok).toBe(false);
      expect(notYetDue.checked[0]!.result.contracts[0]!.changes).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'Article.body', verdict: 'NOT_YET_DUE' })]));

      await approvals({ approvedOn: '2026-01-05', removeAfter: '2026-03-01' });
      const due = await check();
      expect(due.ok).toBe(true);
    } finally {
      await rm(path.join(root, 'schema/approved-changes.json'), { force: true });
      await rm(path.join(root, 'schema/contracts.yaml'), { force: true });
      await writeFile(newsFile(), news);
    }
  }, 120_000);

  it('checks the subgraphs one commit changes together: a new contract and the tags it needs in one of them, beside a change to another', async () => {
    const contracts = path.join(root, 'schema/contracts.yaml');
    const userFile = path.join(root, 'schema/subgraphs/user.graphql');
    const user = await readFile(userFile, 'utf8');
    const before = await readFile(contracts, 'utf8').catch(() => undefined);
    // The commit: a "newsroom" contract, the user subgraph tags `me` and User for it, and news
    // gains a field. news is checked after user; against the base's user it would have no
    // Query field in the new contract.
    await writeFile(contracts, `contracts:\n  - name: newsroom\n    description: The signed-in reader.\n    include: [newsroom]\n`);
    await writeFile(
      userFile,
      user
        .replace('  me: User @tag(name: "consent")', '  me: User @tag(name: "consent") @tag(name: "newsroom")')
        .replace('type User\n  @key(fields: "id")\n', 'type User\n  @key(fields: "id")\n  @tag(name: "newsroom")\n'),
    );
    await writeFile(newsFile(), news.replace('  title: String!\n', '  title: String!\n  kicker: String\n'));
    try {
      const result = await check();
      expect(result.checked.map((c) => [c.subgraph, c.result.ok])).toEqual([
        ['user', true],
        ['news', true],
      ]);
      expect(result.ok).toBe(true);
    } finally {
      await writeFile(userFile, user);
      await writeFile(newsFile(), news);
      if (before === undefined) await rm(contracts);
      else await writeFile(contracts, before);
    }
  }, 60_000);

  it('fails a change that does not compose', async () => {
    await writeFile(newsFile(), news.replace(USER_ID, '$1id: Int!'));
    const result = await check();
    expect(result.ok).toBe(false);
    expect(result.checked[0]!.result.compositionErrors.length).toBeGreaterThan(0);
    await writeFile(newsFile(), news);
  }, 60_000);
});
