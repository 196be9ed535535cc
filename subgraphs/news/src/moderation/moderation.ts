import { randomUUID } from 'node:crypto';
import { batchGet, batchWrite, DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type Dynamo } from '@analytica/dynamo';
import { FEED_INDEX_NAME, writeFeedRows, type ArticleRecord, type ArticleStore } from '../articles/articles.js';

/**
 * Moderation lives beside the articles: flags are items of the article's partition
 * (`FLAG#<userId>`, one per reader, listed newest first through the same `byFeed` index under the
 * feed `FLAGS`), blocked sources (`SOURCE#<name>`) and hidden articles
 * (`HIDDEN#<hiddenAt>#<articleId>`) are items of one `#moderation` partition, read consistently,
 * and every moderator's action is a row of the append-only `news_audit` table (one partition per
 * month). What is hidden and blocked now is read from those items, never derived from the log.
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

/** How far back the log is read: this month and the 23 before it. */
export const AUDIT_MONTHS = 24;

/** `YYYY-MM` of this month and the months before it, newest first, down to the log's horizon. */
function auditMonths(from: string | undefined): string[] {
  const month = new Date();
  month.setUTCDate(1);
  const months: string[] = [];
  for (let n = 0; n < AUDIT_MONTHS; n++, month.setUTCMonth(month.getUTCMonth() - 1)) months.push(month.toISOString().slice(0, 7));
  return from ? months.filter((m) => m <= from) : months;
}

const auditEntryOf = (item: Record<string, unknown>): AuditEntry & { sort: string } => ({
  id: String(item.id),
  at: new Date(String(item.at).split('#')[0]!),
  actorId: String(item.actorId),
  action: item.action as ModerationAction,
  targetType: item.targetType as AuditEntry['targetType'],
  targetId: String(item.targetId),
  reason: typeof item.reason === 'string' ? item.reason : null,
  sort: String(item.at),
});

/**
 * One page of the log, newest first, from this month back AUDIT_MONTHS months: the entries older
 * than `before` (an entry's sort key, `<at>#<id>`, as a page's last entry gives it), walking back
 * month by month. `hasMore` is exact: one entry more is looked for than handed out.
 */
export async function auditPage(store: ModerationStore, first: number, before?: string): Promise<{ entries: (AuditEntry & { sort: string })[]; hasMore: boolean }> {
  const entries: (AuditEntry & { sort: string })[] = [];
  for (const month of auditMonths(before?.slice(0, 7))) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await store.dynamo.doc.send(
        new QueryCommand({
          TableName: store.auditTable,
          KeyConditionExpression: before ? '#log = :log AND #at < :before' : '#log = :log',
          ExpressionAttributeNames: before ? { '#log': 'log', '#at': 'at' } : { '#log': 'log' },
          ExpressionAttributeValues: before ? { ':log': logOf(month), ':before': before } : { ':log': logOf(month) },
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: first + 1 - entries.length,
          ExclusiveStartKey: startKey,
        }),
      );
      entries.push(...(result.Items ?? []).map(auditEntryOf));
      startKey = result.LastEvaluatedKey;
    } while (startKey && entries.length <= first);
    if (entries.length > first) break;
  }
  return { entries: entries.slice(0, first), hasMore: entries.length > first };
}

/** The newest entries first, from this month back at most AUDIT_MONTHS months (the deprecated newsAuditLog). */
export async function readAudit(store: ModerationStore, first: number): Promise<AuditEntry[]> {
  return (await auditPage(store, first)).entries;
}

/**
 * Hides or restores an article: the flag on its item (which readers' lookups check), its feed
 * items (which every list reads) and its entry in the list of hidden articles change together;
 * true when it changed. A hidden article also takes its open flags with it.
 */
