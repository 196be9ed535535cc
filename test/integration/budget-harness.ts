/**
 * Test support (not a test): the budget service and the real gateway, in-process, the way clients
 * reach them. The gateway composes the budget subgraph with a stand-in for the user subgraph that
 * answers `me` (the caller, from the verified token) and `User.homeCurrency` (from a map the test
 * sets), so that `me { accounts transactions budgetReport ... }` and @requires run as in production.
 *
 * It lives in the root test/ rather than in subgraphs/budget because it starts the gateway, and a
 * subgraph never imports the gateway, not even in tests. It uses the budget only through its
 * package faces; the budget-*.test.ts beside it and bench/budget/page.ts start it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createTokenVerifier, requireUser, type AuthUser } from '@analytica/auth';
import { parseGatewayEnv, startGateway } from '@analytica/gateway';
import { compose } from '@analytica/schema';
import { printSdl } from '@analytica/subgraph';
import { createTestAuth, dropSchema, gql, services, uniqueName } from '@analytica/testing';
import { buildBudgetSchema, parseBudgetEnv, startBudgetService } from '@analytica/budget-subgraph';

const USER_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query { me: User }
type User @key(fields: "id") { id: ID! homeCurrency: String! }`;

export interface HarnessOptions {
  /** Sees every SQL statement of the budget service. */
  onQuery?: (sql: string) => void;
  /** 0 (the default here) leaves schedules to the test. */
  scheduleIntervalMs?: number;
  /**
   * Further subgraphs behind the same gateway, started with this run's token settings and
   * prefixes (insight, in insight-ledger.test.ts); stopped with the harness.
   */
  moreSubgraphs?: (run: { authEnv: Record<string, string>; topicPrefix: string; redisPrefix: string }) => Promise<MoreSubgraph[]>;
}

export interface MoreSubgraph {
  name: string;
  /** Its GraphQL endpoint. */
  url: string;
  sdl: string;
  stop(): Promise<void>;
}

/**
 * Gateway settings for these tests. Its request limits are the gateway's own concern (tested
 * there) and would throttle a test's or benchmark's one user; its cost limit (5000, with GraphQL
 * Armor's depth factor) refuses a plain page of 50 transactions with account and category names
 * (cost about 6200), so it is raised until the gateway's defaults account for connections
 * (reported to the gateway's owner).
 */
const GATEWAY_LIMITS = { GRAPHQL_MAX_COST: '50000', RATE_LIMIT_USER_PER_MINUTE: '1000000', RATE_LIMIT_IP_PER_MINUTE: '1000000' };

