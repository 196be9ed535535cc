// Partner access as partners and administrators meet it: the whole stack (the user service issuing
// client-credentials tokens, the registry serving contracts and trusted documents, the gateway
// enforcing them) against the real PostgreSQL, Redis, Kafka and dynalite, through the one endpoint.
import { createHash } from 'node:crypto';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eventually, signInAdmin, type GraphQLResponse } from '@analytica/testing';
import { DEMO_ADMIN, DEMO_USER, seedDemo } from '../../dev/src/demo.js';
import { call, startSystem, type System } from '../security/system.js';

let system: System;
let gateway: string;
let origin: string;
let admin: string;
let demoUser: { token: string; id: string };
let otherUser: { token: string; id: string };

const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code as string | undefined;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface App {
  id: string;
  secret: string;
}

async function adminCall(query: string, variables: Record<string, unknown> = {}) {
  const response = await call(gateway, query, { token: admin, variables });
  expect(response.errors, query).toBeUndefined();
  return response.data;
}

async function createPartner(name: string, contract: string): Promise<string> {
  return (await adminCall('mutation($n: String!, $c: String!) { createPartner(name: $n, contract: $c) { id } }', { n: name, c: contract })).createPartner.id;
}

async function createApp(partnerId: string, input: Record<string, unknown> = {}): Promise<App> {
  const data = await adminCall('mutation($i: CreatePartnerAppInput!) { createPartnerApp(input: $i) { app { id } clientSecret } }', {
    i: { partnerId, name: 'app', ...input },
  });
  return { id: data.createPartnerApp.app.id, secret: data.createPartnerApp.clientSecret };
}

/** POST /oauth/token on the gateway, form-encoded as OAuth2 clients send it. */
async function requestToken(app: App, extra: Record<string, string> = {}) {
  const response = await fetch(`${origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.id, client_secret: app.secret, ...extra }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

async function tokenFor(app: App, extra: Record<string, string> = {}): Promise<string> {
  const answer = await requestToken(app, extra);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.access_token!;
}

/** A raw POST to the gateway, to see status and headers too. */
async function post(token: string, body: Record<string, unknown>) {
  const response = await fetch(gateway, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse };
}

async function registry(pathname: string, token: string, init: RequestInit = {}) {
  const response = await fetch(`${system.stack.registry.url}${pathname}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const MARKET_QUERY = `{
  quotes(symbols: ["AAPL", "BTC-USD"]) { symbol last }
  candles(symbol: "AAPL", interval: "1d", from: "2026-01-01T00:00:00Z") { open close }
  articles(first: 2) { edges { node { id title } } }
}`;

beforeAll(async () => {
  system = await startSystem();
  gateway = system.gateway;
  origin = new URL(gateway).origin;
  await seedDemo(gateway);
  admin = (await signInAdmin(gateway, DEMO_ADMIN)).accessToken;
  const login = await call(gateway, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken user { id } } }', {
    variables: { e: DEMO_USER.email, p: DEMO_USER.password },
  });
  demoUser = { token: login.data.login.accessToken, id: login.data.login.user.id };
  const registered = await call(gateway, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }', {
    variables: { i: { email: 'no-consent@example.com', password: 'a long enough password', displayName: 'No Consent', homeCurrency: 'EUR' } },
  });
  otherUser = { token: registered.data.register.accessToken, id: registered.data.register.user.id };
});

afterAll(async () => {
  await system?.stop();
});

