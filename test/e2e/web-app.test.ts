// Issue 15, acceptance 1: the reference web app (examples/web-app) in Chromium (playwright-core with
// Debian's chromium) against `npm start`, on its own origin as a frontend team's app is. It signs in,
// lists accounts and transactions with filters and pages, budgets and news, moves BTC-USD in the
// watchlist rows from the socket through Apollo's normalised cache, verifies a bank account and pays
// with the status arriving live, uploads a 20 MB statement with progress, and comes through an expired
// access token (the run's tokens live 60 s) on the socket and over HTTP without losing the live
// watchlist. A page on an origin not on the gateway's list is refused over HTTP, WebSocket and SSE.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type WebSocket as PageSocket } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { gql, uniqueName } from '@analytica/testing';
import { DEMO_USER } from '../../dev/src/demo.js';
import { distOf, serveWebApp, WEB_APP, type WebAppServer } from '../../dev/src/web-apps.js';
import { embeddedRun, type EmbeddedRun, type Running } from './npm-start.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.WEB_APP_SCREENSHOTS_DIR ?? '/tmp/analytica-web-app';
const TOKEN_TTL_SECONDS = 60;
const VIEWPORT = { width: 1300, height: 900 };
let embedded: EmbeddedRun;
let running: Running | undefined;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The same built app, served on an origin the gateway does not list. */
let stranger: WebAppServer;
/** Errors a page logged or threw (a CSP violation is one), by page. */
const pageProblems: string[] = [];

async function openPage(into: BrowserContext): Promise<Page> {
  const opened = await into.newPage();
  opened.on('console', (message) => {
    // A refused request logs an error in the console; the test that causes them says so.
    if (message.type() === 'error' && !/CORS|Failed to load resource|WebSocket connection/.test(message.text())) pageProblems.push(message.text());
  });
  opened.on('pageerror', (error) => pageProblems.push(error.message));
  return opened;
}

async function signIn(on: Page) {
  await on.goto(embedded.webAppUrl);
  await on.getByLabel('Email').fill(DEMO_USER.email);
  await on.getByLabel('Password').fill(DEMO_USER.password);
  await on.getByRole('button', { name: 'Sign in' }).click();
  await on.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
}

