// `npm run images:check`: proves what each image would run, on a machine without a Docker engine.
// It builds dist/ (npm run build), assembles every service's image file set with file-set.mjs (the
// script the Dockerfile runs) into a temporary folder, prints each one's size, starts each from its
// file set with `node dist/main.js` (cwd <set>/<dir>, as the image's WORKDIR and CMD), waits for
// GET /ready 200, and stops them all.
//
// Against the real PostgreSQL, Redis, Kafka, dynalite and mail catcher of `npm run infra:up`, with a
// run-unique schema, key, topic and table prefix (removed afterwards) and free ports, in two waves as
// the stack starts them: simulators, mail catcher, subgraphs and registry; then the gateway and the workers.
//
// Env: IMAGES_CHECK_JOBS (file sets assembled at once, 3), IMAGES_CHECK_READY_MS (per service,
// 300000), IMAGES_CHECK_ONLY (comma-separated service names), IMAGES_CHECK_KEEP=1 (keep the folder),
// IMAGES_CHECK_SKIP_BUILD=1, IMAGES_CHECK_DIR (assemble there and keep it), IMAGES_CHECK_REUSE=1 (use the
// file sets already in IMAGES_CHECK_DIR); TEST_DATABASE_URL, TEST_REDIS_URL, TEST_KAFKA_BROKERS, TEST_DYNAMODB_ENDPOINT, TEST_SMTP_URL.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateSigningKeyPem } from '@analytica/auth';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createRedis } from '@analytica/redis';
import { dropSchema, freePort, services as infra, uniqueName } from '@analytica/testing';
import pg from 'pg';
import { repoRoot, SERVICES } from '../build/services.mjs';
import { megabytes, sizeOf } from './file-set.mjs';

const JOBS = Number(process.env.IMAGES_CHECK_JOBS ?? 3);
const READY_MS = Number(process.env.IMAGES_CHECK_READY_MS ?? 300_000);
const ONLY = process.env.IMAGES_CHECK_ONLY ? process.env.IMAGES_CHECK_ONLY.split(',').map((s) => s.trim()) : null;
const SMTP_URL = process.env.TEST_SMTP_URL ?? 'smtp://127.0.0.1:1025';
const say = (line) => process.stdout.write(`${line}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Runs a command; resolves with its output, rejects with it on a non-zero exit. */
function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output.trim()}`))));
  });
}

/** Calls `task` on each item, at most `jobs` at once. */
async function eachLimited(items, jobs, task) {
  const queue = [...items];
  const workers = Array.from({ length: Math.max(1, Math.min(jobs, queue.length)) }, async () => {
    for (let item = queue.shift(); item; item = queue.shift()) await task(item);
  });
  await Promise.all(workers);
}

const selected = ONLY ? SERVICES.filter((s) => ONLY.includes(s.name)) : SERVICES;
// IMAGES_CHECK_DIR: assemble into (and keep) this folder; with IMAGES_CHECK_REUSE=1, file sets already there are used as they are.
const work = process.env.IMAGES_CHECK_DIR ? path.resolve(process.env.IMAGES_CHECK_DIR) : mkdtempSync(path.join(tmpdir(), 'analytica-images-'));
const keep = Boolean(process.env.IMAGES_CHECK_KEEP || process.env.IMAGES_CHECK_DIR);
const runId = uniqueName('img');
const started = Date.now();
const processes = new Map(); // name -> { child, exited, url, log }
const results = new Map(); // name -> { bytes, assembleMs, readyMs, error, exit }
for (const service of selected) results.set(service.name, {});

async function assembleAll() {
  await eachLimited(selected, JOBS, async (service) => {
    const t0 = Date.now();
    const out = path.join(work, service.name);
    try {
      if (!(process.env.IMAGES_CHECK_REUSE && existsSync(path.join(out, 'service.json'))))
        await run(process.execPath, [path.join(repoRoot, 'infra/docker/file-set.mjs'), service.dir, out]);
      const bytes = sizeOf(out);
      Object.assign(results.get(service.name), { bytes, assembleMs: Date.now() - t0 });
      say(`  ${service.name.padEnd(22)} ${megabytes(bytes).padStart(9)}   (assembled in ${seconds(Date.now() - t0)})`);
    } catch (error) {
      results.get(service.name).error = `file set: ${error.message}`;
      say(`  ${service.name.padEnd(22)} FAILED to assemble: ${error.message.split('\n').slice(0, 6).join(' | ')}`);
    }
  });
}

