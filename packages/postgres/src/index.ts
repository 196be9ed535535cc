import { MikroORM, type EntitySchema, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator, Migration } from '@mikro-orm/migrations';

export { Migration };
export type { EntityManager };

export interface DatabaseOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** The service's own schema: every service owns one and reads no other. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service's schemas have their own entity types
  entities: EntitySchema<any, any>[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- MikroORM constructs migrations with its own arguments
  migrations: { name: string; class: new (...args: any[]) => Migration }[];
  poolMax?: number;
  /**
   * Longest a statement may run before PostgreSQL cancels it (`statement_timeout`), and longest it
   * may wait for a lock (`lock_timeout`), on every pooled connection: a hostile or runaway statement
   * gives its backend and pool connection back instead of holding them after the caller gave up.
   * Defaults: DEFAULT_STATEMENT_TIMEOUT_MS, DEFAULT_LOCK_TIMEOUT_MS. A transaction that is meant to
   * run longer says so with allowLongerStatements; migrations run under MIGRATION_TIMEOUTS.
   */
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  /**
   * Longest the driver waits for a new connection to be accepted and authenticated
   * (DEFAULT_CONNECT_TIMEOUT_MS): a server that accepts TCP but never answers must not hold a request.
   */
  connectTimeoutMs?: number;
  /** Called with each SQL statement; tests count statements with it. */
  onQuery?: (sql: string) => void;
}

/** The variables of `postgresEnv` (packages/config) that say where and how a service connects. */
export interface PostgresEnv {
  DATABASE_URL: string;
  DATABASE_SCHEMA: string;
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  DATABASE_LOCK_TIMEOUT_MS: number;
  DATABASE_CONNECT_TIMEOUT_MS: number;
}

/**
 * The connection part of DatabaseOptions from a service's environment: every service passes its
 * timeouts the same way, so none falls back to the defaults while its operator set others.
 */
export function connectionFromEnv(env: PostgresEnv): Pick<DatabaseOptions, 'url' | 'schema' | 'statementTimeoutMs' | 'lockTimeoutMs' | 'connectTimeoutMs'> {
  return {
    url: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: env.DATABASE_LOCK_TIMEOUT_MS,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
  };
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 2_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/**
 * statement_timeout is enforced by the server, so it cannot help when the server itself stops
 * answering (a hung host, a frozen process, a network that drops packets without a reset). The
 * client then gives up on its own this long after the server should have cancelled the statement.
 */
export const READ_TIMEOUT_MARGIN_MS = 1_000;

/** The parts of a pooled pg client this module touches: its read timeout and whether it is idle. */
interface PgClient {
  connectionParameters: { query_timeout?: number };
  readyForQuery?: boolean;
}
/** Migrations may rewrite whole tables: they get longer, still finite, limits. */
export const MIGRATION_TIMEOUTS = { statementTimeoutMs: 600_000, lockTimeoutMs: 60_000 } as const;

/** The largest value PostgreSQL takes for a timeout (ms); 0 (no limit) is never used. */
const MAX_TIMEOUT_MS = 2_147_483_647;

function timeout(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS) throw new Error(`${name} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, not ${value}`);
  return value;
}

/**
 * Lets the statements of the current transaction run up to these limits instead of the pool's
 * (`SET LOCAL`: it ends with the transaction, so the connection goes back to the pool unchanged).
 * For work that is meant to take longer than a request's statement, e.g. a statement import.
 * Throws when `em` is not inside a transaction, where SET LOCAL would change nothing.
 */
export async function allowLongerStatements(em: EntityManager, limits: { statementTimeoutMs: number; lockTimeoutMs?: number }): Promise<void> {
  const ctx = em.getTransactionContext();
  if (!ctx) throw new Error('allowLongerStatements needs a transaction (em.transactional)');
  const statement = timeout(limits.statementTimeoutMs, 'statementTimeoutMs');
  const lock = limits.lockTimeoutMs === undefined ? undefined : timeout(limits.lockTimeoutMs, 'lockTimeoutMs');
  await em.getConnection().execute(`set local statement_timeout = ${statement}`, [], 'run', ctx);
  if (lock !== undefined) await em.getConnection().execute(`set local lock_timeout = ${lock}`, [], 'run', ctx);
  // The client's own wait grows with the server's limit (the pool puts it back on the next checkout).
  const client = (await (ctx as { client: { acquireConnection(): Promise<PgClient> } }).client.acquireConnection()) as PgClient;
  client.connectionParameters.query_timeout = statement + READ_TIMEOUT_MARGIN_MS;
}

