import 'reflect-metadata';
import { defaultFieldResolver, isInterfaceType, isObjectType, parse, GraphQLError, type GraphQLSchema } from 'graphql';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { buildSchema, createResolversMap, Directive, Field, InputType, ObjectType, type NonEmptyArray } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { assertOwnerOrAdmin, authChecker, authenticate, type AuthContext, type TokenVerifier } from '@analytica/auth';
import { badInput, forbidden, formatError } from '@analytica/errors';
import { createHttpService, refuseBadTokens, type ReadinessCheck } from '@analytica/service';
import type { Logger } from '@analytica/logger';

/** Federation 2 directives our subgraphs may use. */
const LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible", "@tag"])\n`;

/** The descriptions of the root types, for the client-facing schema (see schema/api.graphql). */
export const ROOT_DESCRIPTIONS = {
  Query:
    "Reads. Unless a field says otherwise, a field needs a signed-in user (Authorization: Bearer <accessToken>) and reads that user's own data; market data and news are the same for every signed-in caller. Money is integer minor units with an ISO 4217 currency; times are ISO 8601 in UTC.",
  Mutation:
    "Changes. Unless a field says otherwise, a field needs a signed-in user and acts on that user's own data; administrators' fields say so and are FORBIDDEN to everyone else. Errors carry extensions.code (see the README's table).",
  Subscription:
    'Live updates over WebSocket (graphql-transport-ws) or SSE on the same endpoint. Each starts with the current value, then sends each change; a subscriber gets only their own events, and market data is public to every signed-in caller.',
} as const;

export interface SubgraphSchemaOptions {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  resolvers: NonEmptyArray<Function>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  orphanedTypes?: Function[];
  /** `__resolveReference` per entity: each must check that the caller may see the object. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entity has its own reference and context types
  referenceResolvers?: Record<string, { __resolveReference: (reference: any, context: any) => unknown }>;
}

/**
 * Builds a Federation 2 subgraph schema from type-graphql classes: type-graphql gives the types,
 * resolvers and @Authorized checks; @apollo/subgraph adds _service, _entities and the link.
 */
export async function buildFederatedSchema(options: SubgraphSchemaOptions): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: options.resolvers,
    orphanedTypes: options.orphanedTypes,
    authChecker,
    validate: false,
    skipCheck: true,
    // Subscription fields are served by the gateway (see subscribeThroughGateway); type-graphql
    // insists on a pub/sub all the same.
    pubSub: { publish: () => {}, subscribe: () => subscribeThroughGateway() },
  });
  // type-graphql cannot describe the root types; every subgraph gives them the same words.
  for (const [type, description] of [
    [schema.getQueryType(), ROOT_DESCRIPTIONS.Query],
    [schema.getMutationType(), ROOT_DESCRIPTIONS.Mutation],
    [schema.getSubscriptionType(), ROOT_DESCRIPTIONS.Subscription],
  ] as const) {
    if (type && !type.description) type.description = description;
  }
  const typeDefs = parse(LINK + printSchemaWithDirectives(schema));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- type-graphql's resolver map, handed on to @apollo/subgraph as it is
  const resolvers = createResolversMap(schema) as Record<string, any>;
  for (const [typeName, reference] of Object.entries(options.referenceResolvers ?? {})) {
    // Always a promise: @apollo/subgraph calls these one after the other inside a map, so a
    // synchronous throw (requireUser on an anonymous request) would abandon the promises already
    // made for earlier representations, and their rejections would go unhandled and end the process.
    const resolveReference = reference.__resolveReference;
    resolvers[typeName] = {
      ...resolvers[typeName],
      __resolveReference: async (...args: Parameters<typeof resolveReference>) => resolveReference(...args),
    };
  }
  return guardInput(guardEntities(buildSubgraphSchema([{ typeDefs, resolvers }])));
}

// C0 controls other than tab, line feed and carriage return, and DEL: PostgreSQL refuses NUL in
// text, and none of them belongs in a name, a payee, a note, a search or a cursor.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const ISO_DATE = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/;

/** The years PostgreSQL, JavaScript and ISO 8601 without an extended year all agree on. */
function isDayInRange(year: number, month: number, day: number): boolean {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * The one check every argument of every field passes before its resolver runs (so before anything
 * is written): what the database would refuse with an internal error is BAD_USER_INPUT naming the
 * field (`input.payee`, `representations.0.id`). Refused: control characters in any string (or
 * object key), numbers that are not finite or beyond ±Number.MAX_SAFE_INTEGER, dates (and strings
 * that are wholly an ISO date) outside the years 1 to 9999 or not on the calendar.
 */
export function checkArgumentValue(value: unknown, path: string): void {
  // Iterative: a JSON argument (`_Any`) may be nested deeper than the stack.
  const pending: [unknown, string][] = [[value, path]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [current, at] = next;
    if (typeof current === 'string') {
      if (CONTROL_CHARACTER.test(current)) throw badInput(at, `${at} contains a control character (such as NUL); remove it.`);
      const date = current.length <= 40 ? ISO_DATE.exec(current) : null;
      if (date && !isDayInRange(Number(date[1]), Number(date[2]), Number(date[3]))) {
        throw badInput(at, `${at} is not a date between the years 0001 and 9999.`);
      }
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current) || Math.abs(current) > Number.MAX_SAFE_INTEGER) {
        throw badInput(at, `${at} is beyond the exact range (at most ${Number.MAX_SAFE_INTEGER} in size).`);
      }
    } else if (current instanceof Date) {
      const year = current.getUTCFullYear();
      if (Number.isNaN(current.getTime()) || year < 1 || year > 9999) throw badInput(at, `${at} is not a date between the years 0001 and 9999.`);
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => pending.push([item, `${at}.${index}`]));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        if (CONTROL_CHARACTER.test(key)) throw badInput(at, `${at} has a key with a control character (such as NUL); remove it.`);
        pending.push([item, `${at}.${key}`]);
      }
    }
  }
}

