import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import { checkPageSize, pageOf } from '@analytica/subgraph/pages';
import { decodeCursor, encodeCursor, type ArticleRecord } from '../articles/articles.js';
import { Article, ArticleConnection } from '../articles/articles.graphql.js';
import { feedCandidates, profileOf, rank, rankedPage, readPreferences, setFollow } from '../feed/feed.js';
import { isBlocked } from '../moderation/moderation.js';
import type { NewsContext } from '../context.js';
import { savedArticlePage } from '../interactions/interactions.js';

const MAX_SAVED = 500;
const MAX_SAVED_PAGE = 100;

/** The market's Instrument, for the symbols of a watchlist only (handed over by @requires). */
@Directive('@key(fields: "symbol", resolvable: false)')
@ObjectType('Instrument')
export class Instrument {
  @Field(() => String) symbol!: string;
}

@Directive('@key(fields: "id")')
@ObjectType('User')
export class User {
  @Field(() => ID, { description: 'Id of the user: stable, and the same in every service.' }) id!: string;
  /** The market subgraph's; fetched by the gateway for myFeed (@requires) and handed over in the representation. */
  @Directive('@external')
  @Field(() => [Instrument], { nullable: true })
  watchlist?: Instrument[] | null;
}

@ObjectType('NewsPreferences', { description: 'Topics and symbols you follow: kept on the server, so every device of yours has them.' })
export class NewsPreferences {
  @Field(() => [String], { description: 'Topic slugs you follow, e.g. ["markets", "crypto"].' }) topics!: string[];
  @Field(() => [String], { description: 'Instrument symbols you follow, e.g. ["AAPL"].' }) symbols!: string[];
}

@Resolver(() => User)
export class SavedArticlesResolver {
  @Authorized()
  @FieldResolver(() => [Article], {
    nullable: true,
    description: `Articles the user saved, most recently saved first (at most ${MAX_SAVED}). Only the user sees them.`,
    deprecationReason: `Use savedArticlesConnection: it pages past the ${MAX_SAVED}th saved article. Deprecated 2026-12-06; to be removed after 2027-06-30.`,
  })
  async savedArticles(
    @Root() user: User,
    @Arg('first', () => Int, { defaultValue: 100, description: `At most ${MAX_SAVED}.` }) first: number,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    if (first < 1 || first > MAX_SAVED) throw badInput('first', `Ask for 1 to ${MAX_SAVED} saved articles.`);
    const ids = (await savedArticlePage(ctx.store, user.id, first, undefined)).items.map((item) => item.articleId);
    const articles = await ctx.articles.loadMany(ids);
    // An article withdrawn (or hidden by a moderator) after it was saved drops out of the list.
    return articles.filter((a): a is ArticleRecord => {
      if (a instanceof Error) throw a;
      return a !== null && !a.hidden;
    });
  }

