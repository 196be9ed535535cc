import { randomUUID } from 'node:crypto';
import { AppError, ErrorCode, badInput, notFound } from '@analytica/errors';
import { encodeEvent } from '@analytica/events';
import { parseDecimal } from '@analytica/money';
import { allowLongerStatements, executeWithBoundParameters, type EntityManager } from '@analytica/postgres';
import { isUuid, ownedOrNotFound } from '@analytica/subgraph/access';
import { AccountRecord } from '../accounts/account.entity.js';
import { assertBalancesExact } from '../accounts/accounts.js';
import { reviewBudgets } from '../budgets/budgets.js';
import { categoriesByRules } from '../rules/rules.js';
import { csvStatementReader, MAX_STATEMENT_LINES, readCsvStatement, type CsvMapping, type StatementLine } from './csv-statement.js';
import { OfxError, parseOfx } from './ofx.js';

// This module is the package's "./imports" face: reading a statement belongs to it as much as
// booking one (benchmarks time the CSV reading alone).
export { readCsvStatement, type CsvMapping, type StatementLine };

export const IMPORT_FORMATS = ['CSV', 'OFX', 'QFX'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportRequest {
  accountId: string;
  format: ImportFormat;
  content: string;
  csv?: CsvMapping | null;
  /** Computes everything and writes nothing. */
  dryRun?: boolean | null;
  /** A line is a duplicate of a booked transaction of the account with the same amount and payee within this many days. */
  duplicateWindowDays?: number | null;
}

export interface ImportedLine extends StatementLine {
  categoryId: string | null;
  /** The booked transaction this line repeats; such lines are not booked again. */
  duplicateOf: string | null;
  /** Set once booked (not in a dry run). */
  transactionId: string | null;
}

export interface ImportOutcome {
  id: string | null;
  dryRun: boolean;
  lines: ImportedLine[];
  imported: number;
  duplicates: number;
}

/** Reads an OFX/QFX statement into lines in the account's currency. */
export function readOfxStatement(content: string, currency: string): StatementLine[] {
  const { records, line } = ofxStatementReader(content, currency);
  return records.map(line);
}

type OfxTransaction = ReturnType<typeof parseOfx>['transactions'][number];

/** readOfxStatement in two steps, as csvStatementReader: the file parsed and checked, then `line` per transaction. */
function ofxStatementReader(content: string, currency: string): { records: OfxTransaction[]; line: (t: OfxTransaction) => StatementLine } {
  let statement;
  try {
    statement = parseOfx(content);
  } catch (error) {
    if (!(error instanceof OfxError)) throw error;
    throw error.transaction
      ? new AppError(ErrorCode.BAD_USER_INPUT, `Transaction ${error.transaction}: ${error.message} Nothing was imported.`, { field: 'input.content', row: error.transaction })
      : badInput('input.content', `${error.message} Nothing was imported.`);
  }
  if (statement.currency && statement.currency !== currency) {
    throw badInput('input.content', `The statement is in ${statement.currency} but the account is kept in ${currency}; import it into a ${statement.currency} account.`);
  }
  if (statement.transactions.length === 0) throw badInput('input.content', 'The statement has no transactions.');
  if (statement.transactions.length > MAX_STATEMENT_LINES) throw badInput('input.content', `Import at most ${MAX_STATEMENT_LINES} transactions at once.`);
  const line = (t: OfxTransaction): StatementLine => {
    const fail = (message: string) =>
      new AppError(ErrorCode.BAD_USER_INPUT, `Transaction ${t.index}${t.fitId ? ` (FITID ${t.fitId})` : ''}: ${message} Nothing was imported.`, {
        field: 'input.content',
        row: t.index,
      });
    let amount: number;
    try {
      // Some European banks write a decimal comma in TRNAMT.
      amount = parseDecimal(t.amount.includes('.') ? t.amount : t.amount.replace(',', '.'), currency, 'TRNAMT');
    } catch (error) {
      throw fail(`TRNAMT ${(error as Error).message}`);
    }
    if (amount === 0) throw fail('TRNAMT is zero: the line moves no money.');
    const payee = (t.name ?? t.memo ?? t.type ?? '').trim().slice(0, 200);
    if (!payee) throw fail('it has neither NAME, PAYEE nor MEMO.');
    const memo = t.memo?.trim() || null;
    if (t.fitId && t.fitId.length > 255) throw fail('FITID is longer than 255 characters.');
    return { row: t.index, bookedAt: t.postedAt, amount, payee, notes: memo && memo !== payee ? memo.slice(0, 2000) : null, externalId: t.fitId };
  };
  return { records: statement.transactions, line };
}

/**
 * Imports run on the request path's event loop, so work per line (converting, encoding events)
 * is done this many lines at a time, letting other requests in between: a statement of the
 * largest size (a 1 MB body, some 16,000 lines) holds the loop for tens of milliseconds at a
 * time, not for the whole import. Reading the file itself is one linear pass over at most 1 MB.
 */
const IMPORT_SLICE = 2_000;

/** Lets whatever else is waiting (other requests, timers) run before the import goes on. */
const letOthersRun = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A statement's lines from its reader (csvStatementReader, ofxStatementReader), a slice at a time. */
async function readInSlices<T>(reader: { records: T[]; line: (record: T) => StatementLine }, progress?: (done: number, total: number) => void): Promise<StatementLine[]> {
  await letOthersRun();
  const lines = await mapInSlices(reader.records, reader.line, progress && ((done) => progress(done, reader.records.length)));
  await letOthersRun();
  return lines;
}

/** items.map(fn), IMPORT_SLICE items at a time with letOthersRun in between (and progress after each slice). */
async function mapInSlices<T, R>(items: readonly T[], fn: (item: T) => R, progress?: (done: number) => void, slice = IMPORT_SLICE): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += slice) {
    if (i > 0) await letOthersRun();
    for (const item of items.slice(i, i + slice)) out.push(fn(item));
    progress?.(out.length);
  }
  return out;
}

