// The attack suite: what an outsider, a signed-in user and a stolen token can and cannot do,
// through the gateway and straight at each subgraph. Bob is the demo user with the demo data;
// Alice is a second user who tries to reach it.
import { createHmac, createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPem } from '@analytica/auth';
import { eventually, signInAdmin, type GraphQLResponse } from '@analytica/testing';
import { DEMO_ADMIN, DEMO_USER, seedDemo } from '../../dev/src/demo.js';
import { SUBGRAPHS, type SubgraphName } from '../../dev/src/processes.js';
import { b64, call, claims, errorAnswers, leaksIn, nowSeconds, readClaims, signRs256, startSystem, type System } from './system.js';

let system: System;
let gateway: string;
const PAIR = 'accessToken refreshToken twoFactorEnrolmentRequired user { id }';

interface Pair {
  accessToken: string;
  refreshToken: string;
  twoFactorEnrolmentRequired: boolean;
  user: { id: string };
}
const login = async (email: string, password: string, totpCode?: string) =>
  call(gateway, `mutation($e: String!, $p: String!, $t: String) { login(email: $e, password: $p, totpCode: $t) { ${PAIR} } }`, {
    variables: { e: email, p: password, t: totpCode },
  });
const register = async (email: string, password = 'an attacker password') => {
  const response = await call(gateway, `mutation($i: RegisterInput!) { register(input: $i) { ${PAIR} } }`, {
    variables: { i: { email, password, displayName: email.split('@')[0] } },
  });
  expect(response.errors, email).toBeUndefined();
  return response.data.register as Pair;
};
const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code as string | undefined;

/** Bob's objects, as Bob sees them. */
interface Holdings {
  userId: string;
  accounts: string[];
  categories: string[];
  budgets: string[];
  transactions: string[];
  watchlist: string[];
  savedArticles: string[];
  bankAccounts: string[];
  payments: string[];
  reports: string[];
}
const HOLDINGS = `{ me { id accounts { id } categories { id } budgets { id } transactions(first: 50) { edges { node { id } } }
  watchlist { symbol } savedArticlesConnection(first: 100) { edges { node { id } } } bankAccounts { id }
  paymentsConnection(first: 100) { edges { node { id } } } reports { id } } }`;
async function holdingsOf(token: string): Promise<Holdings> {
  const response = await call(gateway, HOLDINGS, { token });
  expect(response.errors).toBeUndefined();
  const me = response.data.me;
  const ids = (list: { id: string }[] | null) => (list ?? []).map((o) => o.id);
  const nodeIds = (page: { edges: { node: { id: string } }[] } | null) => (page?.edges ?? []).map((e) => e.node.id);
  return {
    userId: me.id,
    accounts: ids(me.accounts),
    categories: ids(me.categories),
    budgets: ids(me.budgets),
    transactions: me.transactions.edges.map((e: { node: { id: string } }) => e.node.id),
    watchlist: me.watchlist.map((i: { symbol: string }) => i.symbol),
    savedArticles: nodeIds(me.savedArticlesConnection),
    bankAccounts: ids(me.bankAccounts),
    payments: nodeIds(me.paymentsConnection),
    reports: ids(me.reports),
  };
}

/** Bob's objects with the fields a change would move: what "changed nothing" is checked against. */
const STATE = `{ me {
  accounts { id name type currency archivedAt openingBalance { amountMinor currency } balance { amountMinor currency } }
  categories { id name group kind archivedAt }
  budgets { id period startsOn rollover overspent amount { amountMinor currency } spent { amountMinor currency } category { id } }
  transactions(first: 50) { edges { node { id payee notes tags version updatedAt bookedAt amount { amountMinor currency } category { id } } } }
  watchlist { symbol } savedArticles { id }
  bankAccounts { id status verifiedAt } payments { id status updatedAt amount { amountMinor currency } }
} }`;
async function stateOf(token: string) {
  const response = await call(gateway, STATE, { token });
  expect(response.errors).toBeUndefined();
  const { transactions, ...rest } = response.data.me;
  return { ...rest, transactions: transactions.edges.map((e: { node: { id: string; version: number } }) => e.node) as { id: string; version: number }[] };
}

let bob: { token: string; holdings: Holdings };
let alice: Pair;
let adminToken: string;
let adminBeforeEnrolment: Pair;

beforeAll(async () => {
  system = await startSystem();
  gateway = system.gateway;
  await seedDemo(gateway);
  const bobLogin = (await login(DEMO_USER.email, DEMO_USER.password)).data.login as Pair;
  // The demo seed has no payment: Bob sends one from his linked bank account, once it is verified
  // with the one-time code the payment service emails him (read here from its outbox).
  const seeded = await holdingsOf(bobLogin.accessToken);
  const linked = await call(gateway, '{ me { bankAccounts { id status } } }', { token: bobLogin.accessToken });
  for (const account of linked.data.me.bankAccounts as { id: string; status: string }[]) {
    if (account.status !== 'PENDING_VERIFICATION') continue;
    const email = (await system.outbox('payment')).map((m) => JSON.parse(m.value)).find((v) => JSON.stringify(v).includes(account.id) && v.data?.code);
    const verified = await call(gateway, 'mutation($id: ID!, $c: String!) { verifyBankAccount(id: $id, code: $c) { status } }', {
      token: bobLogin.accessToken,
      variables: { id: account.id, c: String(email?.data?.code) },
    });
    expect(verified.data?.verifyBankAccount?.status, JSON.stringify(verified.errors)).toBe('VERIFIED');
  }
  const payment = await call(gateway, 'mutation($k: String!, $i: InitiatePaymentInput!) { initiatePayment(idempotencyKey: $k, input: $i) { id } }', {
    token: bobLogin.accessToken,
    variables: {
      k: `bob-${randomUUID()}`,
      i: { bankAccountId: seeded.bankAccounts[0], amount: { amountMinor: 1500, currency: 'EUR' }, payeeName: 'Landlord Ltd', reference: 'Rent' },
    },
  });
  expect(payment.errors).toBeUndefined();
  // The payments worker settles it and budget books the outgoing transaction: wait for both, so that
  // Bob's holdings are final before the attacks compare them.
  const settled = await eventually(async () => {
    const status = (await call(gateway, 'query($id: ID!) { payment(id: $id) { status } }', { token: bobLogin.accessToken, variables: { id: payment.data.initiatePayment.id } }))
      .data?.payment?.status as string | undefined;
    return status === 'SUCCEEDED' || status === 'FAILED' ? status : undefined;
  }, 30_000);
  if (settled === 'SUCCEEDED') {
    await eventually(async () => ((await holdingsOf(bobLogin.accessToken)).transactions.length > seeded.transactions.length ? true : undefined), 30_000);
  }
  bob = { token: bobLogin.accessToken, holdings: await holdingsOf(bobLogin.accessToken) };
  for (const [what, ids] of Object.entries(bob.holdings)) expect(ids.length, `Bob has ${what}`).toBeGreaterThan(0);
  alice = await register('alice@attacker.example');
  adminBeforeEnrolment = (await login(DEMO_ADMIN.email, DEMO_ADMIN.password)).data.login as Pair;
  expect(adminBeforeEnrolment.twoFactorEnrolmentRequired).toBe(true);
});