  @Authorized()
  @FieldResolver(() => ArticleConnection, {
    nullable: true,
    description: 'Articles the user saved, most recently saved first, a page at a time; one withdrawn or hidden since drops out. Only the user sees them.',
  })
  async savedArticlesConnection(
    @Root() user: User,
    @Arg('first', () => Int, { defaultValue: 20, description: `Articles per page, 1 to ${MAX_SAVED_PAGE}.` }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after: string | null | undefined,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleConnection> {
    assertOwnerOrAdmin(ctx, user.id);
    checkPageSize(first, MAX_SAVED_PAGE, 'saved articles');
    const list = `SAVED#${user.id}`;
    let position = after ? decodeCursor(after, list).sort : undefined;
    const edges: { cursor: string; node: ArticleRecord }[] = [];
    let hasMore = true;
    // Hidden and withdrawn articles are skipped, so a page is filled from further on when some were.
    while (edges.length < first && hasMore) {
      const page = await savedArticlePage(ctx.store, user.id, first - edges.length, position);
      hasMore = page.hasMore;
      const articles = await ctx.articles.loadMany(page.items.map((item) => item.articleId));
      page.items.forEach((item, n) => {
        const article = articles[n];
        if (article instanceof Error) throw article;
        if (article && !article.hidden) edges.push({ cursor: encodeCursor({ feed: list, sort: item.savedSort }), node: article });
      });
      position = page.items.at(-1)?.savedSort ?? position;
    }
    return pageOf(edges, hasMore);
  }

  @Authorized()
  @Directive('@requires(fields: "watchlist { symbol }")')
  @FieldResolver(() => ArticleConnection, {
    nullable: true,
    description: 'Articles ranked for the user: their watchlist, followed topics and symbols, what they liked, saved and read, recency and popularity. Only the user sees it.',
  })
  async myFeed(
    @Root() user: User,
    @Arg('first', () => Int, { description: 'Articles per page, 1 to 50.', defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after: string | null | undefined,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleConnection> {
    assertOwnerOrAdmin(ctx, user.id);
    if (first < 1 || first > 50) throw badInput('first', 'Ask for 1 to 50 articles per page.');
    const offset = after ? Number(decodeCursor(after, `MYFEED#${user.id}`).sort) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw badInput('after', 'This cursor is not one we gave out; pass an endCursor from a previous page.');
    const watchlist = (user.watchlist ?? []).map((i) => i.symbol);
    const [profile, blocked] = await Promise.all([profileOf(ctx.store, ctx.feeds, user.id, watchlist), ctx.blocked()]);
    const visible = (a: ArticleRecord) => !isBlocked(a, blocked);
    const ranked = rank(await feedCandidates(ctx.feeds, profile, visible), 'RELEVANT', profile);
    const { shown, hasMore } = await rankedPage(ranked, offset, first, (ids) => ctx.articles.loadMany(ids), visible);
    const edges = shown.map(({ article, position }) => ({ cursor: encodeCursor({ feed: `MYFEED#${user.id}`, sort: String(position) }), node: article }));
    return pageOf(edges, hasMore);
  }

  @Authorized()
  @FieldResolver(() => NewsPreferences, { nullable: true, description: 'The topics and symbols the user follows. Only the user sees them.' })
  newsPreferences(@Root() user: User, @Ctx() ctx: NewsContext): Promise<NewsPreferences> {
    assertOwnerOrAdmin(ctx, user.id);
    return readPreferences(ctx.store, user.id);
  }
}

const TOPIC = /^[a-z][a-z0-9-]{0,39}$/;
const SYMBOL = /^[A-Z0-9][A-Z0-9.-]{0,19}$/;
const MAX_FOLLOWS = 100;

@Resolver(() => NewsPreferences)
export class NewsPreferencesResolver {
  @Authorized()
  @Mutation(() => NewsPreferences, { description: 'Follows (follow: true) or unfollows a topic; myFeed ranks its articles higher. Answers your preferences.' })
  async followNewsTopic(
    @Arg('topic', () => String, { description: 'A topic slug, e.g. "crypto".' }) topic: string,
    @Arg('follow', () => Boolean, { description: 'true to follow, false to stop following.', defaultValue: true }) follow: boolean,
    @Ctx() ctx: NewsContext,
  ) {
    const user = requireUser(ctx);
    const value = topic.trim().toLowerCase();
    if (!TOPIC.test(value)) throw badInput('topic', 'Give a topic slug such as markets or personal-finance.');
    return changeFollow(ctx, user.id, 'TOPIC', value, follow);
  }

  @Authorized()
  @Mutation(() => NewsPreferences, { description: 'Follows (follow: true) or unfollows a symbol; myFeed ranks its articles higher. Answers your preferences.' })
  async followNewsSymbol(
    @Arg('symbol', () => String, { description: 'An instrument symbol, e.g. "AAPL".' }) symbol: string,
    @Arg('follow', () => Boolean, { description: 'true to follow, false to stop following.', defaultValue: true }) follow: boolean,
    @Ctx() ctx: NewsContext,
  ) {
    const user = requireUser(ctx);
    const value = symbol.trim().toUpperCase();
    if (!SYMBOL.test(value)) throw badInput('symbol', 'Give an instrument symbol such as AAPL or SAP.DE.');
    return changeFollow(ctx, user.id, 'SYMBOL', value, follow);
  }
}

async function changeFollow(ctx: NewsContext, userId: string, kind: 'TOPIC' | 'SYMBOL', value: string, follow: boolean): Promise<NewsPreferences> {
  if (follow) {
    const current = await readPreferences(ctx.store, userId);
    if (current.topics.length + current.symbols.length >= MAX_FOLLOWS)
      throw badInput(kind === 'TOPIC' ? 'topic' : 'symbol', `You follow ${MAX_FOLLOWS} topics and symbols already; unfollow some first.`);
  }
  await setFollow(ctx.store, userId, kind, value, follow);
  return readPreferences(ctx.store, userId);
}
