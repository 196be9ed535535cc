// Acceptance (issue 15, account recovery and sign-in): through the gateway, on real PostgreSQL,
// Redis, Kafka and SMTP, every service its own process. Sign-in operations ignore a stale
// Authorization header while everything else still refuses it; a password reset ends every
// session and its emailed token works once; an unknown address gets the same answer, in the same
// time, as a known one.
import { createPrivateKey, createSign, randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '@analytica/auth';
import { parseSmtpCatcherEnv, startSmtpCatcher, type CaughtMessage } from '@analytica/smtp-catcher';
import { dropSchema, eventually, freePort, gql, isolatedRunEnv, services, uniqueName } from '@analytica/testing';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS } from '../../dev/src/processes.js';
import { localSecrets } from '../../dev/src/secrets.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';

const run = uniqueName('e2erecov');
const RESETS_PER_HOUR = 6;
const dataDir = path.join(repoRoot, '.data/test-secrets');
let stack: RunningStack;
let catcher: Awaited<ReturnType<typeof startSmtpCatcher>>;

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  catcher = await startSmtpCatcher(parseSmtpCatcherEnv({ LOG_LEVEL: 'silent', PORT: '0', SMTP_PORT: '0' }));
  stack = await startStack({
    ports,
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir,
    // Six password reset requests per address an hour (3 by default), for medians of six calls.
    env: { LOG_LEVEL: 'info', ...isolatedRunEnv(run), SMTP_URL: catcher.smtpUrl, PASSWORD_RESETS_PER_EMAIL_PER_HOUR: String(RESETS_PER_HOUR) },
  });
});

afterAll(async () => {
  await stack?.stop();
  await catcher?.stop();
  for (const name of [...SUBGRAPHS, 'notifications', 'inference', 'registry']) await dropSchema(`${run}_${name}`);
});

const PASSWORD = 'a long enough password 42';

async function call(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return gql(stack.gatewayUrl, query, { variables, headers });
}

async function ok(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await call(query, variables, headers);
  expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
  expect(response.status).toBe(200);
  return response.data;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function signUp(name: string) {
  const email = `${uniqueName(name)}@example.com`;
  const { register } = await ok('mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id } } }', {
    input: { email, password: PASSWORD, displayName: 'Ada Recover' },
  });
  return { email, id: register.user.id as string, accessToken: register.accessToken as string, refreshToken: register.refreshToken as string };
}

/** An access token exactly as the user service signs one (its key, kid, issuer, audience), but expired a minute ago. */
async function expiredTokenFor(userId: string): Promise<string> {
  const key = createPrivateKey((await localSecrets(dataDir)).jwtPrivateKey);
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT', kid: keyIdOf(key) })}.${part({
    role: 'USER',
    sid: randomUUID(),
    iss: 'analytica',
    aud: 'analytica-api',
    sub: userId,
    iat: now - 960,
    nbf: now - 960,
    exp: now - 60,
    jti: randomUUID(),
  })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url')}`;
}

const REFRESH = 'mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }';
const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }';

async function mailTo(address: string, subject: string): Promise<CaughtMessage> {
  return eventually(async () => catcher.messages().find((m) => m.to.includes(address) && m.subject === subject), 30_000);
}
const resetTokenIn = (mail: CaughtMessage) => /resetPassword\(token: "([A-Za-z0-9_-]+)"/.exec(mail.text)![1]!;

async function auditActions(userId: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: services.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ action: string }>(`select action from "${run}_user".audit_log where subject_id = $1 order by id`, [userId]);
    return rows.map((r) => r.action);
  } finally {
    await client.end();
  }
}

