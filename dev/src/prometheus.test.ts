// The alert rules (infra/prometheus/alerts.yml), the prometheus.yml stack mode writes and the Grafana
// dashboards (infra/grafana/dashboards): checked with Debian's promtool, the rules' behaviour tested
// on synthetic series with `promtool test rules`, and every metric they name found among the
// metrics the services' code registers.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './processes.js';
import { ALERT_RULES_FILE, findPrometheusTool, prometheusConfig } from './prometheus.js';

const run = promisify(execFile);
const promtool = findPrometheusTool('promtool');
let dir: string;

beforeAll(async () => {
  if (!promtool) throw new Error("promtool is not installed: run infra/up.sh (it installs Debian's prometheus package)");
  dir = await mkdtemp(path.join(tmpdir(), 'analytica-prometheus-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** promtool's exit code and output; a failing check is a result, not a throw. */
async function tool(...args: string[]) {
  try {
    const { stdout, stderr } = await run(promtool!, args);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('alert rules', () => {
  it('pass promtool check rules', async () => {
    const result = await tool('check', 'rules', ALERT_RULES_FILE);
    expect(result.output).toContain('SUCCESS: 6 rules found');
    expect(result.code).toBe(0);
  });

  it('fire ServiceDown 15 s after a target stops answering, name the service, and resolve when it is back', async () => {
    const tests = {
      rule_files: [ALERT_RULES_FILE],
      evaluation_interval: '5s',
      tests: [
        {
          interval: '5s',
          // budget answers for 20 s, is down from 20 s to 60 s, then answers again; user stays up.
          input_series: [
            { series: 'up{job="analytica",service="budget",instance="127.0.0.1:9002"}', values: '1 1 1 1 0 0 0 0 0 0 0 0 1 1 1 1' },
            { series: 'up{job="analytica",service="user",instance="127.0.0.1:9001"}', values: '1x15' },
          ],
          alert_rule_test: [
            // Down for 10 s: still pending, nothing fires.
            { eval_time: '30s', alertname: 'ServiceDown', exp_alerts: [] },
            {
              eval_time: '40s',
              alertname: 'ServiceDown',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', job: 'analytica', service: 'budget', instance: '127.0.0.1:9002' },
                  exp_annotations: { summary: 'budget is down: its /metrics at 127.0.0.1:9002 does not answer.' },
                },
              ],
            },
            { eval_time: '70s', alertname: 'ServiceDown', exp_alerts: [] },
          ],
        },
        {
          interval: '1m',
          // A dead-letter topic that gains a message, and one that stays as it is.
          input_series: [
            { series: 'kafka_dead_letter_messages{topic="payments.requested.v1.dlq",instance="a"}', values: '0 0 0 0 0 0 0 0 0 0 0 0 1 1' },
            { series: 'kafka_dead_letter_messages{topic="market.ticks.v1.dlq",instance="a"}', values: '3x13' },
            { series: 'kafka_consumer_group_lag{group="insight",topic="transactions.recorded.v1",instance="a"}', values: '0 500 1500 1500 1500 1500' },
          ],
          alert_rule_test: [
            { eval_time: '11m', alertname: 'DeadLetterGrowth', exp_alerts: [] },
            {
              eval_time: '13m',
              alertname: 'DeadLetterGrowth',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', topic: 'payments.requested.v1.dlq' },
                  exp_annotations: { summary: 'Dead-letter topic payments.requested.v1.dlq grew by 1 messages in ten minutes: inspect and replay them.' },
                },
              ],
            },
            { eval_time: '3m', alertname: 'ConsumerLagHigh', exp_alerts: [] },
            {
              eval_time: '4m',
              alertname: 'ConsumerLagHigh',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', group: 'insight', topic: 'transactions.recorded.v1' },
                  exp_annotations: { summary: 'Consumer group insight is 1500 messages behind on transactions.recorded.v1.' },
                },
              ],
            },
          ],
        },
      ],
    };
    const file = path.join(dir, 'alerts.test.yml');
    // promtool reads YAML; JSON is YAML.
    await writeFile(file, JSON.stringify(tests));
    const result = await tool('test', 'rules', file);
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });
});

