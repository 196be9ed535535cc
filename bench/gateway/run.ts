// The federation scenario of the public gateways benchmark (graphql-hive/graphql-gateways-benchmark)
// rebuilt on this machine (issue 18, acceptance 1a/1b): four Node subgraphs with the published data,
// the deep query, every answer checked byte for byte against the published expected result, and
// three gateways measured in the same run, in interleaved rounds: stock @apollo/gateway behind
// @apollo/server, Hive Gateway (its CLI, as published) and ours (gateway/src/main.ts as it ships).
// Two modes: deduplication on (as published) and off. See bench/gateway/README.md.
//
//   npm run bench:gateway -w bench
//   npx tsx bench/gateway/run.ts --seconds 5 --warmup 2 --rounds 1 --modes on
//   npx tsx bench/gateway/run.ts --help
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gatewayEnvShape } from '@analytica/gateway';
import { createRedis } from '@analytica/redis';
import { freePort, services } from '@analytica/testing';
import { checkOutBaseline } from '../lib/baseline.js';
import { describeLoad, runLoad, type LoadResult } from '../lib/open-loop.js';
import { machineBusySeconds, repoRoot, treeCpuSeconds } from '../market/lib.js';
import { composeScenario, PUBLISHED_PORT, SUPERGRAPH_FILE } from './compose.js';
import { SUBGRAPH_NAMES } from './subgraphs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const say = (line = '') => process.stdout.write(`${line}\n`);

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    rate: { type: 'string' },
    modes: { type: 'string', default: 'on,off' },
    gateways: { type: 'string', default: 'apollo,hive,ours' },
    processes: { type: 'string', default: '1' },
    baseline: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  say(`npx tsx bench/gateway/run.ts [options]
  --seconds N       measured seconds per gateway per round (default 20; published: 60)
  --warmup N        warm-up seconds per gateway per mode (default 5; published: 15)
  --rounds N        interleaved rounds per mode (default 3)
  --connections N   connections (default 50, as published)
  --rate N          open loop at N requests/s over the connections instead of closed loop
  --modes on,off    deduplication modes to run (default both)
  --gateways list   apollo,hive,ours (default all three)
  --processes N     our gateway's GATEWAY_PROCESSES (default 1: one process, as the others)
  --baseline REF    also run our gateway at git REF (a worktree beside this checkout), interleaved:
                    an A/B of a change in one run (e.g. --gateways ours --baseline HEAD)
  --keep-logs       keep the processes' logs (the path is printed)`);
  process.exit(0);
}
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const RATE = args.rate === undefined ? undefined : Number(args.rate);
const PROCESSES = Number(args.processes);
const MODES = args.modes.split(',').filter(Boolean) as ('on' | 'off')[];
const GATEWAYS = [...args.gateways.split(',').filter(Boolean), ...(args.baseline ? ['base'] : [])] as GatewayName[];

type GatewayName = 'apollo' | 'hive' | 'ours' | 'base';

/**
 * Our gateway's deduplication switch, as its environment declares it (gateway/src/environment.ts):
 * GATEWAY_DEDUPLICATE (executions and subgraph fetches) or, in its first form,
 * GATEWAY_DEDUPLICATE_FETCHES. Dedup off passes `false` to whichever is declared; with neither,
 * ours runs as it is in both modes, and the table says so.
 */
const DEDUP_VARIABLES = ['GATEWAY_DEDUPLICATE', 'GATEWAY_DEDUPLICATE_FETCHES'].filter((name) => name in gatewayEnvShape);
const LABEL: Record<GatewayName, string> = { apollo: 'stock @apollo/gateway', hive: 'Hive Gateway', ours: 'ours (gateway/)', base: `ours at ${args.baseline}` };

interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

