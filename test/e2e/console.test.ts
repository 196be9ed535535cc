// Issue 16, acceptance 1: the admin console in Chromium (playwright-core with Debian's chromium)
// against a whole stack, served by the gateway at /console/. An administrator signs in and enrols
// an authenticator app, disables a user (whose next request fails), replays a dead letter and hides
// an article, and finds one payment's logs and trace, from the gateway to the payments worker, by
// its request id; a reader who signs in is refused. Every page is photographed once under /tmp.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaBus, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { parseSmtpCatcherEnv, startSmtpCatcher } from '@analytica/smtp-catcher';
import { dropSchema, eventually, freePort, gql, isolatedRunEnv, nextTotpCode, services, uniqueName } from '@analytica/testing';
import { DEMO_ADMIN } from '../../dev/src/demo.js';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS } from '../../dev/src/processes.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS_DIR ?? '/tmp/analytica-console';
const run = uniqueName('e2e_console');
let stack: RunningStack;
let browser: Browser;
let page: Page;
let origin: string;
let bus: EventBus;
let catcher: Awaited<ReturnType<typeof startSmtpCatcher>>;
/** Errors the console's page logged (a CSP violation is one) or threw. */
const pageProblems: string[] = [];
let totpSecret: string;
let adminToken: string;

const api = (query: string, token?: string, variables?: Record<string, unknown>) => gql(stack.gatewayUrl, query, { token, variables });
async function register(name: string) {
  const email = `${uniqueName(name)}@example.com`;
  const password = 'a long enough password 42';
  const response = await api('mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }', undefined, {
    input: { email, password, displayName: name, homeCurrency: 'EUR' },
  });
  return { email, password, token: response.data.register.accessToken as string, id: response.data.register.user.id as string };
}
const shoot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const goTo = async (title: string) => {
  await page.getByRole('navigation').getByRole('link', { name: title, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: npm run infra:up installs it (or set CHROMIUM_PATH)`);
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  catcher = await startSmtpCatcher(parseSmtpCatcherEnv({ LOG_LEVEL: 'silent', PORT: '0', SMTP_PORT: '0' }));
  [stack, browser] = await Promise.all([
    startStack({
      ports,
      schemaPrefix: `${run}_`,
      logDir: path.join(repoRoot, '.data/test-logs', run),
      dataDir: path.join(repoRoot, '.data/test-secrets'),
      env: { LOG_LEVEL: 'info', ...isolatedRunEnv(run), SMTP_URL: catcher.smtpUrl },
      console: true,
      // Every request traced: the test looks up one request's trace (the stack's default is one in ten).
      traceSampleRatio: 1,
    }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] }),
  ]);
  origin = new URL(stack.gatewayUrl).origin;
  bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: `${run}-test`, prefix: `${run}.`, logger: createLogger('test', 'silent') });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') pageProblems.push(message.text());
  });
  page.on('pageerror', (error) => pageProblems.push(error.message));
}, 240_000);

// A failed step leaves a picture of what the page showed.
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') await page?.screenshot({ path: path.join(SHOTS, `failed-${task.name.replace(/\W+/g, '-')}.png`), fullPage: true });
});

afterAll(async () => {
  await browser?.close();
  await bus?.close();
  await stack?.stop();
  await catcher?.stop();
  for (const name of [...SUBGRAPHS, 'notifications', 'inference', 'registry']) await dropSchema(`${run}_${name}`);
});

describe('the admin console', () => {
  it('is served at /console/ with a strict Content-Security-Policy and no inline script', async () => {
    const bare = await fetch(`${origin}/console`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/console/']);
    expect((await fetch(`${origin}/console/`)).status).toBe(200);
    const response = await fetch(`${origin}/console/users`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await response.text();
    expect(html).toMatch(/<script type="module" crossorigin src="\/console\/assets\/[\w-]+\.js"><\/script>/);
    expect(html).not.toMatch(/<script>|<script type="module">/);
  });

  it('lets the administrator sign in and enrol an authenticator app on the first sign-in', async () => {
    await page.goto(`${origin}/console/`);
    await page.getByLabel('Email').fill(DEMO_ADMIN.email);
    await page.getByLabel('Password').fill(DEMO_ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    await page.getByRole('button', { name: 'Show my secret' }).click();
    totpSecret = (await page.getByTestId('totp-secret').innerText()).trim();
    expect(totpSecret).toMatch(/^[A-Z2-7]{16,}$/);
    await expect(page.getByText(/^otpauth:\/\/totp\//).innerText()).resolves.toContain(`secret=${totpSecret}`);
    await shoot('enrolment');
    await page.getByLabel('Code from your authenticator app').fill(await nextTotpCode(totpSecret));
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    // The token stays in the page's memory: nothing in the browser's storage.
    expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([0, 0, '']);
    // The test's own admin session, for checking through the API what the console did.
    const login = await api('mutation($e: String!, $p: String!, $t: String) { login(email: $e, password: $p, totpCode: $t) { accessToken } }', undefined, {
      e: DEMO_ADMIN.email,
      p: DEMO_ADMIN.password,
      t: await nextTotpCode(totpSecret),
    });
    adminToken = login.data.login.accessToken;
  });

  it('disables a user, whose next request is refused', async () => {
    const victim = await register('victim');
    expect((await api('{ me { id } }', victim.token)).data.me.id).toBe(victim.id);

    await goTo('Users');
    await page.getByPlaceholder('Email or name').fill(victim.email);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: victim.email }).click();
    await expect(page.getByTestId('user-state').innerText()).resolves.toBe('enabled');
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('status').filter({ hasText: 'Disabled: every session ended.' }).waitFor();
    await expect(page.getByTestId('user-state').innerText()).resolves.toBe('disabled');
    await shoot('user');

    const refused = await api('{ me { id } }', victim.token);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const relogin = await api('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', undefined, { e: victim.email, p: victim.password });
    expect(relogin.errors?.[0]).toBeDefined();
  });

  it('replays a dead letter from the dead-letters page', async () => {
    // A message the payments worker cannot read goes straight to payments.requested.v1.dlq.
    const key = uniqueName('poison');
    await bus.publish('payments.requested.v1', [{ key, value: 'this is not an event', headers: {} }]);
    await goTo('Dead letters');
    const row = page.locator('tr', { hasText: key });
    await eventually(
      async () => {
        // Another page and back: the page asks the API again.
        await goTo('Health');
        await goTo('Dead letters');
        return (await row.count()) > 0 ? true : undefined;
      },
      60_000,
      1000,
    );
    await shoot('dead-letters');
    await row.getByRole('button', { name: 'Replay' }).click();
    await page.getByRole('status').filter({ hasText: 'Sent back to its topic.' }).waitFor();

    const letters = async () =>
      (await api('{ paymentDeadLetters(includeReplayed: true) { key replayedAt } }', adminToken)).data.paymentDeadLetters.filter((l: { key: string }) => l.key === key) as {
        replayedAt: string | null;
      }[];
    expect((await letters()).filter((l) => l.replayedAt)).toHaveLength(1);
    // Sent back to its topic for real: still unreadable, it dies a second time.
    await eventually(async () => ((await letters()).length === 2 ? true : undefined), 30_000, 500);
  });

  it('hides a flagged article from the moderation queue', async () => {
    const reader = await register('reader');
    const article = await eventually(async () => (await api('{ articles(first: 1) { edges { node { id title } } } }', reader.token)).data?.articles?.edges?.[0]?.node, 60_000, 500);
    expect((await api('mutation($id: ID!) { flagArticle(id: $id, reason: "misleading") }', reader.token, { id: article.id })).data.flagArticle).toBe(true);

    await goTo('News moderation');
    const row = page.locator(`tr[data-article-id="${article.id}"]`).first();
    await row.waitFor();
    await expect(row.innerText()).resolves.toContain('misleading');
    await shoot('moderation');
    await row.getByPlaceholder('Why hide it').fill('misleading headline');
    await row.getByRole('button', { name: 'Hide' }).click();
    await page.getByRole('status').filter({ hasText: 'Article hidden.' }).waitFor();

    const gone = await api('query($id: ID!) { article(id: $id) { id } }', reader.token, { id: article.id });
    expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // The page lists it as hidden now, with a way back.
    await page.locator(`section:has-text("Hidden articles") tr[data-article-id="${article.id}"]`).getByRole('button', { name: 'Restore' }).waitFor();
  });

  it("finds one payment's logs and its trace across the gateway, the payment subgraph, Kafka and the payments worker by its request id", async () => {
    // A payer with a verified bank account: the code arrives by email.
    const payer = await register('traced');
    const connected = await api('mutation { connectBank(input: { bankName: "Sandbox Bank" }) { id accounts { accountId name } } }', payer.token);
    const current = connected.data.connectBank.accounts.find((a: { name: string }) => a.name === 'Current account');
    const linked = (
      await api('mutation($input: LinkBankAccountInput!) { linkBankAccount(input: $input) { id accountNumber } }', payer.token, {
        input: { connectionId: connected.data.connectBank.id, accountId: current.accountId },
      })
    ).data.linkBankAccount;
    const mail = await eventually(async () => catcher.messages().find((m) => m.to.includes(payer.email) && m.subject === `Your code to verify ${linked.accountNumber}`), 30_000);
    const verified = await api('mutation($id: ID!, $code: String!) { verifyBankAccount(id: $id, code: $code) { status } }', payer.token, {
      id: linked.id,
      code: /\n {4}(\d{6})\n/.exec(mail.text)![1],
    });
    expect(verified.data.verifyBankAccount.status).toBe('VERIFIED');

    // The payment, under a request id of our own: the gateway, the payment subgraph, the outbox
    // relay, Kafka and the payments worker all handle it as part of that request.
    const requestId = `console-${randomUUID()}`;
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${payer.token}`, 'x-request-id': requestId },
      body: JSON.stringify({
        query: 'mutation($input: InitiatePaymentInput!, $key: String!) { initiatePayment(input: $input, idempotencyKey: $key) { id status } }',
        variables: { input: { bankAccountId: linked.id, amount: { amountMinor: 1_250, currency: 'EUR' }, payeeName: 'Corner Shop', reference: 'Traced' }, key: randomUUID() },
      }),
    });
    expect(response.headers.get('x-request-id')).toBe(requestId);
    expect(((await response.json()) as { data: { initiatePayment: { status: string } } }).data.initiatePayment.status).toBe('QUEUED');
    const everyHop = (services: (string | null)[]) => ['gateway', 'payment', 'payments-worker'].every((s) => services.includes(s));

    await goTo('Logs');
    await page.getByPlaceholder('Request id').fill(requestId);
    const lines = page.locator('table.logs tbody tr');
    // Shipped to the log store within seconds, the worker's once it has paid: ask again until every hop's lines are in.
    await eventually(
      async () => {
        await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('ConsoleLogs')),
          page.getByRole('button', { name: 'Show', exact: true }).click(),
        ]);
        return everyHop(await lines.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-service')))) ? true : undefined;
      },
      45_000,
      1000,
    );
    // Only this request's lines.
    for (const text of await lines.locator('td:last-child button').allInnerTexts()) expect(requestId.startsWith(text.replace('…', ''))).toBe(true);
    await lines.filter({ hasText: 'payment processed' }).first().waitFor();
    const trace = page.locator('section', { hasText: `Trace of request ${requestId}` });
    // The trace from Zipkin, spans arriving a moment after each hop: the gateway's, the payment subgraph's (its outbox relay and Kafka send) and the worker's.
    await eventually(
      async () => {
        await goTo('Health');
        await page.goBack();
        return everyHop(await trace.locator('svg.waterfall g[data-service]').evaluateAll((spans) => spans.map((span) => span.getAttribute('data-service')))) ? true : undefined;
      },
      45_000,
      1000,
    );
    await shoot('request-logs');
  });

  it('shows the audit log, health, logs and usage pages (or why their data is unavailable)', async () => {
    await goTo('Audit log');
    await page.getByRole('cell', { name: 'USER_DISABLED' }).first().waitFor();
    await shoot('audit');
    for (const [title, shot] of [
      ['Health', 'health'],
      ['Logs', 'logs'],
      ['Usage', 'usage'],
    ] as const) {
      await goTo(title);
      // Loaded, one way or another: a table, a note of unavailability or an empty-state line.
      await page.locator('main section').first().locator('table, .note, p.muted:not(:has-text("Loading"))').first().waitFor();
      await shoot(shot);
    }
    expect(pageProblems).toEqual([]);
  });

  it('signs out, and signs the administrator in again with the password and then a current code', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').fill(DEMO_ADMIN.email);
    await page.getByLabel('Password').fill(DEMO_ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Code from your authenticator app').fill('000000');
    await page.getByRole('button', { name: 'Verify code' }).click();
    await page.getByRole('alert').filter({ hasText: 'The code is not correct' }).waitFor();
    await page.getByLabel('Code from your authenticator app').fill(await nextTotpCode(totpSecret));
    await page.getByRole('button', { name: 'Verify code' }).click();
    // Back on the page it was on (the address kept it), with the whole console.
    await page.getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
    await page.getByRole('navigation').getByText(DEMO_ADMIN.email).waitFor();
  });

  it('refuses a reader who signs in: "administrators only", and nothing else', async () => {
    const reader = await register('nosy');
    const context = await browser.newContext();
    try {
      const other = await context.newPage();
      await other.goto(`${origin}/console/users`);
      await other.getByLabel('Email').fill(reader.email);
      await other.getByLabel('Password').fill(reader.password);
      await other.getByRole('button', { name: 'Sign in' }).click();
      await other.getByRole('heading', { name: 'Administrators only' }).waitFor();
      expect(await other.getByRole('navigation').count()).toBe(0);
      expect(await other.getByRole('table').count()).toBe(0);
      await other.screenshot({ path: path.join(SHOTS, 'refused.png') });
    } finally {
      await context.close();
    }
    // And the API refuses the data to the reader's token whatever asks for it.
    const forbidden = await api('{ users { edges { node { email } } } }', reader.token);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(forbidden.data?.users ?? null).toBeNull();
  });
});
