import { randomUUID } from 'node:crypto';
import type { GraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, Kind, print, type DocumentNode, type ExecutionResult } from 'graphql';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import client from 'prom-client';
import type { AuthUser, PartnerClaim } from '@analytica/auth';
import { ErrorCode, formatError } from '@analytica/errors';
import type { Logger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { SESSIONS_REVOKED_CHANNEL, type RevocationNotice } from '@analytica/redis/live';
import { createEntityBatcher } from './entity-batcher.js';
import { createEventExecutor, type EventExecutor } from './executor.js';
import { channelsFor, createSupergraphView, rootFieldOf, type OperationLimits, type PreparedSubscription, type SupergraphView } from './planner.js';

/** One client subscription, as the protocol layers (WebSocket, SSE) see it. */
export interface Subscriber {
  /** A result, already serialised once for every subscriber of the same execution. */
  deliver(json: string, result: ExecutionResult): void;
  /** The engine ends the subscription (e.g. the schema changed); the client should resubscribe. */
  end(reason: string): void;
  /** The caller's Authorization header as it is now (a token renewed over the socket replaces it). */
  authorization(): string;
}

export interface SubscribeRequest {
  document: DocumentNode;
  operationName?: string;
  variables: Record<string, unknown>;
  user: AuthUser;
  requestId: string;
  subscriber: Subscriber;
}

/** The query a partner app may subscribe with (its gate: quota, trusted documents, contract), or why not. */
export type AdmitPartner = (
  partner: PartnerClaim,
  params: { query?: unknown; operationName?: unknown; extensions?: unknown },
) => Promise<{ query: string } | { errors: GraphQLError[] }>;

/**
 * Whether a revocation notice ends this caller's subscriptions: its session (a logout, a revoked
 * partner consent), its user (disabled), its partner (suspended or deleted) or its app (deleted).
 */
export function revokes(notice: RevocationNotice, user: AuthUser): boolean {
  if (notice.partnerId !== undefined) return user.partner?.id === notice.partnerId;
  if (notice.appId !== undefined) return user.partner?.appId === notice.appId;
  return notice.userId === user.id && (!notice.sessionIds || notice.sessionIds.includes(user.sessionId));
}

export type SubscribeOutcome = { errors: readonly GraphQLError[] } | { unsubscribe: () => void };

/**
 * Subscribers with the same operation, variables and authorisation scope share one execution:
 * per event it runs once, serialises once, and writes the same text to each of them. Its scope is
 * "public" when every selected field is tagged public (the same for every signed-in user), else the
 * user, whose token then goes with every fetch.
 */
interface Execution {
  key: string;
  id: string;
  prepared: PreparedSubscription;
  variables: Record<string, unknown>;
  channels: string[];
  subscribers: Set<Subscriber>;
  /** Latest payload per channel not yet executed: a burst for one key collapses to its newest value. */
  pending: Map<string, { payload: Record<string, unknown>; receivedAt: bigint }>;
  /** Entity streams: the newest result per channel, handed at once to a subscriber who joins later. */
  latest: Map<string, { json: string; result: ExecutionResult }>;
  running: boolean;
}

export interface HubOptions {
  redisUrl: string;
  /** Channels are `<prefix><channel>`: the prefix isolates deployments and test runs. */
  channelPrefix: string;
  logger: Logger;
  registry: client.Registry;
  dataSourceFor: (name: string, url: string) => GraphQLDataSource;
  maxChannelsPerSubscription?: number;
  /** Validation limits every subscription operation must pass (the gateway's HTTP ones). */
  limits?: OperationLimits;
}

/** Refusals an owner gives for one entity that the caller may read as they are (the same as over HTTP). */
const OWNER_REFUSALS = new Set<string>([ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED]);

export function createSubscriptionHub(options: HubOptions) {
  const { logger } = options;
  const maxChannels = options.maxChannelsPerSubscription ?? 50;
  // graphql-redis-subscriptions keeps one Redis SUBSCRIBE per channel however many listen, parses
  // each message once, and resubscribes after a reconnect (ioredis's autoResubscribe). The gateway
  // never publishes, so the one client serves as both of its connections.
  const redis = createRedis(options.redisUrl, { name: 'gateway-subscriptions', onError: (err) => logger.warn({ err }, 'subscription redis error') });
  const pubsub = new RedisPubSub({ publisher: redis, subscriber: redis });
  const executions = new Map<string, Execution>();
  const byChannel = new Map<string, { executions: Set<Execution>; subscription: Promise<number> }>();
  const revocationListeners = new Set<(notice: RevocationNotice) => void>();
  /** Checks of public keys under way: subscribers who arrive meanwhile wait for the same answer. */
  const checking = new Map<string, Promise<{ errors: GraphQLError[] } | { keys: string[] }>>();
  let view: SupergraphView | undefined;
  let executor: EventExecutor | undefined;
  let dataSources = new Map<string, GraphQLDataSource>();

  const registers = [options.registry];
  const metrics = {
    subscriptions: new client.Gauge({ name: 'subscriptions_active', help: 'Client subscriptions open', registers }),
    executions: new client.Gauge({ name: 'subscription_executions_active', help: 'Distinct shared executions', registers }),
    eventsIn: new client.Counter({ name: 'subscription_events_in_total', help: 'Events received from Redis', registers }),
    runs: new client.Counter({ name: 'subscription_executions_total', help: 'Executions run (one per event per distinct execution)', registers }),
    messagesOut: new client.Counter({ name: 'subscription_messages_out_total', help: 'Results handed to subscribers', registers }),
    coalesced: new client.Counter({ name: 'subscription_events_coalesced_total', help: 'Events replaced by a newer one before they ran', registers }),
    failures: new client.Counter({ name: 'subscription_execution_failures_total', help: 'Executions that threw', registers }),
    fetches: new client.Counter({
      name: 'subscription_subgraph_fetches_total',
      help: 'Requests the subscription engine sent to subgraphs (checks, current values, fields of other subgraphs)',
      labelNames: ['subgraph'],
      registers,
    }),
    batchSize: new client.Histogram({
      name: 'subscription_entity_batch_size',
      help: 'Entities asked for in one request to a subgraph by the subscription engine (events of many executions batched)',
      labelNames: ['subgraph'],
      buckets: [1, 2, 5, 10, 20, 50, 100],
      registers,
    }),
    fetchSeconds: new client.Histogram({
      name: 'subscription_subgraph_fetch_seconds',
      help: 'Duration of the batched requests the subscription engine sent to each subgraph for the fields it adds',
      labelNames: ['subgraph'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    latency: new client.Histogram({
      name: 'subscription_delivery_seconds',
      help: 'From receipt of an event to its result handed to the subscribers',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
  };

  const revocations = pubsub.subscribe<RevocationNotice>(options.channelPrefix + SESSIONS_REVOKED_CHANNEL, (notice) => {
    // A session or user ({ userId }), a partner ({ partnerId }) or one of its apps ({ appId }).
    if (typeof notice !== 'object' || notice === null || ![notice.userId, notice.partnerId, notice.appId].some((id) => typeof id === 'string')) return;
    for (const listener of revocationListeners) listener(notice);
  });
  revocations.catch((err: unknown) => logger.error({ err }, 'could not listen for session revocations'));

  function onEvent(channel: string, message: unknown) {
    metrics.eventsIn.inc();
    const listeners = byChannel.get(channel);
    if (!listeners?.executions.size) return;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      logger.warn({ channel }, 'ignored an event that is not a JSON object');
      return;
    }
    const receivedAt = process.hrtime.bigint();
    for (const execution of listeners.executions) enqueue(execution, channel, message as Record<string, unknown>, receivedAt);
  }

  function enqueue(execution: Execution, channel: string, payload: Record<string, unknown>, receivedAt: bigint) {
    if (execution.pending.has(channel)) metrics.coalesced.inc();
    execution.pending.set(channel, { payload, receivedAt });
    if (!execution.running) {
      execution.running = true;
      setImmediate(() => void drain(execution));
    }
  }

  async function drain(execution: Execution) {
    try {
      while (execution.pending.size > 0 && execution.subscribers.size > 0 && executor) {
        const batch = [...execution.pending];
        execution.pending.clear();
        const [first] = execution.subscribers;
        const authorization = first?.authorization();
        const context = { authorization, requestId: `subscription-${execution.id}`, batchScope: execution.prepared.shared ? 'public' : (authorization ?? '') };
        await Promise.all(
          batch.map(async ([channel, { payload, receivedAt }]) => {
            let result: ExecutionResult;
            try {
              metrics.runs.inc();
              result = await executor!.execute(execution.prepared, payload, execution.variables, context);
            } catch (error) {
              metrics.failures.inc();
              logger.error({ err: error }, 'subscription execution failed');
              result = { data: null, errors: [new GraphQLError('This update could not be completed.', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } })] };
            }
            if (result.errors?.length) result = { ...result, errors: result.errors.map(clientError) as never };
            const json = JSON.stringify(result);
            if (execution.prepared.kind === 'entity' && !result.errors?.length) execution.latest.set(channel, { json, result });
            for (const subscriber of execution.subscribers) subscriber.deliver(json, result);
            metrics.messagesOut.inc(execution.subscribers.size);
            metrics.latency.observe(Number(process.hrtime.bigint() - receivedAt) / 1e9);
          }),
        );
      }
    } finally {
      execution.running = false;
      if (execution.pending.size > 0 && execution.subscribers.size > 0) {
        execution.running = true;
        setImmediate(() => void drain(execution));
      }
    }
  }

  async function listen(channels: string[], execution: Execution) {
    const waits: Promise<number>[] = [];
    for (const channel of channels) {
      let entry = byChannel.get(channel);
      if (!entry) {
        const subscription = pubsub.subscribe(options.channelPrefix + channel, (message: unknown) => onEvent(channel, message));
        entry = { executions: new Set(), subscription };
        byChannel.set(channel, entry);
      }
      entry.executions.add(execution);
      waits.push(entry.subscription);
    }
    // Subscribed before the first value is read, so no change between the two is missed.
    await Promise.all(waits);
  }

  function unlisten(execution: Execution) {
    for (const channel of execution.channels) {
      const entry = byChannel.get(channel);
      if (!entry) continue;
      entry.executions.delete(execution);
      if (entry.executions.size === 0) {
        byChannel.delete(channel);
        entry.subscription.then(
          (id) => pubsub.unsubscribe(id),
          () => {},
        );
      }
    }
  }

  /**
   * Asks the owning subgraph, as the caller, for the entities the subscription names, and returns
   * their keys as the owner spells them. The owner's own checks decide, and its refusal reaches
   * the client as it would over HTTP: another user's payment NOT_FOUND, an unknown symbol
   * BAD_USER_INPUT.
   */
  async function authorise(prepared: PreparedSubscription, keys: string[], request: SubscribeRequest): Promise<{ errors: GraphQLError[] } | { keys: string[] }> {
    const source = dataSources.get(prepared.owner);
    if (!source) return { errors: [new GraphQLError(`The ${prepared.owner} service is not in the supergraph.`, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } })] };
    const keyField = prepared.keyField!;
    const context = { authorization: request.subscriber.authorization(), requestId: request.requestId };
    let response;
    try {
      response = await source.process({
        kind: 'incoming operation' as never,
        request: {
          query: `query($representations:[_Any!]!){_entities(representations:$representations){...on ${prepared.entityType}{${keyField}}}}`,
          variables: { representations: keys.map((key) => ({ __typename: prepared.entityType, [keyField]: key })) },
        },
        context,
        incomingRequestContext: { context, request: {}, metrics: {} } as never,
      } as never);
    } catch (error) {
      return {
        errors: [
          error instanceof GraphQLError ? error : new GraphQLError(`The ${prepared.owner} service is unavailable.`, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } }),
        ],
      };
    }
    const refusal = response.errors?.find((e) => OWNER_REFUSALS.has(String(e.extensions?.code)));
    if (refusal) {
      const field = refusal.extensions?.code === ErrorCode.BAD_USER_INPUT ? { field: prepared.keyArgument } : {};
      return { errors: [new GraphQLError(refusal.message, { extensions: { code: refusal.extensions!.code, ...field } })] };
    }
    const entities = (response.data?._entities ?? []) as (Record<string, unknown> | null)[];
    const missing = keys.findIndex((_, i) => entities[i] == null);
    if (response.errors?.length && missing >= 0) {
      return {
        errors: [new GraphQLError(`The ${prepared.owner} service could not check this subscription; try again shortly.`, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } })],
      };
    }
    if (missing >= 0) return { errors: [new GraphQLError(`${prepared.entityType} ${keys[missing]} was not found.`, { extensions: { code: ErrorCode.NOT_FOUND } })] };
    return { keys: keys.map((key, i) => String(entities[i]?.[keyField] ?? key)) };
  }

  /** Joins (or starts) an execution; a new entity execution first reads the current value of each key. */
  async function join(key: string, prepared: PreparedSubscription, request: SubscribeRequest, channels: string[]): Promise<Execution> {
    let execution = executions.get(key);
    if (!execution) {
      execution = {
        key,
        id: randomUUID(),
        prepared,
        variables: request.variables,
        channels,
        subscribers: new Set(),
        pending: new Map(),
        latest: new Map(),
        running: false,
      };
      executions.set(key, execution);
      metrics.executions.set(executions.size);
      execution.subscribers.add(request.subscriber);
      await listen(channels, execution);
      if (prepared.kind === 'entity') {
        // The key alone: the executor asks the owner for the rest, which is the value right now.
        // A change published meanwhile replaces it in `pending`, and is newer anyway.
        const receivedAt = process.hrtime.bigint();
        for (const channel of channels) {
          if (!execution.pending.has(channel)) {
            enqueue(execution, channel, { __typename: prepared.entityType, [prepared.keyField!]: channel.slice(prepared.entityType.length + 1) }, receivedAt);
          }
        }
      }
      return execution;
    }
    execution.subscribers.add(request.subscriber);
    for (const channel of channels) {
      const latest = execution.latest.get(channel);
      if (latest) request.subscriber.deliver(latest.json, latest.result);
    }
    return execution;
  }

  function leave(joined: Execution[], subscriber: Subscriber): boolean {
    let left = false;
    for (const execution of joined) {
      if (!execution.subscribers.delete(subscriber)) continue;
      left = true;
      if (execution.subscribers.size === 0 && executions.get(execution.key) === execution) {
        executions.delete(execution.key);
        unlisten(execution);
      }
    }
    metrics.executions.set(executions.size);
    return left;
  }

  return {
    metrics,
    /** Loads (or reloads) the supergraph. Open subscriptions end: their plans may no longer hold. */
    setSupergraph(supergraphSdl: string, urlOverrides: Record<string, string | undefined>) {
      const next = createSupergraphView(supergraphSdl, options.limits);
      dataSources = new Map(
        [...next.subgraphUrls()].map(([name, url]) => {
          const source = options.dataSourceFor(name, urlOverrides[name] ?? url);
          const counted: GraphQLDataSource = {
            process: (request) => {
              metrics.fetches.inc({ subgraph: name });
              return source.process(request);
            },
          };
          return [name, counted];
        }),
      );
      const hadSchema = view !== undefined;
      view = next;
      const batchers = new Map(
        [...dataSources].map(([name, source]) => [
          name,
          createEntityBatcher(source, {
            onBatch: (size) => metrics.batchSize.observe({ subgraph: name }, size),
            onAnswer: (seconds) => metrics.fetchSeconds.observe({ subgraph: name }, seconds),
          }),
        ]),
      );
      executor = createEventExecutor(next, batchers);
      if (hadSchema) this.endAll('The schema changed; subscribe again.');
    },
    /** The planner's decision for an operation, for tests and diagnostics. */
    prepare(document: DocumentNode, operationName?: string) {
      return view?.prepare(document, operationName);
    },
    async subscribe(request: SubscribeRequest): Promise<SubscribeOutcome> {
      if (!view) return { errors: [new GraphQLError('The gateway has no schema yet.', { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } })] };
      const prepared = view.prepare(request.document, request.operationName);
      if (Array.isArray(prepared)) return { errors: prepared };
      const ready = prepared as PreparedSubscription;
      const channels = channelsFor(ready, rootFieldOf(ready), request.variables, request.user.id);
      if (channels instanceof GraphQLError) return { errors: [channels] };
      if (channels.length > maxChannels) {
        return {
          errors: [
            new GraphQLError(`Subscribe to at most ${maxChannels} ${ready.entityType} at once.`, { extensions: { code: ErrorCode.BAD_USER_INPUT, field: ready.keyArgument } }),
          ],
        };
      }
      const subscriber = request.subscriber;
      const joined: Execution[] = [];
      const keyOf = (channel: string) => channel.slice(ready.entityType.length + 1);
      const channelOf = (key: string) => `${ready.entityType}.${key}`;
      if (ready.shared) {
        // Public data: one execution per selection and key, whatever list a subscriber asked for,
        // so 10,000 clients over 200 symbols share at most 200 executions per selection. A key is
        // checked with its owner only when no execution serves it yet: a subscriber to public data
        // costs no call to any subgraph.
        const base = `public\u0000${selectionKey(ready, request.variables)}`;
        const fresh = channels.filter((channel) => !executions.has(`${base}\u0000${channel}`));
        let resolved = channels;
        if (fresh.length) {
          const unchecked = fresh.filter((channel) => !checking.has(`${base}\u0000${channel}`));
          if (unchecked.length) {
            const check = authorise(ready, unchecked.map(keyOf), request);
            unchecked.forEach((channel, i) => {
              const one = check.then((r) => ('errors' in r ? r : { keys: [r.keys[i]!] }));
              checking.set(`${base}\u0000${channel}`, one);
              void one.finally(() => checking.delete(`${base}\u0000${channel}`));
            });
          }
          const answers = await Promise.all(fresh.map((channel) => checking.get(`${base}\u0000${channel}`)!));
          const refused = answers.find((answer) => 'errors' in answer);
          if (refused) return refused as { errors: GraphQLError[] };
          const canonical = new Map(fresh.map((channel, i) => [channel, channelOf((answers[i] as { keys: string[] }).keys[0]!)]));
          resolved = [...new Set(channels.map((channel) => canonical.get(channel) ?? channel))];
        }
        for (const channel of resolved) joined.push(await join(`${base}\u0000${channel}`, ready, request, [channel]));
      } else {
        // Private data: the subscriber's own execution, with their token on every fetch.
        let resolved = channels;
        if (ready.kind === 'entity') {
          const checked = await authorise(ready, channels.map(keyOf), request);
          if ('errors' in checked) return checked;
          resolved = [...new Set(checked.keys.map(channelOf))];
        }
        const key = `user:${request.user.id}\u0000${request.operationName ?? ''}\u0000${print(request.document)}\u0000${JSON.stringify(request.variables)}`;
        joined.push(await join(key, ready, request, resolved));
      }
      metrics.subscriptions.inc();
      let active = true;
      return {
        unsubscribe: () => {
          if (!active) return;
          active = false;
          if (leave(joined, subscriber)) metrics.subscriptions.dec();
        },
      };
    },
    /** Called with every revocation notice (logout, admin action, disabled user) as it is published. */
    onRevocation(listener: (notice: RevocationNotice) => void): () => void {
      revocationListeners.add(listener);
      return () => revocationListeners.delete(listener);
    },
    endAll(reason: string) {
      for (const execution of [...executions.values()]) {
        for (const subscriber of [...execution.subscribers]) subscriber.end(reason);
        execution.subscribers.clear();
        unlisten(execution);
      }
      executions.clear();
      metrics.executions.set(0);
      metrics.subscriptions.set(0);
    },
    async close() {
      this.endAll('The gateway is shutting down.');
      await redis.quit().catch(() => redis.disconnect());
    },
    ping: () => redis.ping(),
  };
}
export type SubscriptionHub = ReturnType<typeof createSubscriptionHub>;

