import { randomUUID } from 'node:crypto';
import type { GraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, Kind, print, type DocumentNode, type ExecutionResult } from 'graphql';
import client from 'prom-client';
import type { AuthUser } from '@analytica/auth';
import { ErrorCode, formatError } from '@analytica/errors';
import type { Logger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { createEventExecutor, type EventExecutor } from './executor.js';
import { channelsFor, createSupergraphView, rootFieldOf, type PreparedSubscription, type SupergraphView } from './planner.js';

/** One client subscription, as the protocol layers (WebSocket, SSE) see it. */
export interface Subscriber {
  /** A result, already serialised once for every subscriber of the same execution. */
  deliver(json: string, result: ExecutionResult): void;
  /** The engine ends the subscription (e.g. the schema changed); the client should resubscribe. */
  end(reason: string): void;
}

export interface SubscribeRequest {
  document: DocumentNode;
  operationName?: string;
  variables: Record<string, unknown>;
  user: AuthUser;
  authorization: string;
  requestId: string;
  subscriber: Subscriber;
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
  subscribers: Map<Subscriber, { authorization: string }>;
  /** Latest payload per channel not yet executed: a burst for one key collapses to its newest value. */
  pending: Map<string, { payload: Record<string, unknown>; receivedAt: bigint }>;
  running: boolean;
}

export interface HubOptions {
  redisUrl: string;
  /** Channels are `<prefix><Entity>.<key>`: the prefix isolates deployments and test runs. */
  channelPrefix: string;
  logger: Logger;
  registry: client.Registry;
  dataSourceFor: (name: string, url: string) => GraphQLDataSource;
  maxChannelsPerSubscription?: number;
}

export function createSubscriptionHub(options: HubOptions) {
  const { logger } = options;
  const maxChannels = options.maxChannelsPerSubscription ?? 50;
  const redis = createRedis(options.redisUrl, { name: 'gateway-subscriptions', onError: (err) => logger.warn({ err }, 'subscription redis error') });
  const executions = new Map<string, Execution>();
  const byChannel = new Map<string, Set<Execution>>();
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
    latency: new client.Histogram({
      name: 'subscription_delivery_seconds',
      help: 'From receipt of an event to its result handed to the subscribers',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
  };

  redis.on('message', (channel: string, message: string) => {
    metrics.eventsIn.inc();
    const listeners = byChannel.get(channel.slice(options.channelPrefix.length));
    if (!listeners?.size) return;
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(message) as Record<string, unknown>;
    } catch {
      logger.warn({ channel }, 'ignored an event that is not JSON');
      return;
    }
    const receivedAt = process.hrtime.bigint();
    for (const execution of listeners) enqueue(execution, channel, payload, receivedAt);
  });

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
        const batch = [...execution.pending.values()];
        execution.pending.clear();
        const [first] = execution.subscribers.values();
        const context = { authorization: first?.authorization, requestId: `subscription-${execution.id}` };
        await Promise.all(
          batch.map(async ({ payload, receivedAt }) => {
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
            for (const subscriber of execution.subscribers.keys()) subscriber.deliver(json, result);
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
    const fresh: string[] = [];
    for (const channel of channels) {
      let set = byChannel.get(channel);
      if (!set) {
        set = new Set();
        byChannel.set(channel, set);
        fresh.push(options.channelPrefix + channel);
      }
      set.add(execution);
    }
    if (fresh.length) await redis.subscribe(...fresh);
  }

  function unlisten(execution: Execution) {
    const gone: string[] = [];
    for (const channel of execution.channels) {
      const set = byChannel.get(channel);
      set?.delete(execution);
      if (set && set.size === 0) {
        byChannel.delete(channel);
        gone.push(options.channelPrefix + channel);
      }
    }
    if (gone.length) void redis.unsubscribe(...gone).catch((err: unknown) => logger.warn({ err }, 'unsubscribe failed'));
  }

  /**
   * Asks the owning subgraph, as the caller, for the entities the subscription names. The owner's
   * own checks decide: another user's payment is refused, an unknown symbol is bad input.
   */
  async function authorise(prepared: PreparedSubscription, channels: string[], request: SubscribeRequest): Promise<readonly GraphQLError[] | null> {
    const source = dataSources.get(prepared.owner);
    if (!source) return [new GraphQLError(`The ${prepared.owner} service is not in the supergraph.`, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } })];
    const keys = channels.map((c) => c.slice(prepared.entityType.length + 1));
    const context = { authorization: request.authorization, requestId: request.requestId };
    let response;
    try {
      response = await source.process({
        kind: 'incoming operation' as never,
        request: {
          query: 'query($representations:[_Any!]!){_entities(representations:$representations){__typename}}',
          variables: { representations: keys.map((key) => ({ __typename: prepared.entityType, [prepared.keyField]: key })) },
        },
        context,
        incomingRequestContext: { context, request: {}, metrics: {} } as never,
      } as never);
    } catch (error) {
      return [error instanceof GraphQLError ? error : new GraphQLError(`The ${prepared.owner} service is unavailable.`, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } })];
    }
    const badInput = response.errors?.find((e) => e.extensions?.code === ErrorCode.BAD_USER_INPUT);
    if (badInput) return [new GraphQLError(badInput.message, { extensions: { ...badInput.extensions } })];
    const entities = (response.data?._entities ?? []) as (unknown | null)[];
    const missing = keys.filter((_, i) => entities[i] == null);
    if (response.errors?.length || missing.length) {
      const named = missing[0] ?? keys[0];
      return [
        prepared.shared
          ? new GraphQLError(`Unknown ${prepared.entityType} "${named}".`, { extensions: { code: ErrorCode.BAD_USER_INPUT, field: prepared.keyArgument } })
          : new GraphQLError(`You may not subscribe to ${prepared.entityType} ${named}.`, { extensions: { code: ErrorCode.FORBIDDEN } }),
      ];
    }
    return null;
  }

  return {
    metrics,
    /** Loads (or reloads) the supergraph. Open subscriptions end: their plans may no longer hold. */
    setSupergraph(supergraphSdl: string, urlOverrides: Record<string, string | undefined>) {
      const next = createSupergraphView(supergraphSdl);
      dataSources = new Map([...next.subgraphUrls()].map(([name, url]) => [name, options.dataSourceFor(name, urlOverrides[name] ?? url)]));
      const hadSchema = view !== undefined;
      view = next;
      executor = createEventExecutor(next, dataSources);
      if (hadSchema) this.endAll('The schema changed; subscribe again.');
    },
    async subscribe(request: SubscribeRequest): Promise<SubscribeOutcome> {
      if (!view) return { errors: [new GraphQLError('The gateway has no schema yet.', { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } })] };
      const prepared = view.prepare(request.document, request.operationName);
      if (Array.isArray(prepared)) return { errors: prepared };
      const ready = prepared as PreparedSubscription;
      const channels = channelsFor(ready, rootFieldOf(ready), request.variables);
      if (channels instanceof GraphQLError) return { errors: [channels] };
      if (channels.length > maxChannels) {
        return { errors: [new GraphQLError(`Subscribe to at most ${maxChannels} ${ready.entityType} at once.`, { extensions: { code: ErrorCode.BAD_USER_INPUT, field: ready.keyArgument } })] };
      }
      const subscriber = request.subscriber;
      const joined: Execution[] = [];
      const join = async (key: string, channelsOfExecution: string[]) => {
        let execution = executions.get(key);
        if (!execution) {
          execution = { key, id: randomUUID(), prepared: ready, variables: request.variables, channels: channelsOfExecution, subscribers: new Map(), pending: new Map(), running: false };
          executions.set(key, execution);
          metrics.executions.set(executions.size);
          await listen(channelsOfExecution, execution);
        }
        execution.subscribers.set(subscriber, { authorization: request.authorization });
        joined.push(execution);
      };
      if (ready.shared) {
        // Public data: one execution per selection and key, whatever list a subscriber asked for,
        // so 10,000 clients over 200 symbols share at most 200 executions per selection. Each new
        // key is authorised once, when its execution is created.
        const base = `public\u0000${selectionKey(ready, request.variables)}`;
        const fresh = channels.filter((channel) => !executions.has(`${base}\u0000${channel}`));
        if (fresh.length) {
          const refusal = await authorise(ready, fresh, request);
          if (refusal) return { errors: refusal };
        }
        for (const channel of channels) await join(`${base}\u0000${channel}`, [channel]);
      } else {
        // Private data: the subscriber's own execution, with their token on every fetch.
        const refusal = await authorise(ready, channels, request);
        if (refusal) return { errors: refusal };
        await join(`user:${request.user.id}\u0000${request.operationName ?? ''}\u0000${print(request.document)}\u0000${JSON.stringify(request.variables)}`, channels);
      }
      metrics.subscriptions.inc();
      let active = true;
      return {
        unsubscribe: () => {
          if (!active) return;
          active = false;
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
          if (left) metrics.subscriptions.dec();
        },
      };
    },
    endAll(reason: string) {
      for (const execution of [...executions.values()]) {
        for (const subscriber of [...execution.subscribers.keys()]) subscriber.end(reason);
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
  const root = rootFieldOf(prepared);
  const keyArgument = root.arguments?.find((a) => a.name.value === prepared.keyArgument);
  const keyVariable = keyArgument?.value.kind === Kind.VARIABLE ? keyArgument.value.name.value : undefined;
  const fragments = prepared.document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => print(d));
  const otherVariables = Object.entries(variables).filter(([name]) => name !== keyVariable);
  return `${print({ ...root, arguments: [] })}\u0000${fragments.join('\u0000')}\u0000${JSON.stringify(otherVariables)}`;
}
