// One subgraph hung (issue 20): the budget subgraph's TCP connections are accepted and held, and no
// byte of an answer comes back (a proxy in front of it, paused), what a deadlocked or stalled
// process looks like to the gateway.
//
// Expected: the gateway gives up on the hung subgraph after SUBGRAPH_TIMEOUT_MS (here 2000 ms) and
// answers 200 with every other subgraph's fields intact and the hung one's fields null, with one
// error SERVICE_UNAVAILABLE naming it (extensions.serviceName "budget"); never 500 or
// INTERNAL_SERVER_ERROR, and no request waits longer than that timeout (plus an allowance for a
// busy machine). When the subgraph answers again, the next request is whole again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@analytica/testing';
import { startFaultProxy } from '@analytica/testing/fault-proxy';
import { ask, recovery, sleep, startFaultStack, type FaultStack } from './stack.js';

const SUBGRAPH_TIMEOUT_MS = 2000;
const MACHINE_ALLOWANCE_MS = 1000;
const QUERY = '{ me { email displayName accounts { name } } }';

let stack: FaultStack;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let user: { email: string; token: string };

beforeAll(async () => {
  const budgetPort = await freePort();
  proxy = await startFaultProxy({ host: '127.0.0.1', port: budgetPort });
  stack = await startFaultStack('faults_hang', {
    subgraphs: { budget: {} },
    ports: { budget: budgetPort },
    urls: { budget: `http://127.0.0.1:${proxy.port}/graphql` },
    gatewayEnv: { SUBGRAPH_TIMEOUT_MS: String(SUBGRAPH_TIMEOUT_MS) },
  });
  user = await stack.register('hang');
  const opened = await ask(
    stack.gatewayUrl,
    'mutation { openAccount(input: { name: "Everyday", type: CHECKING, currency: "EUR", openingBalance: { amountMinor: 1000, currency: "EUR" } }) { id } }',
    user.token,
  );
  expect(opened.body.errors).toBeUndefined();
}, 180_000);

afterAll(async () => {
  proxy?.resume();
  await stack?.stop();
  await proxy?.close();
});

describe('one subgraph hung', () => {
  it('answers within SUBGRAPH_TIMEOUT_MS with the other fields intact and the hung service named, and is whole again once it answers', async () => {
    const whole = { data: { me: { email: user.email, displayName: 'Fault Injection', accounts: [{ name: 'Everyday' }] } } };
    const before = await ask(stack.gatewayUrl, QUERY, user.token);
    expect({ status: before.status, body: before.body }).toEqual({ status: 200, body: whole });

    proxy.pause();
    const during = [];
    for (let i = 0; i < 4; i++) {
      // Two at once: a second request must not queue behind the first one's hung connection.
      during.push(...(await Promise.all([ask(stack.gatewayUrl, QUERY, user.token), ask(stack.gatewayUrl, QUERY, user.token)])));
      await sleep(100);
    }
    proxy.resume();
    const back = await recovery(
      () => ask(stack.gatewayUrl, QUERY, user.token),
      (a) => a.status === 200 && a.body.errors === undefined,
      10_000,
    );
    const slowest = Math.round(Math.max(...during.map((a) => a.ms)));
    console.log(`budget hung: ${during.length} requests, slowest ${slowest} ms (SUBGRAPH_TIMEOUT_MS ${SUBGRAPH_TIMEOUT_MS}); whole again ${back.ms} ms after it answered`);

    for (const answer of during) {
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({ me: { email: user.email, displayName: 'Fault Injection', accounts: null } });
      expect(answer.body.errors).toEqual([
        {
          message: `The budget service did not answer within ${SUBGRAPH_TIMEOUT_MS} ms; its fields are missing from this response.`,
          extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'budget' },
        },
      ]);
      // It did wait for the subgraph (no earlier give-up), and not longer than its limit.
      expect(answer.ms).toBeGreaterThanOrEqual(SUBGRAPH_TIMEOUT_MS - 50);
      expect(answer.ms).toBeLessThan(SUBGRAPH_TIMEOUT_MS + MACHINE_ALLOWANCE_MS);
    }
    expect({ status: back.last.status, body: back.last.body }).toEqual({ status: 200, body: whole });
    expect(back.ms).toBeLessThan(2000);
  }, 60_000);
});
