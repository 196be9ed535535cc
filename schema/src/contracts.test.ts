import { readFileSync } from 'node:fs';
import { buildSchema, parse, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { compose, supergraphPath } from './composition.js';
import { ContractError, contractSchemaOf, hasCoordinate, tagsOf } from './contracts.js';

const fixture = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@tag"])
type Query {
  quote(symbol: String!): Quote @tag(name: "public")
  search(filter: Filter, mode: Mode): [Quote!]! @tag(name: "public")
  secretQuote(token: Secret!): Quote @tag(name: "public")
  optionalSecret(token: Secret): Quote @tag(name: "public")
  admin: AdminStats @tag(name: "public")
  me: User
}
type Mutation { like(id: ID!): Boolean }
type Quote @tag(name: "public") { symbol: String! price: Float! watchers: [User!]! internal: String @tag(name: "private") }
type User { id: ID! name: String! @tag(name: "public") email: String }
type AdminStats @tag(name: "private") { count: Int }
input Filter { sector: String hidden: String @tag(name: "private") }
input Secret @tag(name: "private") { value: String }
enum Mode { FAST SLOW INTERNAL @tag(name: "private") }
type Orphan @tag(name: "public") { x: Int }
`;
const composed = compose([{ name: 'a', url: 'http://a/graphql', sdl: fixture }]);
if (!composed.ok) throw new Error(composed.errors.join('\n'));
const supergraph = composed.supergraphSdl;
const fieldsOf = (sdl: string, type: string) => Object.keys((buildSchema(sdl).getType(type) as GraphQLObjectType | undefined)?.getFields() ?? {});

describe('contractSchemaOf on a fixture', () => {
  const contract = contractSchemaOf(supergraph, { name: 'partners', include: ['public'], exclude: ['private'] });

  it('reads @tag applications from the supergraph by schema coordinate', () => {
    const tags = tagsOf(parse(supergraph));
    expect(tags.get('Quote')).toEqual(new Set(['public']));
    expect(tags.get('Quote.internal')).toEqual(new Set(['private']));
    expect(tags.get('Mode.INTERNAL')).toEqual(new Set(['private']));
    expect(tags.get('Filter.hidden')).toEqual(new Set(['private']));
  });

  it('includes tagged root fields and every field of a tagged type; an untagged type keeps only its tagged fields', () => {
    expect(fieldsOf(contract, 'Query')).toEqual(['quote', 'search', 'optionalSecret']);
    expect(fieldsOf(contract, 'Quote')).toEqual(['symbol', 'price', 'watchers']);
    expect(fieldsOf(contract, 'User')).toEqual(['name']);
    expect(buildSchema(contract).getMutationType()).toBeUndefined();
  });

  it('lets the exclude list win, and removes what depends on what went', () => {
    // AdminStats is excluded: the field returning it goes; Secret is excluded: the field that requires it
    // goes, the one where it is optional loses the argument.
    expect(contract).not.toMatch(/AdminStats|input Secret|secretQuote|internal|hidden|INTERNAL/);
    expect(buildSchema(contract).getQueryType()!.getFields().optionalSecret!.args).toEqual([]);
    const schema = buildSchema(contract);
    expect(Object.keys((schema.getType('Filter') as unknown as { getFields(): object }).getFields())).toEqual(['sector']);
    // Unreachable types go, tagged or not.
    expect(contract).not.toContain('Orphan');
  });

  it('without an include list keeps everything not excluded', () => {
    const all = contractSchemaOf(supergraph, { include: [], exclude: ['private'] });
    expect(fieldsOf(all, 'Query')).toEqual(['quote', 'search', 'optionalSecret', 'me']);
    expect(fieldsOf(all, 'User')).toEqual(['id', 'name', 'email']);
    expect(fieldsOf(all, 'Mutation')).toEqual(['like']);
  });

  it('marks approved removals deprecated with their date (in the description where @deprecated cannot go)', () => {
    const marked = contractSchemaOf(supergraph, { include: ['public'], exclude: ['private'] }, [
      { coordinate: 'Quote.price', reason: 'Use Quote.last', removeAfter: '2030-01-31' },
      { coordinate: 'Query.quote.symbol', reason: 'Symbols are going.', removeAfter: '2030-02-01' },
      { coordinate: 'Quote.nothing', reason: 'not in the contract', removeAfter: '2030-02-01' },
    ]);
    expect(marked).toContain('price: Float! @deprecated(reason: "Use Quote.last. Removal on or after 2030-01-31.")');
    expect(marked).toContain('Deprecated: Symbols are going. Removal on or after 2030-02-01.');
    expect(buildSchema(marked).getQueryType()!.getFields().quote!.args[0]!.deprecationReason).toBeUndefined();
  });

  it('refuses a contract with no Query field, naming it', () => {
    expect(() => contractSchemaOf(supergraph, { name: 'empty', include: ['nothing'], exclude: [] })).toThrow(ContractError);
    expect(() => contractSchemaOf(supergraph, { name: 'empty', include: ['nothing'], exclude: [] })).toThrow(/Contract "empty" has no Query field/);
    expect(() => contractSchemaOf(supergraph, { name: 'bad', include: ['no spaces'], exclude: [] })).toThrow(/"no spaces"/);
  });

  it('knows which coordinates a contract has', () => {
    expect(hasCoordinate(contract, 'Quote.price')).toBe(true);
    expect(hasCoordinate(contract, 'Query.quote.symbol')).toBe(true);
    expect(hasCoordinate(contract, 'Mode.FAST')).toBe(true);
    expect(hasCoordinate(contract, 'Quote')).toBe(true);
    expect(hasCoordinate(contract, 'Query.me')).toBe(false);
    expect(hasCoordinate(contract, 'Mode.INTERNAL')).toBe(false);
    expect(hasCoordinate(contract, 'Quote.price.x')).toBe(false);
  });
});

describe('contractSchemaOf on the shipped supergraph', () => {
  const shipped = readFileSync(supergraphPath, 'utf8');
  const marketData = contractSchemaOf(shipped, { name: 'market-data', include: ['public'], exclude: ['private'] });
  const query = fieldsOf(marketData, 'Query');

  it('market-data offers quotes, candles, instruments and news, and nothing about users, payments or administration', () => {
    expect(query).toEqual(expect.arrayContaining(['quote', 'quotes', 'candles', 'articles', 'article', 'instrument', 'searchInstruments', 'movers']));
    expect(query).not.toEqual(expect.arrayContaining(['me']));
    for (const absent of ['me', 'payments', 'payment', 'users', 'user', 'auditLog', 'paymentDeadLetters', 'account', 'transaction', 'report']) expect(query).not.toContain(absent);
    for (const absent of ['paymentDeadLettersConnection', 'articleFlagsConnection', 'hiddenArticles']) expect(query).not.toContain(absent);
    expect(buildSchema(marketData).getMutationType()).toBeUndefined();
    expect(marketData).not.toMatch(/\b(type User|type Payment|AuditEntry|enum Role|savedByMe:|likedByMe:)/);
    expect(fieldsOf(marketData, 'Subscription')).toEqual(['quote', 'quotes', 'movers']);
    expect(fieldsOf(marketData, 'ArticleConnection')).toEqual(['edges', 'pageInfo']);
  });

  it('is a valid schema every time, and the same text for the same input', () => {
    expect(() => buildSchema(marketData)).not.toThrow();
    expect(contractSchemaOf(shipped, { name: 'market-data', include: ['public'], exclude: ['private'] })).toBe(marketData);
  });
});
