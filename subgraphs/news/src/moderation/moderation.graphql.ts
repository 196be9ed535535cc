import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser } from '@analytica/auth';
import { badInput, notFound } from '@analytica/errors';
import { PageInfo } from '@analytica/subgraph';
import { checkPageSize, pageOf } from '@analytica/subgraph/pages';
import { decodeCursor, encodeCursor, type ArticleRecord } from '../articles/articles.js';
import { Article, requireArticle } from '../articles/articles.graphql.js';
import type { NewsContext } from '../context.js';
import { forgetAllHeadlines, forgetHeadlines } from '../quotes/quotes.graphql.js';
import {
  audit,
  auditPage,
  clearFlags,
  countFlags,
  countHiddenArticles,
  flagArticle,
  flagPage,
  hiddenArticlePage,
  isFlagPosition,
  isHiddenPosition,
  listBlockedSources,
  listFlags,
  readAudit,
  setHidden,
  setSourceBlocked,
  type AuditEntry,
  type Flag,
  type HiddenArticleEntry,
} from './moderation.js';

/** The cap of the deprecated plain lists (articleFlags, newsAuditLog). */
const MAX_LIST = 200;
/** The largest page of the moderation connections. */
const MAX_PAGE = 100;

/*
 * The flag queue and the log were plain lists (articleFlags, newsAuditLog) that stopped at 200. They
 * became connections under new names, the old fields deprecated, rather than changing in place: their
 * type is part of the published `console` contract, so changing it is a breaking change for any
 * client of it (a console already open in a browser while the news service rolls out, an operator's
 * script), which the registry's check refuses. The old fields go after the deprecation period.
 */

/** Where an `after` cursor of one of these lists points; BAD_USER_INPUT on `after` for any other cursor. */
function positionIn(list: string, after: string | null | undefined, wellFormed: (sort: string) => boolean): string | undefined {
  if (after == null) return undefined;
  let sort: string | undefined;
  try {
    sort = decodeCursor(after, list).sort;
  } catch {
    sort = undefined;
  }
  if (sort === undefined || !wellFormed(sort)) throw badInput('after', 'This cursor is not one we gave out for this list; pass the endCursor of the previous page.');
  return sort;
}

const FLAGS_LIST = 'FLAGS';
const AUDIT_LIST = 'NEWS_AUDIT';
const HIDDEN_LIST = 'HIDDEN';
const AUDIT_POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

@Directive('@tag(name: "console")')
@ObjectType('ArticleFlag', { description: 'A reader reported an article; administrators read the queue (articleFlagsConnection).' })
class ArticleFlag {
  @Field(() => ID, { description: "The flagged article's id." }) articleId!: string;
  @Field(() => ID, { description: 'The reader who flagged it.' }) flaggedBy!: string;
  @Field(() => String, { description: 'What the reader said is wrong with it, as they wrote it.' }) reason!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was flagged (UTC, ISO 8601).' }) flaggedAt!: Date;
}

const flagView = (f: Flag): ArticleFlag => ({ articleId: f.articleId, flaggedBy: f.userId, reason: f.reason, flaggedAt: f.flaggedAt });

