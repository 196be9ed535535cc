// Partners' webhooks against real PostgreSQL and Redis: a publish that changes a partner's contract
// is POSTed to its webhook, signed, once, and again after the partner's endpoint recovers.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenIssuer, type PartnerClaim } from '@analytica/auth';
import { AUDIENCE, createTestAuth, dropSchema, ISSUER, services, uniqueName, type TestAuth } from '@analytica/testing';
import { repoRoot } from '../composition.js';
import { registryClient } from './client.js';
import { parseRegistryEnv } from './environment.js';
import { startRegistry, type RunningRegistry } from './index.js';
import { signatureOf } from './webhooks.js';
import { withoutField } from '../sdl-edits.js';

const schema = uniqueName('registry_webhooks');
const ADMIN = 'test-admin-token-0123456789abcdefghij';
const names = ['user', 'budget', 'market', 'news', 'payment', 'insight'];
const sdlOf = (name: string) => readFileSync(path.join(repoRoot, `schema/subgraphs/${name}.graphql`), 'utf8');
const urlOf = (name: string) => `http://127.0.0.1:${4001 + names.indexOf(name)}/graphql`;

let registry: RunningRegistry;
let auth: TestAuth;
let receiver: http.Server;
let receiverUrl: string;
/** What the partner's endpoint got; it answers `status` (503 while "down"). */
const received: { body: string; headers: http.IncomingHttpHeaders }[] = [];
let status = 200;

function partnerToken(contract = 'market-data') {
  const partner: PartnerClaim = { id: randomUUID(), appId: randomUUID(), contract, scopes: ['read'], trustedDocumentsOnly: false, ratePerMinute: 600, dailyQuota: 100_000 };
  const token = createTokenIssuer(auth.privateKeyPem, { issuer: ISSUER, audience: AUDIENCE, ttlSeconds: 600 }).issue(
    { id: partner.appId, role: 'PARTNER', sessionId: partner.appId, partner },
    randomUUID(),
  );
  return token;
}

async function partnerCall(token: string, method: string, body?: unknown) {
  const response = await fetch(`${registry.url}/api/partner/webhook`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  auth = await createTestAuth();
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (status === 200) received.push({ body, headers: req.headers });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/analytica`;
  registry = await startRegistry(
    parseRegistryEnv({
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      REGISTRY_ADMIN_TOKEN: ADMIN,
      PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: `${schema}:`,
      REGISTRY_CONTRACTS_CONFIG: path.join(repoRoot, 'schema/contracts.yaml'),
      // The test's receiver listens on loopback; deployments allow only public https addresses.
      REGISTRY_WEBHOOK_ALLOW_PRIVATE: 'true',
      REGISTRY_WEBHOOK_INTERVAL_SECONDS: '1',
      ...auth.env,
    }),
  );
  await registryClient(registry.url, ADMIN).publish(
    names.map((name) => ({ name, sdl: sdlOf(name), url: urlOf(name) })),
    { author: 'test' },
  );
}, 90_000);

afterAll(async () => {
  await registry?.stop();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await auth?.close();
  await dropSchema(schema);
});

describe("a partner's webhook", () => {
  it('receives each new version of its contract once, signed, and again after its endpoint recovers', async () => {
    const token = partnerToken('market-data');
    const registered = await partnerCall(token, 'PUT', { url: receiverUrl });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ url: receiverUrl, contract: 'market-data' });
    const secret = registered.body.secret as string;
    expect(secret).toMatch(/^whs_/);

    // A publish that removes a field of the contract: one delivery, naming the change.
    const admin = registryClient(registry.url, ADMIN);
    await admin.publish([{ name: 'news', sdl: withoutField(sdlOf('news'), 'body: String!'), url: urlOf('news') }], { author: 'test' });
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(1);
    const [first] = received;
    expect(first!.headers['x-analytica-signature']).toBe(signatureOf(secret, first!.body));
    const payload = JSON.parse(first!.body) as { event: string; contract: string; versions: { changes: { path: string; level: string }[] }[] };
    expect(payload).toMatchObject({ event: 'contract.changed', contract: 'market-data' });
    expect(payload.versions.flatMap((v) => v.changes)).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'Article.body', level: 'BREAKING' })]));
    await new Promise((r) => setTimeout(r, 2500));
    expect(received).toHaveLength(1); // acknowledged: not sent again

    // The endpoint is down while the next change is published: retried until it answers 2xx.
    status = 503;
    await admin.publish([{ name: 'news', sdl: sdlOf('news'), url: urlOf('news') }], { author: 'test' });
    await expect.poll(async () => (await partnerCall(token, 'GET')).body.failures, { timeout: 10_000 }).toBeGreaterThan(0);
    expect((await partnerCall(token, 'GET')).body.lastError).toContain('503');
    status = 200;
    await bringForward();
    await expect.poll(async () => (await partnerCall(token, 'GET')).body.failures, { timeout: 10_000 }).toBe(0);
    expect(received).toHaveLength(2);
    expect(JSON.parse(received[1]!.body).versions.flatMap((v: { changes: { path: string }[] }) => v.changes.map((c) => c.path))).toContain('Article.body');
  });

  it('refuses a URL that is not http(s), carries credentials, or is not absolute, and says which field', async () => {
    const token = partnerToken();
    for (const url of ['ftp://example.com/hook', 'https://user:pass@example.com/hook', '/relative']) {
      const answer = await partnerCall(token, 'PUT', { url });
      expect(answer.status, url).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    }
  });

  it('is only for partner tokens, and says NOT_FOUND for a partner without one', async () => {
    const user = auth.tokenFor({ id: randomUUID() });
    expect((await partnerCall(user, 'GET')).status).toBe(403);
    expect((await partnerCall(partnerToken(), 'GET')).body.error).toMatchObject({ code: 'NOT_FOUND' });
  });
});

/** The retry waits out its back-off (5 s, doubling); bring the next attempt forward for the test. */
async function bringForward() {
  const db = new pg.Client({ connectionString: services.databaseUrl });
  await db.connect();
  try {
    await db.query(`update "${schema}".partner_webhooks set next_attempt_at = now()`);
  } finally {
    await db.end();
  }
}
