// Our own supergraph (issue 18, acceptance 1c): a `me` query touching all six subgraphs, sent by
// 1,000 different users at a fixed rate (open loop), through our gateway as `npm run stack` starts
// it and through stock @apollo/gateway on the same committed supergraph and the same running
// subgraphs, in interleaved rounds. Reported: the CPU time per request of each gateway process.
// Different users' requests can never share a subgraph fetch, so this measures the engine.
//
//   npx tsx bench/gateway/me.ts
//   npx tsx bench/gateway/me.ts --rate 50 --seconds 20 --rounds 3 --users 1000
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { localSecrets } from '@analytica/dev/secrets';
import { freePort, gql } from '@analytica/testing';
import { describeLoad, runLoad, type LoadResult } from '../lib/open-loop.js';
import { machineBusySeconds, repoRoot, treeCpuSeconds } from '../market/lib.js';
import { createEnvironment, isolationEnv, provenance, removeData, removeScratch, startBenchStack } from '../subscriptions/services.js';

const say = (line = '') => process.stdout.write(`${line}\n`);
const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    users: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '50' },
  },
});
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const USERS = Number(args.users);
const CONNECTIONS = Number(args.connections);

/** Each field below is resolved by a different subgraph: user, budget, market, news, payment, insight. */
export const ME_QUERY = `query Me {
  me {
    id
    displayName
    homeCurrency
    accounts { id name }
    watchlist { symbol name }
    savedArticles(first: 5) { id title }
    bankAccounts { id }
    insights { id title }
  }
}`;

const SUBGRAPHS = ['user', 'budget', 'market', 'news', 'payment', 'insight'] as const;
const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

