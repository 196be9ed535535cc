import { Arg, Authorized, Ctx, Directive, Field, Int, ObjectType, Query, Resolver, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import type { LogEntry as StoredLogEntry, LogLevelName } from '@analytica/logstore';
import type { UserContext } from '../context.js';
import { MAX_LOGS_PAGE, readLogs, type LogPageView } from './logs.js';

// GraphQL's upper-case names for pino's levels, which the store keeps.
const LogLevel = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'fatal' } as const satisfies Record<string, LogLevelName>;
registerEnumType(LogLevel, {
  name: 'LogLevel',
  description: 'How severe a log line is, from TRACE to FATAL. As a filter: this level and every more severe one.',
  valuesConfig: {
    TRACE: { description: 'The finest detail (off unless LOG_LEVEL=trace).' },
    DEBUG: { description: 'Detail for debugging (off unless LOG_LEVEL=debug or trace).' },
    INFO: { description: 'Normal events: requests, starts and stops, recoveries.' },
    WARN: { description: 'Something went wrong and was handled: a dependency away, a retry, a refused request.' },
    ERROR: { description: 'Something failed: an internal error (its request id is in the answer the client got).' },
    FATAL: { description: 'The process could not go on.' },
  },
});

@Directive('@tag(name: "console")')
@ObjectType('LogEntry', { description: 'One line a service logged, as the central log store keeps it.' })
class LogEntry {
  @Field(() => GraphQLDateTimeISO, { description: 'When the service logged it (UTC, ISO 8601).' }) time!: Date;
  @Field(() => String, { description: 'The service that logged it, e.g. gateway, user, payments-worker.' }) service!: string;
  @Field(() => LogLevel, { description: 'Its level.' }) level!: LogLevelName;
  @Field(() => String, { description: 'Its message (`msg`); for output that was not a JSON log line (a crash on stderr), the text itself.' }) message!: string;
  @Field(() => String, { nullable: true, description: 'The request it was logged for (x-request-id), when it was logged while serving one.' })
  requestId!: string | null;
  @Field(() => String, { nullable: true, description: 'The OpenTelemetry trace it was logged in, when tracing is on.' }) traceId!: string | null;
  @Field(() => String, { description: 'The whole line as the service wrote it (JSON for the lines the services log themselves): every field, for the details.' })
  json!: string;
}

@Directive('@tag(name: "console")')
@ObjectType('LogPage', { description: 'A page of log lines, newest first, or why the log store cannot be read.' })
class LogPage {
  @Field(() => Boolean, { description: 'false when the log store cannot be read right now; `entries` is then empty and `reason` says why.' }) available!: boolean;
  @Field(() => String, { nullable: true, description: 'Why the logs are not available; null when they are.' }) reason!: string | null;
  @Field(() => [LogEntry], { description: 'The lines of this page, newest first.' }) entries!: StoredLogEntry[];
  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next (older) page; null on the last page.' }) nextCursor!: string | null;
}

@Resolver()
export class LogsResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Query(() => LogPage, {
    description:
      "Administrators: every service's log lines from the central log store (docs/OBSERVABILITY.md), newest first, filtered by service, level, request id and time. Answers `available: false` when the store is down.",
  })
  logs(
    @Ctx() ctx: UserContext,
    @Arg('service', () => String, { nullable: true, description: 'Only this service, e.g. gateway or budget.' }) service?: string | null,
    @Arg('level', () => LogLevel, { nullable: true, description: 'Only lines of this level or a more severe one.' }) level?: LogLevelName | null,
    @Arg('requestId', () => String, {
      nullable: true,
      description:
        "Only one request's lines (its x-request-id) in every service it passed, and, with tracing on, every line of the traces it started (a worker consuming its event logs the trace id, not the request id).",
    })
    requestId?: string | null,
    @Arg('since', () => GraphQLDateTimeISO, { nullable: true, description: 'Only lines logged at or after this time.' }) since?: Date | null,
    @Arg('until', () => GraphQLDateTimeISO, { nullable: true, description: 'Only lines logged before this time.' }) until?: Date | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 100, description: `Lines per page, 1 to ${MAX_LOGS_PAGE}.` }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The nextCursor of the previous page.' }) after?: string | null,
  ): Promise<LogPageView> {
    return readLogs(ctx.operations, { service, level, requestId, since, until, first, after });
  }
}
