import { DeleteCommand, PutCommand, queryPartition, UpdateCommand, type Dynamo } from '@analytica/dynamo';
import { badInput } from '@analytica/errors';
import { normaliseSymbol } from '../instruments/instruments.js';

export const MAX_WATCHLIST_SYMBOLS = 100;

export interface WatchlistStore {
  dynamo: Dynamo;
  table: string;
}

/**
 * One item per (user, symbol). The sort key is the symbol, not the position, so adding or removing
 * one symbol is one single-item write; the order is an explicit `rank` on each item.
 */
export function watchlistsTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'userId', AttributeType: 'S' },
      { AttributeName: 'symbol', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'userId', KeyType: 'HASH' },
      { AttributeName: 'symbol', KeyType: 'RANGE' },
    ],
  };
}

export interface WatchlistEntry {
  symbol: string;
  rank: number;
  addedAt: string;
}

/** The user's symbols in their chosen order. */
export async function readWatchlist(store: WatchlistStore, userId: string): Promise<WatchlistEntry[]> {
  const entries = (await queryPartition(store.dynamo, store.table, 'userId', userId)).map((item) => ({
    symbol: String(item.symbol),
    rank: Number(item.rank),
    addedAt: String(item.addedAt),
  }));
  return entries.sort(inOrder);
}

// Two adds racing can take the same rank; the earlier one then stays first.
const inOrder = (a: WatchlistEntry, b: WatchlistEntry) => a.rank - b.rank || a.addedAt.localeCompare(b.addedAt) || a.symbol.localeCompare(b.symbol);

/**
 * Appends a symbol (a symbol already on the list stays where it is). The limit is checked on a
 * consistent read: without transactions, two adds racing at 99 symbols could both pass.
 */
export async function addToWatchlist(store: WatchlistStore, userId: string, symbol: string): Promise<void> {
  const entries = await readWatchlist(store, userId);
  if (entries.some((e) => e.symbol === symbol)) return;
  if (entries.length >= MAX_WATCHLIST_SYMBOLS) {
    throw badInput('symbol', `A watchlist holds at most ${MAX_WATCHLIST_SYMBOLS} symbols; remove one before adding ${symbol}.`);
  }
  const rank = Math.max(0, ...entries.map((e) => e.rank)) + 1;
  try {
    await store.dynamo.doc.send(
      new PutCommand({
        TableName: store.table,
        Item: { userId, symbol, rank, addedAt: new Date().toISOString() },
        ConditionExpression: 'attribute_not_exists(symbol)',
      }),
    );
  } catch (error) {
    // The same symbol added twice at once: the first add wins and keeps its place.
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}

/** Removes a symbol; removing one that is not on the list changes nothing. */
export async function removeFromWatchlist(store: WatchlistStore, userId: string, symbol: string): Promise<void> {
  await store.dynamo.doc.send(new DeleteCommand({ TableName: store.table, Key: { userId, symbol } }));
}

/**
 * The rank changes that put the list into the order asked for. The new order must name every
 * symbol on the list exactly once, so that a stale client cannot silently drop or resurrect one.
 */
export function planReorder(entries: readonly WatchlistEntry[], requested: readonly string[]): { symbol: string; rank: number }[] {
  const symbols = requested.map(normaliseSymbol);
  const current = new Set(entries.map((e) => e.symbol));
  const seen = new Set<string>();
  for (const symbol of symbols) {
    if (seen.has(symbol)) throw badInput('symbols', `${symbol} appears more than once; name each symbol of the watchlist once.`);
    if (!current.has(symbol)) throw badInput('symbols', `${symbol} is not on the watchlist; reorder only the symbols it holds.`);
    seen.add(symbol);
  }
  if (seen.size !== current.size) {
    const missing = [...current].filter((s) => !seen.has(s));
    throw badInput('symbols', `The new order leaves out ${missing.join(', ')}; name every symbol of the watchlist once.`);
  }
  const rankOf = new Map(entries.map((e) => [e.symbol, e.rank]));
  return symbols.map((symbol, n) => ({ symbol, rank: n + 1 })).filter(({ symbol, rank }) => rankOf.get(symbol) !== rank);
}

export async function reorderWatchlist(store: WatchlistStore, userId: string, requested: readonly string[]): Promise<void> {
  const changes = planReorder(await readWatchlist(store, userId), requested);
  // Conditional updates rather than batch puts: a symbol removed meanwhile must not come back.
  await Promise.all(
    changes.map(async ({ symbol, rank }) => {
      try {
        await store.dynamo.doc.send(
          new UpdateCommand({
            TableName: store.table,
            Key: { userId, symbol },
            UpdateExpression: 'SET #rank = :rank',
            ConditionExpression: 'attribute_exists(symbol)',
            ExpressionAttributeNames: { '#rank': 'rank' },
            ExpressionAttributeValues: { ':rank': rank },
          }),
        );
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      }
    }),
  );
}
