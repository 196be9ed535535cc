import pg from 'pg';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPem } from '@analytica/auth';
import { createRedis } from '@analytica/redis';
import { dropSchema, gql, services, uniqueName, TEST_SUBGRAPH_SIGNING_KEY } from '@analytica/testing';
import { parseUserEnv, startUserService } from './index.js';

const schema = uniqueName('user_admin');
const redisPrefix = `${uniqueName('user_admin')}:`;
const ADMIN = { email: 'root@example.com', password: 'the first admin password' };
let service: Awaited<ReturnType<typeof startUserService>>;
let url: string;

beforeAll(async () => {
  service = await startUserService(
    parseUserEnv({
      SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_PRIVATE_KEY: generateSigningKeyPem(),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_LOCKOUT_SECONDS: '2',
      REGISTRATIONS_PER_IP_PER_HOUR: '3',
    }),
  );
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  await dropSchema(schema);
  const redis = createRedis(services.redisUrl);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

/** The gateway forwards the caller's address; each test signs in from its own, so their limits do not mix. */
let addresses = 0;
const newAddress = () => `198.51.100.${++addresses}`;

const PAIR = 'accessToken refreshToken twoFactorEnrolmentRequired user { id role twoFactorEnabled }';
const call = (query: string, options: { token?: string; variables?: Record<string, unknown>; ip?: string } = {}) =>
  gql(url, query, { token: options.token, variables: options.variables, headers: { 'x-forwarded-for': options.ip ?? '192.0.2.1' } });
const login = (email: string, password: string, totpCode?: string, ip?: string) =>
  call(`mutation($e: String!, $p: String!, $t: String) { login(email: $e, password: $p, totpCode: $t) { ${PAIR} } }`, {
    variables: { e: email, p: password, t: totpCode },
    ip,
  });
const register = async (email: string, ip = newAddress()) => {
  const result = await call(`mutation($i: RegisterInput!) { register(input: $i) { ${PAIR} } }`, {
    variables: { i: { email, password: 'a user password here', displayName: email.split('@')[0] } },
    ip,
  });
  return result.data?.register as { accessToken: string; refreshToken: string; user: { id: string } };
};

/**
 * TOTP codes in increasing time steps, since each step is accepted once. The service accepts the
 * step before and after the current one, so three codes are at hand without waiting; near the end
 * of a step it waits, so that a code for the previous step is not already too old when it arrives.
 */
const lastStep = new Map<string, number>();
async function nextCode(secret: string): Promise<string> {
  for (;;) {
    const now = Date.now() / 1000;
    const current = Math.floor(now / 30);
    const step = Math.max(current - 1, (lastStep.get(secret) ?? 0) + 1);
    if (step <= current + 1 && 30 - (now % 30) > 3) {
      lastStep.set(secret, step);
      return generate({ secret, epoch: step * 30 + 15 });
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function enrol(token: string) {
  const begun = await call('mutation { beginTotpEnrolment { secret otpauthUri } }', { token });
  expect(begun.errors).toBeUndefined();
  const { secret } = begun.data.beginTotpEnrolment as { secret: string };
  const confirmed = await call(`mutation($c: String!) { confirmTotpEnrolment(code: $c) { ${PAIR} } }`, { token, variables: { c: await nextCode(secret) } });
  expect(confirmed.errors).toBeUndefined();
  return { secret, pair: confirmed.data.confirmTotpEnrolment as { accessToken: string; refreshToken: string; twoFactorEnrolmentRequired: boolean } };
}

let adminToken: string;
let adminSecret: string;

describe('the first administrator', () => {
  it('signs in with a token that can only enrol two-factor authentication, then gets full rights', async () => {
    const first = await login(ADMIN.email, ADMIN.password);
    expect(first.data.login).toMatchObject({ twoFactorEnrolmentRequired: true, user: { role: 'ADMIN', twoFactorEnabled: false } });
    const limited = first.data.login.accessToken as string;
    for (const query of ['{ me { id } }', '{ users { edges { node { id } } } }', '{ auditLog { edges { node { id } } } }']) {
      expect((await call(query, { token: limited })).errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
    }
    const begun = await call('mutation { beginTotpEnrolment { secret otpauthUri } }', { token: limited });
    expect(begun.data.beginTotpEnrolment.otpauthUri).toMatch(/^otpauth:\/\/totp\/Analytica:root%40example\.com\?/);
    const wrong = await call('mutation { confirmTotpEnrolment(code: "000000") { accessToken } }', { token: limited });
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });

    const { secret, pair } = await enrol(limited);
    expect(pair.twoFactorEnrolmentRequired).toBe(false);
    adminToken = pair.accessToken;
    adminSecret = secret;
    expect((await call('{ users { edges { node { email } } } }', { token: adminToken })).data.users.edges).toContainEqual({ node: { email: ADMIN.email } });
    // The refresh token of the enrolment-only sign-in no longer works.
    expect(
      (await call('mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }', { variables: { r: first.data.login.refreshToken } })).errors?.[0]?.extensions?.code,
    ).toBe('UNAUTHENTICATED');
  });

  it('signs in afterwards only with a current code, and each code works once', async () => {
    const without = await login(ADMIN.email, ADMIN.password, undefined, newAddress());
    expect(without.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', totpRequired: true });
    const code = await nextCode(adminSecret);
    const signedIn = await login(ADMIN.email, ADMIN.password, code, newAddress());
    expect(signedIn.data.login.twoFactorEnrolmentRequired).toBe(false);
    const replayed = await login(ADMIN.email, ADMIN.password, code, newAddress());
    expect(replayed.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', totpRequired: true });
    const disable = await call('mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }', {
      token: signedIn.data.login.accessToken,
      variables: { p: ADMIN.password, c: await nextCode(adminSecret) },
    });
    expect(disable.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('admin functions', () => {
  it('list, search, disable, enable, change role, revoke sessions and read the audit log for an admin; FORBIDDEN for a user', async () => {
    const alice = await register('alice@example.com');
    const bob = await register('bob@example.com');
    const asUser = (query: string, variables?: Record<string, unknown>) => call(query, { token: alice.accessToken, variables });
    const asAdmin = (query: string, variables?: Record<string, unknown>) => call(query, { token: adminToken, variables });
    const operations: [string, Record<string, unknown>?][] = [
      ['{ users(query: "bob") { edges { node { id email } } } }'],
      ['query($id: ID!) { user(id: $id) { id email } }', { id: bob.user.id }],
      ['{ auditLog(first: 5) { edges { node { action } } } }'],
      ['mutation($id: ID!) { setUserDisabled(id: $id, disabled: true) { disabled } }', { id: bob.user.id }],
      ['mutation($id: ID!) { changeUserRole(id: $id, role: ADMIN) { role } }', { id: bob.user.id }],
      ['mutation($id: ID!) { revokeUserSessions(id: $id) }', { id: bob.user.id }],
    ];
    for (const [query, variables] of operations) {
      const refused = await asUser(query, variables);
      expect(refused.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      expect(refused.data?.[Object.keys(refused.data ?? {})[0] ?? ''] ?? null).toBeNull();
    }
    // Bob is untouched by Alice's attempts.
    expect((await call('{ me { disabled role } }', { token: bob.accessToken })).data.me).toEqual({ disabled: false, role: 'USER' });

    const search = await asAdmin('{ users(query: "BOB@") { totalCount edges { node { id email } } } }');
    expect(search.data.users).toEqual({ totalCount: 1, edges: [{ node: { id: bob.user.id, email: 'bob@example.com' } }] });
    const admins = await asAdmin('{ users(role: ADMIN) { edges { node { email } } } }');
    expect(admins.data.users.edges.map((e: { node: { email: string } }) => e.node.email)).toEqual([ADMIN.email]);
    const paged = await asAdmin('{ users(first: 1) { edges { node { email } } pageInfo { hasNextPage endCursor } } }');
    const page2 = await asAdmin('query($a: String) { users(first: 1, after: $a) { edges { node { email } } } }', { a: paged.data.users.pageInfo.endCursor });
    expect(page2.data.users.edges[0].node.email).not.toBe(paged.data.users.edges[0].node.email);
    expect((await asAdmin('query($id: ID!) { user(id: $id) { email } }', { id: bob.user.id })).data.user.email).toBe('bob@example.com');

    // Disabling ends Bob's sessions at once and refuses his sign-in; enabling lets him back.
    expect((await asAdmin('mutation($id: ID!) { setUserDisabled(id: $id, disabled: true) { disabled } }', { id: bob.user.id })).data.setUserDisabled.disabled).toBe(true);
    expect((await call('{ me { id } }', { token: bob.accessToken })).status).toBe(401);
    expect((await login('bob@example.com', 'a user password here', undefined, newAddress())).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await asAdmin('mutation($id: ID!) { setUserDisabled(id: $id, disabled: false) { disabled } }', { id: bob.user.id });
    const bobAgain = await login('bob@example.com', 'a user password here', undefined, newAddress());
    expect((await call('{ me { id } }', { token: bobAgain.data.login.accessToken })).data.me.id).toBe(bob.user.id);

    // A role change ends the sessions that carry the old role; a new admin must enrol at next sign-in.
    expect((await asAdmin('mutation($id: ID!) { changeUserRole(id: $id, role: ADMIN) { role } }', { id: bob.user.id })).data.changeUserRole.role).toBe('ADMIN');
    expect((await call('{ me { id } }', { token: bobAgain.data.login.accessToken })).status).toBe(401);
    const bobAdmin = await login('bob@example.com', 'a user password here', undefined, newAddress());
    expect(bobAdmin.data.login.twoFactorEnrolmentRequired).toBe(true);
    expect((await asAdmin('mutation($id: ID!) { changeUserRole(id: $id, role: USER) { role } }', { id: bob.user.id })).data.changeUserRole.role).toBe('USER');

    const bobLast = await login('bob@example.com', 'a user password here', undefined, newAddress());
    expect((await asAdmin('mutation($id: ID!) { revokeUserSessions(id: $id) }', { id: bob.user.id })).data.revokeUserSessions).toBe(1);
    expect((await call('{ me { id } }', { token: bobLast.data.login.accessToken })).status).toBe(401);

    // An admin cannot lock themself out.
    const self = await asAdmin('mutation($id: ID!) { setUserDisabled(id: $id, disabled: true) { id } }', { id: (await asAdmin('{ me { id } }')).data.me.id });
    expect(self.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });

    const log = await asAdmin('query($f: AuditLogFilter) { auditLog(filter: $f, first: 2) { totalCount edges { node { action actorId subjectId email } } } }', {
      f: { userId: bob.user.id, actions: ['USER_DISABLED', 'USER_ENABLED', 'ROLE_CHANGED', 'SESSIONS_REVOKED', 'LOGIN_REFUSED_DISABLED'] },
    });
    // Two on this page; the count is of every entry that matches.
    expect(log.data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual(['SESSIONS_REVOKED', 'ROLE_CHANGED']);
    expect(log.data.auditLog.totalCount).toBe(6);
    const wholeLog = await asAdmin('query($f: AuditLogFilter) { auditLog(filter: $f) { edges { node { action } } } }', {
      f: { userId: bob.user.id, actions: ['USER_DISABLED', 'USER_ENABLED', 'ROLE_CHANGED', 'SESSIONS_REVOKED', 'LOGIN_REFUSED_DISABLED'] },
    });
    expect(wholeLog.data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual([
      'SESSIONS_REVOKED',
      'ROLE_CHANGED',
      'ROLE_CHANGED',
      'USER_ENABLED',
      'LOGIN_REFUSED_DISABLED',
      'USER_DISABLED',
    ]);
    const future = await asAdmin('query($f: AuditLogFilter) { auditLog(filter: $f) { edges { node { action } } } }', { f: { from: new Date(Date.now() + 60_000).toISOString() } });
    expect(future.data.auditLog.edges).toEqual([]);
    const reads = await asAdmin('{ auditLog(filter: { actions: [AUDIT_LOG_READ, USERS_LISTED] }) { edges { node { action } } } }');
    expect(reads.data.auditLog.edges.length).toBeGreaterThanOrEqual(4);
    // Ids and cursors are strings (the column is a bigint), and a page's endCursor reads on from there.
    const page = (after?: string) =>
      asAdmin('query($f: AuditLogFilter, $after: String) { auditLog(filter: $f, first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }', {
        f: { userId: bob.user.id },
        after,
      });
    const first = await page();
    expect(first.errors).toBeUndefined();
    expect(first.data.auditLog.edges.map((e: { cursor: string; node: { id: string } }) => e.node.id)).toEqual(first.data.auditLog.edges.map((e: { cursor: string }) => e.cursor));
    expect(first.data.auditLog.edges[0].node.id).toMatch(/^\d+$/);
    const second = await page(first.data.auditLog.pageInfo.endCursor);
    expect(Number(second.data.auditLog.edges[0].node.id)).toBeLessThan(Number(first.data.auditLog.edges[1].node.id));
  });

  it('a user may turn on two-factor authentication and then signs in only with a code', async () => {
    const carol = await register('carol@example.com');
    const { secret } = await enrol(carol.accessToken);
    const ip = newAddress();
    expect((await login('carol@example.com', 'a user password here', undefined, ip)).errors?.[0]?.extensions?.totpRequired).toBe(true);
    const ok = await login('carol@example.com', 'a user password here', await nextCode(secret), ip);
    expect(ok.data.login.user.twoFactorEnabled).toBe(true);
    const off = await call('mutation($p: String!, $c: String!) { disableTotp(password: $p, code: $c) }', {
      token: ok.data.login.accessToken,
      variables: { p: 'a user password here', c: await nextCode(secret) },
    });
    expect(off.data.disableTotp).toBe(true);
    expect((await login('carol@example.com', 'a user password here', undefined, ip)).data.login.user.twoFactorEnabled).toBe(false);
  });
});

describe('brute force', () => {
  it('after the configured wrong passwords the account is RATE_LIMITED even with the right password, longer each time, and audited', async () => {
    const dave = await register('dave@example.com');
    const ip = newAddress();
    for (let i = 0; i < 3; i++) {
      expect((await login('dave@example.com', `wrong password ${i}`, undefined, ip)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const locked = await login('dave@example.com', 'a user password here', undefined, newAddress());
    expect(locked.errors?.[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) } });
    expect(locked.errors?.[0]?.extensions?.retryAfterSeconds).toBeLessThanOrEqual(2);

    // The lockout ends; the next round of failures locks for twice as long.
    await new Promise((r) => setTimeout(r, 2100));
    for (let i = 0; i < 3; i++) await login('dave@example.com', `wrong again ${i}`, undefined, ip);
    const longer = await login('dave@example.com', 'a user password here', undefined, ip);
    expect(longer.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(longer.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(2);

    const log = await call('query($f: AuditLogFilter) { auditLog(filter: $f) { edges { node { action email subjectId ip } } } }', {
      token: adminToken,
      variables: { f: { userId: dave.user.id, actions: ['LOGIN_FAILED', 'ACCOUNT_LOCKED', 'LOGIN_RATE_LIMITED'] } },
    });
    const actions = log.data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action);
    expect(actions.filter((a: string) => a === 'LOGIN_FAILED')).toHaveLength(6);
    expect(actions.filter((a: string) => a === 'ACCOUNT_LOCKED')).toHaveLength(2);
    expect(actions.filter((a: string) => a === 'LOGIN_RATE_LIMITED')).toHaveLength(2);
    expect(log.data.auditLog.edges[0].node).toMatchObject({ email: 'dave@example.com', subjectId: dave.user.id, ip });
  });

  it('an email without an account is locked out exactly like one with an account', async () => {
    const ip = newAddress();
    for (let i = 0; i < 3; i++) await login('nobody@example.com', `guess ${i}`, undefined, ip);
    expect((await login('nobody@example.com', 'guess again', undefined, ip)).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('limits registrations per address', async () => {
    const ip = newAddress();
    for (let i = 0; i < 3; i++) expect(await register(`many${i}@example.com`, ip)).toBeTruthy();
    const refused = await call('mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
      variables: { i: { email: 'many3@example.com', password: 'a user password here', displayName: 'M' } },
      ip,
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    expect(await register('elsewhere@example.com', newAddress())).toBeTruthy();
  });
});

describe('the audit log', () => {
  it('cannot be updated, deleted or truncated, even by the owner of the table', async () => {
    const client = new pg.Client({ connectionString: services.databaseUrl });
    await client.connect();
    try {
      await client.query(`set search_path to "${schema}"`);
      const { rows } = await client.query('select count(*)::int as n from audit_log');
      expect(rows[0].n).toBeGreaterThan(0);
      await expect(client.query(`update audit_log set action = 'nothing happened'`)).rejects.toThrow(/append-only: UPDATE/);
      await expect(client.query('delete from audit_log')).rejects.toThrow(/append-only: DELETE/);
      await expect(client.query('truncate audit_log')).rejects.toThrow(/append-only: TRUNCATE/);
      expect((await client.query('select count(*)::int as n from audit_log')).rows[0].n).toBe(rows[0].n);
      await client.query(`insert into audit_log (action) values ('test.appended')`);
    } finally {
      await client.end();
    }
  });
});