const goTo = async (on: Page, name: string, heading = name) => {
  await on.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name, exact: true }).click();
  await on.getByRole('heading', { level: 1, name: heading }).waitFor();
};
const lastPrice = (on: Page, symbol: string) => on.locator(`tr[data-symbol="${symbol}"] [data-testid=last]`).innerText();
/** Resolves once BTC-USD's price in its row differs from `from` (BTC-USD trades every second, every day). */
async function priceMovesFrom(on: Page, from: string, timeoutMs = 15_000) {
  await expect.poll(() => lastPrice(on, 'BTC-USD'), { timeout: timeoutMs, interval: 100 }).not.toBe(from);
  return lastPrice(on, 'BTC-USD');
}
const operationOf = (body: string | null) => (body ? ((JSON.parse(body) as { operationName?: string }).operationName ?? '') : '');
const shoot = (on: Page, name: string) => on.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: npm run infra:up installs it (or set CHROMIUM_PATH)`);
  embedded = await embeddedRun({ ACCESS_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS) });
  [running, browser] = await Promise.all([embedded.start(), chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] })]);
  stranger = await serveWebApp({ dir: distOf(WEB_APP), port: 0, apiUrl: embedded.gatewayUrl });
  context = await browser.newContext({ viewport: VIEWPORT });
  page = await openPage(context);
}, 240_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') await page?.screenshot({ path: path.join(SHOTS, `failed-${task.name.replace(/\W+/g, '-')}.png`), fullPage: true });
});

afterAll(async () => {
  await browser?.close();
  await stranger?.stop();
  if (running && running.child.exitCode === null) await embedded.stop(running);
  await embedded?.cleanUp();
});

describe('the reference web app against npm start', () => {
  it('is named in the banner and served on its own origin, told where the API is, with a strict Content-Security-Policy', async () => {
    expect(running!.output()).toContain(`Web app:           ${embedded.webAppUrl}`);
    const response = await fetch(`${embedded.webAppUrl}/`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain(`connect-src 'self' ${new URL(embedded.gatewayUrl).origin} ws://${new URL(embedded.gatewayUrl).host}`);
    expect(await (await fetch(`${embedded.webAppUrl}/config.json`)).json()).toEqual({ apiUrl: embedded.gatewayUrl, wsUrl: embedded.gatewayUrl.replace('http', 'ws') });
    expect(new URL(embedded.webAppUrl).origin).not.toBe(new URL(embedded.gatewayUrl).origin);
  });

  it('signs in and lists accounts, transactions (filtered), budgets and news, keeping the tokens out of storage', async () => {
    await signIn(page);
    await expect(page.getByTestId('signed-in-as').innerText()).resolves.toBe(DEMO_USER.displayName);
    const accounts = page.getByRole('list', { name: 'Accounts' }).getByRole('listitem');
    await expect.poll(() => accounts.count()).toBe(2);
    await expect(accounts.first().innerText()).resolves.toMatch(/Everyday|Rainy day/);
    await expect.poll(() => page.getByTestId('transaction-count').innerText()).toBe('Showing 12 of 12');
    await page.getByLabel('Search').fill('Corner Market');
    await expect.poll(() => page.getByTestId('transaction-count').innerText()).toBe('Showing 3 of 3');
    const payees = await page.getByRole('table', { name: 'Transactions' }).locator('tbody tr td:nth-child(2)').allInnerTexts();
    expect(payees).toEqual(['Corner Market', 'Corner Market', 'Corner Market']);
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Category').selectOption({ label: 'Salary' });
    await expect.poll(() => page.getByTestId('transaction-count').innerText()).toBe('Showing 2 of 2');
    await page.getByLabel('Category').selectOption({ label: 'All categories' });
    await shoot(page, 'accounts');

    await goTo(page, 'Budgets');
    await expect(page.getByRole('list', { name: 'Budgets' }).getByRole('listitem').first().innerText()).resolves.toMatch(/Groceries[\s\S]*spent/);
    await goTo(page, 'News', 'News for you');
    await expect.poll(() => page.getByRole('list', { name: 'News' }).getByRole('listitem').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await shoot(page, 'news');
    expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([0, 0, '']);
  });

  it('moves the watchlist rows with the quotes the socket brings, through the normalised cache (no list refetched)', async () => {
    const sockets: PageSocket[] = [];
    const quoteFrames: string[] = [];
    page.on('websocket', (socket) => {
      sockets.push(socket);
      socket.on('framereceived', ({ payload }) => {
        if (String(payload).includes('"quotes"')) quoteFrames.push(String(payload));
      });
    });
    const watchlistQueries: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && operationOf(request.postData()) === 'Watchlist') watchlistQueries.push(request.url());
    });
    await goTo(page, 'Watchlist');
    await expect.poll(() => page.getByTestId('live-state').innerText(), { timeout: 15_000 }).toBe('Live');
    const queriesBefore = watchlistQueries.length;
    const first = await lastPrice(page, 'BTC-USD');
    const second = await priceMovesFrom(page, first);
    await priceMovesFrom(page, second);
    expect(sockets).toHaveLength(1);
    expect(quoteFrames.some((frame) => frame.includes('"BTC-USD"'))).toBe(true);
    // The rows changed while no query for the list went out: the socket's Quote replaced the cached one.
    expect(watchlistQueries.length).toBe(queriesBefore);
    await shoot(page, 'watchlist');
  });

  it('verifies the bank account with the emailed code and pays, the status arriving live', async () => {
    await goTo(page, 'Payments');
    await expect.poll(() => page.getByTestId('bank-account-status').innerText()).toBe('PENDING_VERIFICATION');
    await page.getByRole('button', { name: 'Send a new code' }).click();
    const latestCode = async () => {
      const { messages } = (await (await fetch(`${embedded.mailUrl}/messages?to=${encodeURIComponent(DEMO_USER.email)}`)).json()) as {
        messages: { subject: string; text: string }[];
      };
      // Newest first.
      return /\n {4}(\d{6})\n/.exec(messages.find((m) => m.subject.startsWith('Your code to verify'))?.text ?? '')?.[1];
    };
    // The code of the link made at seeding, then the new one the button asked for: the newest counts.
    const codeMails = async () => {
      const { messages } = (await (await fetch(`${embedded.mailUrl}/messages?to=${encodeURIComponent(DEMO_USER.email)}`)).json()) as { messages: { subject: string }[] };
      return messages.filter((m) => m.subject.startsWith('Your code to verify')).length;
    };
    await expect.poll(codeMails, { timeout: 20_000 }).toBe(2);
    const code = (await latestCode())!;
    await page.getByLabel('Code from the email').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.getByTestId('bank-account-status').innerText()).toBe('VERIFIED');

    await page.getByLabel('Payee').fill('Corner Market');
    await page.getByLabel('Reference').fill('Groceries');
    await page.getByLabel(/^Amount/).fill('12.3.4');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await expect(page.getByRole('alert').innerText()).resolves.toContain('Enter an amount in EUR');
    await page.getByLabel(/^Amount/).fill('25.5');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    const status = page.getByTestId('payment-status');
    await expect.poll(() => status.innerText(), { timeout: 30_000, interval: 100 }).toBe('SUCCEEDED');
    const steps = await page.getByRole('status', { name: 'Payment status' }).getByRole('listitem').allInnerTexts();
    expect(steps.map((s) => s.split(' ').at(-1))).toEqual(['QUEUED', 'PROCESSING', 'SUCCEEDED']);
    await expect(page.getByRole('status', { name: 'Payment status' }).innerText()).resolves.toMatch(/€25\.50 to Corner Market/);
    await shoot(page, 'payment');
  });

  it('uploads a 20 MB statement with upload and import progress, then lists and pages its lines', async () => {
    // About 50,000 lines of a bank's export, every one unique (payee and amount never repeat together).
    const file = path.join(embedded.dataRoot, 'statement.csv');
    const lines = ['Date,Payee,Amount,Notes'];
    let bytes = lines[0]!.length + 1;
    const day = Date.UTC(2026, 10, 30);
    for (let i = 0; bytes < 20 * 1024 * 1024; i++) {
      const date = new Date(day - (i % 700) * 86_400_000).toISOString().slice(0, 10);
      const amount = `-${Math.floor((i % 9973) / 100) + 1}.${String(i % 100).padStart(2, '0')}`;
      const notes = `Card payment ${i} at terminal ${(i * 7919) % 100_000}; reference ${'x'.repeat(32)} ${'statement line '.repeat(18)}`.trim();
      const line = `${date},Shop ${i % 500},${amount},"${notes}"`;
      lines.push(line);
      bytes += line.length + 1;
    }
    await writeFile(file, `${lines.join('\n')}\n`);
    const lineCount = lines.length - 1;

    await goTo(page, 'Import', 'Import a statement');
    await page.getByLabel('Into account').selectOption({ label: 'Everyday' });
    await page.getByLabel('Statement file').setInputFiles(file);
    // A link of 8 MB/s up, as a good home connection: the upload takes a few seconds, so its progress shows.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 8 * 1024 * 1024 });
    // Every value the two progress readouts show, as the page shows them.
    await page.evaluate(`
      window.seen = { upload: [], import: [] };
      new MutationObserver(() => {
        for (const kind of ['upload', 'import']) {
          const text = document.querySelector('[data-testid=' + kind + '-progress]')?.textContent;
          if (text && window.seen[kind].at(-1) !== text) window.seen[kind].push(text);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    `);
    await page.getByRole('button', { name: 'Upload and import' }).click();
    const done = page.getByRole('status').filter({ hasText: /^Imported/ });
    await done.waitFor({ timeout: 180_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await expect(done.innerText()).resolves.toBe(`Imported ${lineCount.toLocaleString('en-US')} of ${lineCount.toLocaleString('en-US')} lines (0 duplicates skipped).`);
    const seen = (await page.evaluate('window.seen')) as { upload: string[]; import: string[] };
    const percents = seen.upload.map((text) => Number(text.replace(' %', '')));
    expect(percents.at(-1)).toBe(100);
    expect(percents.filter((p) => p > 0 && p < 100).length).toBeGreaterThanOrEqual(3); // it moved, not jumped
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(seen.import.length).toBeGreaterThanOrEqual(1);
    expect(seen.import.every((text) => /lines$/.test(text))).toBe(true);
    await shoot(page, 'import');

    await goTo(page, 'Accounts');
    // The statement's lines, and only those (the payment above booked one more line of its own).
    await page.getByRole('combobox', { name: /^Account/ }).selectOption({ label: 'Everyday' });
    await page.getByLabel('Search').fill('Card payment');
    const total = lineCount.toLocaleString('en-US');
    await expect.poll(() => page.getByTestId('transaction-count').innerText(), { timeout: 15_000 }).toBe(`Showing 25 of ${total}`);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => page.getByTestId('transaction-count').innerText()).toBe(`Showing 50 of ${total}`);
    const ids = await page.getByRole('table', { name: 'Transactions' }).locator('tbody tr').count();
    expect(ids).toBe(50);
  });

  it('comes through an expired access token on the socket (the watchlist keeps moving) and over HTTP, still signed in', async () => {
    // Two more people's tabs, signed in now: their tokens expire together TOKEN_TTL_SECONDS from now.
    const [watching, listing] = await Promise.all([browser.newContext({ viewport: VIEWPORT }).then(openPage), browser.newContext({ viewport: VIEWPORT }).then(openPage)]);
    const sockets: { socket: PageSocket; closedAt?: number }[] = [];
    watching.on('websocket', (socket) => {
      const entry: { socket: PageSocket; closedAt?: number } = { socket };
      sockets.push(entry);
      socket.on('close', () => (entry.closedAt = Date.now()));
    });
    const renewals: string[] = [];
    const refused: string[] = [];
    for (const tab of [watching, listing]) {
      tab.on('request', (request) => {
        if (request.method() === 'POST' && operationOf(request.postData()) === 'RefreshSession') renewals.push(tab === watching ? 'watching' : 'listing');
      });
      tab.on('response', (response) => {
        if (response.status() === 401) refused.push(`${tab === watching ? 'watching' : 'listing'} ${operationOf(response.request().postData())}`);
      });
    }
    await Promise.all([signIn(watching), signIn(listing)]);
    const signedInAt = Date.now();
    await goTo(watching, 'Watchlist');
    await expect.poll(() => watching.getByTestId('live-state').innerText(), { timeout: 15_000 }).toBe('Live');
    await expect.poll(() => listing.getByTestId('transaction-count').innerText(), { timeout: 15_000 }).toMatch(/^Showing 25 of /);

    // The gateway closes the socket when its token expires (4403); the app renews and subscribes again.
    await expect.poll(() => sockets[0]?.closedAt, { timeout: (TOKEN_TTL_SECONDS + 30) * 1000, interval: 500 }).toBeDefined();
    expect(sockets[0]!.closedAt! - signedInAt).toBeGreaterThan((TOKEN_TTL_SECONDS - 5) * 1000);
    await expect.poll(() => sockets.length, { timeout: 15_000 }).toBe(2);
    await expect.poll(() => watching.getByTestId('live-state').innerText(), { timeout: 15_000 }).toBe('Live');
    const afterReconnect = await lastPrice(watching, 'BTC-USD');
    await priceMovesFrom(watching, afterReconnect);
    expect(renewals.filter((tab) => tab === 'watching')).toHaveLength(1);
    await expect(watching.getByRole('heading', { level: 1, name: 'Watchlist' }).isVisible()).resolves.toBe(true);

    // The other tab's token has expired too (past the gateway's 5 s allowance for clocks): its next
    // page of transactions is refused (401), the session renewed and the page asked for again.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, signedInAt + (TOKEN_TTL_SECONDS + 8) * 1000 - Date.now())));
    await listing.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => listing.getByTestId('transaction-count').innerText(), { timeout: 15_000 }).toMatch(/^Showing 50 of /);
    expect(refused).toEqual(['listing Transactions']);
    expect(renewals.filter((tab) => tab === 'listing')).toHaveLength(1);
    await expect(listing.getByTestId('signed-in-as').innerText()).resolves.toBe(DEMO_USER.displayName);
    await Promise.all([watching.context().close(), listing.context().close()]);
  }, 180_000);

  it('is refused on an origin the gateway does not list: HTTP, WebSocket and SSE alike', async () => {
    const unlisted = new URL(stranger.url).origin;
    // The gateway itself refuses (403 FORBIDDEN), not only the browser: a preflight, a query, an event stream, an upgrade.
    const preflight = await fetch(embedded.gatewayUrl, { method: 'OPTIONS', headers: { origin: unlisted, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const query = await fetch(embedded.gatewayUrl, { method: 'POST', headers: { origin: unlisted, 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect([query.status, ((await query.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code]).toEqual([403, 'FORBIDDEN']);
    const stream = await fetch(embedded.gatewayUrl, {
      method: 'POST',
      headers: { origin: unlisted, accept: 'text/event-stream', 'content-type': 'application/json' },
      body: '{"query":"subscription { quote(symbol: \\"BTC-USD\\") { last } }"}',
    });
    expect(stream.status).toBe(403);
    const upgrade = await new Promise<number>((resolve) => {
      const socket = new WebSocket(embedded.gatewayUrl.replace('http', 'ws'), 'graphql-transport-ws', { origin: unlisted });
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode!));
      socket.on('open', () => resolve(101));
      socket.on('error', () => undefined);
    });
    expect(upgrade).toBe(403);

    // And in the browser: the app on that origin cannot sign in, and none of the three ways gets through.
    const strangerPage = await openPage(await browser.newContext({ viewport: VIEWPORT }));
    await strangerPage.goto(stranger.url);
    await strangerPage.getByLabel('Email').fill(DEMO_USER.email);
    await strangerPage.getByLabel('Password').fill(DEMO_USER.password);
    await strangerPage.getByRole('button', { name: 'Sign in' }).click();
    await expect(strangerPage.getByRole('alert').innerText()).resolves.toContain('The API cannot be reached');
    const tryAll = (api: string) =>
      Promise.all([
        fetch(api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }).then(
          (r) => `http ${r.status}`,
          () => 'http refused',
        ),
        fetch(api, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: '{"query":"subscription { quote(symbol: \\"BTC-USD\\") { last } }"}',
        }).then(
          (r) => `sse ${r.status}`,
          () => 'sse refused',
        ),
        new Promise<string>((resolve) => {
          // The browser's WebSocket (this function runs in the page).
          const socket = new (globalThis as unknown as { WebSocket: typeof WebSocket }).WebSocket(api.replace('http', 'ws'), 'graphql-transport-ws');
          socket.onopen = () => resolve('ws open');
          socket.onclose = () => resolve('ws refused');
        }),
      ]);
    await expect(strangerPage.evaluate(tryAll, embedded.gatewayUrl)).resolves.toEqual(['http refused', 'sse refused', 'ws refused']);
    // The same calls from the listed origin get through (the test above is not failing for another reason).
    const control = await openPage(await browser.newContext({ viewport: VIEWPORT }));
    await control.goto(embedded.webAppUrl);
    await expect(control.evaluate(tryAll, embedded.gatewayUrl)).resolves.toEqual(['http 200', 'sse 401', 'ws open']);
    await Promise.all([strangerPage.context().close(), control.context().close()]);
  });

  it('signs out, ending the session at the API and leaving nothing of it for the next person on the tab', async () => {
    await goTo(page, 'Accounts');
    // The unfiltered list, as the next person's first look will ask for it.
    await page.getByRole('combobox', { name: /^Account/ }).selectOption({ label: 'All accounts' });
    await page.getByLabel('Search').fill('');
    await expect.poll(() => page.getByTestId('transaction-count').innerText()).toMatch(/^Showing 25 of /);
    // The logout that succeeded (after a renewal, if the tab's token had expired meanwhile).
    const logout = page.waitForResponse((response) => response.status() === 200 && operationOf(response.request().postData()) === 'SignOut');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The API ended the session (the user service's own tests show what logout revokes).
    await expect((await logout).json()).resolves.toEqual({ data: { logout: true } });
    await page.getByRole('heading', { name: 'Sign in to Analytica' }).waitFor();
    // Someone else signs in on the same tab: they see their own (empty) ledger, never the cached one.
    const email = `${uniqueName('next')}@example.com`;
    const registered = await gql(embedded.gatewayUrl, 'mutation($input: RegisterInput!) { register(input: $input) { user { id } } }', {
      variables: { input: { email, password: 'a long enough password 42', displayName: 'Next Person', homeCurrency: 'EUR' } },
    });
    expect(registered.errors).toBeUndefined();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a long enough password 42');
    // Everything the page shows from the moment they sign in, not only where it settles.
    await page.evaluate(`
      window.shown = [];
      new MutationObserver(() => window.shown.push(document.querySelector('main')?.innerText ?? '')).observe(document.body, { subtree: true, childList: true, characterData: true });
    `);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('signed-in-as').innerText()).toBe('Next Person');
    await expect.poll(() => page.getByTestId('transaction-count').innerText()).toBe('Showing 0 of 0');
    await expect(page.getByRole('list', { name: 'Accounts' }).getByRole('listitem').count()).resolves.toBe(0);
    const shown = (await page.evaluate('window.shown')) as string[];
    expect(shown.filter((text) => /Everyday|Rainy day|Corner Market|Shop \d/.test(text))).toEqual([]);
  });

  it('logged no error and broke no Content-Security-Policy rule on any page', () => {
    expect(pageProblems).toEqual([]);
  });
});
