import { createHmac } from 'node:crypto';
import path from 'node:path';
import { ADMIN_CONSOLE, buildViteApp } from './web-apps.js';
import { DEMO_ADMIN } from './demo.js';
import { startEdge, type RunningEdge } from './edge.js';
import { newsIngestEnv } from './news.js';
import { startPrometheus, type RunningPrometheus } from './prometheus.js';
import { localSecrets } from './secrets.js';
import { tracingEnv } from './tracing.js';
import {
  DEFAULT_PORTS,
  entryOf,
  MARKET_PROCESSES,
  repoRoot,
  defaultMetricsPort,
  spawnService as spawnProcess,
  stopProcess,
  SUBGRAPHS,
  waitUntilReady,
  type MarketProcessName,
  type ModelProcessName,
  type NewsProcessName,
  type PaymentProcessName,
  type ServiceProcess,
  type SubgraphName,
} from './processes.js';
import { GATEWAY_NODE_FLAGS } from '@analytica/gateway/node-flags';
import { dropModelRegistry, seedModelRegistry } from '@analytica/inference-worker';
import { registryClient } from '@analytica/schema/registry';
import { freePort } from '@analytica/testing';

export interface StackOptions {
  ports?: Partial<typeof DEFAULT_PORTS>;
  /** Variables every service gets: DATABASE_URL, REDIS_URL, KAFKA_BROKERS, DYNAMODB_ENDPOINT, prefixes. */
  env?: Record<string, string>;
  /** Prefix for each service's PostgreSQL schema (tests use a unique one). */
  schemaPrefix?: string;
  logDir?: string;
  dataDir?: string;
  /** More gateway processes beside the first, on these ports: the same configuration, sharing only Redis. */
  extraGatewayPorts?: number[];
  /** The schema registry's port: 4030, or a free one when `ports` is given (tests). */
  registryPort?: number;
  /**
   * NGINX in front of every gateway on this HTTPS port (dev/src/edge.ts, issue 17): TLS with a
   * local CA, HTTP/2, WebSockets, retry on the other gateway. The gateways then trust loopback's
   * X-Forwarded-For.
   */
  edgePort?: number;
  /** Serve the admin console at the gateways' /console/, built first if console/dist is missing or stale. */
  console?: boolean;
  /**
   * Prometheus (Debian's package, dev/src/prometheus.ts) on this port, scraping every process's
   * /metrics with infra/prometheus/alerts.yml; the user service's `alerts` field reads it.
   */
  prometheusPort?: number;
  /**
   * Traces to the Zipkin of infra/up.sh (dev/src/tracing.ts): on by default when it answers;
   * `true` requires it, `false` turns tracing off.
   */
  tracing?: boolean;
  /** Share of requests traced (OTEL_TRACES_SAMPLER_ARG): 0.1 unless the shell sets it (dev/src/tracing.ts); tests that read traces use 1. */
  traceSampleRatio?: number;
}

type StackProcessName = SubgraphName | 'gateway' | 'registry' | 'log-shipper' | PaymentProcessName | MarketProcessName | ModelProcessName | NewsProcessName;

export interface RunningStack {
  gatewayUrl: string;
  /** Every gateway's endpoint, the first one's first. */
  gatewayUrls: string[];
  /** Every gateway's private /metrics listener, in the order of gatewayUrls. */
  gatewayMetricsUrls: string[];
  /** Every gateway's process, in the order of gatewayUrls. */
  gateways: ServiceProcess[];
  /** The HTTPS edge, when `edgePort` was given. */
  edge?: RunningEdge;
  services: Map<StackProcessName, ServiceProcess>;
  stopService(name: StackProcessName): Promise<void>;
  /** Starts a stopped process again with the same port and environment; resolves once it is ready. */
  startService(name: StackProcessName): Promise<void>;
  /** Prometheus, when `prometheusPort` was given. */
  prometheus?: RunningPrometheus;
  /** The schema registry (the gateway's supergraph source) and its admin token. */
  registry: { url: string; adminToken: string };
  stop(): Promise<void>;
}

