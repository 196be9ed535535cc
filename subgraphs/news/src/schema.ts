import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { badInput, notFound } from '@analytica/errors';
import { buildFederatedSchema, userReference, type SubgraphContext, PageInfo } from '@analytica/subgraph';
import { getArticles, listArticles, type ArticleRecord, type ArticleStore } from './articles.js';
import { likeArticle, readInteractions, saveArticle, savedArticleIds, unlikeArticle, unsaveArticle, type Interactions } from './interactions.js';

const MAX_PAGE = 50;
const MAX_SAVED = 500;

export interface NewsContext extends SubgraphContext {
  store: ArticleStore;
  /** Per request, so that a page of articles and its _entities lookups are one BatchGetItem each. */
  articles: DataLoader<string, ArticleRecord | null>;
  /** The caller's saves and likes; absent for an anonymous request, which no resolver serves. */
  interactions?: DataLoader<string, Interactions>;
}

export function newsContext(base: SubgraphContext, store: ArticleStore): NewsContext {
  const user = base.user;
  return {
    ...base,
    store,
    articles: new DataLoader((ids) => getArticles(store, ids), { maxBatchSize: 100 }),
    interactions: user ? new DataLoader((ids) => readInteractions(store, user.id, ids), { maxBatchSize: 50 }) : undefined,
  };
}

@Directive('@key(fields: "id")')
// Public: the same for every signed-in reader, so subscriptions that select it are shared.
@Directive('@tag(name: "public")')
@ObjectType('Article', { description: 'A news item. Its content is the same for every signed-in reader; savedByMe and likedByMe are about the caller.' })
class Article {
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

@ObjectType('ArticleEdge')
class ArticleEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Article) node!: ArticleRecord;
}

@ObjectType('ArticleConnection', { description: 'A page of articles, newest first.' })
class ArticleConnection {
  @Field(() => [ArticleEdge]) edges!: ArticleEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@Directive('@key(fields: "id")')
@ObjectType('User')
class User {
  @Field(() => ID) id!: string;
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
class ArticleResolver {
  @Authorized()
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

  @Authorized()
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

@Resolver(() => User)
class SavedArticlesResolver {
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

/** The market's Quote, extended with the news about its instrument. */
@Directive('@key(fields: "symbol")')
@ObjectType('Quote')
class Quote {
  @Field(() => String) symbol!: string;
}

// Headlines change far less often than quotes tick: a short cache spares DynamoDB one query per tick.
const HEADLINE_TTL_MS = 5000;
const headlineCache = new Map<string, { at: number; article: ArticleRecord | null }>();

@Resolver(() => Quote)
class QuoteHeadlineResolver {
  @Authorized()
  @Directive('@tag(name: "public")')
  @FieldResolver(() => Article, { nullable: true, description: 'The newest article that mentions this instrument.' })
  async latestHeadline(@Root() quote: Quote, @Ctx() ctx: NewsContext): Promise<ArticleRecord | null> {
    const cached = headlineCache.get(quote.symbol);
    if (cached && Date.now() - cached.at < HEADLINE_TTL_MS) return cached.article;
    const page = await listArticles(ctx.store, { symbol: quote.symbol.toUpperCase(), first: 1 });
    const article = page.articles[0]?.article ?? null;
    if (headlineCache.size > 10_000) headlineCache.clear();
    headlineCache.set(quote.symbol, { at: Date.now(), article });
    return article;
  }
}

export function buildNewsSchema() {
  return buildFederatedSchema({
    resolvers: [ArticleResolver, SavedArticlesResolver, QuoteHeadlineResolver],
    orphanedTypes: [User, Quote],
    referenceResolvers: {
      User: userReference(),
      // Articles are not private, but like everything else they are for signed-in callers only.
      Article: {
        // Async, so that a refusal fails only this entry of an _entities list.
        async __resolveReference(reference: { id: string }, ctx: NewsContext) {
          requireUser(ctx);
          return reference.id.length <= 200 ? ctx.articles.load(reference.id) : null;
        },
      },
      Quote: {
        async __resolveReference(reference: { symbol: string }, ctx: NewsContext) {
          requireUser(ctx);
          return { symbol: reference.symbol };
        },
      },
    },
  });
}
