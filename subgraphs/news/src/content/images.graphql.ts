import { Authorized, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { ANY_CALLER } from '@analytica/auth';
import { Article } from '../articles/articles.graphql.js';
import type { ArticleRecord } from '../articles/articles.js';
import type { NewsContext } from '../context.js';
import { imagePath } from './content.js';

@Resolver(() => Article)
export class ArticleImageResolver {
  @Authorized(ANY_CALLER)
  @FieldResolver(() => String, {
    nullable: true,
    description:
      "The article's picture as static content (PNG, JPEG, GIF or WebP; Cache-Control, ETag, 304), a path like contentPath: GET it from the news service, or a CDN in front of it. Fetched from the source when the article was stored, or drawn for articles without one; null when there is none.",
  })
  async imageUrl(@Root() article: ArticleRecord, @Ctx() ctx: NewsContext): Promise<string | null> {
    return (await ctx.hasImage.load(article.id)) ? imagePath(article.id) : null;
  }
}