afterAll(async () => {
  await system?.stop();
});

describe('bad tokens are UNAUTHENTICATED, with nothing that helps an attacker', () => {
  const NOT_VALID = 'The access token is not valid or has expired.';

  function forgedTokens(): Record<string, string> {
    const who = { id: bob.holdings.userId, sessionId: readClaims(bob.token).sid };
    const key = system.privateKeyPem;
    const publicPem = createPublicKey(createPrivateKey(key)).export({ type: 'spki', format: 'pem' }).toString();
    const kid = JSON.parse(Buffer.from(bob.token.split('.')[0]!, 'base64url').toString()).kid as string;
    const hs256Input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims(who))}`;
    const [header, payload, signature] = bob.token.split('.');
    return {
      'alg none': `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims(who, { role: 'ADMIN' }))}.`,
      'HS256 signed with the public key': `${hs256Input}.${createHmac('sha256', publicPem).update(hs256Input).digest('base64url')}`,
      expired: signRs256(key, claims(who, { iat: nowSeconds() - 3000, nbf: nowSeconds() - 3000, exp: nowSeconds() - 60 })),
      'not yet valid': signRs256(key, claims(who, { nbf: nowSeconds() + 3600, exp: nowSeconds() + 3700 })),
      'wrong issuer': signRs256(key, claims(who, { iss: 'https://evil.example' })),
      'wrong audience': signRs256(key, claims(who, { aud: 'another-api' })),
      'tampered payload': `${header}.${b64({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'ADMIN' })}.${signature}`,
      'unknown kid': signRs256(generateSigningKeyPem(), claims(who)),
      'right kid, other key': signRs256(generateSigningKeyPem(), claims(who), { kid }),
    };
  }

  it('through the gateway and straight to every subgraph: alg none, HS256 with the public key, expired, not yet valid, wrong issuer or audience, tampered, unknown kid', async () => {
    const cases = forgedTokens();
    for (const url of [gateway, ...SUBGRAPHS.map((name) => system.subgraph[name])]) {
      for (const [name, token] of Object.entries(cases)) {
        const response = await call(url, '{ __typename }', { token });
        expect(response.status, `${name} at ${url}`).toBe(401);
        expect(response.errors?.[0], `${name} at ${url}`).toEqual({ message: NOT_VALID, extensions: { code: 'UNAUTHENTICATED' } });
        expect(response.data, name).toBeUndefined();
      }
    }
  });

  it('a malformed Authorization header is refused before anything runs', async () => {
    for (const authorization of [
      'Basic Ym9iOnNlY3JldA==',
      'Bearer',
      'Bearer not-a-jwt',
      `Bearer ${bob.token}x.y`,
      `bearer ${bob.token}`,
      `Bearer  ${bob.token}`,
      'Bearer a.b',
      `${bob.token}`,
    ]) {
      for (const url of [gateway, system.subgraph.budget]) {
        const response = await call(url, '{ __typename }', { authorization });
        expect(response.status, authorization).toBe(401);
        expect(codeOf(response), authorization).toBe('UNAUTHENTICATED');
        expect(JSON.stringify(response)).not.toMatch(/stack|jsonwebtoken|invalid signature|jwt (expired|malformed)/i);
      }
    }
  });

  it('a revoked session is refused at the gateway and at every subgraph at once', async () => {
    const victim = await register('revoked@attacker.example');
    expect((await call(system.subgraph.budget, '{ __typename }', { token: victim.accessToken })).status).toBe(200);
    expect((await call(gateway, 'mutation { logout }', { token: victim.accessToken })).data.logout).toBe(true);
    for (const url of [gateway, ...SUBGRAPHS.map((name) => system.subgraph[name])]) {
      const response = await call(url, '{ __typename }', { token: victim.accessToken });
      expect(response.status, url).toBe(401);
      expect(response.errors?.[0], url).toEqual({ message: NOT_VALID, extensions: { code: 'UNAUTHENTICATED' } });
    }
  });

  it('no token: private data is UNAUTHENTICATED through the gateway and straight to each subgraph', async () => {
    expect(codeOf(await call(gateway, '{ me { id } }'))).toBe('UNAUTHENTICATED');
    for (const name of SUBGRAPHS) {
      const response = await call(system.subgraph[name], 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', {
        variables: { r: [{ __typename: 'User', id: bob.holdings.userId }] },
      });
      expect(codeOf(response), name).toBe('UNAUTHENTICATED');
      expect(response.data?._entities?.[0] ?? null, name).toBeNull();
    }
  });
});

describe('bad registration input is BAD_USER_INPUT naming the field', () => {
  it('weak password, malformed email, unknown home currency', async () => {
    const attempt = (email: string, password: string) =>
      call(gateway, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', { variables: { i: { email, password, displayName: 'Mallory' } } });
    for (const password of ['short', 'password1234', 'zzzzzzzzzzzzzzzz', 'x'.repeat(300)]) {
      expect((await attempt('mallory@attacker.example', password)).errors?.[0]?.extensions, password).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
    }
    const zzz = await call(gateway, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
      variables: { i: { email: 'zzz@attacker.example', password: 'a perfectly fine password', displayName: 'Z', homeCurrency: 'ZZZ' } },
    });
    expect(zzz.status).toBe(200);
    expect(zzz.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.homeCurrency' });
    for (const email of ['not-an-email', 'a@b', 'two@@example.com', `${'x'.repeat(250)}@example.com`]) {
      expect((await attempt(email, 'a perfectly fine password')).errors?.[0]?.extensions, email).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.email' });
    }
  });
});

/** Each of Bob's objects, how Alice tries to read it through the gateway, and what type `_entities` knows it as. */
function bobsObjects() {
  const h = bob.holdings;
  return [
    {
      what: 'account',
      subgraph: 'budget',
      typename: 'Account',
      id: h.accounts[0]!,
      fields: 'id name balance { amountMinor }',
      query: 'query($id: ID!) { account(id: $id) { id name balance { amountMinor } } }',
    },
    {
      what: 'transaction',
      subgraph: 'budget',
      typename: 'Transaction',
      id: h.transactions[0]!,
      fields: 'id payee amount { amountMinor }',
      query: 'query($id: ID!) { transaction(id: $id) { id payee amount { amountMinor } } }',
    },
    { what: 'budget', subgraph: 'budget', typename: 'Budget', id: h.budgets[0]!, fields: 'id amount { amountMinor } spent { amountMinor }' },
    { what: 'category', subgraph: 'budget', typename: 'Category', id: h.categories[0]!, fields: 'id name' },
    { what: 'bank account', subgraph: 'payment', typename: 'BankAccount', id: h.bankAccounts[0]!, fields: 'id bankName holderName accountNumber' },
    {
      what: 'payment',
      subgraph: 'payment',
      typename: 'Payment',
      id: h.payments[0]!,
      fields: 'id payeeName amount { amountMinor }',
      query: 'query($id: ID!) { payment(id: $id) { id payeeName amount { amountMinor } } }',
    },
    {
      what: 'report',
      subgraph: 'insight',
      typename: 'Report',
      id: h.reports[0]!,
      fields: 'id totals { net { amountMinor } }',
      query: 'query($id: ID!) { report(id: $id) { id totals { net { amountMinor } } } }',
    },
  ] as { what: string; subgraph: SubgraphName; typename: string; id: string; fields: string; query?: string }[];
}

/** What `_entities` on User returns in each subgraph: Bob's private lists. */
const USER_FIELDS: Record<SubgraphName, string> = {
  user: 'email displayName',
  budget: 'accounts { id } categories { id } budgets { id } transactions { edges { node { id } } }',
  market: 'watchlist { symbol }',
  news: 'savedArticles { id } savedArticlesConnection { edges { node { id } } }',
  payment: 'bankAccounts { id } payments { id } paymentsConnection { totalCount edges { node { id } } }',
  insight: 'reports { id } insights { id }',
};

const refused = (response: GraphQLResponse, label: string) => {
  expect(response.errors?.length ?? 0, label).toBeGreaterThan(0);
  expect(['NOT_FOUND', 'FORBIDDEN'], label).toContain(codeOf(response));
};
const withoutIds = (response: GraphQLResponse, ids: string[]) =>
  JSON.stringify(response.errors?.map((e) => ({ message: e.message, code: e.extensions?.code })) ?? []).replace(new RegExp(ids.join('|'), 'g'), '<id>');

describe("Alice cannot reach Bob's data", () => {
  it('through the gateway: reads by id are NOT_FOUND, exactly like ids that do not exist', async () => {
    for (const object of bobsObjects().filter((o) => o.query)) {
      const theirs = await call(gateway, object.query!, { token: alice.accessToken, variables: { id: object.id } });
      expect(JSON.stringify(theirs.data ?? {}), object.what).not.toContain(object.id);
      refused(theirs, object.what);
      // Guessing: a random id and Bob's id get the same answer, so ids cannot be probed.
      const guessed = randomUUID();
      const nothing = await call(gateway, object.query!, { token: alice.accessToken, variables: { id: guessed } });
      expect(withoutIds(theirs, [object.id]), object.what).toBe(withoutIds(nothing, [guessed]));
      // Bob still sees it.
      expect((await call(gateway, object.query!, { token: bob.token, variables: { id: object.id } })).errors, object.what).toBeUndefined();
    }
  });

  it("through the gateway: changes aimed at Bob's objects are NOT_FOUND or FORBIDDEN and change nothing", async () => {
    const h = bob.holdings;
    const before = await stateOf(bob.token);
    const his = before.transactions[0]!;
    // Alice opens an account of her own: a transfer between hers and his is then wrong only in whose account it names.
    const opened = await call(gateway, 'mutation { openAccount(input: { name: "Mallory", type: CHECKING, currency: "EUR" }) { id } }', { token: alice.accessToken });
    expect(opened.errors).toBeUndefined();
    const hers = opened.data.openAccount.id as string;
    const TRANSFER =
      'mutation($f: ID!, $t: ID!) { transferMoney(input: { fromAccountId: $f, toAccountId: $t, amount: { amountMinor: 100000, currency: "EUR" }, bookedAt: "2025-01-01T00:00:00Z" }) { id } }';
    // Each request is valid in every part but one: the object it names is Bob's. The refusal must say
    // so the way the API documents it (NOT_FOUND, as for an id that does not exist, or FORBIDDEN):
    // BAD_USER_INPUT would tell Alice her request was fine and the id is someone else's.
    const attempts: [string, string, Record<string, unknown>][] = [
      [
        'record a transaction in his account',
        'mutation($a: ID!) { recordTransaction(input: { accountId: $a, amount: { amountMinor: -100000, currency: "EUR" }, bookedAt: "2025-01-01T00:00:00Z", payee: "Mallory" }) { id } }',
        { a: h.accounts[0] },
      ],
      [
        'edit his transaction',
        'mutation($id: ID!, $v: Int!) { updateTransaction(id: $id, expectedVersion: $v, input: { payee: "Mallory", notes: "mine now" }) { id } }',
        { id: his.id, v: his.version },
      ],
      ['delete his transaction', 'mutation($id: ID!) { deleteTransaction(id: $id) }', { id: h.transactions[0] }],
      ['recategorize his transaction', 'mutation($id: ID!) { recategorizeTransactions(ids: [$id], categoryId: null) { id } }', { id: his.id }],
      ['move money out of his account', TRANSFER, { f: h.accounts[0], t: hers }],
      ['move money into his account', TRANSFER, { f: hers, t: h.accounts[0] }],
      [
        'budget his category',
        'mutation($c: ID!) { setBudget(input: { categoryId: $c, period: MONTHLY, amount: { amountMinor: 1, currency: "EUR" } }) { id } }',
        { c: h.categories[0] },
      ],
      ['rename his category', 'mutation($id: ID!) { updateCategory(id: $id, input: { name: "Mallory" }) { id } }', { id: h.categories[0] }],
      ['delete his category', 'mutation($id: ID!) { deleteCategory(id: $id) { outcome } }', { id: h.categories[0] }],
      ['unlink his bank account', 'mutation($id: ID!) { unlinkBankAccount(id: $id) { id } }', { id: h.bankAccounts[0] }],
      ['verify his bank account', 'mutation($id: ID!) { verifyBankAccount(id: $id, code: "123456") { id } }', { id: h.bankAccounts[0] }],
      [
        'pay from his bank account',
        'mutation($b: ID!) { initiatePayment(idempotencyKey: "mallory-0001", input: { bankAccountId: $b, amount: { amountMinor: 99900, currency: "EUR" }, payeeName: "Mallory", reference: "x" }) { id } }',
        { b: h.bankAccounts[0] },
      ],
      ['confirm his payment', 'mutation($id: ID!) { confirmPayment(id: $id, code: "123456") { id } }', { id: h.payments[0] }],
      ['cancel his payment', 'mutation($id: ID!) { cancelPayment(id: $id) { id } }', { id: h.payments[0] }],
    ];
    for (const [what, query, variables] of attempts) {
      const response = await call(gateway, query, { token: alice.accessToken, variables });
      refused(response, what);
      expect(
        Object.values(response.data ?? {}).filter((v) => v !== null),
        what,
      ).toEqual([]);
    }
    // His watchlist and saved articles are his: Alice's changes only touch hers.
    await call(gateway, 'mutation($s: String!) { removeFromWatchlist(symbol: $s) { symbol } }', { token: alice.accessToken, variables: { s: h.watchlist[0] } });
    await call(gateway, 'mutation($id: ID!) { unsaveArticle(id: $id) { id } }', { token: alice.accessToken, variables: { id: h.savedArticles[0] } });
    // Bob reads every object back, field by field (balances, versions, statuses included): nothing moved.
    expect(await stateOf(bob.token)).toEqual(before);
    expect(await holdingsOf(bob.token)).toEqual(bob.holdings);
  });

  it("through `_entities` sent straight to each subgraph: Bob's user fields and every one of his objects are refused", async () => {
    for (const name of SUBGRAPHS) {
      const response = await call(system.subgraph[name], `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { ${USER_FIELDS[name]} } } }`, {
        token: alice.accessToken,
        variables: { r: [{ __typename: 'User', id: bob.holdings.userId }] },
      });
      refused(response, `User in ${name}`);
      expect(response.data?._entities?.[0] ?? null, `User in ${name}`).toBeNull();
      expect(JSON.stringify(response), name).not.toContain(DEMO_USER.email);
    }
    for (const object of bobsObjects()) {
      const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${object.typename} { ${object.fields} } } }`;
      const theirs = await call(system.subgraph[object.subgraph], query, { token: alice.accessToken, variables: { r: [{ __typename: object.typename, id: object.id }] } });
      refused(theirs, object.what);
      expect(theirs.data?._entities?.[0] ?? null, object.what).toBeNull();
      const guessed = randomUUID();
      const nothing = await call(system.subgraph[object.subgraph], query, { token: alice.accessToken, variables: { r: [{ __typename: object.typename, id: guessed }] } });
      expect(withoutIds(theirs, [object.id]), object.what).toBe(withoutIds(nothing, [guessed]));
      // The same request with Bob's token gets the object: the refusal is about who asks.
      const own = await call(system.subgraph[object.subgraph], query, { token: bob.token, variables: { r: [{ __typename: object.typename, id: object.id }] } });
      expect(own.data?._entities?.[0], object.what).toBeTruthy();
    }
  });

  it('by guessing ids, many at once in one `_entities` request: nothing comes back', async () => {
    const guesses = [bob.holdings.userId, ...Array.from({ length: 20 }, () => randomUUID()), '1', '0', "' or 1=1 --", 'x'.repeat(500)];
    for (const object of bobsObjects()) {
      const representations = guesses.map((id) => ({ __typename: object.typename, id }));
      const response = await call(system.subgraph[object.subgraph], `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${object.typename} { id } } }`, {
        token: alice.accessToken,
        variables: { r: [...representations, { __typename: object.typename, id: object.id }] },
      });
      expect(
        (response.data?._entities ?? []).filter((e: unknown) => e !== null),
        object.what,
      ).toEqual([]);
      expect(
        response.errors?.every((e) => ['NOT_FOUND', 'FORBIDDEN'].includes(e.extensions?.code)),
        object.what,
      ).toBe(true);
    }
  });

  it('an administrator token that has not passed two-factor authentication opens nothing', async () => {
    // The password alone gives a token whose role claim says ADMIN but that only enrols an authenticator.
    const limited = adminBeforeEnrolment.accessToken;
    expect(readClaims(limited).role).toBe('ADMIN');
    const response = await call(system.subgraph.budget, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { accounts { id } } } }', {
      token: limited,
      variables: { r: [{ __typename: 'User', id: bob.holdings.userId }] },
    });
    expect(codeOf(response)).toBe('FORBIDDEN');
    expect(codeOf(await call(gateway, '{ users { edges { node { email } } } }', { token: limited }))).toBe('FORBIDDEN');
  });
});

