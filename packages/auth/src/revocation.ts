import type { Redis } from '@analytica/redis';
import { SESSIONS_REVOKED_CHANNEL, type RevocationNotice } from '@analytica/redis/live';

/**
 * Revoked sessions and disabled users, kept in Redis so that a logout, an admin action or a
 * refresh-token reuse stops every access token of that session at once, at the gateway and in
 * every subgraph. One hash per user holds both facts, so checking a token is one HMGET.
 *
 * Entries only have to outlive the access tokens they stop: after that the session's refresh
 * token (refused by the user service's database) is the only way back in. Every write sets the
 * hash to expire `ttlSeconds` later, which is never sooner than an earlier entry needed.
 *
 * Each revocation is also published (SESSIONS_REVOKED_CHANNEL, in the same MULTI as the write), so
 * the gateway ends the session's open subscriptions at once rather than at its next check.
 */
export interface RevocationList {
  /** True when the token's session was revoked or its user disabled. */
  isRevoked(user: { id: string; sessionId: string }): Promise<boolean>;
  revokeSessions(userId: string, sessionIds: string[]): Promise<void>;
  disableUser(userId: string): Promise<void>;
  enableUser(userId: string): Promise<void>;
}

/** The longest access token lifetime the user service allows (ACCESS_TOKEN_TTL_SECONDS), plus clock skew. */
export const DEFAULT_REVOCATION_TTL_SECONDS = 3600 + 60;

const DISABLED = 'disabled';
const keyOf = (userId: string) => `auth:revoked:${userId}`;
const sessionField = (sessionId: string) => `sid:${sessionId}`;

export function createRevocationList(redis: Redis, options: { ttlSeconds?: number; timeoutMs?: number } = {}): RevocationList {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_REVOCATION_TTL_SECONDS;
  const timeoutMs = options.timeoutMs ?? 1000;

  // Pub/sub channels take no key prefix from the client: the deployment's prefix is added by hand, as every publisher does.
  const channel = ((redis.options as { keyPrefix?: string } | undefined)?.keyPrefix ?? '') + SESSIONS_REVOKED_CHANNEL;

  async function write(userId: string, fields: Record<string, string>, notice: RevocationNotice) {
    const results = await redis.multi().hset(keyOf(userId), fields).expire(keyOf(userId), ttlSeconds).publish(channel, JSON.stringify(notice)).exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('revocation write was discarded');
  }

  return {
    async isRevoked(user) {
      const [disabled, session] = await withTimeout(redis.hmget(keyOf(user.id), DISABLED, sessionField(user.sessionId)), timeoutMs);
      return disabled !== null || session !== null;
    },
    async revokeSessions(userId, sessionIds) {
      if (sessionIds.length === 0) return;
      const now = String(Math.floor(Date.now() / 1000));
      await write(userId, Object.fromEntries(sessionIds.map((id) => [sessionField(id), now])), { userId, sessionIds });
    },
    async disableUser(userId) {
      await write(userId, { [DISABLED]: String(Math.floor(Date.now() / 1000)) }, { userId });
    },
    async enableUser(userId) {
      await redis.hdel(keyOf(userId), DISABLED);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // Timers run before the loop reads its sockets: after a stall longer than `ms` (a busy
    // machine, a long GC) the timer would fire although Redis's answer is already waiting to be
    // read. Give the loop's I/O phase one turn first, so only a real silence counts as a timeout.
    const timer = setTimeout(() => setImmediate(() => reject(new Error(`Redis did not answer within ${ms} ms`))), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
