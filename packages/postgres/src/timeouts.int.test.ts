// The pool's own (client-side) read timeout follows the server's statement timeout: a transaction
// that raises the server's limit with allowLongerStatements gets a longer read timeout too, and the
// next checkout of the same connection has the pool's again. Against the machine's PostgreSQL.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowLongerStatements, openDatabase, READ_TIMEOUT_MARGIN_MS, type Database } from './index.js';

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `timeouts_${randomUUID().slice(0, 8)}`;
const STATEMENT_TIMEOUT_MS = 300;
const POOL_MAX = 2;
let db: Database;

beforeAll(async () => {
  // poolMax 2 (the migrator needs two): the test can check out every connection the pool has.
  db = await openDatabase({ url, schema, entities: [], migrations: [], statementTimeoutMs: STATEMENT_TIMEOUT_MS, poolMax: POOL_MAX });
});

afterAll(async () => {
  await db?.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
});

const sleep = (em: ReturnType<Database['fork']>, seconds: number, ctx?: unknown) => em.getConnection().execute(`select pg_sleep(${seconds})`, [], 'all', ctx as never);

describe('timeouts of a pooled connection', () => {
  it('a statement past the statement timeout is cancelled by the server', async () => {
    await expect(sleep(db.fork(), 1)).rejects.toMatchObject({ code: '57014' });
  });

  it('allowLongerStatements raises the client read timeout with the server limit, for its own transaction only', async () => {
    // 1.6 s is well past the pool's read timeout (300 + 1000 ms): only the raised one lets it finish.
    expect(STATEMENT_TIMEOUT_MS + READ_TIMEOUT_MARGIN_MS).toBeLessThan(1600);
    const em = db.fork();
    await em.transactional(async (tx) => {
      await allowLongerStatements(tx, { statementTimeoutMs: 5000 });
      await sleep(tx, 1.6, tx.getTransactionContext());
    });
    // Every connection of the pool, the transaction's among them: the server's limit is back, and so is the client's.
    const knex = db.orm.em.getConnection().getKnex().client as {
      acquireConnection(): Promise<{ connectionParameters: { query_timeout?: number } }>;
      releaseConnection(connection: unknown): Promise<void>;
    };
    const connections = await Promise.all(Array.from({ length: POOL_MAX }, () => knex.acquireConnection()));
    try {
      expect(connections.map((c) => c.connectionParameters.query_timeout)).toEqual(connections.map(() => STATEMENT_TIMEOUT_MS + READ_TIMEOUT_MARGIN_MS));
    } finally {
      await Promise.all(connections.map((c) => knex.releaseConnection(c)));
    }
  });
});