describe('subgraphs do not trust the network', () => {
  it('malformed `_entities` requests from anyone do not take a subgraph down', async () => {
    for (const name of SUBGRAPHS) {
      const url = system.subgraph[name];
      const mixed = [
        { __typename: 'User', id: bob.holdings.userId },
        { __typename: 'NoSuchType', id: '1' },
        { __typename: 'User', id: randomUUID() },
      ];
      for (const token of [undefined, alice.accessToken]) {
        const response = await call(url, 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { token, variables: { r: mixed } });
        expect(response.errors?.length, name).toBeGreaterThan(0);
      }
      await new Promise((r) => setTimeout(r, 200));
      expect((await fetch(url.replace(/\/graphql$/, '/health'))).status, `${name} is still up`).toBe(200);
      expect(system.stack.services.get(name)!.child.exitCode, `${name} is still running`).toBeNull();
    }
  });
});

describe('sessions end to end through the gateway', () => {
  it('refresh rotates on every use; a reused refresh token ends the session everywhere at once and is audited', async () => {
    const carol = await register('carol@attacker.example', 'carol has a password');
    const first = (await call(gateway, `mutation($r: String!) { refreshSession(refreshToken: $r) { ${PAIR} } }`, { variables: { r: carol.refreshToken } })).data
      .refreshSession as Pair;
    expect(first.refreshToken).not.toBe(carol.refreshToken);
    const second = (await call(gateway, `mutation($r: String!) { refreshSession(refreshToken: $r) { ${PAIR} } }`, { variables: { r: first.refreshToken } })).data
      .refreshSession as Pair;
    expect((await call(gateway, '{ me { id } }', { token: second.accessToken })).data.me.id).toBe(carol.user.id);

    // A thief replays the first refresh token: the session ends for both of them.
    const replay = await call(gateway, `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }`, { variables: { r: first.refreshToken } });
    expect(codeOf(replay)).toBe('UNAUTHENTICATED');
    expect((await call(gateway, '{ me { id } }', { token: second.accessToken })).status).toBe(401);
    expect((await call(system.subgraph.budget, '{ __typename }', { token: second.accessToken })).status).toBe(401);
    expect(codeOf(await call(gateway, `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }`, { variables: { r: second.refreshToken } }))).toBe(
      'UNAUTHENTICATED',
    );

    const audit = await call(gateway, 'query($f: AuditLogFilter) { auditLog(filter: $f) { edges { node { action subjectId } } } }', {
      token: await admin(),
      variables: { f: { userId: carol.user.id, actions: ['REFRESH_TOKEN_REUSED'] } },
    });
    expect(audit.data.auditLog.edges).toEqual([{ node: { action: 'REFRESH_TOKEN_REUSED', subjectId: carol.user.id } }]);
  });

  it('logout, logout everywhere and an admin revocation take effect at once at the gateway and the subgraphs', async () => {
    const dave = await register('dave@attacker.example', 'dave has a password');
    const other = (await login('dave@attacker.example', 'dave has a password')).data.login as Pair;
    const third = (await login('dave@attacker.example', 'dave has a password')).data.login as Pair;
    const alive = async (token: string) =>
      (await call(gateway, '{ me { id } }', { token })).status === 200 && (await call(system.subgraph.insight, '{ __typename }', { token })).status === 200;

    expect((await call(gateway, 'mutation { logout }', { token: dave.accessToken })).data.logout).toBe(true);
    expect([await alive(dave.accessToken), await alive(other.accessToken), await alive(third.accessToken)]).toEqual([false, true, true]);
    expect((await call(gateway, 'mutation { logoutEverywhere }', { token: other.accessToken })).data.logoutEverywhere).toBe(2);
    expect([await alive(other.accessToken), await alive(third.accessToken)]).toEqual([false, false]);

    const again = (await login('dave@attacker.example', 'dave has a password')).data.login as Pair;
    expect(await alive(again.accessToken)).toBe(true);
    expect((await call(gateway, 'mutation($id: ID!) { revokeUserSessions(id: $id) }', { token: await admin(), variables: { id: dave.user.id } })).data.revokeUserSessions).toBe(1);
    expect(await alive(again.accessToken)).toBe(false);
  });
});