export async function setHidden(store: ModerationStore, article: ArticleRecord, hidden: boolean, by: string, reason: string | null): Promise<boolean> {
  const at = new Date().toISOString();
  let before: Record<string, unknown> | undefined;
  try {
    const result = await store.dynamo.doc.send(
      new UpdateCommand({
        TableName: store.articlesTable,
        Key: { id: article.id, entry: 'ARTICLE' },
        // `hidden` is a reserved word in DynamoDB expressions: named through #hidden.
        UpdateExpression: hidden ? 'SET #hidden = :true, hiddenAt = :at, hiddenBy = :by, hiddenReason = :reason' : 'REMOVE #hidden, hiddenAt, hiddenBy, hiddenReason',
        ConditionExpression: hidden ? 'attribute_exists(id) AND attribute_not_exists(#hidden)' : 'attribute_exists(#hidden)',
        ExpressionAttributeNames: { '#hidden': 'hidden' },
        ...(hidden ? { ExpressionAttributeValues: { ':true': true, ':at': at, ':by': by, ':reason': reason } } : {}),
        // A restore learns when the article was hidden: its entry in the list is keyed by that time.
        ReturnValues: 'ALL_OLD',
      }),
    );
    before = result.Attributes;
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    // Already so; the lists are made to agree all the same (a crash may have left them behind).
    await writeFeedRows(store, article.id, { ...article, publishedAt: article.publishedAtText }, !hidden);
    const facts = hidden ? await hiddenFacts(store, article.id) : null;
    if (facts) await putHiddenEntry(store, article.id, facts);
    else await dropHiddenEntries(store, article.id);
    return false;
  }
  await writeFeedRows(store, article.id, { ...article, publishedAt: article.publishedAtText }, !hidden);
  if (hidden) await putHiddenEntry(store, article.id, { hiddenAt: at, hiddenBy: by, reason });
  else await dropHiddenEntries(store, article.id, typeof before?.hiddenAt === 'string' ? before.hiddenAt : undefined);
  return true;
}

interface HiddenFacts {
  hiddenAt: string;
  hiddenBy: string;
  reason: string | null;
}

/** When, by whom and why the article was hidden, as its item says; null when it is not hidden. */
async function hiddenFacts(store: ArticleStore, articleId: string): Promise<HiddenFacts | null> {
  const { Item: item } = await store.dynamo.doc.send(new GetCommand({ TableName: store.articlesTable, Key: { id: articleId, entry: 'ARTICLE' }, ConsistentRead: true }));
  return item?.hidden === true ? hiddenFactsOf(item) : null;
}

const hiddenFactsOf = (item: Record<string, unknown>): HiddenFacts => ({
  hiddenAt: typeof item.hiddenAt === 'string' ? item.hiddenAt : new Date(0).toISOString(),
  hiddenBy: typeof item.hiddenBy === 'string' ? item.hiddenBy : '',
  reason: typeof item.hiddenReason === 'string' ? item.hiddenReason : null,
});

/** The list of hidden articles sorts by `HIDDEN#<hiddenAt>#<articleId>`: read backwards, the most recently hidden first. */
const hiddenKey = (articleId: string, hiddenAt: string) => `HIDDEN#${hiddenAt}#${articleId}`;

/** Puts the article on the list of hidden articles, with when, by whom and why (under the names its own item gives them). */
async function putHiddenEntry(store: ArticleStore, articleId: string, facts: HiddenFacts): Promise<void> {
  await store.dynamo.doc.send(new PutCommand({ TableName: store.articlesTable, Item: hiddenItem(articleId, facts) }));
}

const hiddenItem = (articleId: string, facts: HiddenFacts) => ({
  id: MODERATION,
  entry: hiddenKey(articleId, facts.hiddenAt),
  articleId,
  hiddenAt: facts.hiddenAt,
  hiddenBy: facts.hiddenBy,
  hiddenReason: facts.reason,
});

/**
 * Takes the article off the list of hidden articles: its one entry when the time it was hidden is
 * known, else (repairing after a crash) whatever entries of the list name it.
 */
