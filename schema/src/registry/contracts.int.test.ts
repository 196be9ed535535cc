// Contracts, their changelogs and checks, and partner apps' routes, against real PostgreSQL and Redis,
// with partner access tokens signed by a test key whose JWKS a local server publishes.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenIssuer, type PartnerClaim } from '@analytica/auth';
import { AUDIENCE, createTestAuth, dropSchema, ISSUER, services, uniqueName, type TestAuth } from '@analytica/testing';
import { repoRoot } from '../composition.js';
import { RegistryClientError, registryClient } from './client.js';
import { withoutField } from '../sdl-edits.js';
import { todayUtc } from './contract-store.js';
import { parseRegistryEnv } from './environment.js';
import { startRegistry, type RunningRegistry } from './index.js';

const schema = uniqueName('registry_contracts');
const ADMIN = 'test-admin-token-0123456789abcdefghij';
const names = ['user', 'budget', 'market', 'news', 'payment', 'insight'];
const sdlOf = (name: string) => readFileSync(path.join(repoRoot, `schema/subgraphs/${name}.graphql`), 'utf8');
const urlOf = (name: string) => `http://127.0.0.1:${4001 + names.indexOf(name)}/graphql`;
const news = sdlOf('news');
const withoutBody = withoutField(news, 'body: String!');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const inDays = (days: number) => todayUtc(new Date(Date.now() + days * 86_400_000));

let registry: RunningRegistry;
let admin: ReturnType<typeof registryClient>;
let auth: TestAuth;
let db: pg.Client;
let tmp: string;
const app = { id: randomUUID(), appId: randomUUID() };

const env = (extra: Record<string, string> = {}) =>
  parseRegistryEnv({
    DATABASE_URL: services.databaseUrl,
    DATABASE_SCHEMA: schema,
    REGISTRY_ADMIN_TOKEN: ADMIN,
    PORT: '0',
    LOG_LEVEL: 'warn',
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: `${schema}:`,
    ...auth.env,
    ...extra,
  });

/** A partner app's access token, as the user service signs it (role PARTNER, the partner claim). */
function partnerToken(claim: Partial<PartnerClaim> = {}) {
  const partner: PartnerClaim = {
    id: app.id,
    appId: app.appId,
    contract: 'market-data',
    scopes: ['read'],
    trustedDocumentsOnly: false,
    ratePerMinute: 600,
    dailyQuota: 100_000,
    ...claim,
  };
  const issuer = createTokenIssuer(auth.privateKeyPem, { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 600 });
  return issuer.issue({ id: partner.appId, role: 'PARTNER', sessionId: partner.appId, partner }, randomUUID());
}
async function refusal(promise: Promise<unknown>): Promise<RegistryClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryClientError);
  return error as RegistryClientError;
}
const count = async (table: string) => Number((await db.query(`select count(*) from "${schema}".${table}`)).rows[0].count);
const contractSdl = async (name: string) => (await admin.contractSchemas()).contracts.find((c) => c.name === name)!.sdl;
const contractOf = (result: { contracts: { name: string }[] }, name: string) => result.contracts.find((c) => c.name === name) as any;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'registry-contracts-'));
  auth = await createTestAuth();
  // The repository's contracts.yaml, seeded at start like stack mode does.
  registry = await startRegistry(env({ REGISTRY_CONTRACTS_CONFIG: path.join(repoRoot, 'schema/contracts.yaml') }));
  admin = registryClient(registry.url, ADMIN);
  db = new pg.Client({ connectionString: services.databaseUrl });
  await db.connect();
  await admin.publish(
    names.map((name) => ({ name, sdl: sdlOf(name), url: urlOf(name) })),
    { author: 'test' },
  );
}, 90_000);

afterAll(async () => {
  await registry?.stop();
  await auth?.close();
  await db?.end();
  await dropSchema(schema);
});

