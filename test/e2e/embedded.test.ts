// `npm start` as a user runs it: one process on a fresh data folder, used through the endpoint with
// the README's own first query and a live subscription, stopped with Ctrl-C and started again.
// The data folder is made by mkdtemp, so mode 700: run as root (as CI is), this also covers the
// embedded PostgreSQL running as the postgres user, who cannot reach it (its cluster is kept in
// a reachable place and linked from the folder).
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { DEMO_USER, DEMO_WATCHLIST } from '../../dev/src/demo.js';
import { repoRoot } from '../../dev/src/processes.js';
import { gql } from '@analytica/testing';
import { embeddedRun, type EmbeddedRun, type Running } from './npm-start.js';

let embedded: EmbeddedRun;
let dataRoot: string;
let gatewayUrl: string;
let running: Running | undefined;
let token: string;

/** The README's first query, as a user would copy it. */
async function readmeFirstQuery(): Promise<string> {
  const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A first query'));
  const block = /```graphql\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md has no graphql block under "A first query"');
  return block[1]!;
}

async function login(): Promise<string> {
  const response = await gql(gatewayUrl, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
    variables: { e: DEMO_USER.email, p: DEMO_USER.password },
  });
  expect(response.errors).toBeUndefined();
  return response.data.login.accessToken as string;
}

beforeAll(async () => {
  embedded = await embeddedRun();
  ({ dataRoot, gatewayUrl } = embedded);
  running = await embedded.start();
  token = await login();
});

afterAll(async () => {
  if (running && running.child.exitCode === null) await embedded.stop(running);
  await embedded.cleanUp();
});

describe('npm start (embedded mode)', () => {
  it('refuses a bad FEED_* value before it starts or writes anything, naming the variable (exit code 78)', async () => {
    const elsewhere = path.join(dataRoot, 'not-made');
    const child = await embedded.spawnStart({ ANALYTICA_DATA_DIR: elsewhere, FEED_TICKS_PER_SYMBOL: 'fast' });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(78);
    expect(output).toContain('FEED_TICKS_PER_SYMBOL is "fast"');
    expect(output).not.toContain('Starting PostgreSQL');
    expect(await lstat(elsewhere).catch(() => undefined)).toBeUndefined();
  });

  it('prints which venues trade now and when the closed ones open', () => {
    const banner = running!.output();
    expect(banner).toContain(`GraphQL endpoint:  ${gatewayUrl}`);
    expect(banner).toMatch(/Venues open now: .*XOFF \(crypto and currency pairs, never closes\)/);
    expect(banner).toContain('demo data seeded');
  });

  it('serves the admin console at /console/, built on demand and named in the banner', async () => {
    const consoleUrl = new URL('/console/', gatewayUrl).href;
    expect(running!.output()).toContain(`Admin console:     ${consoleUrl}`);
    const page = await fetch(consoleUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<div id="root"></div>');
  });

  it("answers the README's first query with data from all six subgraphs and no error", async () => {
    const response = await gql(gatewayUrl, await readmeFirstQuery(), { token });
    expect(response.errors).toBeUndefined();
    const me = response.data.me;
    expect(me.email).toBe(DEMO_USER.email); // user
    expect(me.accounts.map((a: { name: string }) => a.name).sort()).toEqual(['Everyday', 'Rainy day']); // budget
    expect(me.watchlist.map((i: { symbol: string }) => i.symbol)).toEqual(DEMO_WATCHLIST); // market
    for (const item of me.watchlist) expect(item.quote.last).toBeGreaterThan(0);
    expect(me.savedArticles).toHaveLength(3); // news
    expect(me.bankAccounts).toHaveLength(1); // payment
    expect(me.reports.length).toBeGreaterThanOrEqual(1); // insight
  });

  it('streams a BTC-USD tick over graphql-ws within 2 s of subscribing, on any day of the week', async () => {
    const client = createClient({
      url: gatewayUrl.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    type Tick = { symbol: string; last: number; time: string | null; marketState: string };
    const received: Tick[] = [];
    const subscribedAt = new Date();
    try {
      const fresh = await new Promise<Tick>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no tick within 2 s of subscribing; received ${JSON.stringify(received)}`)), 2000);
        client.subscribe<{ quote: Tick }>(
          { query: 'subscription { quote(symbol: "BTC-USD") { symbol last time marketState } }' },
          {
            next: (result) => {
              if (result.errors) return reject(new Error(JSON.stringify(result.errors)));
              const quote = result.data!.quote;
              received.push(quote);
              // A trade after the subscription began, or a second, different value.
              const traded = quote.time !== null && Date.parse(quote.time) > subscribedAt.getTime();
              if (traded || new Set(received.map((q) => `${q.time}|${q.last}`)).size > 1) {
                clearTimeout(timer);
                resolve(quote);
              }
            },
            error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
            complete: () => {},
          },
        );
      });
      expect(fresh).toMatchObject({ symbol: 'BTC-USD', marketState: 'OPEN' });
      expect(fresh.last).toBeGreaterThan(0);
    } finally {
      await client.dispose();
    }
  });

  it('stops on Ctrl-C with exit code 0, and keeps the accounts and a new transaction across a restart', async () => {
    const me = await gql(gatewayUrl, '{ me { accounts { id name } } }', { token });
    const everyday = (me.data.me.accounts as { id: string; name: string }[]).find((a) => a.name === 'Everyday')!;
    const payee = `Kept across restarts ${Date.now()}`;
    const recorded = await gql(gatewayUrl, 'mutation($input: RecordTransactionInput!) { recordTransaction(input: $input) { id } }', {
      token,
      variables: { input: { accountId: everyday.id, amount: { amountMinor: -1234, currency: 'EUR' }, bookedAt: new Date().toISOString(), payee } },
    });
    expect(recorded.errors).toBeUndefined();

    expect(await embedded.stop(running!)).toBe(0);
    running = await embedded.start();
    expect(running.output()).toContain('existing data kept');

    token = await login();
    const after = await gql(gatewayUrl, '{ me { accounts { id name } watchlist { symbol } transactions(first: 50) { edges { node { id payee } } } } }', { token });
    expect(after.errors).toBeUndefined();
    expect(after.data.me.accounts).toEqual(expect.arrayContaining(me.data.me.accounts));
    expect(after.data.me.watchlist.map((i: { symbol: string }) => i.symbol)).toEqual(DEMO_WATCHLIST);
    expect(after.data.me.transactions.edges.map((e: { node: { id: string; payee: string } }) => e.node)).toContainEqual({
      id: recorded.data.recordTransaction.id,
      payee,
    });
  }, 240_000);
});
