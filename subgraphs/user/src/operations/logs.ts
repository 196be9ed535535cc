import { badInput } from '@analytica/errors';
import { BadCursorError, type LogEntry, type LogLevelName } from '@analytica/logstore';
import type { Operations } from './context.js';

export interface LogsFilter {
  service?: string | null;
  level?: LogLevelName | null;
  requestId?: string | null;
  since?: Date | null;
  until?: Date | null;
  first?: number | null;
  after?: string | null;
}

export interface LogPageView {
  available: boolean;
  reason: string | null;
  entries: LogEntry[];
  nextCursor: string | null;
}

export const MAX_LOGS_PAGE = 500;

/**
 * A page of the central log store, newest line first. Bad arguments are BAD_USER_INPUT naming the
 * argument; a store that is down, slow or empty is `available: false` with the reason, never an
 * error: the console's logs page degrades, nothing else does.
 */
export async function readLogs(operations: Operations, filter: LogsFilter): Promise<LogPageView> {
  const first = filter.first ?? 100;
  if (!Number.isInteger(first) || first < 1 || first > MAX_LOGS_PAGE) throw badInput('first', `first must be from 1 to ${MAX_LOGS_PAGE}.`);
  if (filter.since && filter.until && filter.since >= filter.until) throw badInput('since', 'since must be before until.');
  if (filter.service !== undefined && filter.service !== null && !/^[a-z][a-z0-9-]{0,62}$/.test(filter.service)) {
    throw badInput('service', 'service must be a service name such as "gateway" or "user" (lower-case letters, digits and dashes).');
  }
  if (filter.requestId !== undefined && filter.requestId !== null && !/^[\w-]{1,128}$/.test(filter.requestId)) {
    throw badInput('requestId', 'requestId must be a request id as the services give it (letters, digits, "_" and "-", at most 128).');
  }
  try {
    const page = await operations.logStore.query({ ...filter, first });
    return { available: true, reason: null, ...page };
  } catch (error) {
    if (error instanceof BadCursorError) throw badInput('after', error.message);
    operations.logger.warn({ err: error }, 'log store query failed; answered as unavailable');
    return { available: false, reason: unavailableReason(error), entries: [], nextCursor: null };
  }
}

function unavailableReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === '42P01' || code === '3F000') {
    return 'The log store holds no logs yet: no log shipper has written to it. Stack mode and npm start run one (docs/OBSERVABILITY.md).';
  }
  if (code === '57014') return 'The log store did not answer in time. Narrow the query (a service, a request id or a time range) or try again.';
  return 'The log store cannot be reached right now. The services keep writing their log files, and the log shipper stores those lines when the store is back.';
}
