// Acceptance: the payment flow end to end on real Kafka, PostgreSQL, Redis and SMTP, every service
// its own process, used through the gateway as a frontend would: link a bank account, pay, watch the
// status live over graphql-ws, get the email, see the transaction in the budget.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { parseSmtpCatcherEnv, startSmtpCatcher, type CaughtMessage } from '@analytica/smtp-catcher';
import { dropSchema, eventually, freePort, gql, isolatedRunEnv, uniqueName } from '@analytica/testing';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS } from '../../dev/src/processes.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';

const run = uniqueName('e2epay');
let ports: typeof DEFAULT_PORTS;
let stack: RunningStack;
let catcher: Awaited<ReturnType<typeof startSmtpCatcher>>;

beforeAll(async () => {
  ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  catcher = await startSmtpCatcher(parseSmtpCatcherEnv({ LOG_LEVEL: 'silent', PORT: '0', SMTP_PORT: '0' }));
  stack = await startStack({
    ports,
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir: path.join(repoRoot, '.data/test-secrets'),
    env: {
      LOG_LEVEL: 'info',
      ...isolatedRunEnv(run),
      SMTP_URL: catcher.smtpUrl,
      // A bank slow enough that PROCESSING is seen on its own before SUCCEEDED.
      BANK_LATENCY_MEDIAN_MS: '250',
      BANK_LATENCY_P99_MS: '400',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await catcher?.stop();
  for (const name of [...SUBGRAPHS, 'notifications', 'inference', 'registry']) await dropSchema(`${run}_${name}`);
});

async function call(query: string, variables: Record<string, unknown> = {}, token?: string) {
  const response = await gql(stack.gatewayUrl, query, { variables, token });
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  return response.data;
}

async function mailTo(address: string, match: (m: CaughtMessage) => boolean): Promise<CaughtMessage> {
  return eventually(async () => catcher.messages().find((m) => m.to.includes(address) && match(m)), 30_000);
}

const codeIn = (mail: CaughtMessage) => /\n {4}(\d{6})\n/.exec(mail.text)![1]!;

async function signUp() {
  const email = `${uniqueName('payer')}@example.com`;
  const { register } = await call('mutation($input: RegisterInput!) { register(input: $input) { accessToken } }', {
    input: { email, password: 'a long enough password 42', displayName: 'Grace Payer', homeCurrency: 'EUR' },
  });
  return { email, token: register.accessToken as string };
}

describe('payments through the whole stack', () => {
  let grace: { email: string; token: string };
  let bankAccountId: string;

  it('links a bank account through a consent, verified with the code that arrives by email', async () => {
    grace = await signUp();
    const welcome = await mailTo(grace.email, (m) => m.subject === 'Welcome to Analytica');
    expect(welcome.text).toContain('Hello Grace Payer,');
    await call('mutation($input: OpenAccountInput!) { openAccount(input: $input) { id } }', { input: { name: 'Everyday', type: 'CHECKING', currency: 'EUR' } }, grace.token);

    const { connectBank } = await call('mutation { connectBank(input: { bankName: "Sandbox Bank" }) { id accounts { accountId name open } } }', {}, grace.token);
    const current = connectBank.accounts.find((a: { name: string }) => a.name === 'Current account');
    const { linkBankAccount } = await call(
      'mutation($input: LinkBankAccountInput!) { linkBankAccount(input: $input) { id status accountNumber } }',
      { input: { connectionId: connectBank.id, accountId: current.accountId } },
      grace.token,
    );
    expect(linkBankAccount.status).toBe('PENDING_VERIFICATION');
    bankAccountId = linkBankAccount.id;
    const mail = await mailTo(grace.email, (m) => m.subject === `Your code to verify ${linkBankAccount.accountNumber}`);
    const { verifyBankAccount } = await call(
      'mutation($id: ID!, $code: String!) { verifyBankAccount(id: $id, code: $code) { status } }',
      { id: bankAccountId, code: codeIn(mail) },
      grace.token,
    );
    expect(verifyBankAccount.status).toBe('VERIFIED');
  });

  it('shows a payment go QUEUED, PROCESSING, SUCCEEDED over a subscription, mails the result and books it in the budget', async () => {
    const { initiatePayment } = await call(
      'mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id status } }',
      { input: { bankAccountId, amount: { amountMinor: 150_000, currency: 'EUR' }, payeeName: 'New Landlord', reference: 'Deposit' }, key: randomUUID() },
      grace.token,
    );
    // A first large payment to a new payee waits for the code we email.
    expect(initiatePayment.status).toBe('REQUIRES_ACTION');
    const paymentId = initiatePayment.id as string;
    const codeMail = await mailTo(grace.email, (m) => m.subject === 'Confirm your payment of 1500.00 EUR');

    const client: Client = createClient({
      url: stack.gatewayUrl.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${grace.token}` },
    });
    const seen: { status: string; amount: { amountMinor: number } }[] = [];
    const errors: unknown[] = [];
    const dispose = client.subscribe(
      { query: 'subscription($id: ID!) { paymentStatus(paymentId: $id) { id status amount { amountMinor currency } failureReason } }', variables: { id: paymentId } },
      { next: (r) => void seen.push((r.data as { paymentStatus: (typeof seen)[number] }).paymentStatus), error: (e) => void errors.push(e), complete: () => {} },
    );
    try {
      await eventually(async () => (seen.length ? true : undefined));
      await call('mutation($id: ID!, $code: String!) { confirmPayment(id: $id, code: $code) { status } }', { id: paymentId, code: codeIn(codeMail) }, grace.token);
      await eventually(async () => (seen.some((s) => s.status === 'SUCCEEDED') ? true : undefined), 30_000);
      expect(errors).toEqual([]);
      // The subscription starts with the payment as it is, then each change.
      expect(seen.map((s) => s.status)).toEqual(['REQUIRES_ACTION', 'QUEUED', 'PROCESSING', 'SUCCEEDED']);
      expect(seen[3]).toMatchObject({ id: paymentId, amount: { amountMinor: 150_000, currency: 'EUR' }, failureReason: null });
    } finally {
      dispose();
      await client.dispose();
    }

    const result = await mailTo(grace.email, (m) => m.subject === 'Payment of 1500.00 EUR to New Landlord sent');
    expect(result.headers['list-unsubscribe']).toMatch(/unsubscribe\?u=/);

    const booked = await eventually(async () => {
      const { me } = await call('{ me { transactions(first: 10) { edges { node { payee amount { amountMinor currency } } } } } }', {}, grace.token);
      return (me.transactions.edges as { node: { payee: string; amount: { amountMinor: number } } }[]).find((e) => e.node.payee === 'New Landlord')?.node;
    }, 30_000);
    expect(booked.amount).toEqual({ amountMinor: -150_000, currency: 'EUR' });
    const { payment } = await call('query($id: ID!) { payment(id: $id) { status bankReference history { status } } }', { id: paymentId }, grace.token);
    expect(payment).toMatchObject({ status: 'SUCCEEDED', bankReference: expect.any(String) });
    expect(payment.history.map((h: { status: string }) => h.status)).toEqual(['REQUIRES_ACTION', 'QUEUED', 'PROCESSING', 'SUCCEEDED']);
  });

  it('answers the same idempotency key with the same payment, and the key with other parameters with CONFLICT', async () => {
    const key = randomUUID();
    const input = { bankAccountId, amount: { amountMinor: 1_999, currency: 'EUR' }, payeeName: 'New Landlord', reference: 'Fee' };
    const INITIATE = 'mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id } }';
    const once = await call(INITIATE, { input, key }, grace.token);
    const twice = await call(INITIATE, { input, key }, grace.token);
    expect(twice.initiatePayment.id).toBe(once.initiatePayment.id);
    const other = await gql(stack.gatewayUrl, INITIATE, { token: grace.token, variables: { input: { ...input, amount: { amountMinor: 2_000, currency: 'EUR' } }, key } });
    expect(other.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it("refuses a subscription to someone else's payment", async () => {
    const { me } = await call('{ me { paymentsConnection(first: 1) { totalCount edges { node { id } } } } }', {}, grace.token);
    expect(me.paymentsConnection.totalCount).toBeGreaterThanOrEqual(2);
    const intruder = await signUp();
    const client = createClient({
      url: stack.gatewayUrl.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${intruder.token}` },
    });
    try {
      const failure = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: 'subscription($id: ID!) { paymentStatus(paymentId: $id) { status } }', variables: { id: me.paymentsConnection.edges[0].node.id } },
          { next: () => {}, error: resolve, complete: () => resolve(null) },
        );
      });
      expect(JSON.stringify(failure)).toMatch(/FORBIDDEN|NOT_FOUND/);
    } finally {
      await client.dispose();
    }
  });
});
