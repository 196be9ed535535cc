import {
  Arg,
  Authorized,
  Ctx,
  Directive,
  Field,
  FieldResolver,
  Float,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
  Root,
  UseMiddleware,
} from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { ANY_CALLER, requireUser } from '@analytica/auth';
import { badInput, notFound } from '@analytica/errors';
import { PageInfo } from '@analytica/subgraph';
import { pageOf } from '@analytica/subgraph/pages';
import { perCaller, publicNews } from '../content/cache-hints.js';
import type { NewsContext } from '../context.js';
import { likeArticle, saveArticle, unlikeArticle, unsaveArticle, type Interactions } from '../interactions/interactions.js';
import { collectArticles, decodeCursor, encodeCursor, popularityOf, sentimentFor, type ArticleRecord } from './articles.js';
import { isBlocked } from '../moderation/moderation.js';
import { rank, recordRead, RANK_WINDOW, type ArticleSort as Sort } from '../feed/feed.js';
import { adjustCount } from './articles.js';

const MAX_PAGE = 50;

@Directive('@tag(name: "public")')
@Directive('@tag(name: "console")')
@ObjectType('TickerSentiment', { description: "The article's sentiment for one instrument it names, from the sentences that name it." })
export class TickerSentiment {
  @Field(() => String, { description: 'The instrument, as in Article.symbols.' }) symbol!: string;
  @Field(() => Float, {
    description:
      "From -1 (negative) to 1 (positive): the mean score of the sentences (or, where several instruments share one, the clauses) naming it; the article's sentiment when only the headline names it.",
  })
  score!: number;
  @Field(() => String, { description: 'Version of the sentiment model that scored it (as Article.sentimentModel).' }) modelVersion!: string;
}

@Directive('@key(fields: "id")')
// Public: the same for every signed-in reader, so subscriptions that select it are shared.
@Directive('@tag(name: "public")')
@Directive('@tag(name: "console")')
@ObjectType('Article', { description: 'A news item. Its content is the same for every signed-in reader; savedByMe and likedByMe are about the caller.' })
export class Article {
  @Field(() => ID, { description: 'Stable id of the article (the same story from several feeds shares one id).' }) id!: string;
  @Field(() => String, { description: 'The headline.' }) title!: string;
  @Field(() => String, { description: 'One or two sentences for lists.' }) summary!: string;
  @Field(() => String, { description: 'The full text, plain text with paragraphs separated by blank lines; also served as a static page at contentPath.' }) body!: string;
  @Field(() => String, { description: 'The publication it comes from.' }) source!: string;
  @Field(() => String, { description: 'Where the original is published.' }) url!: string;
  @Field(() => [String], {
    description:
      'Lower-case slugs: for articles from the feeds, the taxonomy news-ingest assigns (markets, earnings, economy, rates, inflation, crypto, housing, energy, technology, banking, deals, regulation, currencies, commodities, personal-finance).',
  })
  topics!: string[];
  @Field(() => [String], {
    description: 'Symbols of the instruments it is about, as the market service lists them (for articles from the feeds: matched by news-ingest from tickers and company names).',
  })
  symbols!: string[];
  @Field(() => GraphQLDateTimeISO, { description: 'When the publication first published it (UTC, ISO 8601).' }) publishedAt!: Date;
  @Field(() => Int, { description: 'Readers who like it; each reader counts once.' }) likeCount!: number;
  @Field(() => [String], { description: 'Every publication that carries this story (one story from two feeds is one article).' }) sources!: string[];
  @Field(() => Int, { description: 'Readers who opened it (recordArticleView), each once.' }) viewCount!: number;
  @Field(() => Int, { description: 'Interactions weighed: 3 per like, 2 per save, 1 per reader who opened it. POPULAR sorts by it, discounted by age.' })
  popularity!: number;
  @Field(() => Float, { nullable: true, description: 'From -1 (negative) to 1 (positive) once enrichment scored the article; null until then.' })
  sentiment!: number | null;
  @Field(() => String, {
    nullable: true,
    description: 'Version of the sentiment model that scored the article (news-ingest, README "News"); null while sentiment is null.',
  })
  sentimentModel!: string | null;
  // An object field: without its own hint it would make every answer that selects it no-store.
  @UseMiddleware(publicNews)
  @Field(() => [TickerSentiment], {
    description: 'The sentiment for each symbol in symbols, each with its model version; empty until enrichment scored the article.',
  })
  tickerSentiments!: TickerSentiment[];
  @Field(() => String, { description: 'The body as a static page (Cache-Control, ETag, 304): GET it from the news service, or a CDN in front of it.' })
  contentPath!: string;
}

