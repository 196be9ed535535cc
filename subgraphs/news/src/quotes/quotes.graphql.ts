import { Authorized, Ctx, Directive, Field, FieldResolver, ObjectType, Resolver, Root } from 'type-graphql';
import { ANY_CALLER } from '@analytica/auth';
import { listArticles, type ArticleRecord } from '../articles/articles.js';
import { Article } from '../articles/articles.graphql.js';
import type { NewsContext } from '../context.js';
import { isBlocked } from '../moderation/moderation.js';

/** The market's Quote, extended with the news about its instrument. */
@Directive('@key(fields: "symbol")')
@ObjectType('Quote')
export class Quote {
  @Field(() => String, { description: "The instrument's symbol." }) symbol!: string;
}

// Headlines change far less often than quotes tick: a short cache spares DynamoDB one query per tick.
const HEADLINE_TTL_MS = 5000;
const headlineCache = new Map<string, { at: number; article: ArticleRecord | null }>();

/** Drops every cached headline (a source was blocked or unblocked: any symbol's headline may change). */
export function forgetAllHeadlines(): void {
  headlineCache.clear();
}

/** Drops the cached headlines of these symbols (an article about them was just stored by this process). */
export function forgetHeadlines(symbols: readonly string[]): void {
  for (const symbol of symbols) headlineCache.delete(symbol);
}

@Resolver(() => Quote)
export class QuoteHeadlineResolver {
  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @FieldResolver(() => Article, { nullable: true, description: 'The newest article that mentions this instrument.' })
  async latestHeadline(@Root() quote: Quote, @Ctx() ctx: NewsContext): Promise<ArticleRecord | null> {
    const cached = headlineCache.get(quote.symbol);
    if (cached && Date.now() - cached.at < HEADLINE_TTL_MS) return cached.article;
    const blocked = await ctx.blocked();
    const page = await listArticles(ctx.store, { symbol: quote.symbol.toUpperCase(), first: 1, accept: (a) => !isBlocked(a, blocked) });
    const article = page.articles[0]?.article ?? null;
    if (headlineCache.size > 10_000) headlineCache.clear();
    headlineCache.set(quote.symbol, { at: Date.now(), article });
    return article;
  }
}