/** Where a long import is: reading the file, matching it against booked transactions and rules, booking, finishing (events, budgets). */
export const IMPORT_PHASES = ['READING', 'MATCHING', 'BOOKING', 'FINISHING'] as const;
export type ImportPhase = (typeof IMPORT_PHASES)[number];

/** What an import tells whoever watches it (statement uploads keep it for clients that poll). */
export interface ImportHooks {
  /** `done` of `total` lines through the phase; called often, so it must be cheap. */
  progress?(phase: ImportPhase, done: number, total: number): void;
  /** Runs in the import's transaction just before it commits: what must be written with the import or not at all. */
  beforeCommit?(tx: EntityManager, outcome: ImportOutcome): Promise<void>;
}

const DAY_MS = 86_400_000;
/** The statement_timeout of an import's transaction (the pool's default is for one request's statements). */
export const IMPORT_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * Pairs each line with at most one booked transaction of the account that has the same bank id,
 * or the same amount and payee (ignoring case) within the window; each booked transaction stands
 * for one line only, so two identical coffees on one day in the file are two lines unless two are
 * booked already.
 */
export function findDuplicates(
  lines: readonly StatementLine[],
  booked: readonly { id: string; amount: number; payee: string; bookedAt: Date; externalId: string | null }[],
  windowDays: number,
): (string | null)[] {
  const used = new Set<string>();
  const byExternal = new Map(booked.filter((b) => b.externalId).map((b) => [b.externalId!, b]));
  const byKey = new Map<string, typeof booked>();
  for (const b of booked) {
    const key = `${b.amount}\u0000${b.payee.trim().toLowerCase()}`;
    byKey.set(key, [...(byKey.get(key) ?? []), b]);
  }
  const windowMs = windowDays * DAY_MS;
  return lines.map((line) => {
    const exact = line.externalId ? byExternal.get(line.externalId) : undefined;
    if (exact && !used.has(exact.id)) {
      used.add(exact.id);
      return exact.id;
    }
    const candidates = byKey.get(`${line.amount}\u0000${line.payee.trim().toLowerCase()}`) ?? [];
    let best: (typeof booked)[number] | undefined;
    for (const c of candidates) {
      const distance = Math.abs(c.bookedAt.getTime() - line.bookedAt.getTime());
      if (used.has(c.id) || distance > windowMs) continue;
      if (!best || distance < Math.abs(best.bookedAt.getTime() - line.bookedAt.getTime())) best = c;
    }
    if (!best) return null;
    used.add(best.id);
    return best.id;
  });
}

