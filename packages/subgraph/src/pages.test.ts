import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '@analytica/errors';
import { checkPageSize, decodeTimeCursor, encodeTimeCursor, pageOf } from './pages.js';

describe('pages', () => {
  it('reads back the position a time cursor was made from', () => {
    const row = { createdAt: new Date('2026-03-04T05:06:07.089Z'), id: randomUUID() };
    expect(decodeTimeCursor(encodeTimeCursor(row))).toEqual(row);
  });

  it.each([
    ['not base64 JSON', 'not a cursor'],
    ['no uuid', Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 'x'])).toString('base64url')],
    ['not a time', Buffer.from(JSON.stringify(['yesterday', randomUUID()])).toString('base64url')],
    ['a year the database cannot hold', Buffer.from(JSON.stringify(['-100000-01-01T00:00:00.000Z', randomUUID()])).toString('base64url')],
  ])('refuses a cursor with %s as BAD_USER_INPUT on after', (_, cursor) => {
    let error: unknown;
    try {
      decodeTimeCursor(cursor);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('gives the first and last cursor of a page, and none for an empty one', () => {
    const edges = [
      { cursor: 'a', node: 1 },
      { cursor: 'b', node: 2 },
    ];
    expect(pageOf(edges, true).pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: 'a', endCursor: 'b' });
    expect(pageOf([], false).pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('refuses a page size outside 1 to the maximum, naming what is paged', () => {
    expect(() => checkPageSize(0, 100, 'payments')).toThrow('Ask for 1 to 100 payments per page.');
    expect(() => checkPageSize(2.5, 100, 'payments')).toThrow(AppError);
    expect(() => checkPageSize(100, 100, 'payments')).not.toThrow();
  });
});
