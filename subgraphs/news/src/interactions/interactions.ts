import { batchGet, DeleteCommand, PutCommand, QueryCommand, UpdateCommand, type Dynamo } from '@analytica/dynamo';
import { adjustCount, adjustLikeCount, type ArticleStore } from '../articles/articles.js';
import type { InteractionEvents } from './events.js';

/**
 * What one user did with articles: `SAVED#<articleId>` and `LIKED#<articleId>` under their
 * userId, so "did I save or like these 20 articles" is one BatchGetItem. Saved items also carry
 * `savedSort` (savedAt#articleId), a sparse local index that lists them newest first with a
 * strongly consistent Query: an article saved a moment ago is already in the list.
 */
export function userArticlesTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'userId', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'savedSort', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'userId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: SAVED_INDEX,
        KeySchema: [
          { AttributeName: 'userId', KeyType: 'HASH' },
          { AttributeName: 'savedSort', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}

const SAVED_INDEX = 'bySavedAt';
const savedKey = (articleId: string) => `SAVED#${articleId}`;
const likedKey = (articleId: string) => `LIKED#${articleId}`;

export interface Interactions {
  saved: boolean;
  liked: boolean;
}

/** Whether the user saved and liked each article, in the order asked. */
export async function readInteractions(store: ArticleStore, userId: string, articleIds: readonly string[]): Promise<Interactions[]> {
  const keys = [...new Set(articleIds)].flatMap((id) => [
    { userId, sk: savedKey(id) },
    { userId, sk: likedKey(id) },
  ]);
  const present = new Set((await batchGet(store.dynamo, store.userArticlesTable, keys)).map((item) => String(item.sk)));
  return articleIds.map((id) => ({ saved: present.has(savedKey(id)), liked: present.has(likedKey(id)) }));
}

/**
 * One page of the user's saved articles, the most recently saved first, after the `savedSort`
 * position of a previous page's last item. `hasMore` is exact: one item more is read than handed out.
 */
export async function savedArticlePage(
  store: ArticleStore,
  userId: string,
  first: number,
  after: string | undefined,
): Promise<{ items: { articleId: string; savedSort: string }[]; hasMore: boolean }> {
  // savedSort is `<savedAt>#<articleId>` (an ISO time has no `#`), so the position gives the item's key back.
  const articleId = after?.slice(after.indexOf('#') + 1);
  const result = await store.dynamo.doc.send(
    new QueryCommand({
      TableName: store.userArticlesTable,
      IndexName: SAVED_INDEX,
      KeyConditionExpression: 'userId = :userId',
      ExpressionAttributeValues: { ':userId': userId },
      ScanIndexForward: false,
      ConsistentRead: true,
      Limit: first + 1,
      ...(after && articleId ? { ExclusiveStartKey: { userId, sk: savedKey(articleId), savedSort: after } } : {}),
    }),
  );
  const items = (result.Items ?? []).map((item) => ({ articleId: String(item.sk).slice('SAVED#'.length), savedSort: String(item.savedSort) }));
  return { items: items.slice(0, first), hasMore: items.length > first };
}

/** Records the change only if it changes something; true when it did. */
async function putOnce(store: ArticleStore, item: Record<string, unknown>): Promise<boolean> {
  try {
    await store.dynamo.doc.send(new PutCommand({ TableName: store.userArticlesTable, Item: item, ConditionExpression: 'attribute_not_exists(sk)' }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

async function deleteOnce(store: ArticleStore, userId: string, sk: string): Promise<boolean> {
  try {
    await store.dynamo.doc.send(new DeleteCommand({ TableName: store.userArticlesTable, Key: { userId, sk }, ConditionExpression: 'attribute_exists(sk)' }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/**
 * Saving again keeps the first save's place in the list. Each change (and only a change) is also a
 * `user.interactions.v1` event, outboxed after the write (events.ts).
 */
export async function saveArticle(store: ArticleStore, events: InteractionEvents, userId: string, articleId: string): Promise<void> {
  const savedAt = new Date().toISOString();
  if (await putOnce(store, { userId, sk: savedKey(articleId), articleId, savedAt, savedSort: `${savedAt}#${articleId}` })) {
    await adjustCount(store, articleId, 'saveCount', 1);
    await events.record('SAVE', userId, articleId);
  }
}

export async function unsaveArticle(store: ArticleStore, events: InteractionEvents, userId: string, articleId: string): Promise<void> {
  if (await deleteOnce(store, userId, savedKey(articleId))) {
    await adjustCount(store, articleId, 'saveCount', -1);
    await events.record('UNSAVE', userId, articleId);
  }
}

/**
 * A like counts once per user: only the request whose conditional put creates the LIKED item
 * adds to the count (and publishes LIKE), however many arrive at once. Without transactions the
 * writes are not atomic; in this order a crash between them can only under-count by one, never
 * double-count.
 */
export async function likeArticle(store: ArticleStore, events: InteractionEvents, userId: string, articleId: string): Promise<void> {
  if (await putOnce(store, { userId, sk: likedKey(articleId), articleId, likedAt: new Date().toISOString() })) {
    await adjustLikeCount(store, articleId, 1);
    await events.record('LIKE', userId, articleId);
  }
}

export async function unlikeArticle(store: ArticleStore, events: InteractionEvents, userId: string, articleId: string): Promise<void> {
  if (await deleteOnce(store, userId, likedKey(articleId))) {
    await adjustLikeCount(store, articleId, -1);
    await events.record('UNLIKE', userId, articleId);
  }
}

/** The longest reading session recordArticleDwell takes: longer is a tab left open, not reading. */
export const MAX_DWELL_MS = 3_600_000;

/**
 * Adds one reading session's time to the user's `DWELL#<articleId>` item (total `dwellMs` and
 * `dwellCount`; the ranker's pipeline reads them from the events) and publishes DWELL with it. Every
 * call changes something, so every call is an event.
 */
export async function recordDwell(store: ArticleStore, events: InteractionEvents, userId: string, articleId: string, milliseconds: number): Promise<void> {
  await store.dynamo.doc.send(
    new UpdateCommand({
      TableName: store.userArticlesTable,
      Key: { userId, sk: `DWELL#${articleId}` },
      UpdateExpression: 'ADD dwellMs :ms, dwellCount :one SET articleId = :articleId, lastDwellAt = :now',
      ExpressionAttributeValues: { ':ms': milliseconds, ':one': 1, ':articleId': articleId, ':now': new Date().toISOString() },
    }),
  );
  await events.record('DWELL', userId, articleId, milliseconds);
}