/**
 * Runs `sql` in `em`'s transaction (if any) with its `?` placeholders sent to PostgreSQL as bind
 * parameters, and answers its rows. MikroORM's `execute` first writes every parameter into the SQL
 * text, escaping it character by character on the event loop: for a large value (a statement
 * import's rows as one JSON parameter, megabytes) that holds the whole service for seconds.
 * Here the driver sends the values apart from the text, as they are.
 */
export async function executeWithBoundParameters<T = Record<string, unknown>>(em: EntityManager, sql: string, params: readonly unknown[]): Promise<T[]> {
  const query = em
    .getConnection()
    .getKnex()
    .raw(sql, params as never);
  const ctx = em.getTransactionContext();
  if (ctx) query.transacting(ctx);
  const result = (await query) as { rows: T[] };
  return result.rows;
}

export interface Database {
  orm: MikroORM;
  /** A fresh identity map per unit of work: call it once per request or per message. */
  fork(): EntityManager;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the service's database: creates its schema if missing, applies pending migrations
 * (each in its own transaction) and returns the ORM. Unqualified names in migrations resolve to
 * the service schema through search_path, so the same migration runs under any schema name,
 * which is how tests get a schema of their own.
 */
/** PostgreSQL's invalid_schema_name. */
const INVALID_SCHEMA_NAME = '3F000';

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const statementTimeoutMs = timeout(options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS, 'statementTimeoutMs');
  const lockTimeoutMs = timeout(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, 'lockTimeoutMs');
  const connectTimeoutMs = timeout(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs');
  const readTimeoutMs = statementTimeoutMs + READ_TIMEOUT_MARGIN_MS;
  const config: Options = {
    clientUrl: options.url,
    schema: options.schema,
    entities: options.entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: {
      min: 0,
      max: options.poolMax ?? 10,
      // A request waits this long at most for a free connection, not knex's default minute.
      acquireTimeoutMillis: connectTimeoutMs + readTimeoutMs,
      // Checked at every checkout: a connection still waiting for the answer to a statement the
      // client gave up on (the server stopped answering) is thrown away, not handed to the next
      // request to queue behind it; a good one gets the pool's read timeout back.
      validate: (client: PgClient) => {
        if (client.readyForQuery === false) return false;
        client.connectionParameters.query_timeout = readTimeoutMs;
        return true;
      },
    } as Options['pool'],
    // Set per connection at start-up, so every pooled connection has them from its first statement.
    driverOptions: {
      connection: {
        options: `-c search_path=${options.schema} -c statement_timeout=${statementTimeoutMs} -c lock_timeout=${lockTimeoutMs}`,
        query_timeout: readTimeoutMs,
        connectionTimeoutMillis: connectTimeoutMs,
      },
    },
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: options.migrations,
      transactional: true,
      allOrNothing: true,
      silent: true,
    },
    debug: options.onQuery ? ['query'] : false,
    logger: (message) => {
      if (options.onQuery) options.onQuery(message);
    },
    allowGlobalContext: false,
  };
  const orm = await MikroORM.init(config);
  try {
    await orm.em.getConnection().execute(`create schema if not exists "${options.schema}"`);
    for (let attempt = 1; ; attempt++) {
      try {
        // All pending migrations in one transaction, under the migration limits rather than a request's.
        await orm.em.fork().transactional(async (em) => {
          await allowLongerStatements(em, MIGRATION_TIMEOUTS);
          await orm.getMigrator().up({ transaction: em.getTransactionContext() });
        });
        break;
      } catch (error) {
        // The migrator reads the catalogue of every schema in the database before it runs; a schema
        // dropped by someone else in between (another service's tests, a tenant removed) fails it
        // with 3F000 though ours is fine. Nothing was applied (one transaction): read it again.
        if ((error as { code?: string }).code !== INVALID_SCHEMA_NAME || attempt === 3) throw error;
      }
    }
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return {
    orm,
    fork: () => orm.em.fork(),
    async ping() {
      await orm.em.getConnection().execute('select 1');
    },
    close: () => orm.close(true),
  };
}
