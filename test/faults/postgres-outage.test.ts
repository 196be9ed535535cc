// PostgreSQL stopped and restarted, and PostgreSQL hung, under the budget subgraph (issue 20).
// Budget reaches the shared PostgreSQL through a proxy in this process. Killing the proxy resets
// every connection and refuses new ones (a stopped or crashed server); resuming it is the restart.
// Pausing it accepts connections and holds every byte (a hung host or frozen server: no reset, no
// statement_timeout, since the server is not running it); resuming delivers what was held. The user
// subgraph keeps its own connection to the real server.
//
// Expected while the database is away:
// - budget's fields answer null with SERVICE_UNAVAILABLE naming budget (extensions.serviceName) and
//   saying to try again; never 500 or INTERNAL_SERVER_ERROR, and no SQL, driver or connection text;
// - the other subgraphs' fields of the same response stay intact (status 200);
// - a mutation in flight is all-or-nothing: afterwards the account's balance is its opening balance
//   plus exactly the transactions stored, every mutation answered with success is stored, and every
//   one refused was refused with SERVICE_UNAVAILABLE;
// - no answer waits longer than its budget: 3 s when refused at once, and for the hung server the
//   client's own read timeout (statement timeout + 1 s) or connect timeout (2 s + 2 s here);
// - requests succeed again within a few seconds of the database's return (measured, under 5 s).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services } from '@analytica/testing';
import { startFaultProxy } from '@analytica/testing/fault-proxy';
import { ask, recovery, sleep, startFaultStack, type Answer, type FaultStack } from './stack.js';

const OUTAGE_MS = 8000;
const RECOVERY_LIMIT_MS = 5000;
const QUERY = '{ me { email displayName accounts { name } } }';
const LEAKS = /select|insert|update|ECONN|connect|terminat|postgres|pg_|relation|schema|knex|mikro/i;

let stack: FaultStack;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let user: { email: string; token: string };

beforeAll(async () => {
  const target = new URL(services.databaseUrl);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
  stack = await startFaultStack('faults_pg', {
    subgraphs: { budget: { DATABASE_URL: proxy.in(services.databaseUrl), DATABASE_STATEMENT_TIMEOUT_MS: '2000', DATABASE_CONNECT_TIMEOUT_MS: '2000' } },
  });
  user = await stack.register('pg');
}, 180_000);

afterAll(async () => {
  proxy?.resume();
  await stack?.stop();
  await proxy?.close();
});

const record = (accountId: string, payee: string, i: number) =>
  ask(stack.gatewayUrl, 'mutation($input: RecordTransactionInput!) { recordTransaction(input: $input) { id amount { amountMinor } } }', user.token, {
    input: { accountId, amount: { amountMinor: -(100 + i), currency: 'EUR' }, bookedAt: new Date().toISOString(), payee },
  });

/**
 * One outage of the given kind under a stream of mutations. `slowestMs`: the longest any answer may
 * take while PostgreSQL is away; `minAnswers`: how many queries, one after another, at least fit in it. Each case books to an account of its own.
 */