@InputType('ArticleFilter', { description: 'Every condition given must hold; a list matches an article that has any of its values.' })
export class ArticleFilter {
  @Field(() => [String], { nullable: true, description: 'Topic slugs, e.g. ["markets", "crypto"]; at most 10.' }) topics?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Instrument symbols, e.g. ["AAPL"]; at most 20.' }) symbols?: string[] | null;
  @Field(() => Float, {
    nullable: true,
    description:
      'Only articles whose sentiment is at least this (-1 to 1); with symbols, the sentiment for those symbols (tickerSentiments: any of them reaching it). Unscored articles are left out.',
  })
  minSentiment?: number | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Only articles published after this time.' }) since?: Date | null;
}

export enum ArticleSort {
  RECENT = 'RECENT',
  POPULAR = 'POPULAR',
  RELEVANT = 'RELEVANT',
}
registerEnumType(ArticleSort, {
  name: 'ArticleSort',
  description: 'RECENT: newest first. POPULAR: by likes, saves and views, discounted by age. RELEVANT: for you (watchlist, follows, likes, history), else as POPULAR.',
  valuesConfig: {
    RECENT: { description: 'Newest first by publication time.' },
    POPULAR: { description: 'By popularity (likes, saves and views), discounted by age.' },
    RELEVANT: { description: 'Ranked for you (watchlist, follows, likes, reading history); for a caller with none of these, as POPULAR.' },
  },
});

