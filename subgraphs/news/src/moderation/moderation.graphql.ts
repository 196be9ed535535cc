import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser } from '@analytica/auth';
import { badInput, notFound } from '@analytica/errors';
import type { ArticleRecord } from '../articles/articles.js';
import { Article, requireArticle } from '../articles/articles.graphql.js';
import type { NewsContext } from '../context.js';
import { forgetAllHeadlines, forgetHeadlines } from '../quotes/quotes.graphql.js';
import { audit, clearFlags, flagArticle, listFlags, readAudit, setHidden, setSourceBlocked, type AuditEntry, type Flag } from './moderation.js';

const MAX_LIST = 200;

@Directive('@tag(name: "console")')
@ObjectType('ArticleFlag', { description: 'A reader reported an article; administrators read the queue (articleFlags).' })
class ArticleFlag {
  @Field(() => ID, { description: "The flagged article's id." }) articleId!: string;
  @Field(() => ID, { description: 'The reader who flagged it.' }) flaggedBy!: string;
  @Field(() => String, { description: 'What the reader said is wrong with it, as they wrote it.' }) reason!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was flagged (UTC, ISO 8601).' }) flaggedAt!: Date;
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
@ObjectType('NewsSource', { description: 'A publication, by the name articles show in sources.' })
class NewsSource {
  @Field(() => String, { description: "The publication's name as articles show it in sources." }) name!: string;
  @Field(() => Boolean, { description: 'Whether administrators blocked it: its articles leave every list.' }) blocked!: boolean;
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
    await setSourceBlocked(ctx.store, source, true, admin.id);
    forgetAllHeadlines();
    await audit(ctx.store, { actorId: admin.id, action: 'BLOCK_SOURCE', targetType: 'SOURCE', targetId: source, reason: why });
    return { name: source, blocked: true };
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
  @Query(() => [ArticleFlag], { description: 'Administrators: the flag queue, newest first.' })
  async articleFlags(
    @Arg('first', () => Int, { description: 'How many flags to return, 1 to 200.', defaultValue: 50 }) first: number,
    @Ctx() ctx: NewsContext,
  ): Promise<ArticleFlag[]> {
    requireUser(ctx);
    if (first < 1 || first > MAX_LIST) throw badInput('first', `Ask for 1 to ${MAX_LIST} flags.`);
    return (await listFlags(ctx.store, first)).map((f: Flag) => ({ articleId: f.articleId, flaggedBy: f.userId, reason: f.reason, flaggedAt: f.flaggedAt }));
  }

  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => [NewsAuditEntry], { description: 'Administrators: the news moderation audit log, newest first.' })
  async newsAuditLog(
    @Arg('first', () => Int, { description: 'How many entries to return, 1 to 200.', defaultValue: 50 }) first: number,
    @Ctx() ctx: NewsContext,
  ): Promise<AuditEntry[]> {
    requireUser(ctx);
    if (first < 1 || first > MAX_LIST) throw badInput('first', `Ask for 1 to ${MAX_LIST} entries.`);
    return readAudit(ctx.store, first);
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

function sourceName(name: string): string {
  const text = name.trim();
  if (!text || text.length > 100 || [...text].some((c) => c.charCodeAt(0) < 32))
    throw badInput('name', 'Give the publication as articles show it in sources, e.g. "Broken Wire" (1 to 100 characters).');
  return text;
}
