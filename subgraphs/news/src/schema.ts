import { requireCaller } from '@analytica/auth';
import { buildFederatedSchema, userReference } from '@analytica/subgraph';
import { ArticleResolver } from './articles/articles.graphql.js';
import type { NewsContext } from './context.js';
// type-graphql prints the types in the order their classes are defined: User before Quote, as ever.
import { SavedArticlesResolver, User } from './user/user.graphql.js';
import { Quote, QuoteHeadlineResolver } from './quotes/quotes.graphql.js';

export function buildNewsSchema() {
  return buildFederatedSchema({
    resolvers: [ArticleResolver, SavedArticlesResolver, QuoteHeadlineResolver],
    orphanedTypes: [User, Quote],
    referenceResolvers: {
      User: userReference(),
      // Articles and headlines are not private, but they are for verified callers only (people and partner apps).
      Article: {
        // Async, so that a refusal fails only this entry of an _entities list.
        async __resolveReference(reference: { id: string }, ctx: NewsContext) {
          requireCaller(ctx);
          return reference.id.length <= 200 ? ctx.articles.load(reference.id) : null;
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
