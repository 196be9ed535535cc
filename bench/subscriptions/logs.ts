// What the stack's services logged during one run (pino JSON lines in the stack's log folder): the
// warnings and errors say why a subscription was refused or a connection closed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** What every Kafka client says once while the stack starts, whatever the load: not about this run. */
const STARTUP_NOISE = /^kafka: (KafkaJS v2\.0\.0 switched default partitioner|Limiting retries for the idempotent producer|Response (CreateTopics|ListOffsets|Metadata)\b)/;

export type LogOffsets = Map<string, number>;

/** Where each log file ends now: the run's lines are those after it. */
export function logOffsets(dir: string): LogOffsets {
  const offsets: LogOffsets = new Map();
  try {
    for (const file of readdirSync(dir)) if (file.endsWith('.log')) offsets.set(file, statSync(path.join(dir, file)).size);
  } catch {
    // no logs yet
  }
  return offsets;
}

export interface LogSummary {
  service: string;
  lines: number;
  warnings: number;
  errors: number;
  /** The most frequent warning or error messages, with their counts. */
  top: [string, number][];
}

export function summariseLogs(dir: string, since: LogOffsets): LogSummary[] {
  const summaries: LogSummary[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()) {
    const text = readFileSync(path.join(dir, file))
      .subarray(since.get(file) ?? 0)
      .toString();
    const summary: LogSummary = { service: file.slice(0, -4), lines: 0, warnings: 0, errors: 0, top: [] };
    const messages = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      summary.lines++;
      let entry: { level?: string | number; msg?: string; err?: { message?: string } };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      const level = typeof entry.level === 'number' ? (entry.level >= 50 ? 'error' : entry.level >= 40 ? 'warn' : 'info') : entry.level;
      if (STARTUP_NOISE.test(entry.msg ?? '')) continue;
      if (level === 'warn') summary.warnings++;
      else if (level === 'error' || level === 'fatal') summary.errors++;
      else continue;
      const message = `${level}: ${(entry.msg ?? '').slice(0, 160)}${entry.err?.message ? ` (${entry.err.message.slice(0, 120)})` : ''}`;
      messages.set(message, (messages.get(message) ?? 0) + 1);
    }
    summary.top = [...messages].sort((a, b) => b[1] - a[1]).slice(0, 3);
    summaries.push(summary);
  }
  return summaries;
}
