import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, services, TEST_SUBGRAPH_SIGNING_KEY } from './index.js';

export interface ServiceProcessSpec {
  /** The service label: the name in its logs, in /health and /ready, and `service="..."` on /metrics. */
  name: string;
  /** Absolute path of the process entry (`src/main.ts`). */
  entry: string;
  /** A valid configuration, without PORT (the suite picks a free one). Called once, before the process starts. */
  env: () => Record<string, string> | Promise<Record<string, string>>;
  /** Variables set to malformed values on top of the valid configuration: each must be named on stderr, with exit code 78. */
  badEnv: Record<string, string>;
  /** Exactly the checks /ready must name, each answering "ok". */
  dependencies: string[];
  /** Metric names /metrics must show besides the shared HTTP ones. */
  metrics?: string[];
  /**
   * A request that is in flight when SIGTERM arrives; it must still get its answer. Started, given a
   * moment to reach the service, then the signal is sent and the promise awaited.
   */
  inFlight?: (url: string) => Promise<unknown>;
  /** Removes what the valid configuration created (schema, tables, keys), after the process is gone. */
  cleanup?: () => Promise<void>;
  /** How long the process may take to answer /ready 200 (migrations, consumer groups); 120 s by default (a loaded CI machine). */
  readyTimeoutMs?: number;
  /** How long the process may take to exit after SIGTERM; 20 s by default. */
  stopTimeoutMs?: number;
}

type Child = ChildProcessByStdio<null, Readable, Readable>;

// The service process itself (not a tsx wrapper), so that SIGTERM reaches it as a container runtime sends it.
export function startProcess(entry: string, env: Record<string, string>): { child: Child; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    // The gateway-to-subgraph key every subgraph and the gateway need (issue 17); others ignore it.
    env: { PATH: process.env.PATH ?? '', SUBGRAPH_SIGNING_KEY: TEST_SUBGRAPH_SIGNING_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The local ports of a process's TCP connections to `remotePort` (from /proc: its socket inodes, then the kernel's TCP tables). */
function localPortsTo(pid: number, remotePort: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const link = (() => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    })();
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode) inodes.add(inode);
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !inodes.has(fields[9]!)) continue;
      const local = parseInt(fields[1]!.split(':')[1]!, 16);
      const remote = parseInt(fields[2]!.split(':')[1]!, 16);
      if (remote === remotePort) ports.push(local);
    }
  }
  return ports;
}

/** Closes every PostgreSQL connection of a process from the server's side, as a restart or a failover does; answers how many. */
async function terminatePostgresConnectionsOf(pid: number, databaseUrl: string): Promise<number> {
  const ports = localPortsTo(pid, Number(new URL(databaseUrl).port || 5432));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ closed: string }>(
      "select count(*) filter (where pg_terminate_backend(pid)) as closed from pg_stat_activity where client_addr is not null and client_port = any($1::int[]) and backend_type = 'client backend'",
      [ports],
    );
    return Number(result.rows[0]!.closed);
  } finally {
    await client.end();
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms))),
  ]);
}

/**
 * The contract every service and worker process keeps, written once (as apollo-server's
 * integration-testsuite is for its integrations): it starts on a valid configuration and answers
 * /health, /ready naming each dependency, and /metrics on its private METRICS_PORT only (404 on
 * the public port), with the security headers on every answer; on SIGTERM it finishes what is in flight
 * and exits 0; on a malformed variable it exits 78 naming the variable. Call it at the top level
 * of a service's `src/main.int.test.ts`.
 */
