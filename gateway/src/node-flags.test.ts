import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GATEWAY_NODE_FLAGS } from './node-flags.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe("the gateway's Node flags", () => {
  it('are the ones the compose file starts the gateway with', () => {
    const compose = parse(readFileSync(path.join(repoRoot, 'infra/docker/compose.yaml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, unknown> }>;
    };
    const nodeOptions = String(compose.services.gateway?.environment?.NODE_OPTIONS ?? '').split(/\s+/);
    for (const flag of GATEWAY_NODE_FLAGS) expect(nodeOptions).toContain(flag);
    // And only the gateway: the other services keep Node's defaults.
    for (const [name, service] of Object.entries(compose.services)) {
      if (name !== 'gateway') expect(String(service.environment?.NODE_OPTIONS ?? ''), name).not.toContain('--max-semi-space-size');
    }
  });

  it('are flags this Node accepts in NODE_OPTIONS', () => {
    for (const flag of GATEWAY_NODE_FLAGS) expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0]!), flag).toBe(true);
  });
});