async function dropHiddenEntries(store: ArticleStore, articleId: string, hiddenAt?: string): Promise<void> {
  let entries: string[] = hiddenAt ? [hiddenKey(articleId, hiddenAt)] : [];
  if (!hiddenAt) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await store.dynamo.doc.send(
        new QueryCommand({
          TableName: store.articlesTable,
          KeyConditionExpression: 'id = :id AND begins_with(entry, :hidden)',
          FilterExpression: 'articleId = :article',
          ExpressionAttributeValues: { ':id': MODERATION, ':hidden': 'HIDDEN#', ':article': articleId },
          ProjectionExpression: 'entry',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      entries = [...entries, ...(result.Items ?? []).map((item) => String(item.entry))];
      startKey = result.LastEvaluatedKey;
    } while (startKey);
  }
  await Promise.all(entries.map((entry) => store.dynamo.doc.send(new DeleteCommand({ TableName: store.articlesTable, Key: { id: MODERATION, entry } }))));
}

export interface HiddenArticleEntry extends Omit<HiddenFacts, 'hiddenAt'> {
  articleId: string;
  hiddenAt: Date;
  /** The entry's sort key, the position a page's cursor names. */
  sort: string;
}

/** A well-formed position in the list of hidden articles (an entry's sort key, as a page's last entry gives it). */
export const isHiddenPosition = (sort: string) => /^HIDDEN#\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#.+$/.test(sort) && sort.length <= 'HIDDEN#'.length + 25 + 200;

/**
 * One page of the hidden articles, the most recently hidden first, after the position `after`. The
 * list is one partition, read consistently: an article hidden a moment ago is on it. `hasMore` is exact.
 */
export async function hiddenArticlePage(store: ArticleStore, first: number, after?: string): Promise<{ entries: HiddenArticleEntry[]; hasMore: boolean }> {
  const entries: HiddenArticleEntry[] = [];
  let startKey: Record<string, unknown> | undefined = after ? { id: MODERATION, entry: after } : undefined;
  do {
    const result = await store.dynamo.doc.send(
      new QueryCommand({
        TableName: store.articlesTable,
        KeyConditionExpression: 'id = :id AND begins_with(entry, :hidden)',
        ExpressionAttributeValues: { ':id': MODERATION, ':hidden': 'HIDDEN#' },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: first + 1 - entries.length,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of result.Items ?? []) {
      const facts = hiddenFactsOf(item);
      entries.push({ ...facts, articleId: String(item.articleId), hiddenAt: new Date(facts.hiddenAt), sort: String(item.entry) });
    }
    startKey = result.LastEvaluatedKey;
  } while (startKey && entries.length <= first);
  return { entries: entries.slice(0, first), hasMore: entries.length > first };
}

/** How many articles are hidden: a count over their entries in the one moderation partition (not the articles). */
export function countHiddenArticles(store: ArticleStore): Promise<number> {
  return countQuery(store, {
    KeyConditionExpression: 'id = :id AND begins_with(entry, :hidden)',
    ExpressionAttributeValues: { ':id': MODERATION, ':hidden': 'HIDDEN#' },
    ConsistentRead: true,
  });
}

/** Counts what a Query matches, page after page (DynamoDB counts at most 1 MB of items per call). */
async function countQuery(store: ArticleStore, query: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName' | 'Select'>): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await store.dynamo.doc.send(new QueryCommand({ ...query, TableName: store.articlesTable, Select: 'COUNT', ExclusiveStartKey: startKey }));
    count += result.Count ?? 0;
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return count;
}

const HIDDEN_LIST_MARKER = { id: MODERATION, entry: 'MIGRATION#hidden-list' };

/**
 * Articles hidden before the list of hidden articles existed are put on it, once per table (a
 * marker item records that it ran): one Scan of the articles table for hidden ones. Answers how
 * many it listed, or null when it had run before.
 */
export async function listArticlesHiddenEarlier(store: ArticleStore): Promise<number | null> {
  const marker = await store.dynamo.doc.send(new GetCommand({ TableName: store.articlesTable, Key: HIDDEN_LIST_MARKER, ConsistentRead: true }));
  if (marker.Item) return null;
  let listed = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.dynamo.doc.send(
      new ScanCommand({
        TableName: store.articlesTable,
        FilterExpression: 'entry = :article AND #hidden = :true',
        ExpressionAttributeNames: { '#hidden': 'hidden' },
        ExpressionAttributeValues: { ':article': 'ARTICLE', ':true': true },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    const items = page.Items ?? [];
    await batchWrite(
      store.dynamo,
      store.articlesTable,
      items.map((item) => ({ PutRequest: { Item: hiddenItem(String(item.id), hiddenFactsOf(item)) } })),
    );
    listed += items.length;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  await store.dynamo.doc.send(new PutCommand({ TableName: store.articlesTable, Item: { ...HIDDEN_LIST_MARKER, at: new Date().toISOString(), listed } }));
  return listed;
}

export interface BlockedSource {
  name: string;
  blockedAt: Date;
  blockedBy: string;
  /** Null for blocks made before the reason was kept with the block (the audit log has it). */
  reason: string | null;
}

/** Every blocked publication, by name, read consistently from the one moderation partition. */
export async function listBlockedSources(store: ArticleStore): Promise<BlockedSource[]> {
  const sources: BlockedSource[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await store.dynamo.doc.send(
      new QueryCommand({
        TableName: store.articlesTable,
        KeyConditionExpression: 'id = :id AND begins_with(entry, :source)',
        ExpressionAttributeValues: { ':id': MODERATION, ':source': 'SOURCE#' },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of result.Items ?? []) {
      sources.push({
        name: String(item.name),
        blockedAt: new Date(String(item.blockedAt)),
        blockedBy: String(item.blockedBy),
        reason: typeof item.reason === 'string' ? item.reason : null,
      });
    }
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return sources;
}

/** Blocked publications by the name readers see (an article's `sources`). */
export async function blockedSources(store: ArticleStore): Promise<Set<string>> {
  return new Set((await listBlockedSources(store)).map((s) => s.name));
}

export async function setSourceBlocked(store: ArticleStore, name: string, blocked: boolean, by: string, reason: string | null = null): Promise<boolean> {
  try {
    if (blocked) {
      await store.dynamo.doc.send(
        new PutCommand({
          TableName: store.articlesTable,
          Item: { id: MODERATION, entry: `SOURCE#${name}`, name, blockedAt: new Date().toISOString(), blockedBy: by, reason },
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

/** A well-formed position in the flag queue (a flag's `feedSort`, `<flaggedAt>#<articleId>#<userId>`). */
export const isFlagPosition = (sort: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#.+#.+$/.test(sort) && sort.length <= 600;

/**
 * One page of the flag queue, newest first, below the position `before` (a flag's feedSort, as a
 * page's last flag gives it). `hasMore` is exact: one flag more is read from the index than handed out.
 */
export async function flagPage(store: ArticleStore, first: number, before?: string): Promise<{ flags: (Flag & { sort: string })[]; hasMore: boolean }> {
  const result = await store.dynamo.doc.send(
    new QueryCommand({
      TableName: store.articlesTable,
      IndexName: FEED_INDEX_NAME,
      KeyConditionExpression: before ? 'feed = :feed AND feedSort < :before' : 'feed = :feed',
      ExpressionAttributeValues: before ? { ':feed': FLAGS_FEED, ':before': before } : { ':feed': FLAGS_FEED },
      ScanIndexForward: false,
      Limit: first + 1,
    }),
  );
  const listed = (result.Items ?? []).slice(0, first);
  const items = await batchGet(
    store.dynamo,
    store.articlesTable,
    listed.map((i) => ({ id: String(i.id), entry: String(i.entry) })),
  );
  const byKey = new Map(items.map((i) => [`${String(i.id)}\n${String(i.entry)}`, i]));
  // In the index's order; a flag dismissed since the index was read is left out.
  const flags = listed.flatMap((entry) => {
    const item = byKey.get(`${String(entry.id)}\n${String(entry.entry)}`);
    return item
      ? [{ articleId: String(item.id), userId: String(item.userId), reason: String(item.reason), flaggedAt: new Date(String(item.flaggedAt)), sort: String(entry.feedSort) }]
      : [];
  });
  return { flags, hasMore: (result.Items ?? []).length > first };
}

/** How many flags wait: a count over the queue's own partition of the index, not over the articles. */
export function countFlags(store: ArticleStore): Promise<number> {
  return countQuery(store, { IndexName: FEED_INDEX_NAME, KeyConditionExpression: 'feed = :feed', ExpressionAttributeValues: { ':feed': FLAGS_FEED } });
}

/** The flag queue, newest first (the deprecated articleFlags). */
export async function listFlags(store: ArticleStore, first: number): Promise<Flag[]> {
  return (await flagPage(store, first)).flags;
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
