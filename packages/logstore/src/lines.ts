import { LOG_LEVELS } from './levels.js';

/** One log line as the store keeps it. */
export interface LogRow {
  time: Date;
  service: string;
  /** The file (or stream) it came from: `gateway-2` for the second gateway, whose lines say `service: gateway`. */
  source: string;
  level: number;
  msg: string;
  requestId: string | null;
  traceId: string | null;
  /** The whole line as the service wrote it. */
  line: string;
}

/** Longest line kept whole; a longer one (a huge error object) is cut, and says so. */
export const MAX_LINE_CHARS = 64 * 1024;
const MAX_MESSAGE_CHARS = 2000;
const MAX_ID_CHARS = 128;

/**
 * Turns one line of a service's output into a row. The services write pino JSON (packages/logger):
 * `time`, `level`, `service`, `msg`, `requestId`, `traceId`. Anything else a process prints (a
 * crash's stack trace on stderr, a Node warning) is kept too, as a WARN line of the file's service
 * with the text as its message, since that is exactly what an operator needs to see.
 */
export function parseLogLine(text: string, source: string, receivedAt: Date = new Date()): LogRow | undefined {
  // PostgreSQL's text cannot hold NUL; a line that is only whitespace is no event.
  let line = text.replace(/\0/g, '').replace(/\r$/, '');
  if (!line.trim()) return undefined;
  if (line.length > MAX_LINE_CHARS) line = `${line.slice(0, MAX_LINE_CHARS)}…[cut]`;
  let parsed: unknown;
  try {
    parsed = line.startsWith('{') ? JSON.parse(line) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { time: receivedAt, service: source, source, level: LOG_LEVELS.warn, msg: line.slice(0, MAX_MESSAGE_CHARS), requestId: null, traceId: null, line };
  }
  const fields = parsed as Record<string, unknown>;
  const time = timeOf(fields.time) ?? receivedAt;
  return {
    time,
    service: textOf(fields.service, 100) ?? source,
    source,
    level: levelOf(fields.level),
    msg: textOf(fields.msg, MAX_MESSAGE_CHARS) ?? textOf(fields.message, MAX_MESSAGE_CHARS) ?? '',
    requestId: textOf(fields.requestId, MAX_ID_CHARS) ?? null,
    traceId: textOf(fields.traceId, MAX_ID_CHARS) ?? null,
    line,
  };
}

function timeOf(value: unknown): Date | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

function levelOf(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.min(Math.max(Math.round(value), 0), 100);
  if (typeof value === 'string' && value in LOG_LEVELS) return LOG_LEVELS[value as keyof typeof LOG_LEVELS];
  return LOG_LEVELS.info;
}

function textOf(value: unknown, max: number): string | undefined {
  // A JSON line may carry an escaped NUL (\u0000), which PostgreSQL's text cannot hold either.
  if (typeof value === 'string' && value) return value.replace(/\0/g, '').slice(0, max);
  if (typeof value === 'number') return String(value);
  return undefined;
}
