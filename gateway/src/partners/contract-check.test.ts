import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildContract, createContractChecker, introspect } from './contract-check.js';

// A contract's API schema as the registry publishes it: the market-data slice of a graph whose
// full schema also has `me`, `payments` and admin fields. Here they simply do not exist.
const MARKET_DATA = buildContract(
  'market-data',
  3,
  `type Query { quote(symbol: String!): Quote  quotes(symbols: [String!]!): [Quote!]! }
   type Quote { symbol: String!  last: Float!  changePercent: Float! }`,
);

describe('checking a partner operation against its contract', () => {
  const checker = createContractChecker({ maxTokens: 2000 });

  it('lets through an operation inside the contract', () => {
    const verdict = checker.check(MARKET_DATA, '{ quote(symbol: "AAPL") { symbol last } }');
    expect(verdict.kind).toBe('valid');
  });

  it('refuses a field outside the contract exactly as an unknown field, naming no field of the full schema', () => {
    const verdict = checker.check(MARKET_DATA, '{ me { id } }');
    expect(verdict).toMatchObject({ kind: 'invalid', errors: [{ message: 'Cannot query field "me" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
  });

  it('answers introspection from the contract schema only', async () => {
    const query = '{ __schema { queryType { fields { name } } } }';
    const verdict = checker.check(MARKET_DATA, query);
    expect(verdict.kind).toBe('introspection');
    const result = await introspect(MARKET_DATA, parse(query), undefined, undefined);
    const names = (result.data as { __schema: { queryType: { fields: { name: string }[] } } }).__schema.queryType.fields.map((f) => f.name);
    expect(names).toEqual(['quote', 'quotes']);
  });

  it('sees introspection through fragments and refuses it mixed with data', () => {
    expect(checker.check(MARKET_DATA, 'query { ...Q } fragment Q on Query { __type(name: "Quote") { name } }').kind).toBe('introspection');
    const mixed = checker.check(MARKET_DATA, '{ __schema { types { name } } quote(symbol: "AAPL") { last } }');
    expect(mixed).toMatchObject({ kind: 'invalid', errors: [{ message: expect.stringContaining('introspection') }] });
  });

  it('leaves unparseable text to the server, and keeps verdicts per contract version', () => {
    expect(checker.check(MARKET_DATA, '{ quote(').kind).toBe('unparsed');
    const wider = buildContract('market-data', 4, 'type Query { quote(symbol: String!): Quote  me: Me } type Quote { symbol: String! } type Me { id: ID! }');
    expect(checker.check(MARKET_DATA, '{ me { id } }').kind).toBe('invalid');
    expect(checker.check(wider, '{ me { id } }').kind).toBe('valid');
  });
});