/** Errors leave the gateway the same way over every transport: a code, a message, no internals. */
function clientError(error: unknown) {
  const formatted = error instanceof GraphQLError ? error.toJSON() : { message: error instanceof Error ? error.message : String(error) };
  return formatError(formatted);
}

/**
 * What makes two public subscriptions the same apart from their keys: the root field without its
 * key argument, the fragments, and any other variables.
 */
function selectionKey(prepared: PreparedSubscription, variables: Record<string, unknown>): string {
  let selection = selections.get(prepared);
  if (!selection) {
    const root = rootFieldOf(prepared);
    const keyArgument = root.arguments?.find((a) => a.name.value === prepared.keyArgument);
    const keyVariable = keyArgument?.value.kind === Kind.VARIABLE ? keyArgument.value.name.value : undefined;
    const fragments = prepared.document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => print(d));
    selection = { text: `${print({ ...root, arguments: [] })}\u0000${fragments.join('\u0000')}`, keyVariable };
    selections.set(prepared, selection);
  }
  const otherVariables = Object.entries(variables).filter(([name]) => name !== selection.keyVariable);
  return `${selection.text}\u0000${JSON.stringify(otherVariables)}`;
}
/** The printed part of selectionKey per plan: the same for every subscriber of that plan. */
const selections = new WeakMap<PreparedSubscription, { text: string; keyVariable: string | undefined }>();