describe('brute force', () => {
  it('after 5 wrong passwords the next attempt is RATE_LIMITED even with the right password, and the audit log shows it', async () => {
    const erin = await register('erin@attacker.example', 'erin has a password');
    for (let i = 0; i < 5; i++) {
      expect(codeOf(await login('erin@attacker.example', `guess number ${i}`))).toBe('UNAUTHENTICATED');
    }
    const response = await fetch(gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { login(email: "erin@attacker.example", password: "erin has a password") { accessToken } }' }),
    });
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    const body = (await response.json()) as { data: unknown; errors: { extensions: { code: string; retryAfterSeconds: number } }[] };
    expect(body.data).toBeNull();
    expect(body.errors[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: retryAfter });

    const audit = await call(gateway, 'query($f: AuditLogFilter) { auditLog(filter: $f) { edges { node { action email } } } }', {
      token: await admin(),
      variables: { f: { userId: erin.user.id, actions: ['LOGIN_FAILED', 'ACCOUNT_LOCKED', 'LOGIN_RATE_LIMITED'] } },
    });
    expect(audit.data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual([
      'LOGIN_RATE_LIMITED',
      'ACCOUNT_LOCKED',
      'LOGIN_FAILED',
      'LOGIN_FAILED',
      'LOGIN_FAILED',
      'LOGIN_FAILED',
      'LOGIN_FAILED',
    ]);
  });
});

