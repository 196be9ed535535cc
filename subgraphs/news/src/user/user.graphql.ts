import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, ObjectType, Resolver, Root } from 'type-graphql';
import { assertOwnerOrAdmin } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import type { ArticleRecord } from '../articles/articles.js';
import { Article } from '../articles/articles.graphql.js';
import type { NewsContext } from '../context.js';
import { savedArticleIds } from '../interactions/interactions.js';

const MAX_SAVED = 500;

@Directive('@key(fields: "id")')
@ObjectType('User')
export class User {
  @Field(() => ID) id!: string;
}

@Resolver(() => User)
export class SavedArticlesResolver {
  @Authorized()
  @FieldResolver(() => [Article], { nullable: true, description: 'Articles the user saved, most recently saved first. Only the user sees them.' })
  async savedArticles(
    @Root() user: User,
    @Arg('first', () => Int, { defaultValue: 100, description: `At most ${MAX_SAVED}.` }) first: number,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    if (first < 1 || first > MAX_SAVED) throw badInput('first', `Ask for 1 to ${MAX_SAVED} saved articles.`);
    const ids = await savedArticleIds(ctx.store, user.id, first);
    const articles = await ctx.articles.loadMany(ids);
    // An article withdrawn after it was saved drops out of the list.
    return articles.filter((a): a is ArticleRecord => {
      if (a instanceof Error) throw a;
      return a !== null;
    });
  }
}