export function describeServiceProcess(spec: ServiceProcessSpec) {
  const readyTimeoutMs = spec.readyTimeoutMs ?? 120_000;
  const stopTimeoutMs = spec.stopTimeoutMs ?? 20_000;
  // Loading the TypeScript entry alone takes seconds on a busy machine; the bound is for a hang, not for speed.
  const configExitTimeoutMs = 90_000;

  describe(`${spec.name} process`, () => {
    let validEnv: Record<string, string>;
    beforeAll(async () => {
      validEnv = await spec.env();
    });
    afterAll(async () => {
      await spec.cleanup?.();
    });

    it(
      'on a malformed variable exits 78 with a message naming it, without a stack trace',
      async () => {
        const port = await freePort();
        const run = startProcess(spec.entry, { ...validEnv, PORT: String(port), ...spec.badEnv });
        const code = await within(run.exited, configExitTimeoutMs, 'no exit').finally(() => run.child.kill('SIGKILL'));
        const stderr = run.output();
        expect(code, stderr).toBe(78);
        expect(stderr).toContain(`${spec.name}: Invalid configuration`);
        for (const [variable, value] of Object.entries(spec.badEnv)) {
          expect(stderr).toMatch(new RegExp(`\\b${variable} is "`));
          // A secret is named, never printed.
          if (/KEY|SECRET|PASSWORD|TOKEN/i.test(variable) && value) expect(stderr).not.toContain(value);
        }
        expect(stderr).not.toMatch(/at .*\.ts:\d+/);
      },
      configExitTimeoutMs + 10_000,
    );

    describe('on a valid configuration', () => {
      let run: ReturnType<typeof startProcess>;
      let url: string;
      let metricsUrl: string;

      beforeAll(async () => {
        const [port, metricsPort] = [await freePort(), await freePort()];
        run = startProcess(spec.entry, { ...validEnv, PORT: String(port), METRICS_PORT: String(metricsPort) });
        url = `http://127.0.0.1:${port}`;
        metricsUrl = `http://127.0.0.1:${metricsPort}`;
        const deadline = Date.now() + readyTimeoutMs;
        let last = 'no answer';
        while (Date.now() < deadline) {
          if (run.child.exitCode !== null) throw new Error(`${spec.name} exited with ${run.child.exitCode} before it was ready:\n${run.output()}`);
          const response = await fetch(`${url}/ready`).catch(() => undefined);
          if (response?.ok) return;
          if (response) last = `${response.status} ${await response.text()}`;
          await new Promise((r) => setTimeout(r, 250));
        }
        throw new Error(`${spec.name} was not ready within ${readyTimeoutMs} ms (last /ready: ${last}):\n${run.output()}`);
      }, readyTimeoutMs + 10_000);

      afterAll(async () => {
        if (run && run.child.exitCode === null) {
          run.child.kill('SIGKILL');
          await run.exited;
        }
      });

      it('answers /health with 200', async () => {
        const response = await fetch(`${url}/health`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ service: spec.name });
      });

      it(`answers /ready with 200, naming each dependency: ${spec.dependencies.join(', ') || 'none'}`, async () => {
        const response = await fetch(`${url}/ready`);
        const body = (await response.json()) as { service?: string; checks?: Record<string, string> };
        expect(response.status, JSON.stringify(body)).toBe(200);
        expect(body.service).toBe(spec.name);
        expect(body.checks ?? {}).toEqual(Object.fromEntries(spec.dependencies.map((d) => [d, 'ok'])));
      });

      it('answers every request with nosniff, no referrer and a Content-Security-Policy', async () => {
        for (const path of ['/health', '/ready', '/no-such-path']) {
          const response = await fetch(`${url}${path}`);
          expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
          expect(response.headers.get('referrer-policy'), path).toBe('no-referrer');
          expect(response.headers.get('content-security-policy'), path).toMatch(/default-src 'none'/);
        }
      });

      it('answers /metrics only on its private METRICS_PORT, in the Prometheus text format, labelled with the service', async () => {
        expect((await fetch(`${url}/metrics`)).status).toBe(404);
        const response = await fetch(`${metricsUrl}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
        const text = await response.text();
        expect(text).toMatch(/^# HELP /m);
        expect(text).toContain(`service="${spec.name}"`);
        for (const metric of ['http_request_duration_seconds', ...(spec.metrics ?? [])]) expect(text).toMatch(new RegExp(`^# TYPE ${metric} `, 'm'));
      });

      // A pool without an error listener ends the whole process when the server closes an idle
      // connection (the embedded stack once died so when its PostgreSQL stopped first).
      if (spec.dependencies.includes('postgres')) {
        it('keeps running when PostgreSQL closes its connections (a restart, a failover) and is ready again', async () => {
          const databaseUrl = validEnv.DATABASE_URL ?? services.databaseUrl;
          expect(await terminatePostgresConnectionsOf(run.child.pid!, databaseUrl)).toBeGreaterThan(0);
          await new Promise((r) => setTimeout(r, 500));
          const deadline = Date.now() + 20_000;
          let status = 0;
          while (Date.now() < deadline && run.child.exitCode === null) {
            status = (await fetch(`${url}/ready`).catch(() => undefined))?.status ?? 0;
            if (status === 200) break;
            await new Promise((r) => setTimeout(r, 250));
          }
          expect(run.child.exitCode, run.output().slice(-3000)).toBeNull();
          expect(status).toBe(200);
        }, 30_000);
      }

      it(
        `on SIGTERM finishes what is in flight, drains and exits 0 within ${stopTimeoutMs / 1000} s`,
        async () => {
          const inFlight = spec.inFlight?.(url);
          if (inFlight) await new Promise((r) => setTimeout(r, 20));
          run.child.kill('SIGTERM');
          if (inFlight) await inFlight;
          const code = await within(run.exited, stopTimeoutMs, 'no exit after SIGTERM');
          expect(code, run.output()).toBe(0);
          expect(run.output()).toContain('"msg":"draining"');
          expect(run.output()).toContain('"msg":"stopped"');
        },
        stopTimeoutMs + 10_000,
      );
    });
  });
}
