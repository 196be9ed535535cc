import type { Pool } from './db.js';
import { transaction } from './db.js';
import { badInput } from './errors.js';

/**
 * Latency buckets (upper bounds, ms) of the per-minute histograms; a last bucket holds the rest.
 * The gateway sends the bounds it counted with, and a batch counted with others is refused, so that
 * sums of buckets always add like with like.
 */
export const LATENCY_BOUNDS_MS = [
  0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250, 300, 400, 500, 650, 800, 1000, 1500, 2000, 3000, 5000, 10000, 30000,
];

/** The q-quantile of a histogram, interpolated inside its bucket. */
export function quantile(buckets: number[], q: number, bounds = LATENCY_BOUNDS_MS): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const inBucket = buckets[i] ?? 0;
    if (inBucket > 0 && seen + inBucket >= rank) {
      const low = i === 0 ? 0 : bounds[i - 1]!;
      const high = bounds[i] ?? low * 2;
      return Math.round((low + ((rank - seen) / inBucket) * (high - low)) * 100) / 100;
    }
    seen += inBucket;
  }
  return bounds[bounds.length - 1]!;
}

export interface UsageBatch {
  latencyBoundsMs: number[];
  operations: { hash: string; name: string | null; signature: string; coordinates: string[] }[];
  usage: { minute: number; hash: string; clientName: string; clientVersion: string; count: number; errors: number; latencySumMs: number; buckets: number[] }[];
}

const MAX_OPERATIONS = 5000;
/** A usage series spans at most this many buckets and answers at most this many points. */
const MAX_SERIES_BUCKETS = 2000;
const MAX_SERIES_POINTS = 10000;
const MAX_ROWS = 20000;

function validateBatch(body: unknown): UsageBatch {
  const batch = body as Partial<UsageBatch>;
  if (!batch || !Array.isArray(batch.operations) || !Array.isArray(batch.usage)) throw badInput('usage', 'A usage batch is { latencyBoundsMs, operations: [...], usage: [...] }.');
  if (JSON.stringify(batch.latencyBoundsMs) !== JSON.stringify(LATENCY_BOUNDS_MS)) {
    throw badInput('latencyBoundsMs', `The batch was counted with other latency buckets than the registry's (${LATENCY_BOUNDS_MS.join(', ')}): update the gateway.`);
  }
  if (batch.operations.length > MAX_OPERATIONS || batch.usage.length > MAX_ROWS)
    throw badInput('usage', `A batch holds at most ${MAX_OPERATIONS} operations and ${MAX_ROWS} usage rows: send smaller batches.`);
  const hashes = new Set<string>();
  for (const op of batch.operations) {
    if (
      typeof op?.hash !== 'string' ||
      !/^[0-9a-f]{8,64}$/.test(op.hash) ||
      typeof op.signature !== 'string' ||
      !Array.isArray(op.coordinates) ||
      !op.coordinates.every((c) => typeof c === 'string')
    ) {
      throw badInput('operations', 'Each operation is { hash (hex), name, signature, coordinates: string[] }.');
    }
    // One upsert may touch a row once: a batch naming an operation twice is refused whole, not half-written.
    if (hashes.has(op.hash)) throw badInput('operations', `Operation ${op.hash} is listed twice: list each operation once per batch.`);
    hashes.add(op.hash);
  }
  // Usage from the future would count in every check window until that day comes.
  const latest = Date.now() + 5 * 60_000;
  for (const row of batch.usage) {
    if (
      !row ||
      !hashes.has(row.hash) ||
      !Number.isSafeInteger(row.minute) ||
      row.minute < 0 ||
      row.minute > latest ||
      typeof row.clientName !== 'string' ||
      typeof row.clientVersion !== 'string' ||
      !Number.isInteger(row.count) ||
      row.count < 0 ||
      !Number.isInteger(row.errors) ||
      row.errors < 0 ||
      row.errors > row.count ||
      !Number.isFinite(row.latencySumMs) ||
      row.latencySumMs < 0 ||
      !Array.isArray(row.buckets) ||
      row.buckets.length !== LATENCY_BOUNDS_MS.length + 1 ||
      !row.buckets.every((n) => Number.isInteger(n) && n >= 0)
    ) {
      throw badInput(
        'usage',
        'Each usage row is { minute (epoch ms, not in the future), hash (of an operation in the batch), clientName, clientVersion, count, errors (0..count), latencySumMs (>= 0), buckets (counts >= 0) }.',
      );
    }
  }
  return batch as UsageBatch;
}