async function outage(fault: 'kill' | 'pause', slowestMs: number, minAnswers: number) {
  const opened = await ask(
    stack.gatewayUrl,
    `mutation { openAccount(input: { name: "Fault ${fault}", type: CHECKING, currency: "EUR", openingBalance: { amountMinor: 100000, currency: "EUR" } }) { id } }`,
    user.token,
  );
  expect(opened.body.errors).toBeUndefined();
  const accountId: string = opened.body.data.openAccount.id;
  const before = await ask(stack.gatewayUrl, QUERY, user.token);
  expect(before.status).toBe(200);
  expect(before.body.errors).toBeUndefined();
  expect(before.body.data.me).toMatchObject({ email: user.email, displayName: 'Fault Injection' });
  expect(before.body.data.me.accounts).toContainEqual({ name: `Fault ${fault}` });
  const whole = before.body;

  // Mutations keep coming, a few at a time, before, across and after the cut.
  const mutations: { i: number; answer: Answer }[] = [];
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing && i < 150; i += 3) {
      const batch = await Promise.all([i, i + 1, i + 2].map(async (n) => ({ i: n, answer: await record(accountId, `Fault ${fault} ${n}`, n) })));
      mutations.push(...batch);
      await sleep(150);
    }
  })();
  await sleep(1000);

  if (fault === 'kill') proxy.kill();
  else proxy.pause();
  const during: Answer[] = [];
  const until = performance.now() + OUTAGE_MS;
  while (performance.now() < until) {
    during.push(await ask(stack.gatewayUrl, QUERY, user.token));
    await sleep(250);
  }
  proxy.resume();
  const back = await recovery(
    () => ask(stack.gatewayUrl, QUERY, user.token),
    (a) => a.status === 200 && a.body.errors === undefined,
    15_000,
  );
  await sleep(1000);
  writing = false;
  await writer;
  const slowest = Math.round(Math.max(...during.map((a) => a.ms)));
  const refused = mutations.filter((m) => m.answer.body.errors);
  console.log(
    `postgres ${fault === 'kill' ? 'stopped' : 'hung'} for ${OUTAGE_MS / 1000} s: ${during.length} queries (slowest ${slowest} ms), ${mutations.length} mutations (${refused.length} refused); ` +
      `requests succeed again ${back.ms} ms after PostgreSQL returned`,
  );

  // While it was away: budget's field null with the outage code naming budget; the rest intact.
  expect(during.length).toBeGreaterThanOrEqual(minAnswers);
  for (const answer of during) {
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ me: { email: user.email, displayName: 'Fault Injection', accounts: null } });
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors![0]).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'budget' } });
    expect(answer.body.errors![0]!.message).toMatch(/try again/);
    expect(JSON.stringify(answer.body.errors)).not.toMatch(LEAKS);
    expect(answer.ms).toBeLessThan(slowestMs);
  }
  expect({ status: back.last.status, body: back.last.body }).toEqual({ status: 200, body: whole });
  expect(back.ms).toBeLessThan(RECOVERY_LIMIT_MS);

  // Mutations: each either answered with its transaction or refused as an outage, never half done.
  expect(refused.length).toBeGreaterThan(0);
  expect(mutations.length - refused.length).toBeGreaterThan(3);
  for (const { answer } of refused) {
    expect(answer.status).not.toBe(500);
    expect(answer.body.errors!.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(JSON.stringify(answer.body.errors)).not.toMatch(LEAKS);
  }
  const stored = await ask(
    stack.gatewayUrl,
    'query($id: ID!) { account(id: $id) { balance { amountMinor } } me { transactions(first: 200, filter: { accountId: $id }) { edges { node { payee amount { amountMinor } } } } } }',
    user.token,
    { id: accountId },
  );
  expect(stored.body.errors).toBeUndefined();
  const transactions = stored.body.data.me.transactions.edges.map((e: { node: { payee: string; amount: { amountMinor: number } } }) => e.node);
  const payees = transactions.map((t: { payee: string }) => t.payee);
  expect(new Set(payees).size).toBe(payees.length);
  for (const { i } of mutations.filter((m) => !m.answer.body.errors)) expect(payees).toContain(`Fault ${fault} ${i}`);
  const sum = transactions.reduce((s: number, t: { amount: { amountMinor: number } }) => s + t.amount.amountMinor, 0);
  expect(stored.body.data.account.balance.amountMinor).toBe(100000 + sum);
  console.log(`postgres ${fault}: ${mutations.length - refused.length} mutations succeeded, ${transactions.length} transactions stored, balance consistent`);
}

describe('PostgreSQL under budget', () => {
  it('stopped and restarted: budget answers SERVICE_UNAVAILABLE naming it within 3 s, the rest stays intact, mutations are all-or-nothing, and requests succeed again within 5 s', async () => {
    await outage('kill', 3000, 10);
  }, 60_000);

  it('hung (accepts, never answers): the same answers within the client-side read and connect timeouts, not the gateway limit, and the same recovery', async () => {
    // Read timeout 2 s + 1 s; a new connection gives up after 2 s. The gateway's own limit is 10 s.
    await outage('pause', 5000, 2);
  }, 60_000);
});
