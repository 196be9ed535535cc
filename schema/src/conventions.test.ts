import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiSchemaPath } from './composition.js';
import { conventionBreaches } from './conventions.js';

const PAGE_INFO = 'type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }';

describe('the API schema conventions', () => {
  it('names a paged plain list, a connection without its parts and an undated deprecation', () => {
    const sdl = `
${PAGE_INFO}
type Query {
  payments(first: Int): [Payment!]!
  oldPayments(first: Int): [Payment!] @deprecated(reason: "Use payments. Deprecated 2026-01-01; to be removed after 2026-06-30.")
  undated: Int @deprecated(reason: "Use payments.")
  invoices(first: Int, after: String): InvoiceConnection!
  movers(limit: Int): [Payment!]!
}
type Payment { id: ID! }
type InvoiceConnection { edges: [InvoiceEdge!]! pageInfo: PageInfo }
type InvoiceEdge { cursor: String! node: Payment! }
`;
    expect(conventionBreaches(sdl, {})).toEqual([
      'InvoiceConnection: pageInfo must be PageInfo!',
      'InvoiceConnection: totalCount must be Int! (how many items across all pages)',
      'Query.movers: a paged list (limit) must be a Relay connection (first, after; edges, pageInfo, totalCount)',
      'Query.payments: a paged list (first) must be a Relay connection (first, after; edges, pageInfo, totalCount)',
      'Query.undated: the deprecation reason must say what to use instead and end "Deprecated YYYY-MM-DD; to be removed after YYYY-MM-DD."',
    ]);
  });

  it('accepts a whole connection', () => {
    const sdl = `
${PAGE_INFO}
type Query { invoices(first: Int, after: String): InvoiceConnection! }
type Invoice { id: ID! }
type InvoiceConnection { edges: [InvoiceEdge!]! pageInfo: PageInfo! totalCount: Int! }
type InvoiceEdge { cursor: String! node: Invoice! }
`;
    expect(conventionBreaches(sdl, {})).toEqual([]);
  });

  it('calls a listed gap that is no longer a paged plain list stale', () => {
    const sdl = `${PAGE_INFO}\ntype Query { top(first: Int): [Int!]! }`;
    expect(conventionBreaches(sdl, { 'Query.top': 'a ranking', 'Query.gone': 'removed since' })).toEqual([
      'Query.gone: listed as a paged plain list (removed since) but it is not one any more: remove it from PLAIN_LIST_GAPS',
    ]);
  });

  // schema:check fails on the same; this is the quick signal in the unit tests.
  it('holds for the committed schema/api.graphql', () => {
    expect(conventionBreaches(readFileSync(apiSchemaPath, 'utf8'))).toEqual([]);
  });
});
