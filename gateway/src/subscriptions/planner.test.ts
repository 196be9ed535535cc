// What the gateway may share is decided by the committed supergraph's @tag(name: "public"): these
// plan real subscriptions against schema/supergraph.graphql as shipped, not against a fixture.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSupergraphView, type PreparedSubscription } from './planner.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const view = createSupergraphView(readFileSync(path.join(repoRoot, 'schema/supergraph.graphql'), 'utf8'));

function plan(query: string): PreparedSubscription {
  const prepared = view.prepare(parse(query), undefined);
  if (Array.isArray(prepared)) throw new Error(prepared.map((e) => e.message).join('; '));
  return prepared as PreparedSubscription;
}

/** The subscription README.md shows frontend developers, read from the README itself. */
function readmeSubscription(): string {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.trimStart().startsWith('subscription'));
  if (!block) throw new Error('README.md shows no subscription');
  return block;
}

describe('subscription planning on the committed supergraph', () => {
  it("shares the README's subscription, latestHeadline from news included, among all subscribers", () => {
    const prepared = plan(readmeSubscription());
    expect(prepared.owner).toBe('market');
    expect(prepared.kind).toBe('entity');
    expect(prepared.rest).not.toBeNull(); // latestHeadline is fetched from news per event
    expect(prepared.shared).toBe(true);
  });

  it("shares the benchmark's subscription", () => {
    // Read as text, not imported: the gateway sits below bench/ in the import graph.
    const source = readFileSync(path.join(repoRoot, 'bench/subscriptions/operation.ts'), 'utf8');
    const operation = /BENCH_SUBSCRIPTION\s*=\s*'([^']+)'/.exec(source)?.[1];
    if (!operation) throw new Error('bench/subscriptions/operation.ts defines no BENCH_SUBSCRIPTION');
    expect(plan(operation).shared).toBe(true);
  });

  it('shares every public quote and instrument field, and one quote by symbol', () => {
    expect(plan('subscription { quote(symbol: "BTC-USD") { symbol last bid ask time marketState instrument { name exchange } } }').shared).toBe(true);
  });

  it('does not share a selection with a private field: a headline liked by the caller', () => {
    expect(plan('subscription { quote(symbol: "AAPL") { symbol latestHeadline { title likedByMe } } }').shared).toBe(false);
  });

  it("keeps a payment's status private to its owner", () => {
    const prepared = plan('subscription { paymentStatus(paymentId: "4b1c0f1e-0000-4000-8000-000000000000") { id status } }');
    expect(prepared.kind).toBe('entity');
    expect(prepared.shared).toBe(false);
  });
});
