import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { LOG_LEVELS, levelName, type LogLevelName } from './levels.js';
import type { LogRow } from './lines.js';

/**
 * The central log store: one PostgreSQL table, `<schema>.entries`, partitioned by day (UTC), so
 * that retention is a DROP TABLE of whole days rather than a DELETE that bloats the table, and a
 * query over a time range reads only its days. The shipper's position in each file is kept beside
 * the lines (`<schema>.shipper_offsets`) and written in the same transaction as they are: a batch
 * is either stored with its new position or not at all, so a restart or an outage neither loses
 * nor repeats a line. docs/OBSERVABILITY.md explains the choice of PostgreSQL.
 */
export interface LogStoreOptions {
  url: string;
  /** The PostgreSQL schema: `logs` (tests use their own). */
  schema: string;
  /** Connections; the shipper needs one or two, a reader two. */
  poolMax?: number;
  /** A statement running longer is cancelled; a connection not made within `connectTimeoutMs` fails. */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** Where the shipper is in one file: the file's identity (device and inode) and the byte after the last line stored. */
export interface FileOffset {
  source: string;
  fileId: string;
  position: number;
}

export interface LogQuery {
  service?: string | null;
  /** At least this level. */
  level?: LogLevelName | null;
  /** One request's lines, and the lines of the traces it started (the workers consuming its events). */
  requestId?: string | null;
  traceId?: string | null;
  since?: Date | null;
  until?: Date | null;
  first: number;
  /** A cursor from a previous page (`nextCursor`). */
  after?: string | null;
}

export interface LogEntry {
  time: Date;
  service: string;
  source: string;
  level: LogLevelName;
  message: string;
  requestId: string | null;
  traceId: string | null;
  json: string;
}

export class BadCursorError extends Error {
  constructor() {
    super('after is not a cursor this field gave out; pass the nextCursor of the previous page, or leave it out for the first page.');
  }
}

const DAY_MS = 86_400_000;
const dayOf = (time: Date) => time.toISOString().slice(0, 10);
const partitionName = (day: string) => `entries_${day.replace(/-/g, '')}`;

export type LogStore = ReturnType<typeof openLogStore>;

export function openLogStore(options: LogStoreOptions) {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) throw new Error(`log store schema "${options.schema}" must be lower-case letters, digits or _`);
  const schema = `"${options.schema}"`;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 2,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    // A server that stopped answering never sends its statement_timeout either: give up client-side too.
    query_timeout: (options.statementTimeoutMs ?? 10_000) + 1000,
    options: `-c statement_timeout=${options.statementTimeoutMs ?? 10_000} -c lock_timeout=2000 -c timezone=UTC`,
  });
  // An idle connection the server dropped (a restart) errors here; the pool makes a new one on the next query.
  pool.on('error', () => undefined);
  const knownPartitions = new Set<string>();
  // Every process that creates tables or partitions takes this lock first (two shippers, tests in parallel).
  const lockKey = `logstore:${options.schema}`;

  async function inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async function ensurePartitions(client: pg.PoolClient, days: string[]) {
    const missing = days.filter((day) => !knownPartitions.has(day));
    if (!missing.length) return;
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [lockKey]);
    for (const day of missing) {
      const next = dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS));
      await client.query(
        `create table if not exists ${schema}.${partitionName(day)} partition of ${schema}.entries for values from ('${day} 00:00:00+00') to ('${next} 00:00:00+00')`,
      );
    }
    // Only once the transaction commits are they known to exist.
    return () => missing.forEach((day) => knownPartitions.add(day));
  }

  return {
    schema: options.schema,

    /** Creates the schema, the partitioned table, its indexes and the offsets table (idempotent). */
    async migrate(): Promise<void> {
      await inTransaction(async (client) => {
        await client.query('select pg_advisory_xact_lock(hashtext($1))', [lockKey]);
        await client.query(`create schema if not exists ${schema}`);
        await client.query(`create sequence if not exists ${schema}.entry_ids`);
        await client.query(`
          create table if not exists ${schema}.entries (
            id bigint not null default nextval('${options.schema}.entry_ids'),
            time timestamptz not null,
            service text not null,
            source text not null,
            level smallint not null,
            msg text not null,
            request_id text,
            trace_id text,
            line text not null,
            shipped_at timestamptz not null default now(),
            primary key (time, id)
          ) partition by range (time)`);
        // Each index is made on every partition, present and future.
        await client.query(`create index if not exists entries_by_service on ${schema}.entries (service, time desc, id desc)`);
        // Only warnings and worse are indexed by level: they are what one looks for by level, and
        // few; "info and worse" is most lines, read in time order anyway. Every line pays for each
        // index it enters, and the shipper writes all of them (issue 16: what logging costs).
        await client.query(`drop index if exists ${schema}.entries_by_level`);
        await client.query(`create index if not exists entries_at_warn on ${schema}.entries (time desc, id desc) where level >= ${LOG_LEVELS.warn}`);
        await client.query(`create index if not exists entries_by_request on ${schema}.entries (request_id) where request_id is not null`);
        await client.query(`create index if not exists entries_by_trace on ${schema}.entries (trace_id) where trace_id is not null`);
        await client.query(`
          create table if not exists ${schema}.shipper_offsets (
            source text primary key,
            file_id text not null,
            position bigint not null,
            updated_at timestamptz not null default now()
          )`);
      });
    },

    /** The positions the shipper stored, by source. */
    async readOffsets(): Promise<Map<string, FileOffset>> {
      const { rows } = await pool.query<{ source: string; file_id: string; position: string }>(`select source, file_id, position from ${schema}.shipper_offsets`);
      return new Map(rows.map((r) => [r.source, { source: r.source, fileId: r.file_id, position: Number(r.position) }]));
    },

    /**
     * Stores the lines and the files' new positions in one transaction, creating the days'
     * partitions first. Lines older than `oldest` (beyond retention) are not stored: their day
     * would only be dropped again. Answers how many lines were stored.
     */
    async write(rows: LogRow[], offsets: FileOffset[], oldest?: Date): Promise<number> {
      const kept = oldest ? rows.filter((r) => r.time >= oldest) : rows;
      let markKnown: (() => void) | undefined;
      await inTransaction(async (client) => {
        if (kept.length) {
          markKnown = await ensurePartitions(client, [...new Set(kept.map((r) => dayOf(r.time)))]);
          // COPY, not INSERT: PostgreSQL takes rows in COPY's text format at about half its CPU per
          // row for an INSERT ... SELECT from a JSON parameter (14-15 against 27-37 µs per access
          // line, measured with the table's indexes), and the shipper writes every line of every
          // service (issue 16: what logging costs). Still inside the transaction with the offsets.
          await pipeline(
            Readable.from([copyRows(kept)]),
            client.query(copyFrom(`copy ${schema}.entries (time, service, source, level, msg, request_id, trace_id, line) from stdin`)),
          );
        }
        for (const offset of offsets) {
          await client.query(
            `insert into ${schema}.shipper_offsets (source, file_id, position, updated_at) values ($1, $2, $3, now())
             on conflict (source) do update set file_id = excluded.file_id, position = excluded.position, updated_at = now()`,
            [offset.source, offset.fileId, offset.position],
          );
        }
      });
      markKnown?.();
      return kept.length;
    },

    /**
     * Retention: drops every day partition that ended more than `retentionDays` days before `now`.
     * Answers the days dropped.
     */
    async dropExpired(retentionDays: number, now = new Date()): Promise<string[]> {
      const cutoff = now.getTime() - retentionDays * DAY_MS;
      return inTransaction(async (client) => {
        await client.query('select pg_advisory_xact_lock(hashtext($1))', [lockKey]);
        const { rows } = await client.query<{ name: string }>(
          `select c.relname as name from pg_inherits i
             join pg_class c on c.oid = i.inhrelid
             join pg_class p on p.oid = i.inhparent
             join pg_namespace n on n.oid = p.relnamespace
           where n.nspname = $1 and p.relname = 'entries'`,
          [options.schema],
        );
        const dropped: string[] = [];
        for (const { name } of rows) {
          const match = /^entries_(\d{4})(\d{2})(\d{2})$/.exec(name);
          if (!match) continue;
          const day = `${match[1]}-${match[2]}-${match[3]}`;
          if (Date.parse(`${day}T00:00:00Z`) + DAY_MS > cutoff) continue;
          await client.query(`drop table ${schema}.${name}`);
          knownPartitions.delete(day);
          dropped.push(day);
        }
        return dropped.sort();
      });
    },

    /** The days that have a partition, oldest first. */
    async days(): Promise<string[]> {
      const { rows } = await pool.query<{ name: string }>(
        `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
           join pg_namespace n on n.oid = p.relnamespace where n.nspname = $1 and p.relname = 'entries' order by 1`,
        [options.schema],
      );
      return rows.map((r) => r.name.replace(/^entries_(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3'));
    },

    /** Lines newest first, filtered; `nextCursor` when more follow. */
    async query(filter: LogQuery): Promise<{ entries: LogEntry[]; nextCursor: string | null }> {
      const where: string[] = [];
      const params: unknown[] = [];
      const param = (value: unknown) => `$${params.push(value)}`;
      if (filter.service) where.push(`service = ${param(filter.service)}`);
      // A literal from the fixed list, not a parameter, so the planner can match the partial index.
      if (filter.level) where.push(`level >= ${Number(LOG_LEVELS[filter.level])}`);
      if (filter.requestId) {
        // The request's own lines, and every line of the traces it started: a worker that consumes
        // its event logs in the same trace (context carried in the message headers), not the request.
        const requestId = param(filter.requestId);
        where.push(`(request_id = ${requestId} or trace_id in (select trace_id from ${schema}.entries where request_id = ${requestId} and trace_id is not null))`);
      }
      if (filter.traceId) where.push(`trace_id = ${param(filter.traceId)}`);
      if (filter.since) where.push(`time >= ${param(filter.since.toISOString())}`);
      if (filter.until) where.push(`time < ${param(filter.until.toISOString())}`);
      if (filter.after) {
        const cursor = decodeCursor(filter.after);
        where.push(`(time, id) < (${param(cursor.time)}::timestamptz, ${param(cursor.id)}::bigint)`);
      }
      const { rows } = await pool.query<{
        id: string;
        time: Date;
        service: string;
        source: string;
        level: number;
        msg: string;
        request_id: string | null;
        trace_id: string | null;
        line: string;
        cursor_time: string;
      }>(
        `select id, time, to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_time, service, source, level, msg, request_id, trace_id, line
           from ${schema}.entries ${where.length ? `where ${where.join(' and ')}` : ''}
          order by time desc, id desc limit ${param(filter.first + 1)}`,
        params,
      );
      const page = rows.slice(0, filter.first);
      const last = page.at(-1);
      return {
        entries: page.map((r) => ({
          time: r.time,
          service: r.service,
          source: r.source,
          level: levelName(r.level),
          message: r.msg,
          requestId: r.request_id,
          traceId: r.trace_id,
          json: r.line,
        })),
        nextCursor: rows.length > filter.first && last ? encodeCursor(last.cursor_time, last.id) : null,
      };
    },

    async ping(): Promise<void> {
      await pool.query('select 1');
    },

    async close(): Promise<void> {
      await pool.end();
    },
  };
}

// The cursor carries the last line's time (to the microsecond, as stored) and id: opaque to callers.
function encodeCursor(time: string, id: string): string {
  return Buffer.from(`${time}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { time: string; id: string } {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new BadCursorError();
  return { time: match[1]!, id: match[2]! };
}

/** COPY's text format escapes these (and `\\N` is NULL); a JSON line holds backslashes, a message may hold the rest. */
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const copyText = (value: string | null) => (value === null ? '\\N' : value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!));

/** The rows as one COPY text payload: tab-separated columns, one row a line. */
function copyRows(rows: LogRow[]): string {
  let text = '';
  for (const r of rows) {
    text += `${r.time.toISOString()}\t${copyText(r.service)}\t${copyText(r.source)}\t${r.level}\t${copyText(r.msg)}\t${copyText(r.requestId)}\t${copyText(r.traceId)}\t${copyText(r.line)}\n`;
  }
  return text;
}
