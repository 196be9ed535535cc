import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Redis } from 'ioredis';

/**
 * Live events: the one place that names the Redis pub/sub channels between the services that
 * publish and the gateway that serves GraphQL subscriptions. Channel names exclude the deployment
 * prefix (REDIS_KEY_PREFIX), which the publisher and the gateway's subscriber each add.
 *
 * Two kinds of stream, both decided by the subscription field's shape in the owner's schema:
 * - Entity state: a root field with one argument holding the key(s) of an entity with a single key
 *   field (`quote(symbol)`, `paymentStatus(id)`, `movers(region)`). Events are the entity's new
 *   state, on `<Type>.<key>`. A subscriber first gets the current state, then each change.
 * - Caller events: a root field without arguments (`priceAlertTriggered`, `insightCreated`).
 *   Events belong to one user and are published on that user's channel for the type; nobody
 *   else's subscription listens there.
 */
export const entityChannel = (typename: string, key: string | number) => `${typename}.${key}`;
export const callerChannel = (typename: string, userId: string) => `user:${userId}:${typename}`;

/**
 * A logout, an admin's revocation, a disabled user, a revoked partner consent, or a suspended or
 * deleted partner or partner app: the gateway ends the matching open subscriptions at once instead
 * of at the next periodic check. The message is `RevocationNotice` as JSON.
 */
export const SESSIONS_REVOKED_CHANNEL = 'auth:sessions-revoked';
/**
 * Exactly one of three shapes:
 * - `{ userId, sessionIds? }`: those sessions of the user (a partner consent's id is the session of
 *   the tokens issued under it), or every session of the user when `sessionIds` is absent;
 * - `{ partnerId }`: every token carrying this partner's `partner` claim (app and consent tokens);
 * - `{ appId }`: every token issued to this partner app (its client id).
 * The fields are optional rather than a union so that a listener that knows only the first shape
 * (it checks `userId`) keeps compiling and ignores the other two.
 */
export interface RevocationNotice {
  userId?: string;
  /** The sessions revoked; absent when every session of the user ends (user disabled). */
  sessionIds?: string[];
  /** A partner suspended or deleted: its tokens issued up to now are refused. */
  partnerId?: string;
  /** A partner app deleted: its tokens issued up to now are refused. */
  appId?: string;
}

/**
 * An event payload is the GraphQL result of the owner's part of the selection: `__typename`, the
 * key field and the type's own fields under their GraphQL names, serialised as GraphQL serialises
 * them (dates as ISO 8601 strings). Fields it leaves out are fetched from the owner per event.
 */
export type LivePayload = { __typename: string } & Record<string, unknown>;

export interface LivePublisher {
  /** A new state of the entity `typename` with this key. */
  entity(typename: string, key: string | number, payload: Omit<LivePayload, '__typename'>): Promise<void>;
  /** An event for one user only. */
  toUser(typename: string, userId: string, payload: Omit<LivePayload, '__typename'>): Promise<void>;
  revoked(notice: RevocationNotice): Promise<void>;
}

const publishers = new WeakMap<Redis, Map<string, LivePublisher>>();

/**
 * Publishes through graphql-redis-subscriptions (JSON serialisation) on a client the caller owns.
 * One publisher per client and prefix, however often this is called: the pub/sub object adds
 * listeners to the client it is given.
 */
export function createLivePublisher(redis: Redis, channelPrefix: string): LivePublisher {
  let byPrefix = publishers.get(redis);
  if (!byPrefix) publishers.set(redis, (byPrefix = new Map()));
  let publisher = byPrefix.get(channelPrefix);
  if (!publisher) byPrefix.set(channelPrefix, (publisher = livePublisher(redis, channelPrefix)));
  return publisher;
}

function livePublisher(redis: Redis, channelPrefix: string): LivePublisher {
  // Publishing never puts this client in subscriber mode, so it may be the service's ordinary client.
  const pubsub = new RedisPubSub({ publisher: redis, subscriber: redis });
  return {
    entity: (typename, key, payload) => pubsub.publish(channelPrefix + entityChannel(typename, key), { ...payload, __typename: typename }),
    toUser: (typename, userId, payload) => pubsub.publish(channelPrefix + callerChannel(typename, userId), { ...payload, __typename: typename }),
    revoked: (notice) => pubsub.publish(channelPrefix + SESSIONS_REVOKED_CHANNEL, notice),
  };
}
