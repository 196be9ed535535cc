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
 * Shapes every error leaving a server: known codes keep their message, anything else becomes
 * a generic INTERNAL_SERVER_ERROR so that no stack trace, SQL or driver message reaches a client.
 */
export function formatError(formatted: GraphQLFormattedError, opts: { exposeDetails?: boolean; onInternal?: (error: GraphQLFormattedError) => void } = {}): GraphQLFormattedError {
  const { stacktrace: _stacktrace, exception: _exception, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
  const code = typeof extensions.code === 'string' ? extensions.code : undefined;
  if (code && KNOWN_CODES.has(code)) {
    return { ...formatted, extensions: opts.exposeDetails ? formatted.extensions : extensions };
  }
  opts.onInternal?.(formatted);
  return {
    message: 'Something went wrong on our side. The error was logged; please try again.',
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
