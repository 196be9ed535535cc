import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';
import { currentRequestId } from '@analytica/errors';

export type { Logger };

// Per logger (a child made per request binds its own `requestId`): whether its bindings already carry
// the request id, so that the mixin does not write the key a second time on the same line.
const bindsRequestId = new WeakMap<object, boolean>();
function hasRequestIdBinding(logger: Logger): boolean {
  let known = bindsRequestId.get(logger);
  if (known === undefined) {
    known = 'requestId' in logger.bindings();
    bindsRequestId.set(logger, known);
  }
  return known;
}

/**
 * What every line gets from where it was logged: the request being served (withRequestId, set by
 * the service skeleton for each request) and, when tracing runs (packages/telemetry), the active
 * span's trace id, so that the central log store finds all lines of one request or trace. Both are
 * an AsyncLocalStorage lookup: cheap enough for every line. A line that names them itself keeps its own.
 */
function requestContext(mergeObject: object, _level: number, logger: Logger): Record<string, string> {
  const context: Record<string, string> = {};
  const fields = mergeObject as { requestId?: unknown; traceId?: unknown };
  if (fields.requestId === undefined && !hasRequestIdBinding(logger)) {
    const requestId = currentRequestId();
    if (requestId) context.requestId = requestId;
  }
  if (fields.traceId === undefined) {
    const span = trace.getActiveSpan()?.spanContext();
    if (span && span.traceId !== '00000000000000000000000000000000') context.traceId = span.traceId;
  }
  return context;
}

// npm start runs every service in one process writing to one stdout; teeLogsTo adds a file that the
// in-process log shipper tails into the central log store (stack mode needs none: each process's
// output already goes to its own file).
let tee: WriteStream | undefined;

/** From now on, every logger made by createLogger also appends its lines to `file`. */
export function teeLogsTo(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  tee = createWriteStream(file, { flags: 'a' });
}

/** Stops the tee (its last lines are flushed first). */
export function stopTeeingLogs(): Promise<void> {
  const stream = tee;
  tee = undefined;
  return new Promise((resolve) => (stream ? stream.end(() => resolve()) : resolve()));
}

/** JSON logs on stdout, one line per event, with the service name on every line, and the request and trace ids when there are any. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: requestContext as (mergeObject: object, level: number, logger: Logger) => object,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.refreshToken'],
      censor: '[redacted]',
    },
  };
  if (!tee) return pino(options);
  return pino(
    options,
    pino.multistream([
      { level: 'trace', stream: process.stdout },
      { level: 'trace', stream: tee },
    ]),
  );
}

let warningsLogged = false;

/**
 * Node's own warnings (a deprecation, the AWS SDK's notice that it will soon need a newer Node)
 * as JSON lines of `logger`, instead of Node's plain text on stderr, which the log shipper and
 * anyone reading the logs with `jq` cannot parse. Once per process: the first caller's logger
 * gets them (in `npm start`, where every service shares one process, the launcher's).
 */
export function logProcessWarnings(logger: Logger): void {
  if (warningsLogged) return;
  warningsLogged = true;
  // Node's default writer is a 'warning' listener (absent under --no-warnings); this replaces it.
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) =>
    logger.warn({ source: 'node', warning: { name: warning.name, ...(warning.code ? { code: warning.code } : {}) } }, warning.message),
  );
}
