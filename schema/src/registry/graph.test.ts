import { describe, expect, it } from 'vitest';
import { apiSchemaOf, changelog, classify, composeGraph } from './graph.js';
import { quantile, LATENCY_BOUNDS_MS } from './usage.js';

const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@inaccessible"])';
const a = `${link}\nenum Kind { A B }\ntype Query { items(first: Int, kind: Kind): [Item!]! secret: String @inaccessible }\ntype Item @key(fields: "id") { id: ID! name: String! }`;

describe('graph', () => {
  it('derives a client-facing API schema without federation internals or @inaccessible fields', () => {
    const composed = composeGraph([{ name: 'a', url: 'http://a/graphql', sdl: a }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    expect(composed.apiSdl).toContain('type Item');
    expect(composed.apiSdl).not.toMatch(/join__|link__|secret|_entities/);
    expect(apiSchemaOf(composed.supergraphSdl)).toBe(composed.apiSdl);
  });

  it('classifies: a nullable field SAFE, a removed field or a changed argument type BREAKING, an enum value added DANGEROUS', async () => {
    const before = 'enum Kind { A B } type Item { id: ID! name: String! } type Query { items(first: Int, kind: Kind): [Item!]! }';
    expect(await classify(before, before.replace('name: String!', 'name: String! note: String'))).toEqual([expect.objectContaining({ level: 'SAFE', path: 'Item.note' })]);
    expect(await classify(before, before.replace(' name: String!', ''))).toEqual([expect.objectContaining({ level: 'BREAKING', path: 'Item.name' })]);
    expect(await classify(before, before.replace('first: Int', 'first: String'))).toEqual([expect.objectContaining({ level: 'BREAKING', path: 'Query.items.first' })]);
    const dangerous = await classify(before, before.replace('enum Kind { A B }', 'enum Kind { A B C }'));
    expect(dangerous).toEqual([expect.objectContaining({ level: 'DANGEROUS', path: 'Kind.C' })]);
    expect(changelog(dangerous)).toBe("DANGEROUS (1):\n  - Enum value 'C' was added to enum 'Kind'");
  });

  it('reads quantiles from latency histograms, interpolated inside the bucket', () => {
    const buckets = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    buckets[LATENCY_BOUNDS_MS.indexOf(20)] = 95; // 15..20 ms
    buckets[LATENCY_BOUNDS_MS.indexOf(200)] = 5; // 150..200 ms
    expect(quantile(buckets, 0.5)).toBeCloseTo(15 + (50 / 95) * 5, 1);
    expect(quantile(buckets, 0.95)).toBe(20);
    expect(quantile(buckets, 0.99)).toBeCloseTo(190, 0);
    expect(quantile(new Array(LATENCY_BOUNDS_MS.length + 1).fill(0), 0.95)).toBeNull();
  });
});