const INSERT_BATCH = 5_000;

/**
 * Inserts rows handed over as one JSON parameter per batch (the last placeholder of `sql`), bound
 * rather than written into the SQL text (executeWithBoundParameters): a batch is megabytes.
 */
async function insertJson(tx: EntityManager, sql: string, params: unknown[], rows: readonly object[], progress?: (done: number) => void) {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    if (i > 0) await letOthersRun();
    await executeWithBoundParameters(tx, sql, [...params, JSON.stringify(rows.slice(i, i + INSERT_BATCH))]);
    progress?.(Math.min(i + INSERT_BATCH, rows.length));
  }
}

/**
 * Imports a CSV or OFX/QFX statement into one account: all lines or none. Lines that repeat booked
 * transactions are skipped, the user's rules categorise the rest, and every booked line gets its
 * transactions.recorded.v1 event, all in one database transaction (rows and events are written in
 * batches of set-based inserts). A dry run computes the same result and writes nothing.
 */
export async function importStatement(em: EntityManager, userId: string, input: ImportRequest, hooks: ImportHooks = {}): Promise<ImportOutcome> {
  if (!IMPORT_FORMATS.includes(input.format)) throw badInput('input.format', `Use one of ${IMPORT_FORMATS.join(', ')}.`);
  if (!isUuid(input.accountId)) throw notFound('Account', input.accountId, 'input.accountId');
  const windowDays = input.duplicateWindowDays ?? 3;
  if (!Number.isInteger(windowDays) || windowDays < 0 || windowDays > 31) throw badInput('input.duplicateWindowDays', 'Give 0 to 31 days.');
  if (input.format === 'CSV' && !input.csv) throw badInput('input.csv', 'A CSV import needs the column mapping.');
  const dryRun = input.dryRun ?? false;

  return em.transactional(async (tx) => {
    // Set-based statements over a whole file (rule matching, inserts of up to 5,000 rows) may
    // outrun a request's statement_timeout; this transaction, and only it, gets longer.
    await allowLongerStatements(tx, { statementTimeoutMs: IMPORT_STATEMENT_TIMEOUT_MS });
    const account = ownedOrNotFound(userId, await tx.findOne(AccountRecord, { id: input.accountId }), 'Account', input.accountId, 'input.accountId');
    const reading = (done: number, total: number) => hooks.progress?.('READING', done, total);
    const statement =
      input.format === 'CSV'
        ? await readInSlices(csvStatementReader(input.content, input.csv!, account.currency), reading)
        : await readInSlices(ofxStatementReader(input.content, account.currency), reading);
    hooks.progress?.('MATCHING', 0, statement.length);

    const times = statement.map((l) => l.bookedAt.getTime());
    const earliest = new Date(times.reduce((a, b) => Math.min(a, b)) - windowDays * DAY_MS);
    const latest = new Date(times.reduce((a, b) => Math.max(a, b)) + windowDays * DAY_MS);
    const booked: { id: string; amount: string; payee: string; booked_at: Date; external_id: string | null }[] = await tx.getConnection().execute(
      `select id, amount::text as amount, payee, booked_at, external_id from transactions
        where user_id = ? and account_id = ? and ((booked_at between ? and ?) or external_id is not null)`,
      [userId, account.id, earliest, latest],
      'all',
      tx.getTransactionContext(),
    );
    const duplicates = findDuplicates(
      statement,
      booked.map((b) => ({ id: b.id, amount: Number(b.amount), payee: b.payee, bookedAt: new Date(b.booked_at), externalId: b.external_id })),
      windowDays,
    );
    await letOthersRun();
    const fresh = statement.filter((_, i) => duplicates[i] === null);
    const externalIds = new Set<string>();
    for (const line of fresh) {
      if (!line.externalId) continue;
      if (externalIds.has(line.externalId)) {
        throw new AppError(ErrorCode.BAD_USER_INPUT, `Transaction ${line.row}: FITID ${line.externalId} appears twice in the file. Nothing was imported.`, {
          field: 'input.content',
          row: line.row,
        });
      }
      externalIds.add(line.externalId);
    }
    const categories = await categoriesByRules(tx, userId, account.currency, fresh);
    const freshCategory = new Map(fresh.map((line, i) => [line, categories[i] ?? null]));
    const lines: ImportedLine[] = statement.map((line, i) => ({
      ...line,
      duplicateOf: duplicates[i] ?? null,
      categoryId: freshCategory.get(line) ?? null,
      transactionId: null,
    }));
    const outcome = { dryRun, lines, imported: fresh.length, duplicates: statement.length - fresh.length };
    if (dryRun) {
      await hooks.beforeCommit?.(tx, { id: null, ...outcome });
      return { id: null, ...outcome };
    }

    const importId = randomUUID();
    await tx
      .getConnection()
      .execute(
        'insert into imports (id, user_id, account_id, format, row_count, imported_count, duplicate_count) values (?, ?, ?, ?, ?, ?, ?)',
        [importId, userId, account.id, input.format, statement.length, outcome.imported, outcome.duplicates],
        'run',
        tx.getTransactionContext(),
      );
    const now = new Date();
    // Plain rows rather than entities: the ORM does not see them, and 100,000 stay cheap.
    const rows = await mapInSlices(
      lines.filter((line) => !line.duplicateOf),
      (line) => {
        line.transactionId = randomUUID();
        return {
          id: line.transactionId,
          category_id: line.categoryId,
          amount: line.amount,
          booked_at: line.bookedAt.toISOString(),
          payee: line.payee,
          notes: line.notes,
          external_id: line.externalId,
        };
      },
    );
    await insertJson(
      tx,
      `insert into transactions (id, user_id, account_id, category_id, amount, currency, booked_at, payee, notes, import_id, external_id, created_at, updated_at)
       select id, ?, ?, category_id, amount, ?, booked_at, payee, notes, ?, external_id, ?, ?
         from json_to_recordset(?::json) as x(id uuid, category_id uuid, amount bigint, booked_at timestamptz, payee text, notes text, external_id text)`,
      [userId, account.id, account.currency, importId, now, now],
      rows,
      (done) => hooks.progress?.('BOOKING', done, rows.length),
    );
    hooks.progress?.('FINISHING', 0, rows.length);
    // The same guard as recordTransaction: a statement that would take the balance beyond the
    // exact range is refused whole, and this transaction rolls back every row written above.
    await assertBalancesExact(tx, [account.id], 'input.content');
    await insertJson(
      tx,
      `insert into outbox (id, topic, key, value, headers, created_at)
       select id, topic, key, value, headers, ? from json_to_recordset(?::json) as x(id uuid, topic text, key text, value text, headers jsonb)`,
      [now],
      await mapInSlices(rows, (r) => {
        const id = randomUUID();
        const message = encodeEvent(
          'transactions.recorded.v1',
          userId,
          {
            userId,
            transactionId: r.id,
            accountId: account.id,
            categoryId: r.category_id,
            amountMinor: String(r.amount),
            currency: account.currency,
            payee: r.payee,
            bookedAt: r.booked_at,
            splits: [],
            transferId: null,
          },
          id,
        );
        return { id, topic: 'transactions.recorded.v1', key: message.key, value: message.value, headers: message.headers };
      }),
    );
    await reviewBudgets(
      tx,
      userId,
      lines.filter((l) => !l.duplicateOf && l.categoryId).map((l) => ({ categoryId: l.categoryId!, bookedAt: l.bookedAt })),
    );
    await hooks.beforeCommit?.(tx, { id: importId, ...outcome });
    return { id: importId, ...outcome };
  });
}