/** Wraps the resolver of every field that takes arguments with checkArgumentValue. */
function guardInput(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args: Record<string, unknown>, context, info) => {
        for (const [name, value] of Object.entries(args)) checkArgumentValue(value, name);
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}

/**
 * `_entities` is reachable by anyone who can reach the subgraph, not only by the gateway: refuse a
 * request that names a type the subgraph does not resolve before any representation is looked up,
 * for the same reason as above (@apollo/subgraph throws for it midway through the list).
 */
function guardEntities(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  const resolve = field?.resolve;
  if (!field || !resolve) return schema;
  field.resolve = (source, args: { representations?: unknown[] }, context, info) => {
    for (const [index, representation] of (args.representations ?? []).entries()) {
      const typename = (representation as { __typename?: unknown } | null)?.__typename;
      const type = typeof typename === 'string' ? schema.getType(typename) : undefined;
      if (!type || !(isObjectType(type) || isInterfaceType(type))) {
        throw badInput(`representations.${index}.__typename`, 'Name an entity type this service resolves.');
      }
    }
    return resolve(source, args, context, info);
  };
  return schema;
}

export function printSdl(schema: GraphQLSchema): string {
  return `${printSubgraphSchema(schema).trim()}\n`;
}

export interface SubgraphContext extends AuthContext {
  requestId: string;
  log: Logger;
  /** The caller's address as express sees it (behind the gateway: X-Forwarded-For, when the service trusts it). */
  clientIp: string;
}

export interface SubgraphServiceOptions<Ctx extends SubgraphContext> {
  name: string;
  port: number;
  host?: string;
  logger: Logger;
  schema: GraphQLSchema;
  verifier: TokenVerifier;
  readiness: Record<string, ReadinessCheck>;
  /** Adds the service's own per-request state (an EntityManager fork, DataLoaders). */
  context: (base: SubgraphContext) => Ctx;
  onStop?: () => Promise<void>;
  /** No longer used: unexpected errors are generic in every environment (kept for callers). */
  exposeErrorDetails?: boolean;
  /**
   * Who may call: only the gateway, whose requests carry a signature made with
   * SUBGRAPH_SIGNING_KEY (anything else gets 401 before it is parsed); introspection only outside
   * production. The service's parsed environment (config's `subgraphSigningEnv`) fits.
   */
  access: SubgraphAccess;
  routes?: Parameters<typeof createHttpService>[0]['routes'];
  /** METRICS_PORT and METRICS_HOST: the private listener of GET /metrics. */
  metricsPort?: number;
  metricsHost?: string;
}

export interface SubgraphAccess {
  NODE_ENV: string;
  SUBGRAPH_SIGNING_KEY: string;
  SUBGRAPH_SIGNATURE_MAX_AGE_SECONDS: number;
}

/**
 * A subgraph service: the shared HTTP skeleton plus Apollo Server. Subgraphs do not trust the
 * network: a request must carry the gateway's signature (issue 17), and every request's token is
 * verified again here, a bad one refusing the request.
 */
export function createSubgraphService<Ctx extends SubgraphContext>(options: SubgraphServiceOptions<Ctx>) {
  return createHttpService<Ctx & { authError?: GraphQLError }>({
    name: options.name,
    port: options.port,
    host: options.host,
    metricsPort: options.metricsPort,
    metricsHost: options.metricsHost,
    logger: options.logger,
    readiness: options.readiness,
    onStop: async () => {
      await options.onStop?.();
      await options.verifier.close();
    },
    routes: options.routes,
    graphql: {
      server: (plugins) =>
        new ApolloServer({
          schema: options.schema,
          // The gateway plans from the supergraph and never introspects a subgraph.
          introspection: options.access.NODE_ENV !== 'production',
          includeStacktraceInErrorResponses: false,
          // Shutdown is ours (stopOnSignals): drain, then close pools and consumers.
          stopOnTerminationSignals: false,
          formatError: (formatted, cause) =>
            formatError(formatted, {
              cause,
              serviceName: options.name,
              onInternal: (error, { requestId }) => options.logger.error({ err: cause, requestId, path: error.path }, 'internal error'),
            }),
          plugins: [...plugins, ApolloServerPluginInlineTraceDisabled(), refuseBadTokens(), partnersReadOnly()],
        }),
      requireSignature: { key: options.access.SUBGRAPH_SIGNING_KEY, maxAgeSeconds: options.access.SUBGRAPH_SIGNATURE_MAX_AGE_SECONDS },
      context: async (req, requestId, log) => {
        const { user, error } = await authenticate(req.headers.authorization, options.verifier);
        return { ...options.context({ user, requestId, log, clientIp: req.ip ?? req.socket.remoteAddress ?? 'unknown' }), authError: error };
      },
    },
  });
}

