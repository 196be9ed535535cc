import { AsyncLocalStorage } from 'node:async_hooks';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/**
 * The one list of error codes clients can rely on (errors[].extensions.code).
 * Apollo's own codes (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, ...) pass through unchanged.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export const unauthenticated = (message = 'Sign in first: this operation needs a valid access token.') => new AppError(ErrorCode.UNAUTHENTICATED, message);

export const forbidden = (message = 'You are not allowed to do this.') => new AppError(ErrorCode.FORBIDDEN, message);

/** `field` is the input path the client should fix, e.g. "input.amount". */
export const badInput = (field: string, message: string) => new AppError(ErrorCode.BAD_USER_INPUT, message, { field });

/**
 * A missing object, and another user's object, get this same answer, so that ids cannot be probed.
 * `field` is the input path the id came in, when the client should know which one, e.g. "input.accountId".
 */
export const notFound = (what: string, id: string, field?: string) => new AppError(ErrorCode.NOT_FOUND, `${what} ${id} was not found.`, field ? { field } : {});

export const conflict = (message: string) => new AppError(ErrorCode.CONFLICT, message);

const KNOWN_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'DOWNSTREAM_SERVICE_ERROR',
]);

/**
 * The request id of the request being served, for errors and logs that are made far from the
 * request (Apollo's formatError gets no context). packages/service runs every request in it.
 */
const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/**
 * Whether a value can be a request id: 1 to 64 letters, digits, _ or -. What the services take
 * from `x-request-id` (else they make one), events carry and traces are looked up by.
 */
export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && /^[\w-]{1,64}$/.test(value);
}

/** Runs `fn` (and everything it awaits) as part of the request `requestId`. */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return requestScope.run({ requestId }, fn);
}

/** The id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

/** What a client reads for an unexpected error: nothing of the cause, only the id to quote. */
export function internalErrorMessage(requestId?: string): string {
  return requestId
    ? `Something went wrong on our side. The error was logged under request id ${requestId}; please try again, and quote that id if it persists.`
    : 'Something went wrong on our side. The error was logged; please try again.';
}

/**
 * PostgreSQL's codes for a statement it cancelled because it ran longer than `statement_timeout`
 * (query_canceled) or waited longer than `lock_timeout` for a lock (lock_not_available); see
 * packages/postgres. The driver puts them in `code`, and MikroORM's DriverException copies it.
 */
const DATABASE_TIMEOUT_CODES = new Set(['57014', '55P03']);

/** Whether `error`, or an error it wraps (GraphQL's originalError, `cause`), is a database timeout. */
export function cancelledByTimeout(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const { code, originalError, cause } = current as { code?: unknown; originalError?: unknown; cause?: unknown };
    if (typeof code === 'string' && DATABASE_TIMEOUT_CODES.has(code)) return true;
    current = originalError ?? cause;
  }
  return false;
}

/** What a client reads when the database gave up on its request: a passing condition, so try again. */
export function databaseTimeoutMessage(requestId?: string): string {
  return `The service is busy and could not finish this in time, so it was cancelled; please try again in a moment.${requestId ? ` (request id ${requestId})` : ''}`;
}

/** Socket errors of a dependency that is down, unreachable or cut off mid-call. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);
/**
 * PostgreSQL's connection_exception class (08xxx) and the server shutting down or starting up
 * (admin_shutdown, crash_shutdown, cannot_connect_now).
 */
const UNREACHABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123])$/;
/**
 * What the drivers say without a code when the connection went away: pg ("Connection terminated
 * unexpectedly"; "Query read timeout" and, for a new connection, "timeout expired" from a server
 * that stopped answering), knex's pool
 * ("Timeout acquiring a connection") and a transaction whose connection
 * died under it ("Transaction query already complete"); the AWS SDK's request timeout is a TimeoutError.
 */
const UNREACHABLE_MESSAGES =
  /Connection terminated|Client has encountered a connection error|Timeout acquiring a connection|Transaction query already complete|Connection ended|Query read timeout|timeout expired$/;
const UNREACHABLE_NAMES = new Set(['TimeoutError', 'KnexTimeoutError', 'ConnectionException']);

/**
 * Whether `error` (or an error it wraps) says that a dependency of the service (its database,
 * DynamoDB) could not be reached or did not answer in time: an outage, not a fault of the request.
 */
export function dependencyUnreachable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const { code, name, message, originalError, cause } = current as { code?: unknown; name?: unknown; message?: unknown; originalError?: unknown; cause?: unknown };
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNREACHABLE_SQLSTATE.test(code))) return true;
    if (typeof name === 'string' && UNREACHABLE_NAMES.has(name)) return true;
    if (typeof message === 'string' && UNREACHABLE_MESSAGES.test(message)) return true;
    current = originalError ?? cause;
  }
  return false;
}

/** What a client reads when a service could not reach what it depends on: an outage, so try again. */
export function dependencyUnavailableMessage(serviceName?: string, requestId?: string): string {
  return `The ${serviceName ?? ''}${serviceName ? ' ' : ''}service cannot reach what it depends on right now, so this was not done; please try again in a moment.${requestId ? ` (request id ${requestId})` : ''}`;
}

/**
 * Shapes every error leaving a server, in every environment: known codes keep their message (they
 * are written for the client), and anything else, INTERNAL_SERVER_ERROR included, becomes the
 * generic INTERNAL_SERVER_ERROR with the request id (extensions.requestId), so that no stack trace,
 * SQL, parameter or driver message reaches a client; a statement the database cancelled for its
 * statement or lock timeout is SERVICE_UNAVAILABLE, with a message saying to try again and the
 * same id. `onInternal` logs the cause, with that id.
 * Stack traces and exception details never leave, whatever the options.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  opts: {
    /** Kept for callers of the previous version; details are never exposed. */
    exposeDetails?: boolean;
    onInternal?: (error: GraphQLFormattedError, details: { requestId?: string; cause?: unknown }) => void;
    /** The original error (Apollo's second formatError argument), for the log. */
    cause?: unknown;
    /** Defaults to the request being served (withRequestId). */
    requestId?: string;
    /** The service answering (e.g. "budget"): named in SERVICE_UNAVAILABLE when a dependency is unreachable. */
    serviceName?: string;
  } = {},
): GraphQLFormattedError {
  const { stacktrace: _stacktrace, exception: _exception, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
  const code = typeof extensions.code === 'string' ? extensions.code : undefined;
  if (code && code !== ErrorCode.INTERNAL_SERVER_ERROR && KNOWN_CODES.has(code)) {
    return { ...formatted, extensions };
  }
  const requestId = opts.requestId ?? currentRequestId();
  opts.onInternal?.(formatted, { requestId, cause: opts.cause });
  if (cancelledByTimeout(opts.cause)) {
    // Nothing is wrong with the request or the code: the database was busy (or the row locked)
    // longer than the service waits. The client can do something about it: try again.
    return {
      message: databaseTimeoutMessage(requestId),
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, ...(requestId ? { requestId } : {}) },
    };
  }
  if (dependencyUnreachable(opts.cause)) {
    // The database (or DynamoDB) is down, unreachable or too slow: the same outage answer as a
    // subgraph the gateway cannot reach, naming the service, so that a client retries (issue 20).
    return {
      message: dependencyUnavailableMessage(opts.serviceName, requestId),
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, ...(opts.serviceName ? { serviceName: opts.serviceName } : {}), ...(requestId ? { requestId } : {}) },
    };
  }
  return {
    message: internalErrorMessage(requestId),
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, ...(requestId ? { requestId } : {}) },
  };
}