export async function startHarness(options: HarnessOptions = {}) {
  const schema = uniqueName('budget_gw');
  const topicPrefix = `${uniqueName('t')}.`;
  // Rate-limit counters and revocation look-ups of this run only: other runs share the Redis.
  const redisPrefix = `${uniqueName('r')}:`;
  const auth = await createTestAuth();
  const homeCurrencies = new Map<string, string>();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'budget-gateway-'));

  const service = await startBudgetService(
    parseBudgetEnv({
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      SCHEDULE_INTERVAL_MS: String(options.scheduleIntervalMs ?? 0),
      REDIS_KEY_PREFIX: redisPrefix,
      ...auth.env,
    }),
    { onQuery: options.onQuery },
  );

  const verifier = createTokenVerifier({ jwksUrl: auth.env.JWKS_URL, issuer: auth.env.JWT_ISSUER, audience: auth.env.JWT_AUDIENCE });
  const users = new ApolloServer<{ user: AuthUser | null }>({
    schema: buildSubgraphSchema([
      {
        typeDefs: parse(USER_SDL),
        resolvers: {
          Query: { me: (_: unknown, __: unknown, ctx: { user: AuthUser | null }) => ({ id: requireUser(ctx).id }) },
          User: {
            __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
            homeCurrency: (user: { id: string }) => homeCurrencies.get(user.id) ?? 'EUR',
          },
        },
      },
    ]),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url: userUrl } = await startStandaloneServer(users, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => {
      const header = req.headers.authorization;
      return { user: header ? await verifier.verify(header.replace(/^Bearer /, '')) : null };
    },
  });

  const more = (await options.moreSubgraphs?.({ authEnv: auth.env, topicPrefix, redisPrefix })) ?? [];
  const composed = compose([
    { name: 'user', url: userUrl, sdl: USER_SDL },
    { name: 'budget', url: `${service.url}/graphql`, sdl: printSdl(await buildBudgetSchema()) },
    ...more.map(({ name, url, sdl }) => ({ name, url, sdl })),
  ]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  await writeFile(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  const gateway = await startGateway(
    parseGatewayEnv({
      PORT: '0',
      LOG_LEVEL: 'silent',
      SUPERGRAPH_PATH: path.join(dir, 'supergraph.graphql'),
      SUPERGRAPH_WATCH: 'false',
      REDIS_KEY_PREFIX: redisPrefix,
      ...GATEWAY_LIMITS,
      ...auth.env,
    }),
  );
  const gatewayUrl = `${gateway.url}/graphql`;
  const subgraphUrl = `${service.url}/graphql`;

  /** A signed-in person using the public endpoint. */
  function person(role: 'USER' | 'ADMIN' = 'USER', homeCurrency = 'EUR') {
    const id = randomUUID();
    homeCurrencies.set(id, homeCurrency);
    const token = auth.tokenFor({ id, role });
    return {
      id,
      token,
      /** Through the gateway. */
      ask: (query: string, variables?: Record<string, unknown>) => gql(gatewayUrl, query, { token, variables }),
      /** Straight to the budget subgraph, as an attacker who can reach it would. */
      direct: (query: string, variables?: Record<string, unknown>) => gql(subgraphUrl, query, { token, variables }),
      setHomeCurrency: (code: string) => homeCurrencies.set(id, code),
    };
  }

  /** Rows in the tables a write may touch: tests prove that refused input writes nothing. */
  async function rowCounts() {
    const [row] = await service.db
      .fork()
      .getConnection()
      .execute<Record<string, string>[]>(
        `select (select count(*) from accounts) as accounts, (select count(*) from transactions) as transactions,
              (select count(*) from transaction_splits) as splits, (select count(*) from outbox) as outbox,
              (select count(*) from budgets) as budgets, (select count(*) from imports) as imports,
              (select count(*) from rules) as rules, (select count(*) from schedules) as schedules,
              (select count(*) from categories) as categories, (select count(*) from exchange_rates) as rates`,
      );
    return row;
  }

  return {
    schema,
    topicPrefix,
    /** The token settings of this run, for another service that must accept the same people (insight in insight-ledger.test.ts). */
    authEnv: auth.env,
    /** REDIS_KEY_PREFIX of the service and the gateway: live events travel on `<redisPrefix><channel>`. */
    redisPrefix,
    service,
    gatewayUrl,
    subgraphUrl,
    person,
    rowCounts,
    async stop() {
      await gateway.stop();
      for (const subgraph of more) await subgraph.stop();
      await users.stop();
      await service.stop();
      await verifier.close();
      await auth.close();
      await dropSchema(schema);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
export type Harness = Awaited<ReturnType<typeof startHarness>>;
export type Person = ReturnType<Harness['person']>;

/** Fails the test with the GraphQL errors when there are any, and returns the data. */
export function dataOf<T = any>(response: { data?: T; errors?: unknown[] }): T {
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors, null, 2)}`);
  return response.data as T;
}

export const OPEN = `mutation($input: OpenAccountInput!) { openAccount(input: $input) { id currency type openingBalance { amountMinor currency } balance { amountMinor currency } } }`;
export const RECORD = `mutation($input: RecordTransactionInput!) {
  recordTransaction(input: $input) { id version amount { amountMinor currency } bookedAt payee notes tags account { id } category { id name } splits { amount { amountMinor } category { id } } }
}`;

export async function openAccount(who: Person, options: { currency?: string; opening?: number; name?: string; type?: string } = {}): Promise<string> {
  const currency = options.currency ?? 'EUR';
  const input = {
    name: options.name ?? 'Everyday',
    type: options.type ?? 'CHECKING',
    currency,
    openingBalance: { amountMinor: options.opening ?? 0, currency },
  };
  return dataOf(await who.ask(OPEN, { input })).openAccount.id;
}

type DefaultCategory = 'Salary' | 'Other income' | 'Rent' | 'Utilities' | 'Groceries' | 'Eating out' | 'Transport' | 'Health' | 'Entertainment' | 'Shopping' | 'Savings';

/** The ids of the user's categories by name (the default set is always there). */
export async function categoryIds(who: Person): Promise<Record<DefaultCategory, string>> {
  const { me } = dataOf(await who.ask('{ me { categories { id name } } }'));
  return Object.fromEntries((me.categories as { id: string; name: string }[]).map((c) => [c.name, c.id])) as Record<DefaultCategory, string>;
}

export interface Entry {
  accountId: string;
  amountMinor: number;
  currency?: string;
  bookedAt?: string;
  payee?: string;
  categoryId?: string | null;
  notes?: string;
  tags?: string[];
  splits?: { amountMinor: number; categoryId?: string }[];
}

export function entryInput(e: Entry) {
  const currency = e.currency ?? 'EUR';
  return {
    accountId: e.accountId,
    amount: { amountMinor: e.amountMinor, currency },
    bookedAt: e.bookedAt ?? '2025-03-10T12:00:00.000Z',
    payee: e.payee ?? 'Corner Market',
    categoryId: e.categoryId,
    notes: e.notes,
    tags: e.tags,
    splits: e.splits?.map((s) => ({ amount: { amountMinor: s.amountMinor, currency }, categoryId: s.categoryId })),
  };
}

export async function record(who: Person, e: Entry): Promise<{ id: string; version: number; category: { id: string; name: string } | null }> {
  return dataOf(await who.ask(RECORD, { input: entryInput(e) })).recordTransaction;
}

/** The first error's extensions, for asserting code and field. */
export const errorOf = (response: { errors?: { extensions?: Record<string, unknown> }[] }) => response.errors?.[0]?.extensions;
