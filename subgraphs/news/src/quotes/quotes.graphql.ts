import { Authorized, Ctx, Directive, Field, FieldResolver, ObjectType, Resolver, Root } from 'type-graphql';
import { ANY_CALLER } from '@analytica/auth';
import { listArticles, type ArticleRecord } from '../articles/articles.js';
import { Article } from '../articles/articles.graphql.js';
import type { NewsContext } from '../context.js';
import { isBlocked } from '../moderation/moderation.js';
import { createRefreshingCache } from './refreshing-cache.js';

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

/** Drops the cached headlines of these symbols (an article about them was just stored or moderated by this process). */
export function forgetHeadlines(symbols: readonly string[]): void {
  headlines.forget(symbols);
}

async function newestArticleAbout(symbol: string, ctx: NewsContext): Promise<ArticleRecord | null> {
  const blocked = await ctx.blocked();
  const page = await listArticles(ctx.store, { symbol: symbol.toUpperCase(), first: 1, accept: (a) => !isBlocked(a, blocked) });
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
      () => newestArticleAbout(quote.symbol, ctx),
      (err) => ctx.log.warn({ err, symbol: quote.symbol }, 'could not read a headline again; serving the cached one'),
    );
  }
}