describe("stack mode's prometheus.yml", () => {
  it('passes promtool check config, scraping each process with its name as the service label every 5 s', async () => {
    const text = prometheusConfig({
      targets: [
        { service: 'gateway', metricsUrl: 'http://127.0.0.1:9000' },
        { service: 'budget', metricsUrl: 'http://127.0.0.1:9002' },
      ],
      rulesFile: ALERT_RULES_FILE,
      intervalSeconds: 5,
    });
    const file = path.join(dir, 'prometheus.yml');
    await writeFile(file, text);
    const result = await tool('check', 'config', file);
    expect(result.code, result.output).toBe(0);
    const config = parse(text) as { global: Record<string, string>; scrape_configs: { static_configs: { targets: string[]; labels: Record<string, string> }[] }[] };
    expect(config.global).toMatchObject({ scrape_interval: '5s', evaluation_interval: '5s' });
    expect(config.scrape_configs[0]!.static_configs).toEqual([
      { targets: ['127.0.0.1:9000'], labels: { service: 'gateway' } },
      { targets: ['127.0.0.1:9002'], labels: { service: 'budget' } },
    ]);
  });
});

/**
 * The metric names the code registers (prom-client's `name: '...'` in a Counter, Gauge, Histogram
 * or Summary), with the series a histogram exposes, and Prometheus' own `up`.
 */
async function exportedMetricNames(): Promise<Set<string>> {
  const names = new Set(['up']);
  const roots = ['packages', 'subgraphs', 'gateway', 'workers', 'schema', 'infra'];
  const files: string[] = [];
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(full);
    }
  };
  for (const root of roots) await walk(path.join(repoRoot, root));
  const metric = /new client\.(Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g;
  for (const file of files) {
    for (const [, kind, name] of (await readFile(file, 'utf8')).matchAll(metric)) {
      names.add(name!);
      if (kind === 'Histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(name + suffix);
      if (kind === 'Summary') for (const suffix of ['_count', '_sum']) names.add(name + suffix);
    }
  }
  return names;
}

const PROMQL_WORDS = new Set(
  'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring group_left group_right and or unless bool offset rate irate increase delta idelta deriv histogram_quantile label_values abs ceil floor round clamp_min clamp_max vector scalar time absent changes resets predict_linear sort sort_desc label_replace humanizePercentage humanizeDuration inf nan'.split(
    ' ',
  ),
);

/** The metric names in a PromQL expression: what is left once strings, label matchers, grouping clauses, durations and functions are taken out. */
function metricsIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\w+/g, ' ');
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word));
}

describe('what the rules and dashboards read', () => {
  it('finds the metric names in an expression', () => {
    expect(metricsIn('sum by (service) (rate(http_request_duration_seconds_count{status=~"5.."}[2m])) > 0.05 and up{job="analytica"} == 0')).toEqual([
      'http_request_duration_seconds_count',
      'up',
    ]);
  });

  it('the alert rules name only metrics the services export', async () => {
    const exported = await exportedMetricNames();
    const rules = parse(await readFile(ALERT_RULES_FILE, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const used = rules.groups.flatMap((g) => g.rules.flatMap((r) => metricsIn(r.expr)));
    expect(used).toContain('kafka_consumer_group_lag');
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('the Grafana dashboards parse, show requests, errors, p95/p99, lag and dead letters, and name only exported metrics', async () => {
    const exported = await exportedMetricNames();
    const folder = path.join(repoRoot, 'infra/grafana/dashboards');
    const files = (await readdir(folder)).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['kafka.json', 'services.json']);
    const exprs: string[] = [];
    for (const file of files) {
      const dashboard = JSON.parse(await readFile(path.join(folder, file), 'utf8')) as { uid: string; title: string; panels: { title: string; targets: { expr: string }[] }[] };
      expect(dashboard.uid).toMatch(/^analytica-/);
      expect(dashboard.panels.length).toBeGreaterThan(0);
      for (const panel of dashboard.panels) {
        expect(panel.targets.length, `${file}: ${panel.title}`).toBeGreaterThan(0);
        for (const target of panel.targets) {
          const names = metricsIn(target.expr);
          expect(names.length, `${file}: ${panel.title}: ${target.expr}`).toBeGreaterThan(0);
          expect(
            names.filter((name) => !exported.has(name)),
            `${file}: ${panel.title}`,
          ).toEqual([]);
          exprs.push(target.expr);
        }
      }
    }
    const all = exprs.join('\n');
    for (const needle of [
      'http_request_duration_seconds_count',
      'status=~"5.."',
      'histogram_quantile(0.95',
      'histogram_quantile(0.99',
      'kafka_consumer_group_lag',
      'kafka_dead_letter_messages',
    ])
      expect(all).toContain(needle);
  });
});
