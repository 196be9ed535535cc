// The planner's sharing decision for the benchmark's subscription, asked of the gateway's own
// planner (gateway/src/subscriptions/planner.ts) over the committed schema/supergraph.graphql:
// `shared: true` means every selected field is public, so the gateway runs one execution per
// selection and symbol for all users, and authorises no subscriber with a per-user subgraph call.
// The gateway's `subscription_executions_active` during the run says the same from the outside.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'graphql';
import { createSupergraphView } from '@analytica/gateway/planner';
import { repoRoot } from './paths.js';

export interface SharingDecision {
  shared: boolean | 'unknown';
  owner?: string;
  /** Subgraphs other than the owner that each event is sent to (`rest` of the plan). */
  perEventFetches?: string[];
  note?: string;
}

interface PreparedLike {
  shared?: boolean;
  owner?: string;
  rest?: unknown;
}

/** The service names of the fetches in a plan node, depth first. */
function servicesIn(node: unknown, found = new Set<string>()): Set<string> {
  if (!node || typeof node !== 'object') return found;
  const n = node as { kind?: string; serviceName?: string; node?: unknown; nodes?: unknown[] };
  if (n.kind === 'Fetch' && n.serviceName) found.add(n.serviceName);
  if (n.node) servicesIn(n.node, found);
  for (const child of n.nodes ?? []) servicesIn(child, found);
  return found;
}

export async function planSharing(query: string): Promise<SharingDecision> {
  const sdl = await readFile(path.join(repoRoot, 'schema/supergraph.graphql'), 'utf8');
  try {
    const prepared = createSupergraphView(sdl).prepare(parse(query), undefined);
    if (Array.isArray(prepared)) return { shared: 'unknown', note: `the planner refused it: ${prepared.map((e: { message?: string }) => e.message).join('; ')}` };
    const p = prepared as PreparedLike;
    return {
      shared: typeof p.shared === 'boolean' ? p.shared : 'unknown',
      owner: p.owner,
      perEventFetches: [...servicesIn(p.rest)].sort(),
    };
  } catch (error) {
    return { shared: 'unknown', note: `could not ask the planner: ${error instanceof Error ? error.message : String(error)}` };
  }
}
