import { Authorized, Ctx, Directive, Field, FieldResolver, ObjectType, Resolver, Root } from 'type-graphql';
import { ANY_CALLER } from '@analytica/auth';
import type { Logger } from '@analytica/logger';
import { listArticles, type ArticleRecord, type ArticleStore } from '../articles/articles.js';
import { Article } from '../articles/articles.graphql.js';
import type { NewsContext } from '../context.js';
import { blockedSources, isBlocked } from '../moderation/moderation.js';
import { createRefreshingCache } from '../refreshing-cache.js';

/** The market's Quote, extended with the news about its instrument. */
@Directive('@key(fields: "symbol")')
@ObjectType('Quote')
export class Quote {
  @Field(() => String, { description: "The instrument's symbol." }) symbol!: string;
}

// Headlines change far less often than quotes tick, and every tick of a symbol asks for its
// headline: the answer comes from memory. After 5 s it is read again from DynamoDB in the
// background while the cached one is still served, so a tick never waits for the store (the
// gateway's one batched request for many ticks would wait for the slowest read). A symbol nobody
// asked about for a minute is read while the caller waits.
const headlines = createRefreshingCache<ArticleRecord | null>({ freshMs: 5000, maxAgeMs: 60_000 });

/** Drops every cached headline (a source was blocked or unblocked: any symbol's headline may change). */
export function forgetAllHeadlines(): void {
  headlines.forgetAll();
}

/** Drops the cached headlines of these symbols (an article about them was hidden or restored by this process): their next ticks wait for the store. */
export function forgetHeadlines(symbols: readonly string[]): void {
  headlines.forget(symbols);
}

/**
 * Reads the headlines of these symbols again (an article about them was just stored) and resolves
 * once the next tick of each gets its new one from memory. Ticks meanwhile get the headline they
 * had, not a wait on DynamoDB: a forgotten headline made the next tick of the symbol wait for the
 * read, and with it every tick the gateway's batched request carried. A read that fails is logged;
 * the headline it was to replace is read again by its next tick, in the background.
 */
export async function renewHeadlines(symbols: readonly string[], store: ArticleStore, log: Logger): Promise<void> {
  let blocked: Promise<Set<string>> | undefined;
  await Promise.all(
    symbols.map((symbol) =>
      headlines
        .renew(symbol, () => newestArticleAbout(symbol, store, () => (blocked ??= blockedSources(store))))
        .catch((err: unknown) => log.warn({ err, symbol }, 'could not read a headline after a new article; its next tick reads it again')),
    ),
  );
}

async function newestArticleAbout(symbol: string, store: ArticleStore, blockedList: () => Promise<Set<string>>): Promise<ArticleRecord | null> {
  const blocked = await blockedList();
  const page = await listArticles(store, { symbol: symbol.toUpperCase(), first: 1, accept: (a) => !isBlocked(a, blocked) });
  return page.articles[0]?.article ?? null;
}

@Resolver(() => Quote)
export class QuoteHeadlineResolver {
  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @FieldResolver(() => Article, { nullable: true, description: 'The newest article that mentions this instrument.' })
  async latestHeadline(@Root() quote: Quote, @Ctx() ctx: NewsContext): Promise<ArticleRecord | null> {
    return headlines.get(
      quote.symbol,
      () => newestArticleAbout(quote.symbol, ctx.store, ctx.blocked),
      (err) => ctx.log.warn({ err, symbol: quote.symbol }, 'could not read a headline again; serving the cached one'),
    );
  }
}