describe('administration', () => {
  it('works for an admin with two-factor authentication and is FORBIDDEN for a user', async () => {
    const token = await admin();
    const frank = await register('frank@attacker.example', 'frank has a password');
    const operations: [string, string, Record<string, unknown>?][] = [
      ['users', '{ users(query: "attacker.example") { edges { node { id email } } } }'],
      ['user', 'query($id: ID!) { user(id: $id) { id email } }', { id: frank.user.id }],
      ['auditLog', '{ auditLog(first: 10) { edges { node { action } } } }'],
      ['setUserDisabled', 'mutation($id: ID!) { setUserDisabled(id: $id, disabled: true) { disabled } }', { id: frank.user.id }],
      ['changeUserRole', 'mutation($id: ID!) { changeUserRole(id: $id, role: ADMIN) { role } }', { id: frank.user.id }],
      ['revokeUserSessions', 'mutation($id: ID!) { revokeUserSessions(id: $id) }', { id: frank.user.id }],
    ];
    for (const [name, query, variables] of operations) {
      const asUser = await call(gateway, query, { token: alice.accessToken, variables });
      expect(codeOf(asUser), name).toBe('FORBIDDEN');
      expect(asUser.data?.[name] ?? null, name).toBeNull();
    }
    // Nothing happened to Frank.
    expect((await call(gateway, '{ me { role disabled } }', { token: frank.accessToken })).data.me).toEqual({ role: 'USER', disabled: false });

    for (const [name, query, variables] of operations) {
      const asAdmin = await call(gateway, query, { token, variables });
      expect(asAdmin.errors, name).toBeUndefined();
    }
    expect((await call(gateway, '{ me { id } }', { token: frank.accessToken })).status).toBe(401);
    const listed = await call(gateway, '{ users(query: "frank@") { edges { node { email role disabled } } } }', { token });
    expect(listed.data.users.edges).toEqual([{ node: { email: 'frank@attacker.example', role: 'ADMIN', disabled: true } }]);
    // An admin also reads Bob's data through the gateway's entity path (that is what the role is for).
    const asAdmin = await call(system.subgraph.budget, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { accounts { id } } } }', {
      token,
      variables: { r: [{ __typename: 'User', id: bob.holdings.userId }] },
    });
    expect(asAdmin.data._entities[0].accounts.map((a: { id: string }) => a.id)).toEqual(bob.holdings.accounts);
  });
});

