import { Arg, Authorized, Ctx, Directive, ID, Int, Mutation, Resolver } from 'type-graphql';
import { requireUser } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import { Article, requireArticle } from '../articles/articles.graphql.js';
import type { ArticleRecord } from '../articles/articles.js';
import type { NewsContext } from '../context.js';
import { MAX_DWELL_MS, recordDwell } from './interactions.js';

@Resolver()
export class InteractionResolver {
  @Authorized()
  @Directive('@tag(name: "private")')
  @Mutation(() => Article, {
    description:
      'Records how long you read the article in one session (send it when you leave the article): kept with your reading history and sent on as a DWELL interaction event for the ranking pipeline.',
  })
  async recordArticleDwell(
    @Arg('id', () => ID, { description: 'The article you read.' }) id: string,
    @Arg('milliseconds', () => Int, { description: `How long it was on screen in this session: 1 to ${MAX_DWELL_MS} (an hour).` }) milliseconds: number,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    if (!(milliseconds >= 1 && milliseconds <= MAX_DWELL_MS)) throw badInput('milliseconds', `Give the time read in milliseconds, 1 to ${MAX_DWELL_MS}.`);
    const article = await requireArticle(ctx, id);
    await recordDwell(ctx.store, ctx.interactionEvents, user.id, id, milliseconds);
    return article;
  }
}
