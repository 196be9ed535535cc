// npm run stack: every service as its own process against real PostgreSQL, Redis, Kafka and
// dynalite. Start Kafka and dynalite first with `npm run infra:up`.
import path from 'node:path';
import { banner, seedDemo, venueLines } from './demo.js';
import { startStack } from './stack.js';

const started = Date.now();
process.stdout.write('Starting the six subgraphs and the gateway as separate processes...\n');
const stack = await startStack({
  // Two gateways behind NGINX on https://127.0.0.1:4443 (dev/src/edge.ts).
  extraGatewayPorts: [4040],
  // Each process's output in its own file, which the log shipper stores in the central log store (docs/OBSERVABILITY.md).
  logDir: path.resolve('.data/stack/logs'),
  edgePort: 4443,
  // The admin console at /console/ on every gateway (built first when console/ changed).
  console: true,
  // Prometheus scraping every process, with the alert rules of infra/prometheus/alerts.yml (dev/src/prometheus.ts).
  prometheusPort: 9090,
  env: Object.fromEntries(['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS', 'DYNAMODB_ENDPOINT', 'LOG_LEVEL'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : []))),
}).catch((error: unknown) => {
  process.stderr.write(
    `The stack could not start: ${error instanceof Error ? error.message : String(error)}\n` +
      'Is Kafka running, is dynalite up and are nginx and prometheus installed? npm run infra:up starts them and installs nginx and prometheus.\n',
  );
  process.exit(1);
});
const seeded = await seedDemo(stack.gatewayUrl);
process.stdout.write(
  banner(stack.gatewayUrl, 'stack mode', [
    `Started in:        ${((Date.now() - started) / 1000).toFixed(1)} s (${seeded === 'seeded' ? 'demo data seeded' : 'existing data kept'})`,
    `HTTPS edge:        ${stack.edge!.url} and ${stack.edge!.wsUrl} (NGINX over the gateways on ${stack.gatewayUrls.map((u) => new URL(u).port).join(' and ')}; trust ${path.relative(process.cwd(), stack.edge!.caFile)}, e.g. curl --cacert)`,
    'Caught mail:       http://127.0.0.1:8025 (the mail catcher started by npm run infra:up)',
    `News sources:      ${stack.services.get('news-sources')!.url}/sources (simulated feeds; news-ingest's polls: ${stack.services.get('news-ingest')!.metricsUrl}/metrics)`,
    `Prometheus:        ${stack.prometheus!.url}/alerts (every /metrics, alert rules from infra/prometheus/alerts.yml; Grafana dashboards in infra/grafana/dashboards)`,
    `Logs:              .data/stack/logs/<service>.log, stored in PostgreSQL schema logs by the log shipper (${stack.services.get('log-shipper')!.url}/ready); the console's logs page reads them`,
    `Schema registry:   ${stack.registry.url} (npm run schema -- log; REGISTRY_TOKEN = registryAdminToken in .data/stack/secrets.json)`,
    // The feed process validates FEED_ALWAYS_OPEN itself; this only words the banner.
    ...venueLines(new Date(), ['true', '1'].includes(process.env.FEED_ALWAYS_OPEN ?? '')),
  ]),
);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().then(() => process.exit(0));
  });
}
