import pg from 'pg';

/**
 * The registry's own PostgreSQL schema, reached through plain `pg`: a handful of tables and a few
 * set-based statements need no ORM. Unqualified names resolve through search_path, so tests run the
 * same migrations in a throwaway schema.
 */
export type Pool = pg.Pool;
export type Client = pg.PoolClient;

export interface PoolOptions {
  max?: number;
  /** PostgreSQL's statement_timeout and lock_timeout on every connection (the DATABASE_*_TIMEOUT_MS variables). */
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  /**
   * An idle connection the server closed (a restart, a failover, pg_terminate_backend). The pool
   * drops it and opens another when asked; without a listener the error would end the process.
   */
  onIdleConnectionLost: (error: Error) => void;
}

/** Migrations and the publish lock's wait get longer timeouts, per transaction (below). */
export function openPool(url: string, schema: string, options: PoolOptions): Pool {
  const { max = 10, statementTimeoutMs = 5_000, lockTimeoutMs = 2_000 } = options;
  const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${schema} -c statement_timeout=${statementTimeoutMs} -c lock_timeout=${lockTimeoutMs}` });
  pool.on('error', options.onIdleConnectionLost);
  return pool;
}

/** Waits that are meant to be long (migrations, a publish queued behind another): SET LOCAL, for one transaction. */
const LONG_STATEMENT_MS = 600_000;
const LONG_LOCK_WAIT_MS = 60_000;

// Each entry runs once, in order, inside one transaction; the list only ever grows.
const MIGRATIONS: string[] = [
  `
  create table subgraphs (
    name text primary key,
    created_at timestamptz not null default now()
  );
  -- One immutable row per published SDL of a subgraph.
  create table subgraph_versions (
    id bigserial primary key,
    subgraph text not null references subgraphs(name),
    sdl text not null,
    sdl_hash text not null,
    routing_url text not null,
    commit text,
    author text,
    created_at timestamptz not null default now()
  );
  create index subgraph_versions_by_subgraph on subgraph_versions (subgraph, id desc);
  -- One immutable row per composed state of the graph: which subgraph version each subgraph is at,
  -- the supergraph, the client-facing API schema and the classified changes from the version before.
  create table schema_versions (
    id bigserial primary key,
    subgraph_versions jsonb not null,
    supergraph_sdl text not null,
    supergraph_hash text not null,
    api_sdl text not null,
    kind text not null check (kind in ('publish', 'rollback')),
    changed_subgraphs text[] not null,
    commit text,
    author text,
    changes jsonb not null,
    created_at timestamptz not null default now()
  );
  create function refuse_change() returns trigger language plpgsql as $$
  begin
    raise exception 'published versions are immutable (% on %)', tg_op, tg_table_name;
  end $$;
  create trigger subgraph_versions_immutable before update or delete on subgraph_versions
    for each row execute function refuse_change();
  create trigger schema_versions_immutable before update or delete on schema_versions
    for each row execute function refuse_change();
  -- Service tokens: only a SHA-256 of the secret is kept.
  create table service_tokens (
    id bigserial primary key,
    name text not null unique,
    token_hash text not null unique,
    scopes text[] not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
  );
  -- Operations the gateway saw, by the hash of their normalised signature, with the schema
  -- coordinates they touch; usage is counted per minute, operation and client.
  create table operations (
    hash text primary key,
    name text,
    signature text not null,
    coordinates text[] not null,
    first_seen timestamptz not null default now(),
    last_seen timestamptz not null default now()
  );
  create index operations_coordinates on operations using gin (coordinates);
  create table usage_minutes (
    minute timestamptz not null,
    operation_hash text not null references operations(hash),
    client_name text not null,
    client_version text not null,
    count bigint not null,
    errors bigint not null,
    latency_sum_ms double precision not null,
    latency_buckets bigint[] not null,
    primary key (operation_hash, minute, client_name, client_version)
  );
  create index usage_minutes_by_minute on usage_minutes (minute);
  `,
  `
  -- A revoked token's name may be given to a new one: only the names of active tokens are unique.
  alter table service_tokens drop constraint service_tokens_name_key;
  create unique index service_tokens_active_name on service_tokens (name) where revoked_at is null;
  `,
  `
  -- Contracts (issue 12): named include/exclude @tag sets that filter the API schema for partners.
  create table contracts (
    name text primary key,
    description text not null default '',
    include_tags text[] not null,
    exclude_tags text[] not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );
  -- Each distinct API schema a contract has had, with the classified changes from the one before
  -- (the contract's changelog). Immutable, like schema_versions.
  create table contract_versions (
    id bigserial primary key,
    contract text not null references contracts(name),
    schema_version bigint not null references schema_versions(id),
    api_schema text not null,
    hash text not null,
    changes jsonb not null,
    created_at timestamptz not null default now()
  );
  create index contract_versions_by_contract on contract_versions (contract, id desc);
  create trigger contract_versions_immutable before update or delete on contract_versions
    for each row execute function refuse_change();
  -- Approved removals: the coordinate stays (marked deprecated) until remove_after, then may go.
  create table contract_deprecations (
    contract text not null references contracts(name),
    coordinate text not null,
    reason text not null,
    remove_after date not null,
    approved_by text not null,
    created_at timestamptz not null default now(),
    primary key (contract, coordinate)
  );
  -- Trusted documents of partner apps, by the SHA-256 of the document text.
  create table app_documents (
    app_id uuid not null,
    hash text not null,
    document text not null,
    contract text not null,
    created_at timestamptz not null default now(),
    primary key (app_id, hash)
  );
  `,
  `
  -- Partners' webhooks (one per partner): new versions of the partner's contract are POSTed to it,
  -- signed with its secret; last_version is the last contract version it acknowledged.
  create table partner_webhooks (
    partner_id uuid primary key,
    contract text not null references contracts(name),
    url text not null,
    secret text not null,
    last_version bigint not null,
    failures int not null default 0,
    last_error text null,
    next_attempt_at timestamptz not null default now(),
    created_at timestamptz not null default now()
  );
  create index partner_webhooks_due on partner_webhooks (next_attempt_at);
  `,
  `
  -- Gateways that poll the supergraph (issue 16): each names itself and the schema version it
  -- serves at every poll; the admin console shows which version each one runs.
  create table gateway_instances (
    instance_id text primary key,
    schema_version bigint,
    first_seen timestamptz not null default now(),
    last_seen timestamptz not null default now()
  );
  create index gateway_instances_by_last_seen on gateway_instances (last_seen);
  `,
];

/** Creates the schema if missing and applies pending migrations, one process at a time. */
export async function migrate(pool: Pool, schema: string) {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`set local statement_timeout = ${LONG_STATEMENT_MS}; set local lock_timeout = ${LONG_LOCK_WAIT_MS}`);
    // Two registry instances starting together must not both migrate.
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`registry-migrate:${schema}`]);
    await client.query(`create schema if not exists "${schema}"`);
    await client.query('create table if not exists registry_migrations (id int primary key, applied_at timestamptz not null default now())');
    const { rows } = await client.query<{ id: number }>('select id from registry_migrations');
    const applied = new Set(rows.map((r) => r.id));
    for (const [index, sql] of MIGRATIONS.entries()) {
      if (applied.has(index + 1)) continue;
      await client.query(sql);
      await client.query('insert into registry_migrations (id) values ($1)', [index + 1]);
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Runs `work` in one transaction; `lock` serialises writers that must see each other's result (publishes). */
export async function transaction<T>(pool: Pool, work: (client: Client) => Promise<T>, lock?: string): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    if (lock) {
      // A publish waits its turn behind another (which composes while holding the lock): the wait
      // is one statement, so both limits are raised for this transaction.
      await client.query(`set local statement_timeout = ${LONG_STATEMENT_MS}; set local lock_timeout = ${LONG_LOCK_WAIT_MS}`);
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [lock]);
    }
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
