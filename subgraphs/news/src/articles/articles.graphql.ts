import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { ANY_CALLER, requireUser } from '@analytica/auth';
import { badInput, notFound } from '@analytica/errors';
import { PageInfo } from '@analytica/subgraph';
import type { NewsContext } from '../context.js';
import { likeArticle, saveArticle, unlikeArticle, unsaveArticle, type Interactions } from '../interactions/interactions.js';
import { listArticles, type ArticleRecord } from './articles.js';

const MAX_PAGE = 50;

@Directive('@key(fields: "id")')
// Public: the same for every signed-in reader, so subscriptions that select it are shared.
@Directive('@tag(name: "public")')
@ObjectType('Article', { description: 'A news item. Its content is the same for every signed-in reader; savedByMe and likedByMe are about the caller.' })
export class Article {
  @Field(() => ID) id!: string;
  @Field(() => String) title!: string;
  @Field(() => String, { description: 'One or two sentences for lists.' }) summary!: string;
  @Field(() => String) body!: string;
  @Field(() => String, { description: 'The publication it comes from.' }) source!: string;
  @Field(() => String, { description: 'Where the original is published.' }) url!: string;
  @Field(() => [String], { description: 'Lower-case slugs such as markets, economy, earnings, crypto, personal-finance.' }) topics!: string[];
  @Field(() => [String], { description: 'Symbols of the instruments it mentions, as the market service lists them.' }) symbols!: string[];
  @Field(() => GraphQLDateTimeISO) publishedAt!: Date;
  @Field(() => Int, { description: 'Readers who like it; each reader counts once.' }) likeCount!: number;
}

@Directive('@tag(name: "public")')
@ObjectType('ArticleEdge')
class ArticleEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Article) node!: ArticleRecord;
}

@Directive('@tag(name: "public")')
@ObjectType('ArticleConnection', { description: 'A page of articles, newest first.' })
class ArticleConnection {
  @Field(() => [ArticleEdge]) edges!: ArticleEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

async function requireArticle(ctx: NewsContext, id: string): Promise<ArticleRecord> {
  // Ids are short slugs; a huge one is simply not found rather than sent to DynamoDB as a key.
  const article = id.length <= 200 ? await ctx.articles.load(id) : null;
  if (!article) throw notFound('Article', id);
  return article;
}

function interactionsOf(ctx: NewsContext, articleId: string): Promise<Interactions> {
  requireUser(ctx);
  return ctx.interactions!.load(articleId);
}

/** Reads the article again after a change, with fresh counts and the caller's fresh state. */
function reloaded(ctx: NewsContext, id: string): Promise<ArticleRecord> {
  ctx.articles.clear(id);
  ctx.interactions?.clear(id);
  return requireArticle(ctx, id);
}

@Resolver(() => Article)
export class ArticleResolver {
  // Public like the articles themselves: any verified caller, partner apps' own tokens included.
  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @Query(() => ArticleConnection, { description: 'Articles newest first, optionally about one topic and/or one symbol.' })
  async articles(
    @Arg('topic', () => String, { nullable: true, description: 'e.g. markets, economy, earnings, crypto, personal-finance.' }) topic: string | null | undefined,
    @Arg('symbol', () => String, { nullable: true, description: 'An instrument symbol such as AAPL or SAP.DE.' }) symbol: string | null | undefined,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after: string | null | undefined,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleConnection> {
    if (first < 1 || first > MAX_PAGE) throw badInput('first', `Ask for 1 to ${MAX_PAGE} articles per page.`);
    const normalisedTopic = topic?.trim().toLowerCase() || undefined;
    if (normalisedTopic && !/^[a-z][a-z0-9-]{0,39}$/.test(normalisedTopic)) throw badInput('topic', 'Give a topic slug such as markets or personal-finance.');
    const normalisedSymbol = symbol?.trim().toUpperCase() || undefined;
    if (normalisedSymbol && !/^[A-Z0-9][A-Z0-9.-]{0,19}$/.test(normalisedSymbol)) throw badInput('symbol', 'Give an instrument symbol such as AAPL or SAP.DE.');

    const page = await listArticles(ctx.store, { topic: normalisedTopic, symbol: normalisedSymbol, first, after });
    for (const { article } of page.articles) ctx.articles.prime(article.id, article);
    const edges = page.articles.map(({ article, cursor }) => ({ cursor, node: article }));
    return {
      edges,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: false,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }

  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @Query(() => Article, { nullable: true, description: 'One article; an unknown id is NOT_FOUND.' })
  article(@Arg('id', () => ID) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    return requireArticle(ctx, id);
  }

  @Authorized()
  @Directive('@tag(name: "private")')
  @FieldResolver(() => Boolean, { description: 'Whether you saved it.' })
  async savedByMe(@Root() article: ArticleRecord, @Ctx() ctx: NewsContext): Promise<boolean> {
    return (await interactionsOf(ctx, article.id)).saved;
  }

  @Authorized()
  @Directive('@tag(name: "private")')
  @FieldResolver(() => Boolean, { description: 'Whether you like it.' })
  async likedByMe(@Root() article: ArticleRecord, @Ctx() ctx: NewsContext): Promise<boolean> {
    return (await interactionsOf(ctx, article.id)).liked;
  }

  @Authorized()
  @Mutation(() => Article, { description: 'Adds the article to your saved articles (saving twice keeps the first save).' })
  async saveArticle(@Arg('id', () => ID) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    await requireArticle(ctx, id);
    await saveArticle(ctx.store, user.id, id);
    return reloaded(ctx, id);
  }

  @Authorized()
  @Mutation(() => Article, { description: 'Removes the article from your saved articles.' })
  async unsaveArticle(@Arg('id', () => ID) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    await requireArticle(ctx, id);
    await unsaveArticle(ctx.store, user.id, id);
    return reloaded(ctx, id);
  }

  @Authorized()
  @Mutation(() => Article, { description: 'Likes the article; liking it again changes nothing.' })
  async likeArticle(@Arg('id', () => ID) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    await requireArticle(ctx, id);
    await likeArticle(ctx.store, user.id, id);
    return reloaded(ctx, id);
  }

  @Authorized()
  @Mutation(() => Article, { description: 'Takes back your like; without one it changes nothing.' })
  async unlikeArticle(@Arg('id', () => ID) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    await requireArticle(ctx, id);
    await unlikeArticle(ctx.store, user.id, id);
    return reloaded(ctx, id);
  }
}
