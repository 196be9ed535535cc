// Acceptance (issue 16, 2): one payment, then its trace: the gateway's request, the payment
// subgraph's work, the outbox relay, the Kafka send and the payments worker's processing are spans
// of one trace, read back by request id through the admin field `requestTrace` (from the Zipkin
// that infra/up.sh starts; every process exports to it in stack mode).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSmtpCatcherEnv, startSmtpCatcher, type CaughtMessage } from '@analytica/smtp-catcher';
import { dropSchema, eventually, freePort, gql, isolatedRunEnv, signInAdmin, uniqueName } from '@analytica/testing';
import { DEMO_ADMIN } from '../../dev/src/demo.js';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS } from '../../dev/src/processes.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';

const run = uniqueName('e2etrace');
let stack: RunningStack;
let catcher: Awaited<ReturnType<typeof startSmtpCatcher>>;
let adminToken: string;

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  catcher = await startSmtpCatcher(parseSmtpCatcherEnv({ LOG_LEVEL: 'silent', PORT: '0', SMTP_PORT: '0' }));
  stack = await startStack({
    ports,
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir: path.join(repoRoot, '.data/test-secrets'),
    // Fails the start when no Zipkin answers, rather than a test that silently traces nothing.
    tracing: true,
    // Every request traced: the test reads the one payment's trace (the stack's default is one in ten).
    traceSampleRatio: 1,
    env: { LOG_LEVEL: 'info', ...isolatedRunEnv(run), SMTP_URL: catcher.smtpUrl, BANK_LATENCY_MEDIAN_MS: '20', BANK_LATENCY_P99_MS: '50' },
  });
  adminToken = (await signInAdmin(stack.gatewayUrl, DEMO_ADMIN)).accessToken;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await catcher?.stop();
  for (const name of [...SUBGRAPHS, 'notifications', 'inference', 'registry']) await dropSchema(`${run}_${name}`);
});

async function call(query: string, variables: Record<string, unknown> = {}, token?: string, headers?: Record<string, string>) {
  const response = await gql(stack.gatewayUrl, query, { variables, token, headers });
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data;
}

const mailTo = (address: string, match: (m: CaughtMessage) => boolean): Promise<CaughtMessage> =>
  eventually(async () => catcher.messages().find((m) => m.to.includes(address) && match(m)), 30_000);

interface Span {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  name: string;
  kind: string | null;
  durationMicros: number;
  attributes: { key: string; value: string }[];
  error: boolean;
}
const TRACE = `query($id: String!) { requestTrace(requestId: $id) { available reason traceId
  spans { spanId parentSpanId service name kind startedAt durationMicros attributes { key value } error } } }`;
const attribute = (span: Span, key: string) => span.attributes.find((a) => a.key === key)?.value;