describe('contracts', () => {
  it('are seeded from contracts.yaml, and each gets its API schema with the publish', async () => {
    const { contracts } = await admin.contracts();
    expect(contracts.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['market-data', 'budget-with-consent']));
    expect(contractOf({ contracts }, 'market-data')).toMatchObject({ include: ['public'], exclude: ['admin', 'private'], deprecations: [] });
    const sdl = await contractSdl('market-data');
    expect(sdl).toMatch(/\bquote\(\s*(?:"""[^"]*"""\s*)?symbol: String!\s*\): Quote\b/);
    expect(sdl).toContain('articles(');
    expect(sdl).not.toMatch(/\bme: User|payments\(|auditLog/);
  });

  it('serves every contract schema with an ETag (304 when unchanged)', async () => {
    const first = await fetch(`${registry.url}/api/contracts/schemas`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(first.status).toBe(200);
    const body = (await first.json()) as { contracts: { name: string; version: number; sdl: string }[] };
    expect(body.contracts.every((c) => c.version > 0 && c.sdl.includes('type Query'))).toBe(true);
    const again = await fetch(`${registry.url}/api/contracts/schemas`, { headers: { authorization: `Bearer ${ADMIN}`, 'if-none-match': first.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('a contracts file with a bad contract stops the registry, naming the file', async () => {
    const bad = path.join(tmp, 'contracts.yaml');
    await writeFile(bad, 'contracts:\n  - name: Market Data\n    include: [public]\n');
    await expect(startRegistry(env({ REGISTRY_CONTRACTS_CONFIG: bad }))).rejects.toThrow(new RegExp(`${bad}.*"Market Data" is not a contract name`));
  });

  it('PUT defines a contract (admin only) and refuses one that gives no valid schema', async () => {
    const made = await admin.putContract('internal', { description: 'Everything but market data.', include: [], exclude: ['public'] });
    expect(made).toMatchObject({ created: true, contract: { name: 'internal', version: expect.any(Number) } });
    expect(await contractSdl('internal')).not.toMatch(/type (Article|Quote)\b/);
    expect(await admin.putContract('internal', { description: 'Everything but market data.', include: [], exclude: ['public'] })).toMatchObject({ created: false });
    expect(await refusal(admin.putContract('Bad Name', { include: ['public'], exclude: [] }))).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', body: { field: 'name' } });
    const empty = await refusal(admin.putContract('nothing', { include: ['no-such-tag'], exclude: [] }));
    expect(empty).toMatchObject({ status: 400, code: 'BAD_USER_INPUT' });
    expect(empty.message).toContain('Contract "nothing" has no Query field');
    const reader = registryClient(registry.url, (await admin.createToken('reader', ['read'])).token);
    expect(await refusal(reader.putContract('internal', { include: [], exclude: ['public'] }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    await expect(reader.contracts()).resolves.toBeDefined();
  });
});

describe('removing a public field', () => {
  const check = () => admin.check({ subgraph: 'news', sdl: withoutBody });

  it('fails the check without an approval, naming contract and coordinate', async () => {
    const result = await check();
    expect(result.ok).toBe(false);
    // The API schema check alone passes (no recorded usage): the contract fails it.
    expect(result.changes).toEqual([expect.objectContaining({ path: 'Article.body', verdict: 'UNUSED' })]);
    expect(contractOf(result, 'market-data')).toMatchObject({ failed: true, changes: [expect.objectContaining({ path: 'Article.body', verdict: 'UNAPPROVED' })] });
    expect(contractOf(result, 'internal')).toMatchObject({ failed: false, changes: [] });
    expect(result.notes.join('\n')).toMatch(/market-data: .*'body'.*breaking for partners/);
  });

  it('fails while the approved removal is not yet due, and the contract marks the field deprecated with its date', async () => {
    const date = inDays(30);
    // Every contract that has Article: both partner contracts and the admin console's.
    for (const contract of ['market-data', 'budget-with-consent', 'console']) {
      const approved = await admin.deprecate(contract, { coordinate: 'Article.body', reason: 'Use summary and url', removeAfter: date });
      expect(approved).toMatchObject({ contract, coordinate: 'Article.body', removeAfter: date, approvedBy: 'admin' });
    }
    expect(await contractSdl('market-data')).toContain(`body: String! @deprecated(reason: "Use summary and url. Removal on or after ${date}.")`);
    const changelog = await admin.contractChangelog('market-data');
    expect(changelog.versions[0].changes).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'Article.body.@deprecated', type: 'FIELD_DEPRECATION_ADDED' })]));

    const result = await check();
    expect(result.ok).toBe(false);
    expect(contractOf(result, 'market-data').changes).toEqual([expect.objectContaining({ path: 'Article.body', verdict: 'NOT_YET_DUE', removeAfter: date })]);
    expect(result.notes.join('\n')).toContain(`approved only on or after ${date}`);
  });

  it('refuses approvals of what the contract lacks, or dated today or earlier', async () => {
    expect(await refusal(admin.deprecate('market-data', { coordinate: 'Query.me', reason: 'x', removeAfter: inDays(30) }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      body: { field: 'coordinate' },
    });
    expect(await refusal(admin.deprecate('market-data', { coordinate: 'Article.title', reason: 'x', removeAfter: todayUtc() }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      body: { field: 'removeAfter' },
    });
    expect(await refusal(admin.deprecate('market-data', { coordinate: 'Article.title', reason: 'x', removeAfter: '2030-02-30' }))).toMatchObject({
      body: { field: 'removeAfter' },
    });
    expect(await refusal(admin.deprecate('no-such', { coordinate: 'Article.title', reason: 'x', removeAfter: inDays(3) }))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('passes once the date has come; the publish shows in the changelog of the contracts it changes, not in the others', async () => {
    await db.query(`update "${schema}".contract_deprecations set remove_after = current_date - 1 where coordinate = 'Article.body'`);
    const result = await check();
    expect(contractOf(result, 'market-data')).toMatchObject({ failed: false, changes: [expect.objectContaining({ path: 'Article.body', verdict: 'APPROVED' })] });
    expect(result.ok).toBe(true);

    const internalBefore = (await admin.contractChangelog('internal')).versions.length;
    const published = await admin.publish([{ name: 'news', sdl: withoutBody, url: urlOf('news') }]);
    expect(contractOf(published, 'market-data')).toMatchObject({ changed: true });
    expect(contractOf(published, 'internal')).toMatchObject({ changed: false });
    const latest = (await admin.contractChangelog('market-data')).versions[0];
    expect(latest).toMatchObject({ schemaVersion: published.version });
    expect(latest.changes).toEqual([expect.objectContaining({ level: 'BREAKING', path: 'Article.body' })]);
    expect((await admin.contractChangelog('internal')).versions).toHaveLength(internalBefore);
  }, 60_000);

  it('keeps contract versions immutable, even to SQL', async () => {
    await expect(db.query(`update "${schema}".contract_versions set api_schema = 'x'`)).rejects.toThrow(/immutable/);
  });
});

describe('partner routes', () => {
  const partner = () => registryClient(registry.url, partnerToken());
  const quote = 'query Quote($s: String!) { quote(symbol: $s) { symbol last } }';
  const headlines = '{ articles(first: 5) { edges { node { title } } } }';

  it('refuse a token without the partner claim, and no token', async () => {
    const user = registryClient(registry.url, auth.tokenFor({ id: randomUUID() }));
    for (const call of [() => user.partnerContract(), () => user.partnerManifest({}), () => user.partnerDocs(), () => user.partnerChangelog()]) {
      expect(await refusal(call())).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    }
    expect(await refusal(registryClient(registry.url, 'not-a-jwt').partnerContract())).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    // A service token is no partner token either.
    expect(await refusal(admin.partnerContract())).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });

  it("answer the caller's contract SDL and changelog", async () => {
    const sdl = await partner().partnerContract();
    expect(sdl.text).toBe(await contractSdl('market-data'));
    const changelog = await partner().partnerChangelog();
    expect(changelog.contract).toBe('market-data');
    expect(changelog.versions.length).toBeGreaterThan(1);
  });

  it('store a good manifest once, and serve its documents to the gateway', async () => {
    const operations = { [sha256(quote)]: quote, [sha256(headlines)]: headlines };
    expect(await partner().partnerManifest(operations)).toMatchObject({ appId: app.appId, contract: 'market-data', operations: 2, stored: 2, unchanged: 0 });
    expect(await partner().partnerManifest(operations)).toMatchObject({ stored: 0, unchanged: 2 });
    expect(await admin.appDocument(app.appId, sha256(quote))).toEqual({ appId: app.appId, hash: sha256(quote), document: quote, contract: 'market-data' });
    expect(await refusal(admin.appDocument(app.appId, sha256('{ nope }')))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(await refusal(admin.appDocument(randomUUID(), sha256(quote)))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('refuse a whole manifest for one mismatched hash or one document outside the contract, storing nothing', async () => {
    const before = await count('app_documents');
    const extra = '{ quotes(symbols: ["AAPL"]) { symbol } }';
    const wrong = 'f'.repeat(64);
    const mismatched = await refusal(partner().partnerManifest({ [sha256(extra)]: extra, [wrong]: headlines }));
    expect(mismatched).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', body: { field: `operations.${wrong}` } });
    expect(mismatched.message).toContain(wrong);
    const outside = '{ me { id email } }';
    const refused = await refusal(partner().partnerManifest({ [sha256(extra)]: extra, [sha256(outside)]: outside }));
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', body: { field: `operations.${sha256(outside)}` } });
    expect(refused.message).toMatch(/not valid against contract "market-data": Cannot query field "me"/);
    const unparsable = '{ quote(';
    expect(await refusal(partner().partnerManifest({ [sha256(unparsable)]: unparsable }))).toMatchObject({ body: { field: `operations.${sha256(unparsable)}` } });
    const tooMany = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => `{ quote(symbol: "S${i}") { symbol } }`).map((d) => [sha256(d), d]));
    expect(await refusal(partner().partnerManifest(tooMany))).toMatchObject({ body: { field: 'operations' } });
    expect(await count('app_documents')).toBe(before);
  });

  it('give a docs page: token, quotas, trusted documents, the SDL and changelog escaped, a typed client', async () => {
    await admin.deprecate('market-data', { coordinate: 'Article.title', reason: 'Use <b>summary</b> & url', removeAfter: inDays(60) });
    const response = await fetch(`${registry.url}/api/partner/docs`, { headers: { authorization: `Bearer ${partnerToken({ ratePerMinute: 321 })}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('/oauth/token');
    expect(html).toContain('grant_type=client_credentials');
    expect(html).toMatch(/<strong>321<\/strong> requests a minute/);
    expect(html).toContain('RateLimit-Remaining');
    expect(html).toContain('/api/partner/manifest');
    expect(html).toContain('export interface Quote {');
    expect(html).toContain('export type MarketState = &#39;OPEN&#39; | &#39;CLOSED&#39;;');
    expect(html).toContain('export interface QueryQuoteArgs {');
    // The deprecation reason (with markup in it) reached the page's SDL escaped, never as markup.
    expect(html).toContain('&lt;b&gt;summary&lt;/b&gt; &amp; url');
    expect(html).not.toContain('<b>summary</b>');
  });
});
