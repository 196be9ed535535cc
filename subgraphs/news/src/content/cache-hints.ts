import type { GraphQLResolveInfo } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';

/**
 * How long a CDN in front of the gateway may keep a public news answer (`articles`, `article`).
 * Short, because moderation must take effect quickly: the gateway itself answers a hidden article
 * as gone at once, a CDN within this many seconds.
 */
export const PUBLIC_NEWS_MAX_AGE_SECONDS = 30;

interface CacheHint {
  maxAge?: number;
  scope?: 'PUBLIC' | 'PRIVATE';
}

/** Apollo's per-field cache hint (its cache-control plugin puts `cacheControl` on `info`). */
function setCacheHint(info: GraphQLResolveInfo, hint: CacheHint): void {
  (info as GraphQLResolveInfo & { cacheControl?: { setCacheHint(hint: CacheHint): void } }).cacheControl?.setCacheHint(hint);
}

/**
 * On the root fields of public news and every object field under them (connection, edge, node):
 * Apollo gives an object field without a hint max-age 0, which makes the whole answer `no-store`.
 * Scalar fields inherit their parent's hint, so a scalar that differs per caller must say so
 * (`perCaller`), or it would be cached for everyone. The subgraph's answer then carries
 * `Cache-Control: max-age=30, public`, which the gateway combines with the other subgraphs'
 * (gateway/src/cache-hints.ts). Reached under `me` (myFeed, saved articles), the answer stays
 * `no-store`: `me` has no hint.
 */
export const publicNews: MiddlewareFn = async ({ info }, next) => {
  setCacheHint(info, { maxAge: PUBLIC_NEWS_MAX_AGE_SECONDS, scope: 'PUBLIC' });
  return next();
};

/** On fields about the caller (savedByMe, likedByMe): an answer that has one is never cached (`no-store`). */
export const perCaller: MiddlewareFn = async ({ info }, next) => {
  setCacheHint(info, { maxAge: 0, scope: 'PRIVATE' });
  return next();
};
