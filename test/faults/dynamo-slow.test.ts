// The DynamoDB API slow under the news subgraph (issue 20): news reaches the shared dynalite
// through a proxy in this process that holds every byte, both ways, for 3 s: a DynamoDB that
// answers far too late (a throttled table, a slow network).
//
// Expected: news gives up on a call after DYNAMODB_MAX_ATTEMPTS attempts of DYNAMODB_REQUEST_TIMEOUT_MS
// each (here 2 × 500 ms) and answers its fields null with SERVICE_UNAVAILABLE naming news (never
// 500 or INTERNAL_SERVER_ERROR, nothing of the SDK's text), well within the gateway's subgraph
// timeout; the rest of the response (the user subgraph's fields) arrives intact. Once DynamoDB is
// fast again, requests are whole again within a second or so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services } from '@analytica/testing';
import { startFaultProxy } from '@analytica/testing/fault-proxy';
import { ask, recovery, sleep, startFaultStack, type Answer, type FaultStack } from './stack.js';

const REQUEST_TIMEOUT_MS = 500;
const MAX_ATTEMPTS = 2;
const LATENCY_MS = 3000;
/** The SDK's back-off between attempts and a busy two-core machine. */
const ALLOWANCE_MS = 1000;
const QUERY = 'query($id: ID!) { me { email displayName } article(id: $id) { id title } }';

let stack: FaultStack;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let user: { email: string; token: string };
let article: { id: string; title: string };

beforeAll(async () => {
  const target = new URL(services.dynamoEndpoint);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  stack = await startFaultStack('faults_dynamo', {
    subgraphs: {
      news: {
        DYNAMODB_ENDPOINT: `http://127.0.0.1:${proxy.port}`,
        DYNAMODB_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        DYNAMODB_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      },
    },
  });
  user = await stack.register('dynamo');
  const listed = await ask(stack.gatewayUrl, '{ articles(first: 1) { edges { node { id title } } } }', user.token);
  expect(listed.body.errors).toBeUndefined();
  article = listed.body.data.articles.edges[0].node;
}, 180_000);

afterAll(async () => {
  proxy?.delay(0);
  await stack?.stop();
  await proxy?.close();
});

describe('DynamoDB slow under news', () => {
  it('news answers SERVICE_UNAVAILABLE within its DynamoDB budget, the rest intact, and is whole again once DynamoDB is fast', async () => {
    const whole = { data: { me: { email: user.email, displayName: 'Fault Injection' }, article } };
    const before = await ask(stack.gatewayUrl, QUERY, user.token, { id: article.id });
    expect({ status: before.status, body: before.body }).toEqual({ status: 200, body: whole });

    proxy.delay(LATENCY_MS);
    const during: Answer[] = [];
    for (let i = 0; i < 5; i++) {
      during.push(await ask(stack.gatewayUrl, QUERY, user.token, { id: article.id }));
      await sleep(200);
    }
    proxy.delay(0);
    const back = await recovery(
      () => ask(stack.gatewayUrl, QUERY, user.token, { id: article.id }),
      (a) => a.status === 200 && a.body.errors === undefined,
      15_000,
    );
    const slowest = Math.round(Math.max(...during.map((a) => a.ms)));
    console.log(
      `dynamodb +${LATENCY_MS} ms: ${during.length} requests, slowest ${slowest} ms (budget ${MAX_ATTEMPTS} × ${REQUEST_TIMEOUT_MS} ms); whole again ${back.ms} ms after it was fast`,
    );

    for (const answer of during) {
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({ me: { email: user.email, displayName: 'Fault Injection' }, article: null });
      expect(answer.body.errors).toHaveLength(1);
      expect(answer.body.errors![0]).toMatchObject({ path: ['article'], extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'news' } });
      expect(answer.body.errors![0]!.message).toMatch(/try again/);
      expect(JSON.stringify(answer.body.errors)).not.toMatch(/timeout|dynamo|socket|ECONN|aws/i);
      expect(answer.ms).toBeLessThan(MAX_ATTEMPTS * REQUEST_TIMEOUT_MS + ALLOWANCE_MS);
    }
    expect({ status: back.last.status, body: back.last.body }).toEqual({ status: 200, body: whole });
    // Calls held by the proxy when it sped up are answered late; a fresh call goes through at once.
    expect(back.ms).toBeLessThan(2000);
  }, 60_000);
});
