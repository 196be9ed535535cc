import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { describeOperation } from './usage.js';

const schema = buildSchema(`
  enum Region { EU US }
  enum Sentiment { POSITIVE NEGATIVE }
  input Range { from: String, to: String }
  input Filter { region: Region, text: String, published: Range }
  type Article { id: ID! title: String! body: String! sentiment: Sentiment }
  type Quote { symbol: String! }
  union Hit = Article | Quote
  type Query { articles(first: Int, filter: Filter): [Article!]! movers(region: Region!): [Article!]! search(text: String!): [Hit!]! }
`);

describe('usage: operation signature and schema coordinates', () => {
  it('counts requests that differ only in literals, aliases, order and spacing as one operation', () => {
    const a = describeOperation(schema, parse('query Page { articles(first: 10, filter: { text: "rates" }) { id title } }'), 'Page')!;
    const b = describeOperation(schema, parse('query Page {\n  articles(filter: {text: "bonds"}, first: 20) { t: title id }\n}'), undefined)!;
    expect(a.signature).toBe(b.signature);
    expect(a.hash).toBe(b.hash);
    expect(a.signature).not.toMatch(/rates|10/);
    expect(a.name).toBe('Page');
    const other = describeOperation(schema, parse('query Page { articles(first: 10) { id body } }'), 'Page')!;
    expect(other.hash).not.toBe(a.hash);
  });

  it('lists fields, arguments, input fields, enum values and variable types, through fragments', () => {
    const info = describeOperation(
      schema,
      parse(`
        query Movers($f: Filter) { movers(region: EU) { ...A } articles(filter: $f) { __typename id } }
        fragment A on Article { title }
        query Unused { articles { body } }
      `),
      'Movers',
    )!;
    // A variable of type Filter may carry any of its fields, nested inputs and enum values included.
    expect(info.coordinates).toEqual([
      'Article.id',
      'Article.title',
      'Filter',
      'Filter.published',
      'Filter.region',
      'Filter.text',
      'Query.articles',
      'Query.articles.filter',
      'Query.movers',
      'Query.movers.region',
      'Range.from',
      'Range.to',
      'Region.EU',
      'Region.US',
    ]);
    const literal = describeOperation(schema, parse('{ articles(filter: { region: US }) { id } }'), undefined)!;
    expect(literal.coordinates).toEqual(['Article.id', 'Filter.region', 'Query.articles', 'Query.articles.filter', 'Region.US']);
  });

  it('counts every value an enum field can return, and the union a field returns, as used', () => {
    const info = describeOperation(schema, parse('{ articles { sentiment } search(text: "x") { ... on Quote { symbol } } }'), undefined)!;
    expect(info.coordinates).toEqual([
      'Article.sentiment',
      'Hit',
      'Query.articles',
      'Query.search',
      'Query.search.text',
      'Quote.symbol',
      'Sentiment.NEGATIVE',
      'Sentiment.POSITIVE',
    ]);
  });

  it('describes nothing when the named operation is not in the document', () => {
    expect(describeOperation(schema, parse('query A { articles { id } } query B { articles { id } }'), undefined)).toBeUndefined();
    expect(describeOperation(schema, parse('query A { articles { id } }'), 'C')).toBeUndefined();
  });
});