@Directive('@tag(name: "console")')
@ObjectType('ArticleFlagEdge', { description: 'One flag of the queue in a page, with the cursor that points at it.' })
class ArticleFlagEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` to read the flags that follow this one.' }) cursor!: string;
  @Field(() => ArticleFlag, { description: 'The flag.' }) node!: ArticleFlag;
}

@Directive('@tag(name: "console")')
@ObjectType('ArticleFlagConnection', { description: 'A page of the flag queue, newest flag first (one flag per reader and article).' })
class ArticleFlagConnection {
  @Field(() => [ArticleFlagEdge], { description: 'The flags of this page, each with its cursor.' }) edges!: ArticleFlagEdge[];
  @Field(() => PageInfo, { description: 'Whether there is a next page, and the cursor to ask for it.' }) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'How many flags wait in the queue, across all pages.' }) totalCount!: number;
}

enum NewsModerationAction {
  HIDE_ARTICLE = 'HIDE_ARTICLE',
  RESTORE_ARTICLE = 'RESTORE_ARTICLE',
  BLOCK_SOURCE = 'BLOCK_SOURCE',
  UNBLOCK_SOURCE = 'UNBLOCK_SOURCE',
  DISMISS_FLAGS = 'DISMISS_FLAGS',
}
registerEnumType(NewsModerationAction, {
  description: 'What an administrator did to an article or a publication.',
  name: 'NewsModerationAction',
  valuesConfig: {
    HIDE_ARTICLE: { description: 'An article was hidden (hideArticle).' },
    RESTORE_ARTICLE: { description: 'A hidden article was put back (restoreArticle).' },
    BLOCK_SOURCE: { description: 'A publication was blocked (blockNewsSource).' },
    UNBLOCK_SOURCE: { description: 'A block was lifted (unblockNewsSource).' },
    DISMISS_FLAGS: { description: "An article's flags were taken off the queue (dismissArticleFlags)." },
  },
});

@Directive('@tag(name: "console")')
@ObjectType('NewsAuditEntry', { description: "One administrator's moderation action, as written to the append-only news audit log." })
class NewsAuditEntry {
  @Field(() => ID, { description: 'Id of the entry.' }) id!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was done (UTC, ISO 8601).' }) at!: Date;
  @Field(() => ID, { description: 'The administrator who did it.' }) actorId!: string;
  @Field(() => NewsModerationAction, { description: 'What was done.' }) action!: NewsModerationAction;
  @Field(() => String, { description: 'ARTICLE or SOURCE.' }) targetType!: string;
  @Field(() => String, { description: "The article's id, or the publication's name." }) targetId!: string;
  @Field(() => String, { description: 'Why, as the administrator gave it.', nullable: true }) reason!: string | null;
}

@Directive('@tag(name: "console")')
@ObjectType('NewsAuditEntryEdge', { description: 'One entry of the news moderation log in a page, with the cursor that points at it.' })
class NewsAuditEntryEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` to read the entries that follow this one.' }) cursor!: string;
  @Field(() => NewsAuditEntry, { description: 'The entry.' }) node!: AuditEntry;
}

@Directive('@tag(name: "console")')
@ObjectType('NewsAuditEntryConnection', {
  description: 'A page of the news moderation log, newest first. Not counted: the log is kept by month in DynamoDB, and counting it would read every month.',
})
class NewsAuditEntryConnection {
  @Field(() => [NewsAuditEntryEdge], { description: 'The entries of this page, each with its cursor.' }) edges!: NewsAuditEntryEdge[];
  @Field(() => PageInfo, { description: 'Whether there is a next page, and the cursor to ask for it.' }) pageInfo!: PageInfo;
}

@Directive('@tag(name: "console")')
@ObjectType('HiddenArticle', { description: 'An article administrators hid (hideArticle) and have not restored: NOT_FOUND to readers, listed nowhere.' })
class HiddenArticle {
  @Field(() => ID, { description: "The hidden article's id (restoreArticle takes it)." }) articleId!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was hidden (UTC, ISO 8601).' }) hiddenAt!: Date;
  @Field(() => ID, { description: 'The administrator who hid it.' }) hiddenBy!: string;
  @Field(() => String, { description: 'Why, as the administrator gave it.', nullable: true }) reason!: string | null;
}

