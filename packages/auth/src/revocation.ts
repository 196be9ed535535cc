import { redisGuard, type Redis } from '@analytica/redis';
import { SESSIONS_REVOKED_CHANNEL, type RevocationNotice } from '@analytica/redis/live';

/**
 * Revoked sessions and disabled users, kept in Redis so that a logout, an admin action or a
 * refresh-token reuse stops every access token of that session at once, at the gateway and in
 * every subgraph. One hash per user holds both facts, so checking a token is one HMGET.
 *
 * Partners' tokens can also be stopped wholesale: suspending or deleting a partner, or deleting one
 * of its apps, records the time it happened, and every token carrying that partner (or app) in its
 * `partner` claim that was issued at or before that time is refused. A time rather than a flag, so
 * that a partner reinstated later gets working tokens again while the ones handed out before the
 * suspension stay dead. Such a token is checked in one pipelined round trip (the user's hash and
 * the two times together).
 *
 * Entries only have to outlive the access tokens they stop: after that the session's refresh
 * token (refused by the user service's database) is the only way back in, and a partner's new
 * tokens are refused by the user service's token endpoint. Every write sets its key to expire
 * `ttlSeconds` later, which is never sooner than an earlier entry needed.
 *
 * Each revocation is also published (SESSIONS_REVOKED_CHANNEL, in the same MULTI as the write), so
 * the gateway ends the session's open subscriptions at once rather than at its next check.
 */
export interface RevocationList {
  /**
   * True when the token's session was revoked or its user disabled, or, for a token with a
   * `partner` claim, when its partner or app was revoked at or after `issuedAt` (the token's `iat`,
   * seconds). Without `issuedAt` such a token counts as revoked whenever its partner or app has an
   * entry (fail closed).
   */
  isRevoked(token: { id: string; sessionId: string; issuedAt?: number; partner?: { id: string; appId: string } }): Promise<boolean>;
  revokeSessions(userId: string, sessionIds: string[]): Promise<void>;
  disableUser(userId: string): Promise<void>;
  enableUser(userId: string): Promise<void>;
  /** Refuses every token of the partner (app and consent tokens) issued up to now. */
  revokePartner(partnerId: string): Promise<void>;
  /** Refuses every token of one partner app issued up to now. */
  revokeApp(appId: string): Promise<void>;
  /**
   * The latest revocation time (seconds) of the partner or the app, null for none: the token
   * endpoint waits past it, so that a token it issues in the same second is not dead on arrival.
   */
  partnerRevokedAt(partner: { id: string; appId: string }): Promise<number | null>;
}

/**
 * Where revocations are published on `redis`'s deployment. Pub/sub channels take no key prefix from
 * the client: the deployment's prefix is added by hand, as every publisher does.
 */
export const revocationChannel = (redis: Redis) => ((redis.options as { keyPrefix?: string } | undefined)?.keyPrefix ?? '') + SESSIONS_REVOKED_CHANNEL;

/** The longest access token lifetime the user service allows (ACCESS_TOKEN_TTL_SECONDS), plus clock skew. */
export const DEFAULT_REVOCATION_TTL_SECONDS = 3600 + 60;

const DISABLED = 'disabled';
const keyOf = (userId: string) => `auth:revoked:${userId}`;
const sessionField = (sessionId: string) => `sid:${sessionId}`;
const partnerKey = (partnerId: string) => `auth:revoked-partner:${partnerId}`;
const appKey = (appId: string) => `auth:revoked-app:${appId}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Reads go through the connection's guard (packages/redis redisGuard): each waits at most the
 * budget's command timeout (or `timeoutMs`), and a Redis that keeps failing is not asked at all
 * for a while (circuit open). Either way the read rejects with RedisUnavailableError: "cannot
 * tell", which the verifier answers by its outage rule, never as "revoked".
 */
export function createRevocationList(redis: Redis, options: { ttlSeconds?: number; timeoutMs?: number } = {}): RevocationList {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_REVOCATION_TTL_SECONDS;
  const guard = redisGuard(redis, options.timeoutMs === undefined ? {} : { commandTimeoutMs: options.timeoutMs });

  const channel = revocationChannel(redis);

  async function exec(transaction: ReturnType<Redis['multi']>) {
    const results = await transaction.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('revocation write was discarded');
  }

  const write = (userId: string, fields: Record<string, string>, notice: RevocationNotice) =>
    exec(redis.multi().hset(keyOf(userId), fields).expire(keyOf(userId), ttlSeconds).publish(channel, JSON.stringify(notice)));

  // A later revocation only moves the time forward, which refuses a superset of what an earlier one did.
  const writeTime = (key: string, notice: RevocationNotice) => exec(redis.multi().set(key, String(nowSeconds()), 'EX', ttlSeconds).publish(channel, JSON.stringify(notice)));

  /**
   * The partner's and the app's revocation times (seconds), read with one MGET. Sent beside the
   * user's HMGET, both go out in the same write on the one connection (one round trip) without the
   * cost of building an ioredis pipeline for every request.
   */
  const partnerTimes = (partner: { id: string; appId: string }) => redis.mget(partnerKey(partner.id), appKey(partner.appId));

  return {
    async isRevoked(token) {
      if (!token.partner) {
        // The common case stays one command, as it always was.
        const [disabled, session] = await guard.run(() => redis.hmget(keyOf(token.id), DISABLED, sessionField(token.sessionId)));
        return disabled !== null || session !== null;
      }
      const [[disabled, session], times] = await guard.run(() =>
        Promise.all([redis.hmget(keyOf(token.id), DISABLED, sessionField(token.sessionId)), partnerTimes(token.partner!)]),
      );
      if (disabled !== null || session !== null) return true;
      const issuedAt = token.issuedAt ?? Number.NEGATIVE_INFINITY;
      return times.some((time) => time !== null && issuedAt <= Number(time));
    },
    async revokeSessions(userId, sessionIds) {
      if (sessionIds.length === 0) return;
      const now = String(nowSeconds());
      await write(userId, Object.fromEntries(sessionIds.map((id) => [sessionField(id), now])), { userId, sessionIds });
    },
    async disableUser(userId) {
      await write(userId, { [DISABLED]: String(nowSeconds()) }, { userId });
    },
    async enableUser(userId) {
      await redis.hdel(keyOf(userId), DISABLED);
    },
    async revokePartner(partnerId) {
      await writeTime(partnerKey(partnerId), { partnerId });
    },
    async revokeApp(appId) {
      await writeTime(appKey(appId), { appId });
    },
    async partnerRevokedAt(partner) {
      const times = await guard.run(() => partnerTimes(partner));
      const seconds = times.filter((time) => time !== null).map(Number);
      return seconds.length ? Math.max(...seconds) : null;
    },
  };
}