describe('a partner on the market-data contract', () => {
  let app: App;
  let token: string;
  beforeAll(async () => {
    app = await createApp(await createPartner('Robo Adviser', 'market-data'), { ratePerMinute: 1000 });
    token = await tokenFor(app);
  });

  it('gets a short-lived bearer token for its client credentials, on the gateway', async () => {
    const answer = await requestToken(app);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    expect(Number(answer.body.expires_in)).toBeGreaterThan(0);
    const wrong = await requestToken({ ...app, secret: `${app.secret}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_client', code: 'UNAUTHENTICATED' });
  });

  it('queries quotes, candles and news', async () => {
    const response = await post(token, { query: MARKET_QUERY });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.quotes.map((q: { symbol: string }) => q.symbol)).toEqual(['AAPL', 'BTC-USD']);
    expect(response.body.data.quotes[0].last).toBeGreaterThan(0);
    expect(Array.isArray(response.body.data.candles)).toBe(true);
    expect(Array.isArray(response.body.data.articles.edges)).toBe(true);
    // Its budget shows in every answer.
    expect(response.headers.get('ratelimit-limit')).toBe('1000');
    expect(Number(response.headers.get('ratelimit-remaining'))).toBeLessThan(1000);
    expect(response.headers.get('x-quota-remaining')).not.toBeNull();
  });

  it('gets a validation error for me, payments and admin fields, as if they did not exist', async () => {
    for (const [query, field] of [
      ['{ me { id } }', 'me'],
      ['{ payment(id: "00000000-0000-0000-0000-000000000000") { id } }', 'payment'],
      ['{ users(first: 5) { email } }', 'users'],
      ['{ auditLog { action } }', 'auditLog'],
    ] as const) {
      const response = await post(token, { query });
      expect(response.status, query).toBe(400);
      const error = response.body.errors?.[0];
      expect(error?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(error?.message).toMatch(new RegExp(`^Cannot query field "${field}" on type "Query"\\.`));
      // Suggestions ("Did you mean ...?") come from the contract only.
      expect(error?.message).not.toMatch(/"(me|payment|payments|users|user|auditLog|account|transaction)"\?/);
    }
    // The same field is there for a signed-in user: the refusal is the contract's.
    expect((await post(demoUser.token, { query: '{ me { id } }' })).body.data.me.id).toBe(demoUser.id);
  });

  it('sees only its contract in introspection', async () => {
    const response = await post(token, { query: '{ __schema { types { name } queryType { fields { name } } mutationType { name } } }' });
    expect(response.body.errors).toBeUndefined();
    const schema = response.body.data.__schema;
    const rootFields = schema.queryType.fields.map((f: { name: string }) => f.name);
    expect(rootFields).toEqual(expect.arrayContaining(['quote', 'quotes', 'candles', 'articles']));
    for (const hidden of ['me', 'payment', 'users', 'auditLog', 'account', 'transaction', 'paymentDeadLetters']) expect(rootFields).not.toContain(hidden);
    const types = schema.types.map((t: { name: string }) => t.name);
    for (const hidden of ['User', 'Payment', 'BankAccount', 'Transaction', 'AuditEntry', 'Partner']) expect(types).not.toContain(hidden);
    expect(schema.mutationType).toBeNull();
  });
});

describe("a partner's subscriptions", () => {
  it('streams quotes inside its contract over WebSocket and is refused a stream outside it, as over HTTP', async () => {
    const token = await tokenFor(await createApp(await createPartner('Ticker Co', 'market-data')));
    const client = createWsClient({ url: gateway.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    try {
      const first = await new Promise<{ symbol: string; last: number }>((resolve, reject) => {
        const stop = client.subscribe<{ quote: { symbol: string; last: number } }>(
          { query: 'subscription { quote(symbol: "BTC-USD") { symbol last } }' },
          {
            next: (r) => {
              if (r.errors) return reject(new Error(JSON.stringify(r.errors)));
              stop();
              resolve(r.data!.quote);
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
      expect(first.symbol).toBe('BTC-USD');
      expect(first.last).toBeGreaterThan(0);
      const refused = await new Promise<{ message: string; extensions?: { code?: string } }[]>((resolve) => {
        client.subscribe(
          { query: 'subscription { paymentStatus(paymentId: "00000000-0000-0000-0000-000000000000") { id } }' },
          { next: () => undefined, error: (errors) => resolve(errors as { message: string }[]), complete: () => resolve([]) },
        );
      });
      expect(refused[0]).toMatchObject({
        message: expect.stringMatching(/^Cannot query field "paymentStatus" on type "Subscription"\./),
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
    } finally {
      await client.dispose();
    }
  });

  it("closes a suspended partner's open sockets at once", async () => {
    const partnerId = await createPartner('Suspended Ticker Co', 'market-data');
    const token = await tokenFor(await createApp(partnerId));
    const closes: { code: number }[] = [];
    const client = createWsClient({
      url: gateway.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
      on: { closed: (event) => void closes.push(event as { code: number }) },
    });
    let received = 0;
    client.subscribe({ query: 'subscription { quote(symbol: "BTC-USD") { last } }' }, { next: () => void received++, error: () => undefined, complete: () => undefined });
    await eventually(async () => (received > 0 ? true : undefined), 10_000);
    await adminCall('mutation($id: ID!) { suspendPartner(id: $id) { status } }', { id: partnerId });
    const closed = await eventually(async () => closes[0], 5000);
    expect(closed.code).toBe(4401);
    await client.dispose();
  });
});

describe('a partner on the budget-with-consent contract', () => {
  let partnerId: string;
  let app: App;
  const TRANSACTIONS = '{ me { id transactions(first: 5) { edges { node { id amount { amountMinor currency } } } } } }';

  beforeAll(async () => {
    partnerId = await createPartner('Budget Buddy', 'budget-with-consent');
    app = await createApp(partnerId, { scopes: ['read', 'user:read'] });
  });

  it("reads a consenting user's transactions, and gets NOT_FOUND for a user who did not consent", async () => {
    const consent = await call(gateway, 'mutation($p: ID!) { grantPartnerConsent(partnerId: $p) { id partnerName } }', { token: demoUser.token, variables: { p: partnerId } });
    expect(consent.data.grantPartnerConsent.partnerName).toBe('Budget Buddy');
    const asUser = await tokenFor(app, { user_id: demoUser.id });
    const response = await post(asUser, { query: TRANSACTIONS });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.me.id).toBe(demoUser.id);
    expect(response.body.data.me.transactions.edges.length).toBeGreaterThan(0);

    const refused = await requestToken(app, { user_id: otherUser.id });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_grant', code: 'NOT_FOUND' });
    // A partner only reads, even where the gateway's contract does not stand between it and a
    // subgraph: the user's own writes are refused to a consent token in the subgraph itself.
    const write = await call(system.subgraph.budget, 'mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', {
      token: asUser,
      variables: { i: { name: 'Partner account', type: 'CHECKING', currency: 'EUR', openingBalance: { amountMinor: 0, currency: 'EUR' } } },
    });
    expect(codeOf(write)).toBe('FORBIDDEN');
    // Its own token (no user) reads no user data at all.
    const own = await post(await tokenFor(app), { query: '{ me { id } }' });
    expect(codeOf(own.body)).toBe('FORBIDDEN');
  });

  it('loses the user at once when the user revokes the consent', async () => {
    const asUser = await tokenFor(app, { user_id: demoUser.id });
    const consents = await call(gateway, '{ me { partnerConsents { id partnerId } } }', { token: demoUser.token });
    const consent = consents.data.me.partnerConsents.find((c: { partnerId: string }) => c.partnerId === partnerId);
    const revoked = await call(gateway, 'mutation($id: ID!) { revokePartnerConsent(id: $id) }', { token: demoUser.token, variables: { id: consent.id } });
    expect(revoked.data.revokePartnerConsent).toBe(true);
    const response = await post(asUser, { query: TRANSACTIONS });
    expect(response.status).toBe(401);
    expect(codeOf(response.body)).toBe('UNAUTHENTICATED');
    const again = await requestToken(app, { user_id: demoUser.id });
    expect(again.body).toMatchObject({ error: 'invalid_grant', code: 'NOT_FOUND' });
  });
});

describe('credentials over time', () => {
  it("stops a suspended partner's tokens at once, and reinstating lets new ones work", async () => {
    const partnerId = await createPartner('Suspended Co', 'market-data');
    const app = await createApp(partnerId);
    const before = await tokenFor(app);
    expect((await post(before, { query: '{ quote(symbol: "AAPL") { last } }' })).status).toBe(200);
    await adminCall('mutation($id: ID!) { suspendPartner(id: $id) { status } }', { id: partnerId });
    const refused = await post(before, { query: '{ quote(symbol: "AAPL") { last } }' });
    expect(refused.status).toBe(401);
    expect((await requestToken(app)).body).toMatchObject({ error: 'invalid_client', code: 'FORBIDDEN' });
    await adminCall('mutation($id: ID!) { reinstatePartner(id: $id) { status } }', { id: partnerId });
    await new Promise((r) => setTimeout(r, 1100)); // a token issued in the suspension's second would be refused with it
    expect((await post(await tokenFor(app), { query: '{ quote(symbol: "AAPL") { last } }' })).status).toBe(200);
    expect((await post(before, { query: '{ quote(symbol: "AAPL") { last } }' })).status).toBe(401);
  });

  it('keeps a rotated secret working only for the overlap window', async () => {
    const app = await createApp(await createPartner('Rotating Co', 'market-data'));
    const rotation = await adminCall('mutation($a: ID!) { rotatePartnerAppSecret(appId: $a, overlapSeconds: 3) { clientSecret previousSecretExpiresAt } }', { a: app.id });
    const rotated = { id: app.id, secret: rotation.rotatePartnerAppSecret.clientSecret as string };
    expect((await requestToken(app)).status).toBe(200);
    expect((await requestToken(rotated)).status).toBe(200);
    await eventually(async () => ((await requestToken(app)).status === 401 ? true : undefined), 8000, 250);
    expect((await requestToken(rotated)).status).toBe(200);
  });
});

describe('quotas', () => {
  it('refuses an app over its rate with RATE_LIMITED and Retry-After', async () => {
    const app = await createApp(await createPartner('Busy Co', 'market-data'), { ratePerMinute: 3 });
    const token = await tokenFor(app);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post(token, { query: '{ quote(symbol: "AAPL") { last } }' }));
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[3]!.status).toBe(429);
    expect(codeOf(answers[3]!.body)).toBe('RATE_LIMITED');
    expect(Number(answers[3]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(answers[3]!.headers.get('ratelimit-remaining')).toBe('0');
  });
});

describe('trusted documents', () => {
  const QUOTE = 'query Quote { quote(symbol: "AAPL") { symbol last } }';
  let app: App;
  let token: string;
  beforeAll(async () => {
    app = await createApp(await createPartner('Locked Down', 'market-data'), { trustedDocumentsOnly: true });
    token = await tokenFor(app);
  });

  it('runs a registered hash and refuses every other document', async () => {
    const manifest = await registry('/api/partner/manifest', token, { method: 'PUT', body: JSON.stringify({ operations: { [sha256(QUOTE)]: QUOTE } }) });
    expect(manifest.status, manifest.text).toBe(200);
    const registered = await post(token, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(QUOTE) } } });
    expect(registered.body.errors).toBeUndefined();
    expect(registered.body.data.quote.symbol).toBe('AAPL');

    const plain = await post(token, { query: QUOTE });
    expect(plain.status).toBe(400);
    expect(codeOf(plain.body)).toBe('PERSISTED_QUERY_NOT_FOUND');
    const unknown = await post(token, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ quotes(symbols: ["AAPL"]) { last } }') } } });
    expect(codeOf(unknown.body)).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('refuses a manifest whole when one document does not match its hash', async () => {
    const good = 'query Candles { candles(symbol: "AAPL", interval: "1d", from: "2026-01-01T00:00:00Z") { close } }';
    const bad = 'query Lying { quote(symbol: "MSFT") { last } }';
    const refused = await registry('/api/partner/manifest', token, {
      method: 'PUT',
      body: JSON.stringify({ operations: { [sha256(good)]: good, [sha256('something else')]: bad } }),
    });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ error: { code: 'BAD_USER_INPUT' } });
    // Nothing of it was stored: the good document is not registered either.
    const response = await post(token, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(good) } } });
    expect(codeOf(response.body)).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});

describe("a partner's changelog", () => {
  it('shows a publish that removes a field of its contract, and the check blocks that removal without approval', async () => {
    const partnerId = await createPartner('Changelog Reader', 'market-data');
    const token = await tokenFor(await createApp(partnerId));
    const adminToken = system.stack.registry.adminToken;
    const market = await registry('/api/subgraphs/market/sdl', adminToken);
    expect(market.status, market.text).toBe(200);
    const { sdl, url } = market.json() as { sdl: string; url: string };
    // Drop Candle.volume from the market subgraph's SDL, as a careless change would.
    const withoutVolume = sdl.replace('  """Shares traded in the bucket."""\n  volume: SafeInt!\n', '');
    expect(withoutVolume).not.toBe(sdl);

    const check = await registry('/api/check', adminToken, { method: 'POST', body: JSON.stringify({ subgraph: 'market', sdl: withoutVolume, url }) });
    const checked = check.json() as { ok: boolean; contracts: { name: string; failed: boolean; changes: { path?: string; verdict: string }[] }[] };
    expect(checked.ok).toBe(false);
    const marketData = checked.contracts.find((c) => c.name === 'market-data')!;
    expect(marketData.failed).toBe(true);
    expect(marketData.changes).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'Candle.volume', verdict: 'UNAPPROVED' })]));

    const published = await registry('/api/publish', adminToken, { method: 'POST', body: JSON.stringify({ subgraphs: [{ name: 'market', sdl: withoutVolume, url }] }) });
    expect(published.status, published.text).toBe(201);
    const changelog = await registry('/api/partner/changelog', token);
    expect(changelog.status).toBe(200);
    expect(changelog.text).toContain('Candle.volume');
  });
});
