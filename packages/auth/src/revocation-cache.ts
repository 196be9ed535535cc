import type { Redis } from '@analytica/redis';
import type { RevocationList } from './revocation.js';

/**
 * "Not revoked" verdicts kept in this process for a few seconds, dropped the moment any revocation
 * is published. Checking a token was one Redis round trip per request in every service on its path
 * (the gateway, then each subgraph the plan calls in turn). With this cache a session in use is
 * looked up once per `ttlMs` instead. (A CPU profile of the gateway put a tenth of its samples in
 * that HMGET's socket write; removing it did not lower the gateway's measured CPU per request on
 * the 2-core test machine, issue 18: what it saves is the round trip, which counts where Redis is
 * across a network.)
 *
 * Why a revocation still takes effect at once: every revocation write publishes its notice on
 * SESSIONS_REVOKED_CHANNEL in the same MULTI (revocation.ts), and Redis queues a published message
 * to its subscribers while it executes that MULTI, before it answers the writer. The notice
 * therefore reaches this process before the revoking request (a logout, an admin action) has even
 * been answered, let alone before the client's next request, and empties the cache. Three more
 * rules keep that true:
 * - only "not revoked" is cached: a revoked token is looked up every time (and an enabled user is
 *   not held back by a stale "disabled");
 * - nothing is cached unless the notice connection is subscribed; when it drops (a notice may be
 *   lost meanwhile) the cache is emptied and stays off until it has subscribed again;
 * - a lookup that was in flight while a notice arrived is not cached (a generation count), so an
 *   answer read before a revocation cannot outlive it.
 * `ttlMs` bounds what a failure of all this could cost: a revoked session served that long.
 */
export interface RevocationCache extends RevocationList {
  /** Whether verdicts are being kept: only while the notice connection is subscribed. */
  readonly listening: boolean;
  /** Unsubscribes and closes the notice connection. */
  close(): Promise<void>;
}

export function cacheRevocations(list: RevocationList, options: { notices: Redis; channel: string; ttlMs: number; maxEntries?: number }): RevocationCache {
  const { notices, channel, ttlMs } = options;
  const maxEntries = options.maxEntries ?? 50_000;
  // Token key -> when its "not revoked" stops counting (ms since the epoch).
  const notRevoked = new Map<string, number>();
  let generation = 0;
  let listening = false;

  const forgetAll = () => {
    generation += 1;
    notRevoked.clear();
  };
  const stopListening = () => {
    listening = false;
    forgetAll();
  };
  const listen = () => {
    notices
      .subscribe(channel)
      .then(() => {
        // Whatever was published before this point was missed: start from nothing.
        forgetAll();
        listening = notices.status === 'ready';
      })
      .catch(stopListening);
  };

  notices.on('message', (from: string) => {
    if (from === channel) forgetAll();
  });
  notices.on('close', stopListening);
  notices.on('end', stopListening);
  notices.on('error', stopListening);
  // After a reconnection: subscribe again (ioredis would too; doing it here tells us when it holds).
  notices.on('ready', listen);
  if (notices.status === 'ready') listen();

  const keyOf = (token: Parameters<RevocationList['isRevoked']>[0]) =>
    token.partner ? `${token.id}\0${token.sessionId}\0${token.partner.id}\0${token.partner.appId}\0${token.issuedAt ?? ''}` : `${token.id}\0${token.sessionId}`;

  /** Writes made in this process empty the cache at once, without waiting for their own notice. */
  const writing =
    <A extends unknown[]>(write: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      forgetAll();
      try {
        await write(...args);
      } finally {
        forgetAll();
      }
    };

  return {
    get listening() {
      return listening;
    },
    async isRevoked(token) {
      const key = keyOf(token);
      const until = notRevoked.get(key);
      if (until !== undefined && until > Date.now()) return false;
      const seen = generation;
      const cacheable = listening;
      const revoked = await list.isRevoked(token);
      if (!revoked && cacheable && listening && generation === seen) {
        notRevoked.delete(key);
        if (notRevoked.size >= maxEntries) notRevoked.delete(notRevoked.keys().next().value!);
        notRevoked.set(key, Date.now() + ttlMs);
      }
      return revoked;
    },
    revokeSessions: writing(list.revokeSessions),
    disableUser: writing(list.disableUser),
    enableUser: writing(list.enableUser),
    revokePartner: writing(list.revokePartner),
    revokeApp: writing(list.revokeApp),
    partnerRevokedAt: list.partnerRevokedAt,
    async close() {
      stopListening();
      notices.removeAllListeners('ready');
      await notices.quit().catch(() => notices.disconnect());
    },
  };
}
