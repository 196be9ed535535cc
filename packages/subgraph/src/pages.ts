import { badInput } from '@analytica/errors';
import { isUuid } from './access.js';

/**
 * Relay connections, the one pagination convention of the API: `first` and `after` in, `edges`,
 * `pageInfo` and (where counting is affordable) `totalCount` out. Pages are read forwards only.
 */
export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Page<T> {
  edges: Edge<T>[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** The page of these edges; `hasNextPage` comes from the query (one row more than asked for). */
export function pageOf<T>(edges: Edge<T>[], hasNextPage: boolean): Page<T> {
  return {
    edges,
    pageInfo: { hasNextPage, hasPreviousPage: false, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

/** Refuses a page size outside 1..max, naming the argument and the items (`Ask for 1 to 100 payments per page.`). */
export function checkPageSize(first: number, max: number, items: string): void {
  if (!Number.isInteger(first) || first < 1 || first > max) throw badInput('first', `Ask for 1 to ${max} ${items} per page.`);
}

/**
 * Newest-first keyset pages over `(createdAt, id)`: the cursor is the position of the last row
 * read, so rows added meanwhile neither repeat nor shift the next page (as an offset would).
 * Exact only where `createdAt` is written from a JavaScript Date (millisecond precision), as it is
 * in every table paged this way; a database default `now()` keeps microseconds the cursor drops.
 */
export function encodeTimeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

/** The position an `after` cursor names; BAD_USER_INPUT on `after` for anything we did not hand out. */
export function decodeTimeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    const createdAt = new Date(typeof at === 'string' ? at : Number.NaN);
    const year = createdAt.getUTCFullYear();
    if (Number.isNaN(year) || year < 1 || year > 9999 || typeof id !== 'string' || !isUuid(id)) throw new Error('not our cursor');
    return { createdAt, id };
  } catch {
    throw badInput('after', 'This cursor is not one we gave out; pass the endCursor of the previous page.');
  }
}

/** The MikroORM condition for rows after a time cursor in newest-first order. */
export function olderThan(cursor: { createdAt: Date; id: string }) {
  return { $or: [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $lt: cursor.id } }] };
}

/**
 * A newest-first page over `(createdAt, id)` with its total: `rows` reads at most `limit` rows
 * matching the filter and `after` (null on the first page), `count` counts every match.
 */
export async function newestFirstPage<T extends { createdAt: Date; id: string }>(
  first: number,
  after: string | null | undefined,
  read: { rows(after: ReturnType<typeof olderThan> | null, limit: number): Promise<T[]>; count(): Promise<number> },
): Promise<Page<T> & { totalCount: number }> {
  const position = after ? decodeTimeCursor(after) : null;
  const [rows, totalCount] = await Promise.all([read.rows(position && olderThan(position), first + 1), read.count()]);
  const page = rows.slice(0, first);
  return {
    ...pageOf(
      page.map((node) => ({ cursor: encodeTimeCursor(node), node })),
      rows.length > first,
    ),
    totalCount,
  };
}
