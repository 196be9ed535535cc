import { requireCaller } from '@analytica/auth';
import { buildFederatedSchema, userReference } from '@analytica/subgraph';
import { ArticleResolver } from './articles/articles.graphql.js';
import { ArticleImageResolver } from './content/images.graphql.js';
import { InteractionResolver } from './interactions/interactions.graphql.js';
import type { NewsContext } from './context.js';
// type-graphql prints the types in the order their classes are defined: User before Quote, as ever.
import { Instrument, NewsPreferencesResolver, SavedArticlesResolver, User } from './user/user.graphql.js';
import { ArticleFlagResolver, HiddenArticleResolver, ModerationResolver } from './moderation/moderation.graphql.js';
import { Quote, QuoteHeadlineResolver } from './quotes/quotes.graphql.js';

export function buildNewsSchema() {
  return buildFederatedSchema({
    resolvers: [
      ArticleResolver,
      ArticleImageResolver,
      InteractionResolver,
      SavedArticlesResolver,
      NewsPreferencesResolver,
      QuoteHeadlineResolver,
      ModerationResolver,
      ArticleFlagResolver,
      HiddenArticleResolver,
    ],
    orphanedTypes: [User, Instrument, Quote],
    referenceResolvers: {
      User: {
        async __resolveReference(reference: { id: string; watchlist?: { symbol: string }[] | null }, ctx: NewsContext) {
          const user = await userReference().__resolveReference(reference, ctx);
          // Present when the gateway resolves myFeed, which @requires it from the market subgraph.
          return { ...user, watchlist: reference.watchlist ?? null };
        },
      },
      // Articles and headlines are not private, but they are for verified callers only (people and partner apps).
      Article: {
        // Async, so that a refusal fails only this entry of an _entities list.
        async __resolveReference(reference: { id: string }, ctx: NewsContext) {
          requireCaller(ctx);
          const article = reference.id.length <= 200 ? await ctx.articles.load(reference.id) : null;
          // A hidden article is gone for readers, through every path.
          return article && (ctx.user?.role === 'ADMIN' || !article.hidden) ? article : null;
        },
      },
      Quote: {
        async __resolveReference(reference: { symbol: string }, ctx: NewsContext) {
          requireCaller(ctx);
          return { symbol: reference.symbol };
        },
      },
    },
  });
}
