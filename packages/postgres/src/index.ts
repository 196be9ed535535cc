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
  /** Called with each SQL statement; tests count statements with it. */
  onQuery?: (sql: string) => void;
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
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const config: Options = {
    clientUrl: options.url,
    schema: options.schema,
    entities: options.entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: options.poolMax ?? 10 },
    driverOptions: { connection: { options: `-c search_path=${options.schema}` } },
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
    await orm.getMigrator().up();
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