/**
 * Partner apps read; they never write. Their scopes are read scopes (`read`, `user:read`) and no
 * contract includes a mutation, so the gateway never sends one; this refuses it in every subgraph
 * too, for a partner token that reaches a subgraph some other way (a consent token is a USER token
 * in every other respect, and would otherwise pass the ownership checks of the user's own writes).
 */
function partnersReadOnly<Ctx extends SubgraphContext>(): ApolloServerPlugin<Ctx> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didResolveOperation({ operation }) {
          if (contextValue.user?.partner && operation?.operation === 'mutation') {
            throw forbidden("Partner apps may only read: changes need the user's own sign-in.");
          }
        },
      };
    },
  };
}

/** Writes the subgraph's SDL to schema/subgraphs/<name>.graphql for composition and review. */
export async function writeSchema(name: string, schema: GraphQLSchema) {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  // schema:check prints into a scratch folder (SCHEMA_OUT_DIR) to compare with what is committed.
  const target = process.env.SCHEMA_OUT_DIR ? join(process.env.SCHEMA_OUT_DIR, `${name}.graphql`) : new URL(`../../../schema/subgraphs/${name}.graphql`, import.meta.url);
  await writeFile(target, printSdl(schema));
}

/**
 * Money as every subgraph shows it: an integer of minor units with its ISO 4217 currency.
 * SafeInt keeps amounts exact up to 2^53 minor units. Shareable, so several subgraphs return it.
 * In the `consent` contract tag, so that a consenting user's amounts can be read; a plain value
 * type, it reaches a contract only through fields that are in it.
 */
@Directive('@shareable')
@Directive('@tag(name: "consent")')
@ObjectType('Money', { description: 'An exact amount: integer minor units (cents) and an ISO 4217 currency.' })
export class Money {
  @Field(() => GraphQLSafeInt, { description: 'Whole minor units, e.g. 1234 for 12.34 EUR.' }) amountMinor!: number;
  @Field(() => String, { description: 'ISO 4217 code, e.g. EUR.' }) currency!: string;

  static of(amountMinor: number, currency: string): Money {
    return Object.assign(new Money(), { amountMinor, currency });
  }
}

@InputType('MoneyInput', {
  description: 'An exact amount to send: integer minor units (cents) and an ISO 4217 currency, e.g. { amountMinor: 1234, currency: "EUR" } for 12.34 EUR.',
})
export class MoneyInput {
  @Field(() => GraphQLSafeInt, { description: 'Whole minor units, e.g. 1234 for 12.34 EUR.' }) amountMinor!: number;
  @Field(() => String, { description: 'ISO 4217 code, e.g. EUR.' }) currency!: string;
}

/** The part of `User` every non-owning subgraph declares: the key, to hang its own fields on. */
export function userReference() {
  return {
    // Called for `_entities` too: only the user themself or an admin may reach their data.
    // Async on purpose: @apollo/subgraph collects _entities results synchronously, so a synchronous
    // throw here would fail the whole list and leave the other entries' rejections unhandled.
    async __resolveReference(reference: { id: string }, ctx: AuthContext) {
      assertOwnerOrAdmin(ctx, reference.id);
      return { id: reference.id };
    },
  };
}

/** Relay's PageInfo, shared by every subgraph that pages a list; public, so contracts keep paging. */
@Directive('@shareable')
@Directive('@tag(name: "public")')
@Directive('@tag(name: "console")')
@ObjectType('PageInfo', { description: 'Relay cursor pagination: pass endCursor as `after` for the next page.' })
export class PageInfo {
  @Field(() => Boolean, { description: 'Whether more items follow this page.' }) hasNextPage!: boolean;
  @Field(() => Boolean, { description: 'Always false: pages are read forwards only.' }) hasPreviousPage!: boolean;
  @Field(() => String, { description: 'Cursor of the first item of the page; null for an empty page.', nullable: true }) startCursor!: string | null;
  @Field(() => String, { description: 'Cursor of the last item of the page: pass it as `after` for the next page; null for an empty page.', nullable: true }) endCursor!:
    string | null;
}

/**
 * The `subscribe` of every subscription field. Subgraphs declare subscription fields so that they
 * compose into the supergraph, but the gateway runs them: it listens to the Redis channel
 * `<Entity>.<key>` the field's argument names, and fetches the rest of the selection per event.
 */
export function subscribeThroughGateway(): never {
  throw new GraphQLError('Subscribe through the gateway: subgraphs do not serve subscriptions themselves.', {
    extensions: { code: 'BAD_REQUEST' },
  });
}
