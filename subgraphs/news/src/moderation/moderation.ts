import { randomUUID } from 'node:crypto';
import { batchGet, DeleteCommand, PutCommand, QueryCommand, UpdateCommand, type Dynamo } from '@analytica/dynamo';
import { FEED_INDEX_NAME, writeFeedRows, type ArticleRecord, type ArticleStore } from '../articles/articles.js';

/**
 * Moderation lives beside the articles: flags are items of the article's partition
 * (`FLAG#<userId>`, one per reader, listed newest first through the same `byFeed` index under the
 * feed `FLAGS`), blocked sources are items of one `#moderation` partition, and every moderator's
 * action is a row of the append-only `news_audit` table.
 */
export function auditTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'log', AttributeType: 'S' },
      { AttributeName: 'at', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'log', KeyType: 'HASH' },
      { AttributeName: 'at', KeyType: 'RANGE' },
    ],
  };
}

export interface ModerationStore extends ArticleStore {
  auditTable: string;
}

const MODERATION = '#moderation';
const FLAGS_FEED = 'FLAGS';
/** One partition per month keeps the log's partitions bounded; reads walk back month by month. */
const logOf = (at: string) => `AUDIT#${at.slice(0, 7)}`;

export type ModerationAction = 'HIDE_ARTICLE' | 'RESTORE_ARTICLE' | 'BLOCK_SOURCE' | 'UNBLOCK_SOURCE' | 'DISMISS_FLAGS';

export interface AuditEntry {
  id: string;
  at: Date;
  actorId: string;
  action: ModerationAction;
  targetType: 'ARTICLE' | 'SOURCE';
  targetId: string;
  reason: string | null;
}

/** Appends one entry; never overwrites (the id is new, and the put is conditional). */
export async function audit(store: ModerationStore, entry: Omit<AuditEntry, 'id' | 'at'>): Promise<AuditEntry> {
  const at = new Date();
  const id = randomUUID();
  const sortKey = `${at.toISOString()}#${id}`;
  await store.dynamo.doc.send(
    new PutCommand({
      TableName: store.auditTable,
      Item: {
        log: logOf(at.toISOString()),
        at: sortKey,
        id,
        actorId: entry.actorId,
        action: entry.action,
        targetType: entry.targetType,
        targetId: entry.targetId,
        reason: entry.reason,
      },
      ConditionExpression: 'attribute_not_exists(#at)',
      ExpressionAttributeNames: { '#at': 'at' },
    }),
  );
  return { ...entry, id, at };
}

/** The newest entries first, from this month back at most 24 months. */
export async function readAudit(store: ModerationStore, first: number): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  const month = new Date();
  month.setUTCDate(1);
  for (let n = 0; n < 24 && entries.length < first; n++) {
    const result = await store.dynamo.doc.send(
      new QueryCommand({
        TableName: store.auditTable,
        KeyConditionExpression: '#log = :log',
        ExpressionAttributeNames: { '#log': 'log' },
        ExpressionAttributeValues: { ':log': logOf(month.toISOString()) },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: first - entries.length,
      }),
    );
    for (const item of result.Items ?? []) {
      entries.push({
        id: String(item.id),
        at: new Date(String(item.at).split('#')[0]!),
        actorId: String(item.actorId),
        action: item.action as ModerationAction,
        targetType: item.targetType as AuditEntry['targetType'],
        targetId: String(item.targetId),
        reason: typeof item.reason === 'string' ? item.reason : null,
      });
    }
    month.setUTCMonth(month.getUTCMonth() - 1);
  }
  return entries;
}

/**
 * Hides or restores an article: the flag on its item (which readers' lookups check) and its feed
 * items (which every list reads) change together; true when it changed. A hidden article also
 * takes its open flags with it.
 */