function spawnNode(name: string, nodeArgs: string[], env: Record<string, string>, logDir: string, cwd = repoRoot): Proc {
  const child = spawn(process.execPath, nodeArgs, {
    cwd,
    // Production mode, as published (run.sh: NODE_ENV=production) and as deployed.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    pid: child.pid!,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const tsx = (entry: string, root = repoRoot) => ['--import', 'tsx', path.join(root, entry)];
/** The Node flags `npm run stack` starts the gateway of the tree at `root` with (gateway/src/node-flags.ts). */
async function gatewayNodeFlagsAt(root: string): Promise<readonly string[]> {
  const file = path.join(root, 'gateway/src/node-flags.ts');
  if (!existsSync(file)) return [];
  return ((await import(pathToFileURL(file).href)) as { GATEWAY_NODE_FLAGS: readonly string[] }).GATEWAY_NODE_FLAGS;
}
const hiveBin = path.join(path.dirname(createRequire(import.meta.url).resolve('@graphql-hive/gateway/package.json')), 'dist/bin.js');

/** Posts the query until a 200 answer comes, or the process exits, or time runs out; returns the last answer. */
async function firstAnswer(proc: Proc, url: string, body: string, timeoutMs = 120_000): Promise<{ status: number; text: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = { status: 0, text: 'no answer' };
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited (${proc.child.exitCode}) before answering; see its log`);
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
      last = { status: response.status, text: await response.text() };
      if (response.status === 200 || (response.status >= 400 && response.status < 500 && last.text.includes('"errors"'))) return last;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return last;
}

const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
async function subgraphCounts(url: string): Promise<Record<string, number>> {
  return (await (await fetch(`${url}/stats`)).json()) as Record<string, number>;
}
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

interface Measurement {
  mode: 'on' | 'off';
  round: number;
  gateway: GatewayName;
  load: LoadResult;
  gatewayCpuPercent: number;
  gatewayCpuMsPerRequest: number;
  subgraphCpuMsPerRequest: number;
  fetchesPerRequest: number;
  fetchesBySubgraph: Record<string, number>;
  machineBusyPercent: number;
  loadavg: string;
}

async function main() {
  const git = (...a: string[]) => execFileSync('git', a, { cwd: repoRoot, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD').trim();
  // Files of the system under test (our gateway and the packages it runs) that differ from HEAD: they are what ran.
  const uncommitted = git('status', '--porcelain', '--untracked-files=no', '--', 'gateway', 'packages').split('\n').filter(Boolean);
  const query = await readFile(path.join(here, 'fixtures/query.graphql'), 'utf8');
  const expected = await readFile(path.join(here, 'fixtures/expected-response.json'));
  const body = JSON.stringify({ query });

  say(`bench/gateway: the federation scenario of graphql-hive/graphql-gateways-benchmark, rebuilt in Node`);
  say(`git ${head}${uncommitted.length ? `; NOT COMMITTED (what ran): ${uncommitted.map((l) => l.slice(3)).join(', ')}` : ''}`);
  say(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${await loadavg()} at the start`);
  const composed = composeScenario();
  const committed = await readFile(SUPERGRAPH_FILE, 'utf8');
  if (composed !== committed) say('DEVIATION: bench/gateway/fixtures/supergraph.graphql is not what compose.ts composes now (run npx tsx bench/gateway/compose.ts)');
  const load =
    RATE === undefined ? `closed loop, ${CONNECTIONS} connections (as published: k6 constant VUs)` : `open loop at ${RATE} requests/s over up to ${CONNECTIONS} connections`;
  say(`load: ${load}; ${WARMUP} s warm-up per gateway and mode, then ${ROUNDS} interleaved rounds of ${SECONDS} s per gateway`);
  say('differences from the public benchmark:');
  for (const line of [
    'subgraphs: Node (@apollo/subgraph + graphql-js over node:http, one process for all four) instead of Rust async-graphql/axum; same SDL (Federation 1), same data, same answers',
    'cores: subgraphs, gateway and load generator share the same 2 cores (published: the gateway pinned to its own cores, k6 on another; subgraphs on their own machine)',
    `durations: ${WARMUP} s warm-up and ${SECONDS} s measured per round (published: 15 s and 60 s, one run per gateway)`,
    'load generator: bench/lib/open-loop.ts (node:http, HDR histograms) instead of k6; every answer compared byte for byte (k6 checks the structure of one)',
    `gateways: ${PROCESSES === 1 ? 'one process each' : `ours ${PROCESSES} processes (GATEWAY_PROCESSES), the others one each`} (published: stock Apollo forks availableParallelism()-1 workers, i.e. 1 on 2 cores; Hive Gateway CLI with --jit, fork 1 by default in 2.15); Hive Gateway 2.15.1 (published: 2.7.x), @apollo/gateway 2.14.4 (published: 2.14.0)`,
    'the machine is shared with other engineers: see the load average and "machine busy" per round',
  ])
    say(`  - ${line}`);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-gateway-'));
  const baseline = args.baseline ? await checkOutBaseline(repoRoot, args.baseline, dir) : undefined;
  if (baseline) say(`baseline: ours at ${baseline.ref} (${baseline.commit}), checked out in ${baseline.root}, run the same way as ours`);
  const logDir = dir;
  const runId = `bench_gateway_${Date.now().toString(36)}`;
  const procs: Proc[] = [];
  const results: Measurement[] = [];
  try {
    const subgraphPort = await freePort();
    const subgraphsUrl = `http://127.0.0.1:${subgraphPort}`;
    const supergraphPath = path.join(dir, 'supergraph.graphql');
    await writeFile(supergraphPath, committed.replaceAll(`127.0.0.1:${PUBLISHED_PORT}/`, `127.0.0.1:${subgraphPort}/`));
    const subgraphs = spawnNode('subgraphs', tsx('bench/gateway/subgraphs.ts'), { PORT: String(subgraphPort) }, logDir);
    procs.push(subgraphs);
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${subgraphsUrl}/health`)).ok) break;
      } catch {
        if (i > 300 || subgraphs.child.exitCode !== null) throw new Error(`the subgraphs did not start; see ${logDir}/subgraphs.log`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    for (const mode of MODES) {
      say(`\n=== deduplication ${mode} ===`);
      const gateways: { name: GatewayName; proc: Proc; url: string; settings: string }[] = [];
      for (const name of GATEWAYS) {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}/graphql`;
        let proc: Proc;
        let settings: string;
        if (name === 'apollo') {
          proc = spawnNode(`apollo-${mode}`, tsx('bench/gateway/apollo-stock.ts'), { PORT: String(port), SUPERGRAPH_PATH: supergraphPath }, logDir);
          settings = mode === 'on' ? 'as published (no deduplication exists in stock Apollo Gateway)' : 'the same (nothing to turn off)';
        } else if (name === 'hive') {
          const config = path.join(dir, `hive-${mode}.config.mjs`);
          const dedup = mode === 'on';
          await writeFile(
            config,
            `export const gatewayConfig = { inboundInflightRequestDeduplication: ${dedup}, transportEntries: { '*.http': { options: { deduplicateInflightRequests: ${dedup} } } } };\n`,
          );
          proc = spawnNode(`hive-${mode}`, [hiveBin, 'supergraph', supergraphPath, '--jit', '--host', '127.0.0.1', '--port', String(port), '--config-path', config], {}, logDir);
          settings = `CLI \`supergraph --jit\`, inboundInflightRequestDeduplication: ${dedup}, subgraph deduplicateInflightRequests: ${dedup}`;
        } else {
          // Our gateway as it ships (gateway/src/main.ts), configured only through its documented
          // variables (gateway/src/environment.ts).
          const env: Record<string, string> = {
            PORT: String(port),
            METRICS_PORT: String(await freePort()),
            SUPERGRAPH_PATH: supergraphPath,
            SUPERGRAPH_WATCH: 'false',
            REDIS_URL: services.redisUrl,
            REDIS_KEY_PREFIX: `${runId}:`,
            // No token is sent in this scenario; a JWKS URL is required all the same.
            JWKS_URL: `${subgraphsUrl}/jwks`,
            // One machine sends everything from one address: the per-address budget would refuse it.
            RATE_LIMIT_IP_PER_MINUTE: '100000000',
            RATE_LIMIT_USER_PER_MINUTE: '100000000',
            // Required: ours signs every subgraph request as it ships (the bench's subgraphs do not check).
            SUBGRAPH_SIGNING_KEY: randomBytes(32).toString('base64'),
            ...(mode === 'off' ? Object.fromEntries(DEDUP_VARIABLES.map((name) => [name, 'false'])) : {}),
            GATEWAY_PROCESSES: String(PROCESSES),
          };
          const root = name === 'base' ? baseline!.root : repoRoot;
          // With the Node flags the gateway ships with at that tree (none before they existed).
          const nodeFlags = await gatewayNodeFlagsAt(root);
          proc = spawnNode(`${name}-${mode}`, [...nodeFlags, ...tsx('gateway/src/main.ts', root)], env, logDir, root);
          const dedup =
            mode === 'on'
              ? `deduplication as shipped (${DEDUP_VARIABLES.length ? `${DEDUP_VARIABLES.join(', ')} default` : 'no setting declared'})`
              : DEDUP_VARIABLES.length
                ? DEDUP_VARIABLES.map((name) => `${name}=false`).join(', ')
                : 'NO deduplication setting declared in gateway/src/environment.ts: runs as it is (not "off")';
          settings = `as shipped (node ${nodeFlags.join(' ') || 'with no flags'}) + RATE_LIMIT_IP_PER_MINUTE/RATE_LIMIT_USER_PER_MINUTE raised; ${dedup}; GATEWAY_PROCESSES=${PROCESSES}`;
        }
        procs.push(proc);
        // Started one after another: each compiles and plans while the others are idle.
        const first = await firstAnswer(proc, url, body);
        const text = first.text.replace(/\n$/, '');
        if (first.status !== 200 || text !== expected.toString('utf8')) {
          say(`${LABEL[name]}: REFUSED or WRONG first answer (HTTP ${first.status}, ${first.text.length} bytes): ${first.text.slice(0, 600)}`);
          await proc.stop();
          continue;
        }
        say(`${LABEL[name]} (pid ${proc.pid}): ${settings}; first answer identical to the published one (${expected.length} bytes)`);
        gateways.push({ name, proc, url, settings });
      }
      // Answers byte for byte (Apollo Server ends its body with a newline, Hive Gateway does not).
      const measure = (url: string, seconds: number) =>
        runLoad({ url, rate: RATE, connections: CONNECTIONS, seconds, headers: { 'content-type': 'application/json' }, body, expectedAnswer: expected });
      for (const g of gateways) {
        const w = await measure(g.url, WARMUP);
        say(`warm-up ${LABEL[g.name]}: ${describeLoad(w)}`);
      }
      for (let round = 1; round <= ROUNDS; round++) {
        // Rotated each round, so that no gateway always follows the same one.
        const order = gateways.map((_, i) => gateways[(i + round - 1) % gateways.length]!);
        for (const g of order) {
          const before = {
            cpu: treeCpuSeconds(g.proc.pid),
            sub: treeCpuSeconds(subgraphs.pid),
            counts: await subgraphCounts(subgraphsUrl),
            busy: machineBusySeconds(),
            at: performance.now(),
          };
          const result = await measure(g.url, SECONDS);
          const wall = (performance.now() - before.at) / 1000;
          const after = await subgraphCounts(subgraphsUrl);
          const fetchesBySubgraph = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, ((after[n] ?? 0) - (before.counts[n] ?? 0)) / result.answered]));
          const cpu = treeCpuSeconds(g.proc.pid) - before.cpu;
          const m: Measurement = {
            mode,
            round,
            gateway: g.name,
            load: result,
            gatewayCpuPercent: (cpu / wall) * 100,
            gatewayCpuMsPerRequest: (cpu * 1000) / result.answered,
            subgraphCpuMsPerRequest: ((treeCpuSeconds(subgraphs.pid) - before.sub) * 1000) / result.answered,
            fetchesPerRequest: (sum(after) - sum(before.counts)) / result.answered,
            fetchesBySubgraph,
            machineBusyPercent: ((machineBusySeconds() - before.busy) / wall) * 100,
            loadavg: await loadavg(),
          };
          results.push(m);
          say(
            `round ${round} ${LABEL[g.name].padEnd(22)} ${describeLoad(result)}\n` +
              `    gateway CPU ${f(m.gatewayCpuPercent, 0)} % (${f(m.gatewayCpuMsPerRequest, 2)} ms/req), subgraphs ${f(m.subgraphCpuMsPerRequest, 2)} ms/req, ` +
              `subgraph fetches/req ${f(m.fetchesPerRequest, 2)} (${SUBGRAPH_NAMES.map((n) => `${n} ${f(fetchesBySubgraph[n]!, 2)}`).join(', ')}); machine busy ${f(m.machineBusyPercent, 0)} % of 200, load ${m.loadavg}`,
          );
        }
      }
      for (const g of gateways) await g.proc.stop();
      summary(
        mode,
        results.filter((r) => r.mode === mode),
      );
    }
  } finally {
    for (const p of procs.reverse()) await p.stop();
    const redis = createRedis(services.redisUrl, { name: 'bench-gateway-cleanup' });
    const keys = await redis.keys(`${runId}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    if (args['keep-logs']) say(`logs: ${logDir}`);
    baseline?.remove();
    if (!args['keep-logs']) await rm(dir, { recursive: true, force: true });
  }
}

function summary(mode: 'on' | 'off', rows: Measurement[]) {
  const names = [...new Set(rows.map((r) => r.gateway))];
  if (!names.length) return;
  const avg = (name: GatewayName, pick: (m: Measurement) => number) => mean(rows.filter((r) => r.gateway === name).map(pick));
  const rps = (name: GatewayName) => avg(name, (m) => m.load.achievedRate);
  const ratio = (name: GatewayName, base: GatewayName) => (names.includes(base) ? `${f(rps(name) / rps(base), 2)}x` : '-');
  const rounds = Math.max(...rows.map((r) => r.round));
  say(`\ndeduplication ${mode}: mean of ${rounds} interleaved rounds (${RATE === undefined ? `closed loop, ${CONNECTIONS} connections` : `open loop, target ${RATE}/s`})`);
  say(
    '| gateway | requests/s | p50 ms | p99 ms | gateway CPU % | gateway CPU ms/req | subgraph fetches/req | subgraphs CPU ms/req | vs Hive | vs stock Apollo | errors | load gen CPU % | machine busy % | load avg (1 min) |',
  );
  say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const name of names) {
    const errors = rows.filter((r) => r.gateway === name).reduce((n, r) => n + r.load.errors, 0);
    const loads = rows.filter((r) => r.gateway === name).map((r) => Number(r.loadavg.split(' ')[0]));
    say(
      `| ${LABEL[name]} | ${f(rps(name))} | ${f(avg(name, (m) => m.load.latency.p50))} | ${f(avg(name, (m) => m.load.latency.p99))} | ${f(
        avg(name, (m) => m.gatewayCpuPercent),
        0,
      )} | ` +
        `${f(
          avg(name, (m) => m.gatewayCpuMsPerRequest),
          2,
        )} | ${f(
          avg(name, (m) => m.fetchesPerRequest),
          2,
        )} | ${f(
          avg(name, (m) => m.subgraphCpuMsPerRequest),
          2,
        )} | ` +
        `${ratio(name, 'hive')} | ${ratio(name, 'apollo')} | ${errors} | ${f(
          avg(name, (m) => m.load.generator.cpuPercent),
          0,
        )} | ${f(
          avg(name, (m) => m.machineBusyPercent),
          0,
        )} | ${f(Math.min(...loads), 2)}–${f(Math.max(...loads), 2)} |`,
    );
  }
  if (names.includes('ours') && names.includes('base')) {
    // Per round as well: the machine's drift shows in how much the rounds disagree.
    const perRound = [...new Set(rows.map((r) => r.round))].map((round) => {
      const of = (name: GatewayName) => rows.find((r) => r.gateway === name && r.round === round);
      const [ours, base] = [of('ours'), of('base')];
      return ours && base ? `${f(ours.load.achievedRate / base.load.achievedRate, 2)}x` : '-';
    });
    say(
      `ours against ${LABEL.base}: ${ratio('ours', 'base')} the requests/s (rounds ${perRound.join(', ')}), ` +
        `${f(avg('ours', (m) => m.gatewayCpuMsPerRequest) / avg('base', (m) => m.gatewayCpuMsPerRequest), 2)}x the gateway CPU per request`,
    );
  }
}

await main();
