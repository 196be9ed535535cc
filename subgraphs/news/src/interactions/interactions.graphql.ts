import { Arg, Authorized, Ctx, Directive, ID, Int, Mutation, Resolver } from 'type-graphql';
import { requireUser } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import { Article, requireArticle } from '../articles/articles.graphql.js';
import type { ArticleRecord } from '../articles/articles.js';
import type { NewsContext } from '../context.js';
import { MAX_DWELL_MS, recordDwell } from './interactions.js';

const MAX_ARTICLE_ID = 200;

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

  /**
   * Every click is an event (CLICK), and none is folded into a counter on the article: popularity
   * counts each reader once (likes, saves, first views), and a count of every click would let one
   * reader lift an article by clicking again and again. The ranking pipeline reads clicks from the
   * events and the interaction log, where it can count them per reader as it needs.
   */
  @Authorized()
  @Directive('@tag(name: "private")')
  @Mutation(() => Article, {
    description:
      "Records that you clicked through to the article's source (its url): every click is sent on as a CLICK interaction event for the ranking pipeline and kept in the interaction log. It changes no count on the article.",
  })
  async recordArticleClick(@Arg('id', () => ID, { description: 'The article whose link you followed.' }) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    // An empty id would reach DynamoDB as an invalid key; the event contract takes at most 200 characters.
    if (id.length < 1 || id.length > MAX_ARTICLE_ID) throw badInput('id', `Give the article's id (1 to ${MAX_ARTICLE_ID} characters), as articles lists it.`);
    const article = await requireArticle(ctx, id);
    await ctx.interactionEvents.record('CLICK', user.id, id);
    return article;
  }
}