const range = (from: unknown, to: unknown) => {
  const end = to ? new Date(String(to)) : new Date();
  const start = from ? new Date(String(from)) : new Date(end.getTime() - 24 * 3600_000);
  if (Number.isNaN(start.getTime())) throw badInput('from', `"from" is "${String(from)}": send an ISO 8601 time.`);
  if (Number.isNaN(end.getTime())) throw badInput('to', `"to" is "${String(to)}": send an ISO 8601 time.`);
  return [start, end] as const;
};

export function createUsageStore(pool: Pool) {
  return {
    /** Adds a batch from a gateway: operations by signature hash, counts added per minute and client. */
    async ingest(body: unknown) {
      const batch = validateBatch(body);
      // Rows for the same minute, operation and client are merged first: one upsert may touch a row once.
      const merged = new Map<string, UsageBatch['usage'][number]>();
      for (const row of batch.usage) {
        const minute = Math.floor(row.minute / 60_000) * 60_000;
        const key = `${minute}|${row.hash}|${row.clientName}|${row.clientVersion}`;
        const into = merged.get(key);
        if (!into) merged.set(key, { ...row, minute, clientName: row.clientName.slice(0, 100), clientVersion: row.clientVersion.slice(0, 50), buckets: [...row.buckets] });
        else {
          into.count += row.count;
          into.errors += row.errors;
          into.latencySumMs += row.latencySumMs;
          into.buckets = into.buckets.map((v, i) => v + (row.buckets[i] ?? 0));
        }
      }
      // Rows are written in key order, so that two gateways' batches lock shared rows in the same order (no deadlock).
      await transaction(pool, async (db) => {
        await db.query(
          `insert into operations (hash, name, signature, coordinates)
           select hash, name, signature, coordinates from jsonb_to_recordset($1::jsonb) as x(hash text, name text, signature text, coordinates text[])
           order by hash
           on conflict (hash) do update set last_seen = now(), name = coalesce(excluded.name, operations.name)`,
          [JSON.stringify(batch.operations.map((o) => ({ ...o, name: o.name ? String(o.name).slice(0, 200) : null })))],
        );
        await db.query(
          `insert into usage_minutes (minute, operation_hash, client_name, client_version, count, errors, latency_sum_ms, latency_buckets)
           select to_timestamp(minute / 1000.0), hash, "clientName", "clientVersion", count, errors, "latencySumMs", buckets
           from jsonb_to_recordset($1::jsonb) as x(minute bigint, hash text, "clientName" text, "clientVersion" text, count bigint, errors bigint, "latencySumMs" double precision, buckets bigint[])
           order by hash, minute, "clientName", "clientVersion"
           on conflict (operation_hash, minute, client_name, client_version) do update set
             count = usage_minutes.count + excluded.count,
             errors = usage_minutes.errors + excluded.errors,
             latency_sum_ms = usage_minutes.latency_sum_ms + excluded.latency_sum_ms,
             latency_buckets = (select array_agg(coalesce(a, 0) + coalesce(b, 0) order by n)
                                from unnest(usage_minutes.latency_buckets, excluded.latency_buckets) with ordinality as t(a, b, n))`,
          [JSON.stringify([...merged.values()])],
        );
      });
      return { operations: batch.operations.length, rows: merged.size };
    },

    /** Operations by client in a time range: count, errors, mean, p50 and p95 latency. */
    async operations(query: { from?: unknown; to?: unknown; client?: unknown }) {
      const [from, to] = range(query.from, query.to);
      const client = query.client ? String(query.client) : null;
      const { rows } = await pool.query<{
        hash: string;
        name: string | null;
        signature: string;
        client_name: string;
        client_version: string;
        count: string;
        errors: string;
        latency_sum_ms: number;
        buckets: string[];
      }>(
        `with u as (select * from usage_minutes where minute >= $1 and minute < $2 and ($3::text is null or client_name = $3)),
         b as (select operation_hash, client_name, client_version, i, sum(v) as v from u, unnest(latency_buckets) with ordinality as t(v, i) group by 1, 2, 3, 4),
         h as (select operation_hash, client_name, client_version, array_agg(v order by i) as buckets from b group by 1, 2, 3),
         s as (select operation_hash, client_name, client_version, sum(count) as count, sum(errors) as errors, sum(latency_sum_ms) as latency_sum_ms from u group by 1, 2, 3)
         select o.hash, o.name, o.signature, s.client_name, s.client_version, s.count, s.errors, s.latency_sum_ms, h.buckets
         from s join h using (operation_hash, client_name, client_version) join operations o on o.hash = s.operation_hash
         order by s.count desc, o.hash, s.client_name, s.client_version limit 1000`,
        [from, to, client],
      );
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        operations: rows.map((r) => {
          const buckets = r.buckets.map(Number);
          const count = Number(r.count);
          return {
            hash: r.hash,
            name: r.name,
            signature: r.signature,
            client: { name: r.client_name, version: r.client_version },
            count,
            errors: Number(r.errors),
            meanMs: count ? Math.round((r.latency_sum_ms / count) * 100) / 100 : null,
            p50Ms: quantile(buckets, 0.5),
            p95Ms: quantile(buckets, 0.95),
          };
        }),
      };
    },

    /**
     * Usage over time (the admin console's charts): requests, errors and p95 per bucket of
     * `bucketMinutes`, operation name and client name. Buckets start at whole multiples of their
     * length since the epoch (UTC); anonymous operations share the name null.
     */
    async series(query: { from?: unknown; to?: unknown; bucketMinutes?: unknown; client?: unknown }) {
      const [from, to] = range(query.from, query.to);
      const bucketMinutes = query.bucketMinutes === undefined ? 5 : Number(query.bucketMinutes);
      if (!Number.isInteger(bucketMinutes) || bucketMinutes < 1 || bucketMinutes > 1440)
        throw badInput('bucketMinutes', `"bucketMinutes" is "${String(query.bucketMinutes)}": send a whole number of minutes from 1 to 1440.`);
      if (from >= to) throw badInput('from', `"from" (${from.toISOString()}) must be before "to" (${to.toISOString()}).`);
      const buckets = Math.ceil((to.getTime() - from.getTime()) / (bucketMinutes * 60_000));
      if (buckets > MAX_SERIES_BUCKETS)
        throw badInput(
          'bucketMinutes',
          `${buckets} buckets of ${bucketMinutes} min between "from" and "to": at most ${MAX_SERIES_BUCKETS}; choose longer buckets or a shorter range.`,
        );
      const client = query.client ? String(query.client) : null;
      const { rows } = await pool.query<{ bucket: Date; name: string; client_name: string; count: string; errors: string; buckets: string[] }>(
        `with k as (
           select to_timestamp(floor(extract(epoch from u.minute) / ($4::int * 60)) * ($4::int * 60)) as bucket, coalesce(o.name, '') as name, u.client_name,
                  u.count, u.errors, u.latency_buckets
           from usage_minutes u join operations o on o.hash = u.operation_hash
           where u.minute >= $1 and u.minute < $2 and ($3::text is null or u.client_name = $3)),
         s as (select bucket, name, client_name, sum(count) as count, sum(errors) as errors from k group by 1, 2, 3),
         b as (select bucket, name, client_name, i, sum(v) as v from k, unnest(latency_buckets) with ordinality as t(v, i) group by 1, 2, 3, 4),
         h as (select bucket, name, client_name, array_agg(v order by i) as buckets from b group by 1, 2, 3)
         select s.bucket, s.name, s.client_name, s.count, s.errors, h.buckets
         from s join h using (bucket, name, client_name)
         order by s.bucket, s.count desc, s.name, s.client_name limit ${MAX_SERIES_POINTS}`,
        [from, to, client, bucketMinutes],
      );
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        bucketMinutes,
        points: rows.map((r) => ({
          bucketStart: r.bucket.toISOString(),
          operationName: r.name === '' ? null : r.name,
          clientName: r.client_name,
          requests: Number(r.count),
          errors: Number(r.errors),
          p95Ms: quantile(r.buckets.map(Number), 0.95),
        })),
      };
    },

    /** Schema coordinates by client in a time range, with how many requests touched each. */
    async fields(query: { from?: unknown; to?: unknown; client?: unknown; coordinate?: unknown }) {
      const [from, to] = range(query.from, query.to);
      const client = query.client ? String(query.client) : null;
      const coordinate = query.coordinate ? String(query.coordinate) : null;
      const { rows } = await pool.query<{ coordinate: string; client_name: string; count: string; operations: string }>(
        `select c as coordinate, u.client_name, sum(u.count) as count, count(distinct o.hash) as operations
         from usage_minutes u join operations o on o.hash = u.operation_hash, unnest(o.coordinates) as c
         where u.minute >= $1 and u.minute < $2 and ($3::text is null or u.client_name = $3) and ($4::text is null or c = $4 or starts_with(c, $4 || '.'))
         group by 1, 2 order by 3 desc, 1, 2 limit 5000`,
        [from, to, client, coordinate],
      );
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        fields: rows.map((r) => ({ coordinate: r.coordinate, client: r.client_name, count: Number(r.count), operations: Number(r.operations) })),
      };
    },

    /**
     * For each coordinate, the operations (and their clients) that used it, or anything under it
     * (a type's fields, a field's arguments), in the last `windowDays`.
     */
    async usageOf(paths: string[], windowDays: number) {
      const result = new Map<string, { operation: string; name: string | null; count: number; clients: { name: string; version: string; count: number }[] }[]>();
      if (paths.length === 0) return result;
      const { rows } = await pool.query<{ path: string; hash: string; name: string | null; client_name: string; client_version: string; count: string }>(
        `select p.path, o.hash, o.name, u.client_name, u.client_version, sum(u.count) as count
         from unnest($1::text[]) as p(path)
         join operations o on exists (select 1 from unnest(o.coordinates) as c where c = p.path or starts_with(c, p.path || '.'))
         join usage_minutes u on u.operation_hash = o.hash and u.minute >= now() - make_interval(days => $2)
         group by 1, 2, 3, 4, 5 order by 1, 6 desc`,
        [paths, windowDays],
      );
      for (const r of rows) {
        const list = result.get(r.path) ?? [];
        let op = list.find((o) => o.operation === r.hash);
        if (!op) list.push((op = { operation: r.hash, name: r.name, count: 0, clients: [] }));
        op.count += Number(r.count);
        op.clients.push({ name: r.client_name, version: r.client_version, count: Number(r.count) });
        result.set(r.path, list);
      }
      return result;
    },

    /** Forgets usage older than the retention window, and operations no longer used. */
    async prune(retentionDays: number) {
      const { rowCount } = await pool.query('delete from usage_minutes where minute < now() - make_interval(days => $1)', [retentionDays]);
      await pool.query(
        'delete from operations o where last_seen < now() - make_interval(days => $1) and not exists (select 1 from usage_minutes u where u.operation_hash = o.hash)',
        [retentionDays],
      );
      return rowCount ?? 0;
    },
  };
}
export type UsageStore = ReturnType<typeof createUsageStore>;