async function main() {
  const origin = await provenance();
  say(`bench/gateway/me.ts: a \`me\` query over all six subgraphs, ${USERS} users, open loop ${RATE} req/s, ${ROUNDS} interleaved rounds of ${SECONDS} s`);
  say(`git ${origin.head}${origin.uncommitted.length ? `; NOT COMMITTED (what ran): ${origin.uncommitted.join(', ')}` : ''}`);
  if (origin.supergraphChanged) say('DEVIATION: schema/supergraph.graphql differs from the committed one');
  for (const variable of origin.inheritedEnv) say(`inherited by every service from the shell: ${variable}`);
  say(`load average ${await loadavg()} at the start`);
  const env = await createEnvironment(`bench_gwme_${Date.now().toString(36)}`);
  // One machine registers and sends everything from one address; the limits per address, per user
  // and on registrations would refuse it. Documented variables of the gateway and the user service.
  const limits = { RATE_LIMIT_IP_PER_MINUTE: '100000000', RATE_LIMIT_USER_PER_MINUTE: '100000000', REGISTRATIONS_PER_IP_PER_HOUR: '1000000' };
  say(
    `configuration beyond the defaults: ${Object.entries(limits)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  const bench = await startBenchStack(env, limits);
  let stock: ReturnType<typeof spawn> | undefined;
  try {
    const ours = bench.graphqlUrl;
    // The users, registered through the gateway (argon2id each: this takes a while).
    const registering = performance.now();
    const tokens: string[] = [];
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < USERS) {
          const n = next++;
          const answer = await gql(ours, 'mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }', {
            variables: {
              i: { email: `bench-me-${n}-${randomBytes(4).toString('hex')}@example.com`, password: `Bench-${randomBytes(12).toString('base64url')}`, displayName: `Bench ${n}` },
            },
          });
          if (answer.errors?.length) throw new Error(`registration ${n}: ${JSON.stringify(answer.errors)}`);
          tokens[n] = answer.data.register.accessToken as string;
          ids[n] = answer.data.register.user.id as string;
        }
      }),
    );
    say(`${USERS} users registered through the gateway in ${f((performance.now() - registering) / 1000)} s`);

    // Stock Apollo Gateway on the committed supergraph, its routing URLs pointed at the stack's subgraphs.
    let supergraph = await readFile(path.join(repoRoot, 'schema/supergraph.graphql'), 'utf8');
    for (const name of SUBGRAPHS) {
      const url = bench.stack.services.get(name)!.url;
      supergraph = supergraph.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]+"`), `$1${url}/graphql"`);
    }
    const supergraphPath = path.join(env.dir, 'supergraph-stock.graphql');
    await writeFile(supergraphPath, supergraph);
    const stockPort = await freePort();
    stock = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench/gateway/apollo-stock.ts')], {
      cwd: repoRoot,
      // The stack's NODE_ENV (dev/src/stack.ts runs every service with development), so both gateways run alike.
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        PORT: String(stockPort),
        SUPERGRAPH_PATH: supergraphPath,
        FORWARD_AUTHORIZATION: 'true',
        // The stack's subgraphs answer only signed requests: stock Apollo signs with the key the
        // stack runs with (the bench's isolation variables set it; else the stack's local secret).
        SUBGRAPH_SIGNING_KEY: isolationEnv(env).SUBGRAPH_SIGNING_KEY ?? (await localSecrets(env.dataDir)).subgraphSigningKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(path.join(env.logDir, 'apollo-stock.log'));
    stock.stdout?.pipe(log);
    stock.stderr?.pipe(log);
    const stockUrl = `http://127.0.0.1:${stockPort}/graphql`;
    const gateways = { ours: { url: ours, pid: bench.pids.gateway! }, stock: { url: stockUrl, pid: stock.pid! } };

    // Both answer the same, for the first user.
    const answers: Record<string, string> = {};
    for (const [name, g] of Object.entries(gateways)) {
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await fetch(g.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` },
            body: JSON.stringify({ query: ME_QUERY }),
          });
          answers[name] = await r.text();
          if (r.ok) break;
        } catch {
          // not up yet
        }
        if (attempt > 200) throw new Error(`${name} did not answer: ${answers[name]}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    const same = JSON.stringify(JSON.parse(answers.ours!)) === JSON.stringify(JSON.parse(answers.stock!));
    say(`first answers ${same ? 'identical' : 'DIFFER'}: ${answers.ours!.slice(0, 300)}`);
    // Comparing CPU per request means nothing if one of them answers something else (an error).
    if (!same) throw new Error(`the gateways answer differently; stock: ${answers.stock!.slice(0, 600)}`);

    const run = (url: string, seconds: number) =>
      runLoad({
        url,
        rate: RATE,
        seconds,
        connections: CONNECTIONS,
        headers: { 'content-type': 'application/json' },
        request: (i) => ({ headers: { authorization: `Bearer ${tokens[i % USERS]}` }, body: JSON.stringify({ query: ME_QUERY }) }),
        // Each answer is its own user's.
        validate: (body, _status, i) => (body.includes(`"id":"${ids[i % USERS]}"`) ? undefined : "not the caller's own user"),
      });
    for (const [name, g] of Object.entries(gateways)) say(`warm-up ${name}: ${describeLoad(await run(g.url, WARMUP))}`);
    type Row = { gateway: string; load: LoadResult; cpuMs: number; subgraphsCpuMs: number; busy: number; load1: string };
    const rows: Row[] = [];
    const subgraphPids = SUBGRAPHS.map((n) => bench.pids[n]!);
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 ? (['ours', 'stock'] as const) : (['stock', 'ours'] as const);
      for (const name of order) {
        const g = gateways[name];
        const before = { cpu: treeCpuSeconds(g.pid), sub: subgraphPids.reduce((s, p) => s + treeCpuSeconds(p), 0), busy: machineBusySeconds(), at: performance.now() };
        const load = await run(g.url, SECONDS);
        const wall = (performance.now() - before.at) / 1000;
        const row: Row = {
          gateway: name,
          load,
          cpuMs: ((treeCpuSeconds(g.pid) - before.cpu) * 1000) / load.answered,
          subgraphsCpuMs: ((subgraphPids.reduce((s, p) => s + treeCpuSeconds(p), 0) - before.sub) * 1000) / load.answered,
          busy: ((machineBusySeconds() - before.busy) / wall) * 100,
          load1: await loadavg(),
        };
        rows.push(row);
        say(
          `round ${round} ${name.padEnd(5)} ${describeLoad(load)}\n    gateway CPU ${f(row.cpuMs, 2)} ms/req, six subgraphs ${f(row.subgraphsCpuMs, 2)} ms/req; machine busy ${f(row.busy, 0)} % of 200, load ${row.load1}`,
        );
      }
    }
    say(`\nmean of ${ROUNDS} interleaved rounds, open loop, target ${RATE} req/s, ${USERS} users`);
    say('| gateway | achieved req/s | p50 ms | p99 ms | gateway CPU ms/req | vs stock Apollo | six subgraphs CPU ms/req | errors | machine busy % |');
    say('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const cpu = (name: string) => mean(rows.filter((r) => r.gateway === name).map((r) => r.cpuMs));
    for (const name of ['ours', 'stock']) {
      const mine = rows.filter((r) => r.gateway === name);
      say(
        `| ${name === 'ours' ? 'ours (as `npm run stack` starts it)' : 'stock @apollo/gateway + @apollo/server'} | ${f(mean(mine.map((r) => r.load.achievedRate)))} | ${f(mean(mine.map((r) => r.load.latency.p50)))} | ` +
          `${f(mean(mine.map((r) => r.load.latency.p99)))} | ${f(cpu(name), 2)} | ${f(cpu(name) / cpu('stock'), 2)}x | ${f(mean(mine.map((r) => r.subgraphsCpuMs)), 2)} | ` +
          `${mine.reduce((n, r) => n + r.load.errors, 0)} | ${f(mean(mine.map((r) => r.busy)), 0)} |`,
      );
    }
  } finally {
    if (stock && stock.exitCode === null) {
      const exited = new Promise((r) => stock!.once('exit', r));
      stock.kill('SIGTERM');
      await exited;
    }
    await bench.stack.stop();
    say(`removed ${await removeData(env)}`);
    await removeScratch(env);
  }
}

await main();