/**
 * The inference worker's model registry: s3proxy from infra/up.sh (S3 on 127.0.0.1:4569, bucket
 * `analytica`); a stack with a schema prefix (tests) keeps its own registry under that prefix.
 */
export function modelStoreEnv(schemaPrefix = ''): Record<string, string> {
  return { ...objectStoreEnv(), MODEL_REGISTRY_PREFIX: `${schemaPrefix}models/` };
}

/** The stack's object store (models, uploaded statements): s3proxy from infra/up.sh unless S3_* say otherwise. */
export function objectStoreEnv(): Record<string, string> {
  return {
    S3_ENDPOINT: process.env.S3_ENDPOINT ?? 'http://127.0.0.1:4569',
    S3_BUCKET: process.env.S3_BUCKET ?? 'analytica',
    S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID ?? 'analytica',
    S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY ?? 'analytica-secret',
    S3_CREATE_BUCKET: 'true',
  };
}

/**
 * Stack mode: every subgraph and the gateway as its own process against real PostgreSQL, Redis,
 * Kafka and a DynamoDB API server (see infra/ to start Kafka and dynalite).
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  const dataDir = options.dataDir ?? path.join(repoRoot, '.data/stack');
  const secrets = await localSecrets(dataDir);
  const shared: Record<string, string> = {
    NODE_ENV: 'development',
    // The AWS SDK's notice to Node 20 users about its releases after January 2027 (dev/src/embedded.ts).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
    DYNAMODB_ENDPOINT: 'http://127.0.0.1:4567',
    JWKS_URL: `http://127.0.0.1:${ports.user}/.well-known/jwks.json`,
    // The subgraphs answer only the gateway's signed requests (a test passes its own key in env).
    SUBGRAPH_SIGNING_KEY: secrets.subgraphSigningKey,
    ...(await tracingEnv(options.tracing, options.traceSampleRatio)),
    ...options.env,
  };
  const schemaPrefix = options.schemaPrefix ?? '';
  const perService: Record<SubgraphName, Record<string, string>> = {
    user: { JWT_PRIVATE_KEY: secrets.jwtPrivateKey, ADMIN_EMAIL: DEMO_ADMIN.email, ADMIN_PASSWORD: DEMO_ADMIN.password },
    // Statement uploads go to the object store; their URLs point at this stack's gateway.
    budget: { ...objectStoreEnv(), PUBLIC_API_URL: `http://127.0.0.1:${ports.gateway}` },
    market: {},
    // Articles from news-ingest (news.published.v1), announced to quote subscribers on Quote.<symbol>.
    // The sentiment model from the model registry, for the bundled articles and re-scoring.
    news: { NEWS_CONSUME_PUBLISHED: 'true', ...modelStoreEnv(schemaPrefix) },
    payment: { BANK_FINGERPRINT_SECRET: secrets.bankFingerprintSecret, BANK_API_URL: `http://127.0.0.1:${ports['bank-simulator']}` },
    insight: {},
  };
  const services = new Map<StackProcessName, ServiceProcess>();
  const registryPort = options.registryPort ?? (options.ports ? await freePort() : 4030);
  const registryUrl = `http://127.0.0.1:${registryPort}`;
  // With a logDir, the log shipper (workers/log-shipper) tails every process's <logDir>/<name>.log
  // into the central log store, which the user service's `logs` reads (docs/OBSERVABILITY.md).
  const logShipperPort = options.ports ? await freePort() : 4029;
  const logStoreEnv: Record<string, string> = { ...(shared.DATABASE_URL ? { LOG_STORE_URL: shared.DATABASE_URL } : {}), LOG_STORE_SCHEMA: `${schemaPrefix}logs` };
  const extraGateways: ServiceProcess[] = [];
  let edge: RunningEdge | undefined;
  // Each process's private /metrics listener: PORT + 5000 (gateway 9000), or free ports when the
  // ports are chosen (tests), since PORT + 5000 of a free port need not be free nor a port.
  const metricsPorts = new Map<number, string>();
  for (const port of [...Object.values(ports), registryPort, logShipperPort, ...(options.extraGatewayPorts ?? [])]) {
    metricsPorts.set(port, String(options.ports ? await freePort() : defaultMetricsPort(port)));
  }
  // How each process was started, so that startService starts it again the same way.
  const spawnArgs = new Map<string, Parameters<typeof spawnProcess>>();
  const spawnService = (name: string, entry: string, port: number, env: Record<string, string>, logDir?: string, spawnOptions?: Parameters<typeof spawnProcess>[5]) => {
    const args: Parameters<typeof spawnProcess> = [name, entry, port, { ...env, METRICS_PORT: metricsPorts.get(port)! }, logDir, spawnOptions];
    spawnArgs.set(name, args);
    return spawnProcess(...args);
  };
  let prometheus: RunningPrometheus | undefined;
  const stop = async () => {
    await prometheus?.stop();
    await edge?.stop();
    await Promise.all([...services.values(), ...extraGateways].filter((s) => s.name !== 'log-shipper').map((s) => stopProcess(s)));
    // The shipper last, so that it stores the other processes' last lines.
    const logShipper = services.get('log-shipper');
    if (logShipper) await stopProcess(logShipper);
    // A test stack's own model registry goes with it (the shared one, `models/`, stays).
    if (schemaPrefix) await dropModelRegistry({ ...shared, ...modelStoreEnv(schemaPrefix) }).catch(() => undefined);
  };
  try {
    // The schema registry publishes the repository's SDL at start (a no-op when unchanged) and serves
    // the supergraph the gateway polls; the gateway reports usage to it. First, since the user service
    // waits for it (its operations fields read the registry with a token of their own).
    const registry = spawnService(
      'registry',
      path.join(repoRoot, 'schema/src/registry/main.ts'),
      registryPort,
      {
        ...shared,
        REGISTRY_ADMIN_TOKEN: secrets.registryAdminToken,
        REGISTRY_SEED_CONFIG: path.join(repoRoot, 'supergraph.yaml'),
        REGISTRY_CONTRACTS_CONFIG: path.join(repoRoot, 'schema/contracts.yaml'),
        PARTNER_API_URL: `http://127.0.0.1:${ports.gateway}`,
        // Partners trying their webhook on this machine point it at localhost.
        REGISTRY_WEBHOOK_ALLOW_PRIVATE: 'true',
        ...(schemaPrefix ? { DATABASE_SCHEMA: `${schemaPrefix}registry` } : {}),
      },
      options.logDir,
    );
    services.set('registry', registry);
    // The bank keeps its books in a file beside the data, so that linked accounts survive a restart
    // (tests, with their own schemas, start from an empty bank).
    const bankEnv: Record<string, string> = schemaPrefix ? {} : { BANK_STATE_FILE: path.join(dataDir, 'bank-simulator.json') };
    const bank = spawnService('bank-simulator', entryOf('bank-simulator'), ports['bank-simulator'], { ...shared, ...bankEnv }, options.logDir);
    services.set('bank-simulator', bank);
    // The news-source simulator (RSS, Atom, JSON feeds) starts beside the bank; news-ingest polls it once the subgraphs are up.
    const newsSources = spawnService('news-sources', entryOf('news-sources'), ports['news-sources'], { ...shared }, options.logDir);
    services.set('news-sources', newsSources);
    if (options.logDir) {
      const env = { ...shared, ...logStoreEnv, LOG_SHIPPER_DIR: options.logDir };
      // At nice 10: on a machine shared with the services, shipping logs waits for a free core
      // rather than delaying a request (issue 16: observability under 5 % of the gateway's p50).
      services.set('log-shipper', spawnService('log-shipper', path.join(repoRoot, 'workers/log-shipper/src/main.ts'), logShipperPort, env, options.logDir, { nice: 10 }));
    }
    await Promise.all([bank, newsSources, ...(options.logDir ? [services.get('log-shipper')!] : [])].map((service) => waitUntilReady(service)));
    const spawnSubgraph = (name: SubgraphName) => {
      const env = { ...shared, ...perService[name], ...(schemaPrefix ? { DATABASE_SCHEMA: `${schemaPrefix}${name}` } : {}) };
      services.set(name, spawnService(name, entryOf(name), ports[name], env, options.logDir));
    };
    // The user service starts once the registry is ready: its operations fields read the registry with a token of their own.
    for (const name of SUBGRAPHS) if (name !== 'user') spawnSubgraph(name);
    await waitUntilReady(registry);
    // The user service's `operationUsage` and `gatewayInstances` read the registry: a `read` token, fresh at every start.
    const registryReader = registryClient(registryUrl, secrets.registryAdminToken);
    await registryReader.revokeToken('user-operations').catch(() => undefined); // none yet on a first start
    Object.assign(perService.user, { REGISTRY_URL: registryUrl, REGISTRY_TOKEN: (await registryReader.createToken('user-operations', ['read'])).token });
    if (options.prometheusPort !== undefined) perService.user.PROMETHEUS_URL = `http://127.0.0.1:${options.prometheusPort}`;
    // The log store's reader, and every process whose /ready serviceHealth reports.
    const watched: [string, number][] = [
      ...Object.entries(ports),
      ['registry', registryPort],
      ...(options.extraGatewayPorts ?? []).map((port, n): [string, number] => [`gateway-${n + 2}`, port]),
      ...(options.logDir ? [['log-shipper', logShipperPort] as [string, number]] : []),
    ];
    Object.assign(perService.user, logStoreEnv, { OPERATIONS_SERVICES: watched.map(([name, port]) => `${name}=http://127.0.0.1:${port}`).join(',') });
    spawnSubgraph('user');
    await Promise.all([...SUBGRAPHS.map((name) => waitUntilReady(services.get(name)!)), waitUntilReady(registry)]);
    // The feed keeps its prices in a file beside the data, so that a restart does not jump back to the reference prices.
    const marketEnv: Record<MarketProcessName, Record<string, string>> = {
      'market-ingest': {},
      'market-feed': schemaPrefix ? {} : { FEED_STATE_FILE: path.join(dataDir, 'market-feed.json') },
    };
    for (const name of MARKET_PROCESSES) services.set(name, spawnService(name, entryOf(name), ports[name], { ...shared, ...marketEnv[name] }, options.logDir));
    const newsIngest = spawnService(
      'news-ingest',
      entryOf('news-ingest'),
      ports['news-ingest'],
      // The sentiment model from the model registry (seeded below), as the inference worker's.
      { ...shared, ...modelStoreEnv(schemaPrefix), ...(await newsIngestEnv(newsSources.url, { ...process.env, ...shared })) },
      options.logDir,
    );
    services.set('news-ingest', newsIngest);
    const gatewayEnv: Record<string, string> = { ...shared };
    for (const name of SUBGRAPHS) gatewayEnv[`SUBGRAPH_${name.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[name]}/graphql`;
    // The gateway gets a service token of its own with only what it needs (read the supergraph,
    // report usage), made fresh at every start; the previous start's is revoked.
    const registryAdmin = registryClient(registryUrl, secrets.registryAdminToken);
    await registryAdmin.revokeToken('gateway').catch(() => undefined); // none yet on a first start
    const gatewayToken = (await registryAdmin.createToken('gateway', ['read', 'report'])).token;
    Object.assign(gatewayEnv, {
      SUPERGRAPH_URL: `${registryUrl}/api/supergraph`,
      USAGE_REPORT_URL: `${registryUrl}/api/usage`,
      // Partner apps' contracts and trusted documents.
      REGISTRY_URL: registryUrl,
      REGISTRY_TOKEN: gatewayToken,
    });
    // Behind the edge, the caller's address is the one NGINX (on loopback) puts in X-Forwarded-For.
    if (options.edgePort !== undefined) gatewayEnv.TRUST_PROXY = 'loopback';
    if (options.console) gatewayEnv.GATEWAY_CONSOLE_DIR = (await buildViteApp(ADMIN_CONSOLE)).dir;
    const gateway = spawnService('gateway', entryOf('gateway'), ports.gateway, gatewayEnv, options.logDir, { nodeFlags: GATEWAY_NODE_FLAGS });
    services.set('gateway', gateway);
    extraGateways.push(
      ...(options.extraGatewayPorts ?? []).map((port, n) =>
        spawnService(`gateway-${n + 2}`, entryOf('gateway'), port, gatewayEnv, options.logDir, { nodeFlags: GATEWAY_NODE_FLAGS }),
      ),
    );
    await Promise.all([gateway, ...extraGateways, newsIngest, ...MARKET_PROCESSES.map((name) => services.get(name)!)].map((service) => waitUntilReady(service)));
    if (options.edgePort !== undefined) {
      edge = await startEdge({
        port: options.edgePort,
        gatewayPorts: [ports.gateway, ...(options.extraGatewayPorts ?? [])],
        dir: path.join(dataDir, 'edge', String(options.edgePort)),
      });
    }
    // The workers: the payments worker works on the payment schema beside the service; the
    // notifications worker has a schema of its own and mails through SMTP_URL (default: infra:up's
    // catcher); the inference worker has a schema of its own and serves the committed ml/artefacts.
    const workerEnv: Record<Exclude<PaymentProcessName, 'bank-simulator'> | ModelProcessName, Record<string, string>> = {
      'payments-worker': { BANK_API_URL: `http://127.0.0.1:${ports['bank-simulator']}`, ...(schemaPrefix ? { DATABASE_SCHEMA: `${schemaPrefix}payment` } : {}) },
      'notifications-worker': {
        UNSUBSCRIBE_SECRET: createHmac('sha256', secrets.bankFingerprintSecret).update('unsubscribe-links').digest('hex'),
        PUBLIC_URL: `http://127.0.0.1:${ports['notifications-worker']}`,
        APP_URL: `http://127.0.0.1:${ports.gateway}`,
        ...(schemaPrefix ? { DATABASE_SCHEMA: `${schemaPrefix}notifications` } : {}),
      },
      'inference-worker': { ...modelStoreEnv(schemaPrefix), ...(schemaPrefix ? { DATABASE_SCHEMA: `${schemaPrefix}inference` } : {}) },
    };
    // The model registry lives in s3proxy (infra/up.sh), seeded with the committed ml/artefacts.
    await seedModelRegistry({ ...shared, ...workerEnv['inference-worker'] });
    for (const [name, env] of Object.entries(workerEnv) as [keyof typeof workerEnv, Record<string, string>][]) {
      services.set(name, spawnService(name, entryOf(name), ports[name], { ...shared, ...env }, options.logDir));
    }
    await Promise.all(Object.keys(workerEnv).map((name) => waitUntilReady(services.get(name as keyof typeof workerEnv)!)));
    // Last, so that its first scrape finds every process up (no ServiceDown while the stack starts).
    if (options.prometheusPort !== undefined) {
      prometheus = await startPrometheus({
        port: options.prometheusPort,
        dir: path.join(dataDir, 'prometheus', String(options.prometheusPort)),
        targets: [...services.values(), ...extraGateways].map((s) => ({ service: s.name, metricsUrl: s.metricsUrl })),
        ephemeral: options.ports !== undefined,
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    gatewayUrl: `http://127.0.0.1:${ports.gateway}/graphql`,
    gatewayUrls: [ports.gateway, ...(options.extraGatewayPorts ?? [])].map((port) => `http://127.0.0.1:${port}/graphql`),
    gatewayMetricsUrls: [ports.gateway, ...(options.extraGatewayPorts ?? [])].map((port) => `http://127.0.0.1:${metricsPorts.get(port)}`),
    gateways: [services.get('gateway')!, ...extraGateways],
    edge,
    services,
    registry: { url: registryUrl, adminToken: secrets.registryAdminToken },
    prometheus,
    async stopService(name) {
      const service = services.get(name);
      if (service) await stopProcess(service);
    },
    async startService(name) {
      const service = services.get(name);
      const args = spawnArgs.get(name);
      if (!service || !args) throw new Error(`${name} is not a process of this stack`);
      if (service.child.exitCode === null && service.child.signalCode === null) return; // still running
      const again = spawnProcess(...args);
      services.set(name, again);
      await waitUntilReady(again);
    },
    stop,
  };
}