describe('input the database would refuse is BAD_USER_INPUT naming the field, before anything is written', () => {
  const NUL = 'a\u0000b';
  let account: string;
  const fieldOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.field as string | undefined;
  const RECORD = 'mutation($i: RecordTransactionInput!) { recordTransaction(input: $i) { id } }';
  const entry = (overrides: Record<string, unknown> = {}) => ({
    accountId: account,
    amount: { amountMinor: -1250, currency: 'EUR' },
    bookedAt: '2025-03-01T12:00:00Z',
    payee: 'Bakery',
    ...overrides,
  });
  const transactionCount = async () =>
    ((await call(gateway, '{ me { transactions(first: 200) { edges { node { id } } } } }', { token: alice.accessToken })).data.me.transactions.edges as unknown[]).length;

  beforeAll(async () => {
    const opened = await call(gateway, 'mutation { openAccount(input: { name: "Alice checking", type: CHECKING, currency: "EUR" }) { id } }', { token: alice.accessToken });
    expect(opened.errors).toBeUndefined();
    account = opened.data.openAccount.id;
  });

  it('a NUL (or other control character) in any string: payee, category, display name, bank name, search, CSV content, cursor, entity id', async () => {
    const cases: [string, string, Record<string, unknown>, string, string?][] = [
      ['payee', RECORD, { i: entry({ payee: NUL }) }, 'input.payee'],
      ['notes (a bell)', RECORD, { i: entry({ notes: 'ring \u0007' }) }, 'input.notes'],
      ['category name', 'mutation($n: String!) { createCategory(input: { name: $n, group: "Food", kind: EXPENSE }) { id } }', { n: NUL }, 'input.name'],
      ['display name', 'mutation($n: String!) { updateProfile(input: { displayName: $n }) { id } }', { n: NUL }, 'input.displayName'],
      ['bank name', 'mutation($n: String!) { connectBank(input: { bankName: $n }) { id } }', { n: NUL }, 'input.bankName'],
      ['search text', 'query($s: String!) { me { transactions(filter: { search: $s }) { edges { node { id } } } } }', { s: NUL }, 'filter.search'],
      ['cursor', 'query($c: String!) { me { transactions(after: $c) { edges { node { id } } } } }', { c: NUL }, 'after'],
      [
        'cursor carrying a NUL payee',
        'query($c: String!) { me { transactions(sort: PAYEE_ASC, after: $c) { edges { node { id } } } } }',
        { c: Buffer.from(JSON.stringify(['PAYEE_ASC', NUL, randomUUID()])).toString('base64url') },
        'after',
      ],
      [
        'CSV content',
        'mutation($a: ID!, $c: String!) { importTransactions(input: { accountId: $a, format: CSV, content: $c, csv: { date: "date", amount: "amount", payee: "payee" } }) { imported } }',
        { a: '', c: `date,amount,payee\n2025-03-01,-1.00,${NUL}\n` },
        'input.content',
      ],
    ];
    const before = await transactionCount();
    for (const [what, query, variables, field] of cases) {
      if ('a' in variables) variables.a = account;
      const response = await call(gateway, query, { token: alice.accessToken, variables });
      expect(response.status, what).toBe(200);
      expect(codeOf(response), `${what}: ${JSON.stringify(response.errors)}`).toBe('BAD_USER_INPUT');
      expect(fieldOf(response), what).toBe(field);
      expect(response.errors?.[0]?.message, what).toMatch(/control character|This cursor is not one/);
    }
    expect(await transactionCount()).toBe(before);
    // Straight to a subgraph, in an `_entities` representation.
    const direct = await call(system.subgraph.budget, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id } } }', {
      token: alice.accessToken,
      variables: { r: [{ __typename: 'Account', id: NUL }] },
    });
    expect(codeOf(direct)).toBe('BAD_USER_INPUT');
    expect(fieldOf(direct)).toBe('representations.0.id');
  });

  it('a date outside the years 1 to 9999: bookedAt in year 0000, a cursor dated year 0000', async () => {
    const before = await transactionCount();
    const year0 = await call(gateway, RECORD, { token: alice.accessToken, variables: { i: entry({ bookedAt: '0000-01-01T00:00:00Z' }) } });
    expect(year0.status).toBe(200);
    expect(codeOf(year0), JSON.stringify(year0.errors)).toBe('BAD_USER_INPUT');
    expect(fieldOf(year0)).toBe('input.bookedAt');
    const cursor = Buffer.from(JSON.stringify(['BOOKED_AT_DESC', '0000-01-01T00:00:00.000Z', randomUUID()])).toString('base64url');
    const paged = await call(gateway, 'query($c: String!) { me { transactions(after: $c) { edges { node { id } } } } }', { token: alice.accessToken, variables: { c: cursor } });
    expect(codeOf(paged)).toBe('BAD_USER_INPUT');
    expect(fieldOf(paged)).toBe('after');
    expect(await transactionCount()).toBe(before);
  });

  it('amounts beyond the exact range: 1e400 written in the query or sent as a variable, a price alert at 1e400 or 1e300', async () => {
    const literal = await call(
      gateway,
      `mutation { recordTransaction(input: { accountId: "${account}", amount: { amountMinor: 1e400, currency: "EUR" }, bookedAt: "2025-03-01T12:00:00Z", payee: "x" }) { id } }`,
      { token: alice.accessToken },
    );
    expect(literal.status).toBe(400);
    expect(codeOf(literal)).toBe('BAD_USER_INPUT');
    expect(fieldOf(literal)).toBe('input.amount.amountMinor');
    // 1e400 as JSON text (JavaScript would send Infinity as null).
    const variable = await fetch(gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.accessToken}` },
      body: JSON.stringify({ query: RECORD, variables: { i: entry() } }).replace('"amountMinor":-1250', '"amountMinor":1e400'),
    });
    // A variable graphql-js cannot coerce: the gateway answers it as every variable refusal, 200.
    expect(variable.status).toBe(200);
    const refusal = (await variable.json()) as { errors: { extensions: { code: string } }[] };
    expect(refusal.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    const alert = await call(gateway, 'mutation { createPriceAlert(input: { symbol: "AAPL", direction: ABOVE, threshold: 1e400 }) { id } }', { token: alice.accessToken });
    expect(alert.status).toBe(400);
    expect(codeOf(alert)).toBe('BAD_USER_INPUT');
    expect(fieldOf(alert)).toBe('input.threshold');
    const huge = await call(gateway, 'mutation($t: Float!) { createPriceAlert(input: { symbol: "AAPL", direction: ABOVE, threshold: $t }) { id } }', {
      token: alice.accessToken,
      variables: { t: 1e300 },
    });
    expect(huge.status).toBe(200);
    expect(codeOf(huge)).toBe('BAD_USER_INPUT');
    expect(fieldOf(huge)).toBe('input.threshold');
  });

  it('a write that would take a balance beyond 2^53 - 1: two writes of 9007199254740991, the second refused; the balance stays readable', async () => {
    const opened = await call(gateway, 'mutation { openAccount(input: { name: "Alice big", type: SAVINGS, currency: "EUR" }) { id } }', { token: alice.accessToken });
    const big = opened.data.openAccount.id as string;
    const write = () =>
      call(gateway, RECORD, { token: alice.accessToken, variables: { i: entry({ accountId: big, amount: { amountMinor: Number.MAX_SAFE_INTEGER, currency: 'EUR' } }) } });
    expect((await write()).errors).toBeUndefined();
    const second = await write();
    expect(second.status).toBe(200);
    expect(codeOf(second)).toBe('BAD_USER_INPUT');
    expect(fieldOf(second)).toBe('input.amount.amountMinor');
    const balance = await call(gateway, 'query($id: ID!) { account(id: $id) { balance { amountMinor } } }', { token: alice.accessToken, variables: { id: big } });
    expect(balance.errors).toBeUndefined();
    expect(balance.data.account.balance.amountMinor).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('an unknown ISO 4217 code: homeCurrency "ZZZ"', async () => {
    const response = await call(gateway, 'mutation { updateProfile(input: { homeCurrency: "ZZZ" }) { homeCurrency } }', { token: alice.accessToken });
    expect(response.status).toBe(200);
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(fieldOf(response)).toBe('input.homeCurrency');
    expect((await call(gateway, '{ me { homeCurrency } }', { token: alice.accessToken })).data.me.homeCurrency).toBe('EUR');
  });
});

describe('metrics are private', () => {
  const operationSeries = (text: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith('graphql_operations_total{'))
      .map((line) => line.slice(0, line.lastIndexOf(' ')))
      .sort();

  it('GET /metrics on the public port of every service is 404; the private listener answers it', async () => {
    expect(system.stack.services.size).toBeGreaterThan(10);
    for (const [name, service] of system.stack.services) {
      const open = await fetch(`${service.url}/metrics`);
      expect(open.status, name).toBe(404);
      expect(await open.text(), name).not.toMatch(/# HELP|# TYPE/);
      const scraped = await fetch(`${service.metricsUrl}/metrics`);
      expect(scraped.status, name).toBe(200);
      expect(await scraped.text(), name).toContain('# TYPE http_request_duration_seconds');
    }
  });

  it('an operation name the caller chose never becomes a label: 10 KB names leave the series unchanged', async () => {
    for (const name of ['gateway', 'budget'] as const) {
      const service = system.stack.services.get(name)!;
      const url = name === 'gateway' ? gateway : system.subgraph.budget;
      const scrape = async () => (await fetch(`${service.metricsUrl}/metrics`)).text();
      await call(url, 'query Warm { __typename }', { token: alice.accessToken });
      const before = await scrape();
      for (let i = 0; i < 5; i++) {
        const response = await call(url, `query ${'N'.repeat(10_240)}${i} { __typename }`, { token: alice.accessToken });
        expect(response.errors, name).toBeUndefined();
      }
      const after = await scrape();
      expect(operationSeries(after), name).toEqual(operationSeries(before));
      expect(after, name).not.toContain('N'.repeat(65));
      expect(after.length - before.length, name).toBeLessThan(200);
    }
  });
});

describe('security headers on every HTTP answer', () => {
  it('nosniff, no referrer and a Content-Security-Policy on GraphQL, health, 404 and error answers of every service; a strict one on the IDE page', async () => {
    const answers: [string, Response][] = [];
    for (const [name, service] of system.stack.services) {
      answers.push([`${name} /health`, await fetch(`${service.url}/health`)]);
      answers.push([`${name} /nothing`, await fetch(`${service.url}/nothing-here`)]);
    }
    answers.push(['gateway POST', await fetch(gateway, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })]);
    answers.push(['gateway bad JSON', await fetch(gateway, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })]);
    answers.push(['budget POST', await fetch(system.subgraph.budget, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })]);
    for (const [what, response] of answers) {
      expect(response.headers.get('x-content-type-options'), what).toBe('nosniff');
      expect(response.headers.get('referrer-policy'), what).toBe('no-referrer');
      expect(response.headers.get('content-security-policy'), what).toMatch(/default-src 'none'/);
    }
    const ide = await fetch(gateway, { headers: { accept: 'text/html' } });
    expect(ide.headers.get('content-type')).toMatch(/text\/html/);
    const csp = ide.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-eval|\*/);
  });
});

describe('register does not tell which addresses have accounts', () => {
  const REGISTER = `mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken twoFactorEnrolmentRequired expiresAt refreshExpiresAt user { id email displayName homeCurrency emailVerified } } }`;
  // Straight to the user service, from addresses of their own (it believes X-Forwarded-For from the gateway's network).
  const attempt = (email: string, from: string) =>
    call(system.subgraph.user, REGISTER, { variables: { i: { email, password: 'a perfectly fine password', displayName: 'Mallory' } }, headers: { 'x-forwarded-for': from } });
  const shape = (response: GraphQLResponse) =>
    JSON.parse(JSON.stringify(response, (key, value) => (['accessToken', 'refreshToken', 'id', 'expiresAt', 'refreshExpiresAt'].includes(key) ? typeof value : value)));

  it('an existing address gets the answer a new one gets, and its owner an email about the attempt', async () => {
    const fresh = await attempt('mallory-new@attacker.example', '203.0.113.10');
    const taken = await attempt(` ${DEMO_USER.email.toUpperCase()} `, '203.0.113.10');
    expect(taken.status).toBe(fresh.status);
    expect(taken.errors).toBeUndefined();
    expect(shape(taken)).toEqual({ ...shape(fresh), data: { register: { ...shape(fresh).data.register, user: { ...shape(fresh).data.register.user, email: DEMO_USER.email } } } });
    expect(taken.data.register.user.id).not.toBe(bob.holdings.userId);
    // The token of the answer opens nothing of Bob's.
    const his = await call(gateway, '{ me { accounts { id } } }', { token: taken.data.register.accessToken });
    expect(JSON.stringify(his.data ?? null)).not.toContain(bob.holdings.accounts[0]);
    const mails = (await system.outbox('user')).filter((m) => m.topic.endsWith('notifications.email.v1')).map((m) => JSON.parse(m.value));
    expect(mails.map((m) => JSON.stringify(m)).filter((m) => m.includes('registration-attempt') && m.includes(DEMO_USER.email))).toHaveLength(1);
  });

  it('attempts with existing addresses count against the per-address limit', async () => {
    let allowed = 0;
    let refused: GraphQLResponse | undefined;
    for (let i = 0; i < 30 && !refused; i++) {
      const response = await attempt(DEMO_USER.email, '203.0.113.20');
      if (response.errors) refused = response;
      else allowed++;
    }
    expect(allowed).toBe(20);
    expect(refused?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
  });
});

describe('errors never leak internals', () => {
  it('no error answer this suite received carries SQL, a schema or table name, or a stack trace', () => {
    expect(errorAnswers.length).toBeGreaterThan(50);
    const leaking = errorAnswers.map((answer) => ({ ...answer, leaks: leaksIn(answer.body) })).filter((answer) => answer.leaks.length > 0);
    expect(leaking).toEqual([]);
    for (const answer of errorAnswers) {
      const errors: unknown = JSON.parse(answer.body);
      for (const error of (Array.isArray(errors) ? errors : []) as { extensions?: { code?: string; requestId?: string }; message?: string }[]) {
        if (error?.extensions?.code === 'INTERNAL_SERVER_ERROR') {
          expect(error.message).toMatch(/^Something went wrong on our side/);
          expect(error.extensions.requestId).toBeTruthy();
        }
      }
    }
  });
});

/** The demo administrator, enrolled in two-factor authentication on first use (the first-admin flow of the README). */
async function admin(): Promise<string> {
  if (adminToken) return adminToken;
  adminToken = (await signInAdmin(gateway, DEMO_ADMIN)).accessToken;
  return adminToken;
}