export async function setHidden(store: ModerationStore, article: ArticleRecord, hidden: boolean, by: string, reason: string | null): Promise<boolean> {
  try {
    await store.dynamo.doc.send(
      new UpdateCommand({
        TableName: store.articlesTable,
        Key: { id: article.id, entry: 'ARTICLE' },
        // `hidden` is a reserved word in DynamoDB expressions: named through #hidden.
        UpdateExpression: hidden ? 'SET #hidden = :true, hiddenAt = :at, hiddenBy = :by, hiddenReason = :reason' : 'REMOVE #hidden, hiddenAt, hiddenBy, hiddenReason',
        ConditionExpression: hidden ? 'attribute_exists(id) AND attribute_not_exists(#hidden)' : 'attribute_exists(#hidden)',
        ExpressionAttributeNames: { '#hidden': 'hidden' },
        ...(hidden ? { ExpressionAttributeValues: { ':true': true, ':at': new Date().toISOString(), ':by': by, ':reason': reason } } : {}),
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    // Already so; the lists are made to agree all the same (a crash may have left them behind).
    await writeFeedRows(store, article.id, { ...article, publishedAt: article.publishedAtText }, !hidden);
    return false;
  }
  await writeFeedRows(store, article.id, { ...article, publishedAt: article.publishedAtText }, !hidden);
  return true;
}

/** Blocked publications by the name readers see (an article's `sources`). */
export async function blockedSources(store: ArticleStore): Promise<Set<string>> {
  const result = await store.dynamo.doc.send(
    new QueryCommand({
      TableName: store.articlesTable,
      KeyConditionExpression: 'id = :id AND begins_with(entry, :source)',
      ExpressionAttributeValues: { ':id': MODERATION, ':source': 'SOURCE#' },
      ConsistentRead: true,
    }),
  );
  return new Set((result.Items ?? []).map((i) => String(i.name)));
}

export async function setSourceBlocked(store: ArticleStore, name: string, blocked: boolean, by: string): Promise<boolean> {
  try {
    if (blocked) {
      await store.dynamo.doc.send(
        new PutCommand({
          TableName: store.articlesTable,
          Item: { id: MODERATION, entry: `SOURCE#${name}`, name, blockedAt: new Date().toISOString(), blockedBy: by },
          ConditionExpression: 'attribute_not_exists(entry)',
        }),
      );
    } else {
      await store.dynamo.doc.send(
        new DeleteCommand({ TableName: store.articlesTable, Key: { id: MODERATION, entry: `SOURCE#${name}` }, ConditionExpression: 'attribute_exists(entry)' }),
      );
    }
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/** An article counts as blocked when every publication carrying it is blocked. */
export const isBlocked = (article: Pick<ArticleRecord, 'sources'>, blocked: ReadonlySet<string>) => blocked.size > 0 && article.sources.every((s) => blocked.has(s));

export interface Flag {
  articleId: string;
  userId: string;
  reason: string;
  flaggedAt: Date;
}

/** A reader flags an article once; flagging again changes nothing. True when the flag is new. */
export async function flagArticle(store: ArticleStore, articleId: string, userId: string, reason: string): Promise<boolean> {
  const flaggedAt = new Date().toISOString();
  try {
    await store.dynamo.doc.send(
      new PutCommand({
        TableName: store.articlesTable,
        Item: { id: articleId, entry: `FLAG#${userId}`, feed: FLAGS_FEED, feedSort: `${flaggedAt}#${articleId}#${userId}`, userId, reason, flaggedAt },
        ConditionExpression: 'attribute_not_exists(entry)',
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/** The flag queue, newest first. */
export async function listFlags(store: ArticleStore, first: number): Promise<Flag[]> {
  const result = await store.dynamo.doc.send(
    new QueryCommand({
      TableName: store.articlesTable,
      IndexName: FEED_INDEX_NAME,
      KeyConditionExpression: 'feed = :feed',
      ExpressionAttributeValues: { ':feed': FLAGS_FEED },
      ScanIndexForward: false,
      Limit: first,
    }),
  );
  const items = await batchGet(
    store.dynamo,
    store.articlesTable,
    (result.Items ?? []).map((i) => ({ id: String(i.id), entry: String(i.entry) })),
  );
  return items
    .map((i) => ({ articleId: String(i.id), userId: String(i.userId), reason: String(i.reason), flaggedAt: new Date(String(i.flaggedAt)) }))
    .sort((a, b) => b.flaggedAt.getTime() - a.flaggedAt.getTime());
}

/** Takes an article's flags off the queue; answers how many there were. */
export async function clearFlags(store: ArticleStore, articleId: string): Promise<number> {
  const result = await store.dynamo.doc.send(
    new QueryCommand({
      TableName: store.articlesTable,
      KeyConditionExpression: 'id = :id AND begins_with(entry, :flag)',
      ExpressionAttributeValues: { ':id': articleId, ':flag': 'FLAG#' },
      ProjectionExpression: 'entry',
      ConsistentRead: true,
    }),
  );
  const entries = (result.Items ?? []).map((i) => String(i.entry));
  await Promise.all(entries.map((entry) => store.dynamo.doc.send(new DeleteCommand({ TableName: store.articlesTable, Key: { id: articleId, entry } }))));
  return entries.length;
}