@Directive('@tag(name: "public")')
@ObjectType('ArticleEdge', { description: 'One article in a page, with the cursor that points at it.' })
class ArticleEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` to read the articles that follow this one.' }) cursor!: string;
  @UseMiddleware(publicNews)
  @Field(() => Article, { description: 'The article.' })
  node!: ArticleRecord;
}

@Directive('@tag(name: "public")')
@ObjectType('ArticleConnection', { description: 'A page of articles, in the order asked (newest first by default).' })
export class ArticleConnection {
  @UseMiddleware(publicNews)
  @Field(() => [ArticleEdge], { description: 'The articles of this page, each with its cursor.' })
  edges!: ArticleEdge[];
  @UseMiddleware(publicNews)
  @Field(() => PageInfo, { description: 'Whether there is a next page, and the cursor to ask for it.' })
  pageInfo!: PageInfo;
}

/** An article the caller may see: hidden and blocked ones are NOT_FOUND, except to administrators. */
export async function requireArticle(ctx: NewsContext, id: string): Promise<ArticleRecord> {
  // Ids are short slugs; a huge one is simply not found rather than sent to DynamoDB as a key.
  const article = id.length <= 200 ? await ctx.articles.load(id) : null;
  if (!article || (ctx.user?.role !== 'ADMIN' && !(await visible(ctx, article)))) throw notFound('Article', id);
  return article;
}

/** Not hidden by a moderator, and carried by at least one publication that is not blocked. */
export async function visible(ctx: NewsContext, article: ArticleRecord): Promise<boolean> {
  return !article.hidden && !isBlocked(article, await ctx.blocked());
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

const TOPIC = /^[a-z][a-z0-9-]{0,39}$/;
const SYMBOL = /^[A-Z0-9][A-Z0-9.-]{0,19}$/;

function normaliseList(values: string[], field: string, max: number, normalise: (v: string) => string, pattern: RegExp, what: string): string[] {
  if (values.length > max) throw badInput(field, `Give at most ${max} values.`);
  const out = [...new Set(values.map(normalise).filter(Boolean))];
  const bad = out.find((v) => !pattern.test(v));
  if (bad !== undefined) throw badInput(field, `"${bad.slice(0, 40)}" is not ${what}.`);
  return out;
}

@Resolver(() => Article)
export class ArticleResolver {
  @Authorized(ANY_CALLER)
  @FieldResolver(() => Int)
  popularity(@Root() article: ArticleRecord): number {
    return popularityOf(article);
  }

  @Authorized(ANY_CALLER)
  @FieldResolver(() => String)
  contentPath(@Root() article: ArticleRecord): string {
    return `/content/articles/${article.id}`;
  }

  @Authorized()
  @Directive('@tag(name: "private")')
  @Mutation(() => Article, {
    description: 'Records that you opened the article (your reading history shapes myFeed); it counts once in viewCount however often you open it.',
  })
  async recordArticleView(@Arg('id', () => ID, { description: 'The article you opened.' }) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    await requireArticle(ctx, id);
    if (await recordRead(ctx.store, user.id, id)) {
      await adjustCount(ctx.store, id, 'viewCount', 1);
      await ctx.interactionEvents.record('VIEW', user.id, id);
    }
    return reloaded(ctx, id);
  }

  // Public like the articles themselves: any verified caller, partner apps' own tokens included.
  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @UseMiddleware(publicNews)
  @Query(() => ArticleConnection, {
    description: 'Articles matching the filter (topic and symbol are the older single-value form of it), newest first unless sort says otherwise.',
  })
  async articles(
    @Arg('topic', () => String, {
      deprecationReason: 'Use filter: { topics: [...] } instead (it takes several topics). Deprecated 2026-12-05; to be removed after 2027-06-30.',
      nullable: true,
      description: 'One topic; or filter.topics.',
    })
    topic: string | null | undefined,
    @Arg('symbol', () => String, {
      deprecationReason: 'Use filter: { symbols: [...] } instead (it takes several symbols). Deprecated 2026-12-05; to be removed after 2027-06-30.',
      nullable: true,
      description: 'One symbol; or filter.symbols.',
    })
    symbol: string | null | undefined,
    @Arg('filter', () => ArticleFilter, { description: 'Topics, symbols, sentiment and time; every condition given must hold.', nullable: true })
    filter: ArticleFilter | null | undefined,
    @Arg('sort', () => ArticleSort, { description: 'The order.', defaultValue: ArticleSort.RECENT }) sort: ArticleSort,
    @Arg('first', () => Int, { description: 'Articles per page, 1 to 50.', defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after: string | null | undefined,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleConnection> {
    if (first < 1 || first > MAX_PAGE) throw badInput('first', `Ask for 1 to ${MAX_PAGE} articles per page.`);
    if ((topic || symbol) && filter) throw badInput('filter', 'Give either filter or topic/symbol, not both: put the topic and symbol into filter.topics and filter.symbols.');
    const topics = normaliseList(
      filter?.topics ?? (topic ? [topic] : []),
      'filter.topics',
      10,
      (t) => t.trim().toLowerCase(),
      TOPIC,
      'a topic slug such as markets or personal-finance',
    );
    const symbols = normaliseList(
      filter?.symbols ?? (symbol ? [symbol] : []),
      'filter.symbols',
      20,
      (s) => s.trim().toUpperCase(),
      SYMBOL,
      'an instrument symbol such as AAPL or SAP.DE',
    );
    const minSentiment = filter?.minSentiment;
    if (minSentiment != null && !(minSentiment >= -1 && minSentiment <= 1)) throw badInput('filter.minSentiment', 'Give a sentiment from -1 (negative) to 1 (positive).');
    const since = filter?.since ? filter.since.toISOString() : undefined;
    const feeds = symbols.length ? symbols.map((s) => `SYMBOL#${s}`) : topics.length ? topics.map((t) => `TOPIC#${t}`) : ['ALL'];
    // A cursor belongs to one question: the same lists, filter and order.
    const signature = JSON.stringify([feeds, symbols.length ? topics : [], minSentiment ?? null, since ?? null, sort]);
    const blocked = await ctx.blocked();
    // With symbols, the sentiment that counts is the article's for those symbols, not its headline's.
    const sentimentOk = (a: ArticleRecord) =>
      minSentiment == null || (symbols.length ? symbols.some((s) => (sentimentFor(a, s) ?? -Infinity) >= minSentiment) : a.sentiment !== null && a.sentiment >= minSentiment);
    const accept = (a: ArticleRecord) => !isBlocked(a, blocked) && sentimentOk(a);
    const request = { feeds, topics: symbols.length && topics.length ? topics : undefined, since, accept };

    let edges: { cursor: string; node: ArticleRecord }[];
    let hasNextPage: boolean;
    if (sort === ArticleSort.RECENT) {
      const before = after ? decodeCursor(after, signature).sort : undefined;
      const page = await collectArticles(ctx.store, { ...request, before, want: first });
      edges = page.found.map(({ article, sort: s }) => ({ cursor: encodeCursor({ feed: signature, sort: s }), node: article }));
      hasNextPage = page.hasMore;
    } else {
      // Ranked orders rank the newest RANK_WINDOW matches; the cursor is a position in that ranking.
      const offset = after ? Number(decodeCursor(after, signature).sort) : 0;
      if (!Number.isInteger(offset) || offset < 0) throw badInput('after', 'This cursor is not one we gave out; pass an endCursor from a previous page.');
      const { found } = await collectArticles(ctx.store, { ...request, want: RANK_WINDOW });
      const ranked = rank(
        found.map((f) => f.article),
        sort as Sort,
        undefined,
      );
      edges = ranked.slice(offset, offset + first).map((node, n) => ({ cursor: encodeCursor({ feed: signature, sort: String(offset + n + 1) }), node }));
      hasNextPage = ranked.length > offset + first;
    }
    for (const { node } of edges) ctx.articles.prime(node.id, node);
    return pageOf(edges, hasNextPage);
  }

  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @UseMiddleware(publicNews)
  @Query(() => Article, { nullable: true, description: 'One article; an unknown id is NOT_FOUND.' })
  article(@Arg('id', () => ID, { description: "The article's id." }) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    return requireArticle(ctx, id);
  }

  @Authorized()
  @Directive('@tag(name: "private")')
  @UseMiddleware(perCaller)
  @FieldResolver(() => Boolean, { description: 'Whether you saved it.' })
  async savedByMe(@Root() article: ArticleRecord, @Ctx() ctx: NewsContext): Promise<boolean> {
    return (await interactionsOf(ctx, article.id)).saved;
  }

  @Authorized()
  @Directive('@tag(name: "private")')
  @UseMiddleware(perCaller)
  @FieldResolver(() => Boolean, { description: 'Whether you like it.' })
  async likedByMe(@Root() article: ArticleRecord, @Ctx() ctx: NewsContext): Promise<boolean> {
    return (await interactionsOf(ctx, article.id)).liked;
  }

  @Authorized()
  @Mutation(() => Article, { description: 'Adds the article to your saved articles (saving twice keeps the first save).' })
  async saveArticle(@Arg('id', () => ID, { description: 'The article to save.' }) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    await requireArticle(ctx, id);
    await saveArticle(ctx.store, ctx.interactionEvents, user.id, id);
    return reloaded(ctx, id);
  }

  @Authorized()
  @Mutation(() => Article, { description: 'Removes the article from your saved articles.' })
  async unsaveArticle(@Arg('id', () => ID, { description: 'One of your saved articles.' }) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    await requireArticle(ctx, id);
    await unsaveArticle(ctx.store, ctx.interactionEvents, user.id, id);
    return reloaded(ctx, id);
  }

  @Authorized()
  @Mutation(() => Article, { description: 'Likes the article; liking it again changes nothing.' })
  async likeArticle(@Arg('id', () => ID, { description: 'The article to like.' }) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    await requireArticle(ctx, id);
    await likeArticle(ctx.store, ctx.interactionEvents, user.id, id);
    return reloaded(ctx, id);
  }

  @Authorized()
  @Mutation(() => Article, { description: 'Takes back your like; without one it changes nothing.' })
  async unlikeArticle(@Arg('id', () => ID, { description: 'An article you like.' }) id: string, @Ctx() ctx: NewsContext): Promise<ArticleRecord> {
    const user = requireUser(ctx);
    await requireArticle(ctx, id);
    await unlikeArticle(ctx.store, ctx.interactionEvents, user.id, id);
    return reloaded(ctx, id);
  }
}
