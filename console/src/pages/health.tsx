import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { Loaded, Section, Table, Time, Unavailable } from '../ui';

// One query per part, so that a part the gateway's schema lacks, or a store that is down, leaves the others.
const SERVICES = gql(`
  query ConsoleServiceHealth { serviceHealth { service url ready checkedAt latencyMs error checks { name ok detail } } }
`);
const ALERTS = gql(`
  query ConsoleAlerts { alerts { available reason alerts { name state severity service summary activeSince } } }
`);
const CONSUMERS = gql(`
  query ConsoleConsumerGroups { consumerGroups { available reason groups { groupId topic lag partitions } } }
`);
const DLQ_TOPICS = gql(`
  query ConsoleDeadLetterTopics { deadLetterTopics { available reason topics { topic messages } } }
`);
const GATEWAYS = gql(`
  query ConsoleGatewayInstances { gatewayInstances { instanceId schemaVersion lastSeenAt } }
`);

/**
 * One row per consumer group: its lag over every topic it reads, retry tiers included (a group's
 * retry topics are named after its topic, so only the main topics are listed).
 */
function lagByGroup(rows: { groupId: string; topic: string; lag: number; partitions: number }[]) {
  const groups = new Map<string, { groupId: string; topics: string[]; lag: number; partitions: number }>();
  for (const row of rows) {
    const group = groups.get(row.groupId) ?? { groupId: row.groupId, topics: [], lag: 0, partitions: 0 };
    if (!/\.retry\.\w+$/.test(row.topic)) group.topics.push(row.topic);
    group.lag += row.lag;
    group.partitions += row.partitions;
    groups.set(row.groupId, group);
  }
  return [...groups.values()].sort((a, b) => b.lag - a.lag || a.groupId.localeCompare(b.groupId));
}

interface Report {
  available: boolean;
  reason: string | null;
}
const POLL_MS = 15_000;

export function HealthPage() {
  const services = useQuery<{
    serviceHealth: {
      service: string;
      url: string;
      ready: boolean;
      checkedAt: string;
      latencyMs: number | null;
      error: string | null;
      checks: { name: string; ok: boolean; detail: string | null }[];
    }[];
  }>(SERVICES, { pollInterval: POLL_MS });
  const alerts = useQuery<{
    alerts: Report & { alerts: { name: string; state: string; severity: string | null; service: string | null; summary: string | null; activeSince: string | null }[] };
  }>(ALERTS, { pollInterval: POLL_MS });
  const consumers = useQuery<{ consumerGroups: Report & { groups: { groupId: string; topic: string; lag: number; partitions: number }[] } }>(CONSUMERS, {
    pollInterval: POLL_MS,
  });
  const dlq = useQuery<{ deadLetterTopics: Report & { topics: { topic: string; messages: number }[] } }>(DLQ_TOPICS, { pollInterval: POLL_MS });
  const gateways = useQuery<{ gatewayInstances: { instanceId: string; schemaVersion: number | null; lastSeenAt: string }[] }>(GATEWAYS, { pollInterval: POLL_MS });

  return (
    <>
      <Section title="Alerts">
        <Loaded {...alerts}>
          {({ alerts: report }) =>
            !report.available ? (
              <Unavailable reason={report.reason} />
            ) : report.alerts.length === 0 ? (
              <p className="note ok">No alert is pending or firing.</p>
            ) : (
              <Table headers={['Alert', 'State', 'Severity', 'Service', 'Summary', 'Since']}>
                {report.alerts.map((a, n) => (
                  <tr key={n}>
                    <td>{a.name}</td>
                    <td>
                      <span className={`badge ${a.state === 'FIRING' ? 'bad' : 'warn'}`}>{a.state}</span>
                    </td>
                    <td>{a.severity ?? '—'}</td>
                    <td>{a.service ?? '—'}</td>
                    <td>{a.summary ?? '—'}</td>
                    <td>
                      <Time at={a.activeSince} />
                    </td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Loaded>
      </Section>
      <Section title="Services">
        <Loaded {...services}>
          {({ serviceHealth }) => (
            <Table headers={['Service', 'Ready', 'Dependencies', 'Latency', 'Checked']}>
              {serviceHealth.map((s) => (
                <tr key={s.service}>
                  <td>
                    {s.service}
                    <div className="muted small">{s.url}</div>
                  </td>
                  <td>{s.ready ? <span className="badge ok">ready</span> : <span className="badge bad">not ready</span>}</td>
                  <td>
                    {s.checks.map((c) => (
                      <span key={c.name} className={`badge ${c.ok ? 'ok' : 'bad'}`} title={c.detail ?? undefined}>
                        {c.name}
                      </span>
                    ))}
                    {s.error ? <div className="small error-text">{s.error}</div> : null}
                  </td>
                  <td>{s.latencyMs == null ? '—' : `${s.latencyMs} ms`}</td>
                  <td>
                    <Time at={s.checkedAt} />
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Loaded>
      </Section>
      <Section title="Kafka consumer lag">
        <Loaded {...consumers}>
          {({ consumerGroups: report }) =>
            !report.available ? (
              <Unavailable reason={report.reason} />
            ) : (
              <Table headers={['Group', 'Topics', 'Partitions', 'Lag']}>
                {lagByGroup(report.groups).map((g) => (
                  <tr key={g.groupId}>
                    <td>{g.groupId}</td>
                    <td className="small">{g.topics.join(', ')}</td>
                    <td>{g.partitions}</td>
                    <td className={g.lag > 0 ? 'warn-text' : ''}>{g.lag}</td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Loaded>
      </Section>
      <Section title="Dead-letter topics">
        <Loaded {...dlq}>
          {({ deadLetterTopics: report }) =>
            !report.available ? (
              <Unavailable reason={report.reason} />
            ) : (
              <Table headers={['Topic', 'Messages']}>
                {report.topics.map((t) => (
                  <tr key={t.topic}>
                    <td>{t.topic}</td>
                    <td className={t.messages > 0 ? 'warn-text' : ''}>{t.messages}</td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Loaded>
      </Section>
      <Section title="Gateways">
        <Loaded {...gateways}>
          {({ gatewayInstances }) => (
            <Table headers={['Instance', 'Schema version', 'Last seen']}>
              {gatewayInstances.map((g) => (
                <tr key={g.instanceId}>
                  <td>
                    <code>{g.instanceId}</code>
                  </td>
                  <td>{g.schemaVersion ?? '—'}</td>
                  <td>
                    <Time at={g.lastSeenAt} />
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Loaded>
      </Section>
    </>
  );
}