/** Starts one service from its file set: `node dist/main.js` in <set>/<dir>, as the image runs it. */
function startService(service, port, env) {
  const out = path.join(work, service.name);
  const log = path.join(work, 'logs', `${service.name}.log`);
  mkdirSync(path.dirname(log), { recursive: true });
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: path.join(out, service.dir),
    // Only what a container would have: no variables of this shell, no repository on the path.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: out, NODE_ENV: 'production', NODE_OPTIONS: '--enable-source-maps', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stream = createWriteStream(log, { flags: 'a' });
  child.stdout.pipe(stream, { end: false });
  child.stderr.pipe(stream, { end: false });
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve(code ?? signal))).finally(() => stream.end());
  const entry = { child, exited, url: `http://127.0.0.1:${port}`, log, startedAt: Date.now() };
  processes.set(service.name, entry);
  return entry;
}

async function waitReady(name) {
  const entry = processes.get(name);
  const deadline = entry.startedAt + READY_MS;
  let exit;
  void entry.exited.then((code) => (exit = code));
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`exited with ${exit} before it was ready`);
    try {
      const response = await fetch(`${entry.url}/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return Date.now() - entry.startedAt;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`not ready within ${seconds(READY_MS)}`);
}

function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

async function startAll() {
  const names = new Set(selected.filter((s) => !results.get(s.name).error).map((s) => s.name));
  const byName = new Map(SERVICES.map((s) => [s.name, s]));
  const ports = new Map();
  for (const service of SERVICES) ports.set(service.name, await freePort());
  const url = (name) => `http://127.0.0.1:${ports.get(name)}`;
  const secrets = { bank: randomBytes(32).toString('base64url'), unsubscribe: randomBytes(32).toString('base64url'), registry: randomBytes(32).toString('base64url') };
  const shared = {
    DATABASE_URL: infra.databaseUrl,
    REDIS_URL: infra.redisUrl,
    REDIS_KEY_PREFIX: `${runId}:`,
    KAFKA_BROKERS: infra.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${runId}.`,
    DYNAMODB_ENDPOINT: infra.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: `${runId}_`,
    JWKS_URL: `${url('user')}/.well-known/jwks.json`,
    // The gateway signs its subgraph requests with it; the subgraphs refuse unsigned ones.
    SUBGRAPH_SIGNING_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'info',
  };
  const schema = (name) => ({ DATABASE_SCHEMA: `${runId}_${name}` });
  const set = (name) => path.join(work, name);
  /** Each service's variables beside `shared`, as dev/src/stack.ts gives them. */
  const envOf = async (name) =>
    ({
      user: { ...schema('user'), JWT_PRIVATE_KEY: generateSigningKeyPem() },
      budget: schema('budget'),
      market: {},
      news: { NEWS_CONSUME_PUBLISHED: 'true' },
      payment: { ...schema('payment'), BANK_FINGERPRINT_SECRET: secrets.bank, BANK_API_URL: url('bank-simulator') },
      insight: schema('insight'),
      registry: {
        ...schema('registry'),
        REGISTRY_ADMIN_TOKEN: secrets.registry,
        // The image's copies (file-set.mjs puts them at their repository paths under /app).
        REGISTRY_SEED_CONFIG: path.join(set('registry'), 'supergraph.yaml'),
        REGISTRY_CONTRACTS_CONFIG: path.join(set('registry'), 'schema/contracts.yaml'),
        PARTNER_API_URL: url('gateway'),
      },
      gateway: {
        SUPERGRAPH_WATCH: 'false',
        ...Object.fromEntries(['user', 'budget', 'market', 'news', 'payment', 'insight'].map((s) => [`SUBGRAPH_${s.toUpperCase()}_URL`, `${url(s)}/graphql`])),
      },
      'market-ingest': {},
      'market-feed': {},
      'bank-simulator': {},
      'payments-worker': { ...schema('payment'), BANK_API_URL: url('bank-simulator') },
      'notifications-worker': { ...schema('notifications'), SMTP_URL, UNSUBSCRIBE_SECRET: secrets.unsubscribe, PUBLIC_URL: url('notifications-worker'), APP_URL: url('gateway') },
      'inference-worker': schema('inference'),
      'news-sources': {},
      'news-ingest': { NEWS_SOURCES: await newsSources(url('news-sources')) },
      'smtp-catcher': { SMTP_PORT: String(await freePort()) },
      'log-shipper': { LOG_SHIPPER_DIR: mkdtempSync(path.join(work, 'log-files-')), LOG_STORE_SCHEMA: `${runId}_logs` },
    })[name] ?? {};
  // The stack's order: what others call first, then the gateway and the workers (payments-worker shares payment's schema).
  const secondWave = ['gateway', 'market-ingest', 'payments-worker', 'notifications-worker', 'inference-worker', 'news-ingest'];
  for (const wave of [[...names].filter((n) => !secondWave.includes(n)), secondWave.filter((n) => names.has(n))]) {
    if (wave.length === 0) continue;
    say(`  starting ${wave.join(', ')}`);
    const envs = new Map();
    for (const name of wave) {
      envs.set(name, { ...shared, METRICS_PORT: String(await freePort()), ...(await envOf(name)) });
      startService(byName.get(name), ports.get(name), envs.get(name));
    }
    await Promise.all(
      wave.map(async (name) => {
        try {
          let readyMs;
          try {
            readyMs = await waitReady(name);
          } catch (error) {
            // Once more if it exited: the database is shared with other runs, whose DROP SCHEMA can fail a
            // start (MikroORM's migrator reads every schema's indexes). A broken image exits again.
            if (!/^exited/.test(error.message)) throw error;
            say(`  ${name.padEnd(22)} ${error.message}; starting it once more. Its output:\n${tail(processes.get(name).log, 6).replace(/^/gm, '      ')}`);
            results.get(name).restarted = true;
            startService(byName.get(name), ports.get(name), envs.get(name));
            readyMs = await waitReady(name);
          }
          results.get(name).readyMs = readyMs;
          say(`  ${name.padEnd(22)} ready in ${seconds(readyMs)}`);
        } catch (error) {
          results.get(name).error = `start: ${error.message}`;
          say(`  ${name.padEnd(22)} FAILED: ${error.message}\n${tail(processes.get(name).log).replace(/^/gm, '      ')}`);
        }
      }),
    );
  }
  const subgraphs = ['user', 'budget', 'market', 'news', 'payment', 'insight'];
  if (['gateway', ...subgraphs].every((name) => results.get(name)?.readyMs !== undefined)) {
    try {
      await smokeQuery();
      say('  a query through the gateway reached all six subgraphs');
    } catch (error) {
      results.get('gateway').error = `query through the gateway: ${error.message}`;
      say(`  FAILED: a query through the gateway: ${error.message}`);
    }
  }
}

/**
 * One query through the gateway that reaches all six subgraphs from their file sets: a new user
 * (argon2, the user service's migrations), then `me` with a field of each subgraph.
 */
async function smokeQuery() {
  const gateway = processes.get('gateway');
  const post = async (query, token) => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(60_000),
    });
    const body = await response.json();
    if (!response.ok || body.errors) throw new Error(`${response.status} ${JSON.stringify(body.errors ?? body).slice(0, 400)}`);
    return body.data;
  };
  const email = `${runId.replaceAll('_', '-')}@example.com`;
  const { register } = await post(`mutation { register(input: { email: "${email}", password: "images check password", displayName: "Images check" }) { accessToken } }`);
  const { me } = await post('{ me { email accounts { name } watchlist { symbol } savedArticles { id } bankAccounts { id } reports { id } } }', register.accessToken);
  if (me.email !== email) throw new Error(`me.email is ${me.email}`);
}

/** news-ingest's NEWS_SOURCES: what the news-sources simulator lists, or its three well-formed feeds if it is not running. */
async function newsSources(simulator) {
  try {
    const listed = await (await fetch(`${simulator}/sources`, { signal: AbortSignal.timeout(10_000) })).json();
    return JSON.stringify(listed.sources.map((s) => ({ name: s.name, title: s.title, format: s.format, url: `${simulator}${s.path}`, intervalMs: 5000 })));
  } catch {
    return JSON.stringify([{ name: 'northgate', format: 'rss', url: `${simulator}/feeds/northgate.rss`, intervalMs: 5000 }]);
  }
}

async function stopAll() {
  await Promise.all(
    [...processes].map(async ([name, entry]) => {
      if (entry.child.exitCode === null && entry.child.signalCode === null) entry.child.kill('SIGTERM');
      const timer = setTimeout(() => entry.child.kill('SIGKILL'), 30_000);
      results.get(name).exit = await entry.exited;
      clearTimeout(timer);
    }),
  );
}

/** Removes what this run created: its schemas, Redis keys and DynamoDB tables. */
async function cleanUp() {
  const client = new pg.Client({ connectionString: infra.databaseUrl });
  await client.connect();
  const schemas = (await client.query('select nspname from pg_namespace where starts_with(nspname, $1)', [`${runId}_`])).rows;
  await client.end();
  for (const { nspname } of schemas) await dropSchema(nspname);
  const redis = createRedis(infra.redisUrl);
  const keys = await redis.keys(`${runId}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  const dynamo = createDynamo({ endpoint: infra.dynamoEndpoint, region: 'eu-west-1' });
  await deleteTablesWithPrefix(dynamo, `${runId}_`);
  dynamo.close();
}

async function main() {
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // compose.yaml must build every image (a service added to services.mjs and forgotten there fails here).
  const compose = readFileSync(path.join(repoRoot, 'infra/docker/compose.yaml'), 'utf8');
  const notComposed = SERVICES.filter((s) => !compose.includes(`SERVICE: ${s.dir} }`)).map((s) => s.dir);
  if (notComposed.length > 0) throw new Error(`infra/docker/compose.yaml builds no image of ${notComposed.join(', ')}`);
  if (!process.env.IMAGES_CHECK_SKIP_BUILD) {
    say('== build (npm run build)');
    const t0 = Date.now();
    await run('npm', ['run', '-s', 'build']);
    say(`  built in ${seconds(Date.now() - t0)}`);
  }
  say(`== image file sets (${selected.length}, ${JOBS} at a time) in ${work}`);
  await assembleAll();
  say(`== start each from its file set: node dist/main.js until /ready (run ${runId})`);
  try {
    await startAll();
  } finally {
    await stopAll();
    await cleanUp().catch((error) => say(`  clean-up failed: ${error.message}`));
  }
  if (interrupted) return;
  say('== summary');
  say(`  ${'service'.padEnd(22)} ${'image files'.padStart(11)}  ${'ready after'.padStart(11)}  exit on SIGTERM`);
  let failed = 0;
  for (const service of selected) {
    const r = results.get(service.name);
    if (r.error) failed += 1;
    const ready = r.readyMs !== undefined ? `${r.restarted ? '(2nd start) ' : ''}${seconds(r.readyMs)}` : 'NOT READY';
    say(`  ${service.name.padEnd(22)} ${(r.bytes !== undefined ? megabytes(r.bytes) : '-').padStart(11)}  ${ready.padStart(11)}  ${r.exit ?? '-'}`);
  }
  say(`  (node_modules, bundle and assets; the image adds the node:20-bookworm-slim base)`);
  if (keep) say(`  file sets and logs kept in ${work}`);
  // Many small files: rm -rf is much faster at them than Node's own removal.
  else await run('rm', ['-rf', work]).catch(() => rm(work, { recursive: true, force: true }));
  say(`== images check ${failed ? `FAILED (${failed} of ${selected.length})` : `passed (${selected.length} services)`} in ${seconds(Date.now() - started)}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch(async (error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  await stopAll().catch(() => undefined);
  process.exit(1);
});