describe('one payment, one trace', () => {
  it('holds the gateway, the payment subgraph, the outbox relay, the Kafka send and the payments worker', async () => {
    const email = `${uniqueName('traced')}@example.com`;
    const { register } = await call('mutation($input: RegisterInput!) { register(input: $input) { accessToken } }', {
      input: { email, password: 'a long enough password 42', displayName: 'Ada Traced', homeCurrency: 'EUR' },
    });
    const token = register.accessToken as string;
    const { connectBank } = await call('mutation { connectBank(input: { bankName: "Sandbox Bank" }) { id accounts { accountId name } } }', {}, token);
    const current = connectBank.accounts.find((a: { name: string }) => a.name === 'Current account');
    const { linkBankAccount } = await call(
      'mutation($input: LinkBankAccountInput!) { linkBankAccount(input: $input) { id accountNumber } }',
      { input: { connectionId: connectBank.id, accountId: current.accountId } },
      token,
    );
    const mail = await mailTo(email, (m) => m.subject === `Your code to verify ${linkBankAccount.accountNumber}`);
    const code = /\n {4}(\d{6})\n/.exec(mail.text)![1]!;
    await call('mutation($id: ID!, $code: String!) { verifyBankAccount(id: $id, code: $code) { status } }', { id: linkBankAccount.id, code }, token);

    // A small payment is queued at once: its payments.requested.v1 is written to the outbox in the request's transaction.
    const requestId = `trace-${randomUUID()}`;
    const { initiatePayment } = await call(
      'mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id status } }',
      { input: { bankAccountId: linkBankAccount.id, amount: { amountMinor: 2_500, currency: 'EUR' }, payeeName: 'Corner Shop', reference: 'Traced' }, key: randomUUID() },
      token,
      { 'x-request-id': requestId },
    );
    expect(initiatePayment.status).toBe('QUEUED');

    // Each process sends its spans to Zipkin in its own batches (a second apart), so they arrive in
    // no fixed order: the worker's may be there before the payment subgraph's. Wait until every
    // process this test reads has reported.
    const trace = await eventually(async () => {
      const { requestTrace } = await call(TRACE, { id: requestId }, adminToken);
      expect(requestTrace.available, requestTrace.reason).toBe(true);
      const spans = requestTrace.spans as Span[];
      const reported = (service: string, kind: string) => spans.some((s) => s.service === service && s.kind === kind);
      const relayed = spans.some((s) => s.name === 'outbox relay') && spans.some((s) => s.kind === 'PRODUCER');
      return reported('gateway', 'SERVER') && reported('payment', 'SERVER') && relayed && reported('payments-worker', 'CONSUMER') && reported('payments-worker', 'CLIENT')
        ? requestTrace
        : undefined;
    }, 30_000);
    const spans = trace.spans as Span[];
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (span: Span) => (span.parentSpanId ? byId.get(span.parentSpanId) : undefined);

    // The root: the gateway's request, tagged with the request id, with Apollo's planning and fetch spans under it.
    const root = spans.find((s) => s.parentSpanId === null)!;
    expect(root).toMatchObject({ service: 'gateway', kind: 'SERVER', error: false });
    expect(attribute(root, 'analytica.request_id')).toBe(requestId);
    expect(spans.filter((s) => s.parentSpanId === null)).toHaveLength(1);
    const fetch = spans.find((s) => s.service === 'gateway' && s.name === 'gateway.fetch');
    expect(fetch).toBeDefined();

    // The payment subgraph served the gateway's call, inside the same trace.
    const served = spans.find((s) => s.service === 'payment' && s.kind === 'SERVER')!;
    expect(served).toBeDefined();
    expect(parentOf(served)?.service).toBe('gateway');
    expect(attribute(served, 'analytica.request_id')).toBe(requestId);

    // The relay's span continues the request that wrote the outbox row (the payment service and the
    // payments worker both relay the payment schema's outbox: whichever claimed the row); Kafka's send is its child.
    const relay = spans.find((s) => s.name === 'outbox relay' && attribute(s, 'messaging.destination.name') === 'payments.requested.v1')!;
    expect(relay).toBeDefined();
    expect(['payment', 'payments-worker']).toContain(relay.service);
    expect(relay.parentSpanId).toBe(served.spanId);
    const send = spans.find((s) => s.kind === 'PRODUCER' && s.name === 'send payments.requested.v1')!;
    expect(send).toMatchObject({ service: relay.service, parentSpanId: relay.spanId, error: false });
    expect(attribute(send, 'messaging.system')).toBe('kafka');

    // The payments worker consumed that very message, in a span whose parent is the send.
    const processed = spans.find((s) => s.service === 'payments-worker' && s.kind === 'CONSUMER')!;
    expect(processed).toMatchObject({ name: 'process payments.requested.v1', parentSpanId: send.spanId, error: false });
    expect(attribute(processed, 'messaging.consumer.group.name')).toMatch(/payments/);

    // Its call to the bank is a client span under that processing (the bank lies outside the system).
    const paid = spans.find((s) => s.service === 'payments-worker' && s.kind === 'CLIENT' && s.name === 'bank post')!;
    expect(paid, JSON.stringify(spans.map((s) => [s.service, s.kind, s.name]))).toBeDefined();
    expect(attribute(paid, 'url.full')).toMatch(/\/v1\/payments$/);
    expect(parentOf(paid)).toBe(processed);

    // Each of them hangs off the root through its parents: one unbroken trace. (Spans further
    // downstream, from events of events, may still be on their way to Zipkin, so only these are walked.)
    for (const span of [fetch!, served, relay, send, processed, paid]) {
      let at: Span | undefined = span;
      for (let hops = 0; at && at !== root && hops < 50; hops++) at = parentOf(at);
      expect(at, `${span.service} ${span.name} is not under the gateway's request`).toBe(root);
    }
  }, 120_000);

  it('gives traces to administrators only, and refuses a request id that cannot be one', async () => {
    const email = `${uniqueName('nosy')}@example.com`;
    const { register } = await call('mutation($input: RegisterInput!) { register(input: $input) { accessToken } }', {
      input: { email, password: 'a long enough password 42', displayName: 'Nosy', homeCurrency: 'EUR' },
    });
    const refused = await gql(stack.gatewayUrl, TRACE, { token: register.accessToken, variables: { id: 'anything' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.data?.requestTrace ?? null).toBeNull();

    const bad = await gql(stack.gatewayUrl, TRACE, { token: adminToken, variables: { id: 'not a request id!' } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/requestId must be/);

    // An id no request had: found nothing, which is not an error.
    const { requestTrace } = await call(TRACE, { id: `never-${randomUUID()}` }, adminToken);
    expect(requestTrace).toEqual({ available: true, reason: null, traceId: null, spans: [] });
  });
});