@Directive('@tag(name: "console")')
@ObjectType('HiddenArticleEdge', { description: 'One hidden article in a page, with the cursor that points at it.' })
class HiddenArticleEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` to read the hidden articles that follow this one.' }) cursor!: string;
  @Field(() => HiddenArticle, { description: 'The hidden article.' }) node!: HiddenArticleEntry;
}

@Directive('@tag(name: "console")')
@ObjectType('HiddenArticleConnection', { description: 'A page of the hidden articles, the most recently hidden first.' })
class HiddenArticleConnection {
  @Field(() => [HiddenArticleEdge], { description: 'The hidden articles of this page, each with its cursor.' }) edges!: HiddenArticleEdge[];
  @Field(() => PageInfo, { description: 'Whether there is a next page, and the cursor to ask for it.' }) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'How many articles are hidden, across all pages.' }) totalCount!: number;
}

@Directive('@tag(name: "console")')
@ObjectType('NewsSource', { description: 'A publication, by the name articles show in sources.' })
class NewsSource {
  @Field(() => String, { description: "The publication's name as articles show it in sources." }) name!: string;
  @Field(() => Boolean, { description: 'Whether administrators blocked it: its articles leave every list.' }) blocked!: boolean;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was blocked (UTC, ISO 8601); null when it is not blocked.', nullable: true }) blockedAt?: Date | null;
  @Field(() => ID, { description: 'The administrator who blocked it; null when it is not blocked.', nullable: true }) blockedBy?: string | null;
  @Field(() => String, {
    description: 'Why it was blocked, as the administrator gave it; null when it is not blocked, or for a block older than this field (the news audit log has its reason).',
    nullable: true,
  })
  reason?: string | null;
}

const reasonOf = (reason: string | null | undefined, field = 'reason', required = false): string | null => {
  const text = reason?.trim() ?? '';
  if (required && !text) throw badInput(field, 'Say why, in a few words (1 to 500 characters).');
  if (text.length > 500) throw badInput(field, 'Keep the reason to 500 characters.');
  return text || null;
};

/** Tells every quote subscriber of these symbols that the headline may have changed (after the write). */
async function announce(ctx: NewsContext, article: ArticleRecord): Promise<void> {
  forgetHeadlines(article.symbols);
  const live = ctx.live;
  if (!live) return;
  await Promise.allSettled(article.symbols.map((symbol) => live.entity('Quote', symbol, { symbol })));
}

@Resolver(() => Article)
export class ModerationResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Article, { description: 'Administrators: takes the article out of every list, feed and headline at once (NOT_FOUND to readers). Audited.' })
  async hideArticle(
    @Arg('id', () => ID, { description: 'The article to hide.' }) id: string,
    @Arg('reason', () => String, { description: 'Why; kept in the audit log.' }) reason: string,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleRecord> {
    const admin = requireUser(ctx);
    const why = reasonOf(reason, 'reason', true);
    const article = await requireArticle(ctx, id);
    await setHidden(ctx.store, article, true, admin.id, why);
    await clearFlags(ctx.store, id);
    await audit(ctx.store, { actorId: admin.id, action: 'HIDE_ARTICLE', targetType: 'ARTICLE', targetId: id, reason: why });
    await announce(ctx, article);
    ctx.articles.clear(id);
    return requireArticle(ctx, id);
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Article, { description: 'Administrators: puts a hidden article back in its lists. Audited.' })
  async restoreArticle(
    @Arg('id', () => ID, { description: 'A hidden article.' }) id: string,
    @Arg('reason', () => String, { description: 'Why, if you want it in the audit log.', nullable: true }) reason: string | null | undefined,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleRecord> {
    const admin = requireUser(ctx);
    const why = reasonOf(reason);
    const article = await requireArticle(ctx, id);
    await setHidden(ctx.store, article, false, admin.id, why);
    await audit(ctx.store, { actorId: admin.id, action: 'RESTORE_ARTICLE', targetType: 'ARTICLE', targetId: id, reason: why });
    await announce(ctx, article);
    ctx.articles.clear(id);
    return requireArticle(ctx, id);
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => NewsSource, { description: 'Administrators: articles carried only by blocked publications leave every list; blocking twice changes nothing. Audited.' })
  async blockNewsSource(
    @Arg('name', () => String, { description: 'As articles show it in sources, e.g. "Broken Wire".' }) name: string,
    @Arg('reason', () => String, { description: 'Why; kept in the audit log.' }) reason: string,
    @Ctx() ctx: NewsContext,
  ): Promise<NewsSource> {
    const admin = requireUser(ctx);
    const source = sourceName(name);
    const why = reasonOf(reason, 'reason', true);
    await setSourceBlocked(ctx.store, source, true, admin.id, why);
    forgetAllHeadlines();
    await audit(ctx.store, { actorId: admin.id, action: 'BLOCK_SOURCE', targetType: 'SOURCE', targetId: source, reason: why });
    const block = (await listBlockedSources(ctx.store)).find((s) => s.name === source);
    return { name: source, blocked: true, ...block };
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => NewsSource, { description: 'Administrators: lifts a block. Audited.' })
  async unblockNewsSource(
    @Arg('name', () => String, { description: 'A blocked publication, as articles show it in sources.' }) name: string,
    @Ctx() ctx: NewsContext,
  ): Promise<NewsSource> {
    const admin = requireUser(ctx);
    const source = sourceName(name);
    await setSourceBlocked(ctx.store, source, false, admin.id);
    forgetAllHeadlines();
    await audit(ctx.store, { actorId: admin.id, action: 'UNBLOCK_SOURCE', targetType: 'SOURCE', targetId: source, reason: null });
    return { name: source, blocked: false };
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Reports an article to the moderators; flagging it again changes nothing. True when your flag is new.' })
  async flagArticle(
    @Arg('id', () => ID, { description: 'The article to report.' }) id: string,
    @Arg('reason', () => String, { description: 'What is wrong with it, 1 to 500 characters.' }) reason: string,
    @Ctx() ctx: NewsContext,
  ): Promise<boolean> {
    const user = requireUser(ctx);
    const why = reasonOf(reason, 'reason', true)!;
    await requireArticle(ctx, id);
    return flagArticle(ctx.store, id, user.id, why);
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Int, { description: "Administrators: takes an article's flags off the queue, keeping the article; answers how many there were. Audited." })
  async dismissArticleFlags(@Arg('id', () => ID, { description: 'A flagged article.' }) id: string, @Ctx() ctx: NewsContext): Promise<number> {
    const admin = requireUser(ctx);
    if (id.length > 200) throw notFound('Article', id);
    const count = await clearFlags(ctx.store, id);
    await audit(ctx.store, { actorId: admin.id, action: 'DISMISS_FLAGS', targetType: 'ARTICLE', targetId: id, reason: null });
    return count;
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => [ArticleFlag], {
    description: 'Administrators: the flag queue, newest first.',
    deprecationReason: 'Use articleFlagsConnection: it pages past the 200th flag and counts the queue. Deprecated 2026-12-06; to be removed after 2027-06-30.',
  })
  async articleFlags(
    @Arg('first', () => Int, { description: 'How many flags to return, 1 to 200.', defaultValue: 50 }) first: number,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleFlag[]> {
    requireUser(ctx);
    if (first < 1 || first > MAX_LIST) throw badInput('first', `Ask for 1 to ${MAX_LIST} flags.`);
    return (await listFlags(ctx.store, first)).map(flagView);
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => ArticleFlagConnection, { description: 'Administrators: the flag queue, newest flag first, a page at a time, with how many flags wait.' })
  async articleFlagsConnection(
    @Arg('first', () => Int, { description: `Flags per page, 1 to ${MAX_PAGE}.`, defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after: string | null | undefined,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleFlagConnection> {
    requireUser(ctx);
    checkPageSize(first, MAX_PAGE, 'flags');
    const before = positionIn(FLAGS_LIST, after, isFlagPosition);
    const [page, totalCount] = await Promise.all([flagPage(ctx.store, first, before), countFlags(ctx.store)]);
    const edges = page.flags.map((flag) => ({ cursor: encodeCursor({ feed: FLAGS_LIST, sort: flag.sort }), node: flagView(flag) }));
    return { ...pageOf(edges, page.hasMore), totalCount };
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => [NewsAuditEntry], {
    description: 'Administrators: the news moderation audit log, newest first.',
    deprecationReason: 'Use newsAuditLogConnection: it pages past the 200th entry. Deprecated 2026-12-06; to be removed after 2027-06-30.',
  })
  async newsAuditLog(
    @Arg('first', () => Int, { description: 'How many entries to return, 1 to 200.', defaultValue: 50 }) first: number,
    @Ctx() ctx: NewsContext,
  ): Promise<AuditEntry[]> {
    requireUser(ctx);
    if (first < 1 || first > MAX_LIST) throw badInput('first', `Ask for 1 to ${MAX_LIST} entries.`);
    return readAudit(ctx.store, first);
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => NewsAuditEntryConnection, { description: 'Administrators: the news moderation audit log, newest first, a page at a time (this month and the 23 before it).' })
  async newsAuditLogConnection(
    @Arg('first', () => Int, { description: `Entries per page, 1 to ${MAX_PAGE}.`, defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after: string | null | undefined,
    @Ctx() ctx: NewsContext,
  ): Promise<NewsAuditEntryConnection> {
    requireUser(ctx);
    checkPageSize(first, MAX_PAGE, 'entries');
    const before = positionIn(AUDIT_LIST, after, (sort) => AUDIT_POSITION.test(sort) && !Number.isNaN(Date.parse(sort.slice(0, 24))));
    const page = await auditPage(ctx.store, first, before);
    return pageOf(
      page.entries.map(({ sort, ...node }) => ({ cursor: encodeCursor({ feed: AUDIT_LIST, sort }), node })),
      page.hasMore,
    );
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => HiddenArticleConnection, {
    description: 'Administrators: the articles hidden now (hideArticle, not restored since), the most recently hidden first, a page at a time.',
  })
  async hiddenArticles(
    @Arg('first', () => Int, { description: `Hidden articles per page, 1 to ${MAX_PAGE}.`, defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after: string | null | undefined,
    @Ctx() ctx: NewsContext,
  ): Promise<HiddenArticleConnection> {
    requireUser(ctx);
    checkPageSize(first, MAX_PAGE, 'hidden articles');
    const position = positionIn(HIDDEN_LIST, after, isHiddenPosition);
    const [page, totalCount] = await Promise.all([hiddenArticlePage(ctx.store, first, position), countHiddenArticles(ctx.store)]);
    const edges = page.entries.map((node) => ({ cursor: encodeCursor({ feed: HIDDEN_LIST, sort: node.sort }), node }));
    return { ...pageOf(edges, page.hasMore), totalCount };
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => [NewsSource], {
    description: 'Administrators: the blocked publications, by name. The whole blocklist, not paged: every list of articles reads all of it, so it stays a short list.',
  })
  async blockedNewsSources(@Ctx() ctx: NewsContext): Promise<NewsSource[]> {
    requireUser(ctx);
    return (await listBlockedSources(ctx.store)).map((source) => ({ ...source, blocked: true }));
  }
}

@Resolver(() => ArticleFlag)
export class ArticleFlagResolver {
  @Authorized('ADMIN')
  @FieldResolver(() => Article, { nullable: true, description: 'The flagged article (hidden ones included); null if it is gone.' })
  article(@Root() flag: ArticleFlag, @Ctx() ctx: NewsContext): Promise<ArticleRecord | null> {
    return ctx.articles.load(flag.articleId);
  }
}

@Resolver(() => HiddenArticle)
export class HiddenArticleResolver {
  @Authorized('ADMIN')
  @FieldResolver(() => Article, { nullable: true, description: 'The article itself (administrators see hidden ones); null if it is gone.' })
  article(@Root() hidden: HiddenArticleEntry, @Ctx() ctx: NewsContext): Promise<ArticleRecord | null> {
    return ctx.articles.load(hidden.articleId);
  }
}

function sourceName(name: string): string {
  const text = name.trim();
  if (!text || text.length > 100 || [...text].some((c) => c.charCodeAt(0) < 32))
    throw badInput('name', 'Give the publication as articles show it in sources, e.g. "Broken Wire" (1 to 100 characters).');
  return text;
}