describe('sign-in with a stale Authorization header', () => {
  it('refreshes a session with an expired access token attached, while anything else with it is still 401', async () => {
    const ada = await signUp('stale');
    const expired = await expiredTokenFor(ada.id);
    // The token is genuine but expired: `me` with it is refused as before.
    const me = await call('{ me { id } }', {}, bearer(expired));
    expect(me.status).toBe(401);
    expect(me.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const { refreshSession } = await ok(REFRESH, { t: ada.refreshToken }, bearer(expired));
    expect(refreshSession.accessToken).toMatch(/^ey/);
    // Login with the expired token, and with a header that is no token at all.
    await ok(LOGIN, { e: ada.email, p: PASSWORD }, bearer(expired));
    await ok(LOGIN, { e: ada.email, p: PASSWORD }, { authorization: 'Basic not-a-bearer-token' });
    // A sign-in field beside one that needs the token: the whole operation is refused.
    const mixed = await call('mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } logout }', { t: refreshSession.refreshToken }, bearer(expired));
    expect(mixed.status).toBe(401);
    expect(mixed.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The new token works.
    expect((await ok('{ me { id } }', {}, bearer(refreshSession.accessToken))).me.id).toBe(ada.id);
  });
});

describe('password reset', () => {
  it('emails a single-use token that sets the password and ends every session', async () => {
    const ada = await signUp('reset');
    const second = (await ok(LOGIN, { e: ada.email, p: PASSWORD })).login;
    expect(await ok('mutation($e: String!) { requestPasswordReset(email: $e) }', { e: ada.email })).toEqual({ requestPasswordReset: true });
    const mail = await mailTo(ada.email, 'Reset your Analytica password');
    const token = resetTokenIn(mail);

    const RESET = 'mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }';
    // The password rules of register; a refused password does not use the token up.
    const weak = await call(RESET, { t: token, p: 'short' });
    expect(weak.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const newPassword = 'another long password 77';
    // Sent with a stale header, as an app that attaches its token everywhere would.
    expect(await ok(RESET, { t: token, p: newPassword }, bearer(ada.accessToken))).toEqual({ resetPassword: true });

    // Every session ended: both access tokens refused, both refresh tokens refused.
    for (const accessToken of [ada.accessToken, second.accessToken]) {
      const me = await call('{ me { id } }', {}, bearer(accessToken));
      expect(me.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    for (const refreshToken of [ada.refreshToken, second.refreshToken]) {
      const refreshed = await call(REFRESH, { t: refreshToken });
      expect(refreshed.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    // The old password no longer signs in; the new one does.
    expect((await call(LOGIN, { e: ada.email, p: PASSWORD })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await ok(LOGIN, { e: ada.email, p: newPassword });
    // The token worked once.
    const again = await call(RESET, { t: token, p: 'yet another password 99' });
    expect(again.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await ok(LOGIN, { e: ada.email, p: newPassword });
    // Audited.
    const actions = await auditActions(ada.id);
    expect(actions).toContain('password.reset_requested');
    expect(actions).toContain('password.reset');
  });

  it('answers an unknown address exactly as a known one, in the same time, and limits both alike', async () => {
    const known = (await signUp('known')).email;
    const unknown = `${uniqueName('nobody')}@example.com`;
    const REQUEST = 'mutation($e: String!) { requestPasswordReset(email: $e) }';
    const timed = async (email: string) => {
      const started = performance.now();
      const response = await call(REQUEST, { e: email });
      return { ms: performance.now() - started, response };
    };
    // Both paths warmed up first (with other addresses, so as not to spend the measured ones' limit).
    await timed(`${uniqueName('warmup')}@example.com`);
    await timed((await signUp('warmup')).email);
    const times: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
    // As many of each as the per-address limit allows, interleaved.
    for (let i = 0; i < RESETS_PER_HOUR; i++) {
      for (const [kind, email] of [
        ['known', known],
        ['unknown', unknown],
      ] as const) {
        const { ms, response } = await timed(email);
        expect(response).toEqual({ status: 200, data: { requestPasswordReset: true } });
        times[kind].push(ms);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [k, u] = [median(times.known), median(times.unknown)];
    // Same timing class: both quick (no mail is sent while the caller waits), and within 25 ms of each other.
    expect(k, JSON.stringify(times)).toBeLessThan(500);
    expect(u, JSON.stringify(times)).toBeLessThan(500);
    expect(Math.abs(k - u), JSON.stringify(times)).toBeLessThan(25);

    // The next request of the hour is refused alike for both.
    const [limitedKnown, limitedUnknown] = [await call(REQUEST, { e: known }), await call(REQUEST, { e: unknown })];
    expect(limitedKnown.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect({ ...limitedUnknown, errors: limitedUnknown.errors?.map((e) => ({ ...e, extensions: { code: e.extensions?.code } })) }).toEqual({
      ...limitedKnown,
      errors: limitedKnown.errors?.map((e) => ({ ...e, extensions: { code: e.extensions?.code } })),
    });

    // Mail goes to the known address only (one per request), never to the unknown one.
    await eventually(
      async () => (catcher.messages().filter((m) => m.to.includes(known) && m.subject === 'Reset your Analytica password').length === RESETS_PER_HOUR ? true : undefined),
      30_000,
    );
    expect(catcher.messages().some((m) => m.to.includes(unknown))).toBe(false);
  });
});

describe('email change', () => {
  it('verifies the new address, then changes it everywhere, the notifications worker included, and tells the old one', async () => {
    const ada = await signUp('move');
    const newEmail = `${uniqueName('moved')}@example.com`;
    const CHANGE = 'mutation($e: String!, $p: String!) { changeEmail(newEmail: $e, password: $p) }';
    const wrong = await call(CHANGE, { e: newEmail, p: 'not the password at all' }, bearer(ada.accessToken));
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    expect(await ok(CHANGE, { e: newEmail, p: PASSWORD }, bearer(ada.accessToken))).toEqual({ changeEmail: true });
    // Nothing changes until the link sent to the new address is followed.
    expect((await ok('{ me { email } }', {}, bearer(ada.accessToken))).me.email).toBe(ada.email);
    const link = await mailTo(newEmail, 'Confirm your new Analytica address');
    const token = /confirmEmailChange\(token: "([A-Za-z0-9_-]+)"/.exec(link.text)![1]!;

    const CONFIRM = 'mutation($t: String!) { confirmEmailChange(token: $t) }';
    // Followed from anywhere: a stale header does not matter.
    expect(await ok(CONFIRM, { t: token }, bearer(await expiredTokenFor(ada.id)))).toEqual({ confirmEmailChange: true });
    expect((await ok('{ me { email emailVerified } }', {}, bearer(ada.accessToken))).me).toEqual({ email: newEmail, emailVerified: true });
    await ok(LOGIN, { e: newEmail, p: PASSWORD });
    expect((await call(LOGIN, { e: ada.email, p: PASSWORD })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await call(CONFIRM, { t: token })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // user.email-changed.v1 applied by the notifications worker: the old address is told, and the
    // worker writes to the new one from now on.
    const notice = await mailTo(ada.email, 'Your Analytica address was changed');
    expect(notice.text).toContain(newEmail);
    const client = new pg.Client({ connectionString: services.databaseUrl });
    await client.connect();
    try {
      const recipient = await eventually(async () => {
        const { rows } = await client.query<{ email: string }>(`select email from "${run}_notifications".recipients where user_id = $1`, [ada.id]);
        return rows[0]?.email === newEmail ? rows[0] : undefined;
      }, 30_000);
      expect(recipient.email).toBe(newEmail);
    } finally {
      await client.end();
    }
    expect(await auditActions(ada.id)).toEqual(expect.arrayContaining(['email.change_requested', 'email.changed']));
  });
});
