import { buildSchema, graphql, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { mergeFetches } from './merge-fetches.js';

// A subgraph-like schema: entities by representation, with an error for one of them.
const schema = buildSchema(`
  scalar _Any
  union _Entity = Product | User
  type Product { upc: String! name: String! price: Int! }
  type User { id: ID! name: String! }
  type Query { _entities(representations: [_Any!]!): [_Entity]! topProducts(first: Int!): [Product!]! }
`);
const products: Record<string, { upc: string; name: string; price: number }> = { p1: { upc: 'p1', name: 'Table', price: 899 }, p2: { upc: 'p2', name: 'Couch', price: 1299 } };
const rootValue = {
  _entities: ({ representations }: { representations: { __typename: string; upc?: string; id?: string }[] }) =>
    representations.map((r) => {
      if (r.__typename === 'Product') return { __typename: 'Product', ...products[r.upc!] };
      if (r.id === 'broken') return new Error('user broken is unavailable');
      return { __typename: 'User', id: r.id, name: `User ${r.id}` };
    }),
  topProducts: ({ first }: { first: number }) => Object.values(products).slice(0, first),
};
const execute = async (query: string, variables?: Record<string, unknown>) =>
  JSON.parse(JSON.stringify(await graphql({ schema, source: query, variableValues: variables, rootValue, typeResolver: (v: { __typename: string }) => v.__typename })));

const productNames = 'query Q__products__1($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { ...P } } } fragment P on Product { name }';
const productPrices =
  'query Q__products__2($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { ...P } } } fragment P on Product { price }';
const users = 'query Q__accounts__3($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { name } } }';

describe('merging the queries one request sends a subgraph at once', () => {
  it('gives each query exactly the answer it would have got alone, with same-named fragments and variables kept apart', async () => {
    const fetches = [
      { query: productNames, variables: { representations: [{ __typename: 'Product', upc: 'p1' }] } },
      {
        query: productPrices,
        variables: {
          representations: [
            { __typename: 'Product', upc: 'p2' },
            { __typename: 'Product', upc: 'p1' },
          ],
        },
      },
      { query: 'query Q__products__0($first: Int!) { top: topProducts(first: $first) { upc } }', variables: { first: 1 } },
    ];
    const merged = mergeFetches(fetches)!;
    expect(parse(merged.query).definitions).toHaveLength(3); // the operation and the two renamed fragments
    const parts = merged.split(await execute(merged.query, merged.variables));
    const alone = await Promise.all(fetches.map((fetch) => execute(fetch.query, fetch.variables)));
    expect(parts).toEqual(alone);
    expect(parts[1]?.data).toEqual({ _entities: [{ price: 1299 }, { price: 899 }] });
  });

  it("hands an error to the query whose field it concerns, with that query's path", async () => {
    const fetches = [
      {
        query: users,
        variables: {
          representations: [
            { __typename: 'User', id: 'u1' },
            { __typename: 'User', id: 'broken' },
          ],
        },
      },
      { query: productNames, variables: { representations: [{ __typename: 'Product', upc: 'p2' }] } },
    ];
    const merged = mergeFetches(fetches)!;
    const [forUsers, forProducts] = merged.split(await execute(merged.query, merged.variables));
    expect(forUsers?.errors).toEqual([expect.objectContaining({ message: 'user broken is unavailable', path: ['_entities', 1] })]);
    expect(forUsers?.data).toEqual({ _entities: [{ name: 'User u1' }, null] });
    expect(forProducts).toEqual({ data: { _entities: [{ name: 'Couch' }] } });
  });

  it('gives an error without a path to every query', () => {
    const merged = mergeFetches([{ query: users }, { query: productNames }])!;
    const parts = merged.split({ errors: [{ message: 'subgraph overloaded' }] });
    expect(parts.map((p) => p.errors)).toEqual([[{ message: 'subgraph overloaded' }], [{ message: 'subgraph overloaded' }]]);
  });

  it('leaves out what it cannot merge: mutations, several operations, root fragments', () => {
    expect(mergeFetches([{ query: 'mutation { pay }' }, { query: users }])).toBeUndefined();
    expect(mergeFetches([{ query: 'query A { a } query B { b }' }, { query: users }])).toBeUndefined();
    expect(mergeFetches([{ query: '{ ... on Query { a } }' }, { query: users }])).toBeUndefined();
  });
});
