import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError, ErrorCode, badInput, conflict, notFound } from '@analytica/errors';
import type { Logger } from '@analytica/logger';
import type { ObjectStore } from '@analytica/objects';
import type { Database, EntityManager } from '@analytica/postgres';
import { isUuid } from '@analytica/subgraph/access';
import { AccountRecord } from '../accounts/account.entity.js';
import { IMPORT_FORMATS, importStatement, type ImportFormat, type ImportPhase, type ImportRequest } from '../imports/imports.js';

/**
 * Statement files too large for a GraphQL body (up to 50 MB by default) come in three steps:
 * 1. `startStatementUpload` records the upload and answers a short-lived URL on the gateway whose
 *    token, stored here as its SHA-256 only, lets exactly one file of the announced size in;
 * 2. the client PUTs the file there; the gateway streams it to this service (routes.ts), which
 *    streams it to object storage;
 * 3. `importStatement(uploadId)` imports it in the background, all lines or none, keeping its
 *    progress in this table, so that whichever replica a client polls answers the same.
 */

export const UPLOAD_STATUSES = ['AWAITING_FILE', 'RECEIVED', 'IMPORTING', 'IMPORTED', 'FAILED', 'EXPIRED'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

export interface UploadSettings {
  objects: ObjectStore;
  /** The gateway's public origin: upload URLs point there. */
  publicApiUrl: string;
  maxBytes: number;
  ttlMs: number;
  /** How long a file not booked is kept after its upload last changed. */
  retentionMs: number;
}

export interface StatementUploadRow {
  id: string;
  user_id: string;
  account_id: string;
  file_name: string;
  byte_size: string;
  token_hash: string;
  status: UploadStatus;
  object_key: string;
  format: ImportFormat | null;
  phase: ImportPhase | null;
  lines_done: number;
  line_count: number | null;
  import_id: string | null;
  row_count: number | null;
  imported_count: number | null;
  duplicate_count: number | null;
  error_code: string | null;
  error_message: string | null;
  error_row: number | null;
  request: { dryRun?: boolean } | null;
  created_at: Date;
  expires_at: Date;
  received_at: Date | null;
  updated_at: Date;
  file_deleted_at: Date | null;
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
/** A file name without folders or control characters (it is shown back, never used as a path). */
const isFileName = (name: string) =>
  name.length >= 1 && name.length <= 255 && ![...name].some((c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Raw rows carry times as text (MikroORM leaves timestamptz unparsed): the row as the code reads it. */
function uploadRow(raw: Record<string, unknown>): StatementUploadRow {
  const time = (value: unknown) => (value == null ? null : new Date(value as string | Date));
  return {
    ...(raw as unknown as StatementUploadRow),
    created_at: time(raw.created_at)!,
    expires_at: time(raw.expires_at)!,
    received_at: time(raw.received_at),
    updated_at: time(raw.updated_at)!,
    file_deleted_at: time(raw.file_deleted_at),
  };
}

async function one(em: EntityManager, sql: string, params: unknown[]): Promise<StatementUploadRow | undefined> {
  const rows: Record<string, unknown>[] = await em.getConnection().execute(sql, params, 'all');
  return rows[0] && uploadRow(rows[0]);
}

/** The user's upload, or NOT_FOUND (also for somebody else's: ids cannot be probed). */
export async function findUpload(em: EntityManager, userId: string, id: string, field = 'id'): Promise<StatementUploadRow> {
  const row = isUuid(id) ? await one(em, 'select * from statement_uploads where id = ? and user_id = ?', [id, userId]) : undefined;
  if (!row) throw notFound('StatementUpload', id, field);
  return row;
}

/** Step 1: an upload slot for one file of `byteSize` bytes into one of the user's accounts. */
export async function startUpload(em: EntityManager, settings: UploadSettings, userId: string, input: { accountId: string; fileName: string; byteSize: number }) {
  if (!Number.isSafeInteger(input.byteSize) || input.byteSize < 1 || input.byteSize > settings.maxBytes) {
    throw badInput('input.byteSize', `Give the file's size in bytes, 1 to ${settings.maxBytes} (${Math.floor(settings.maxBytes / 1024 / 1024)} MB).`);
  }
  const fileName = input.fileName.trim();
  if (!isFileName(fileName)) throw badInput('input.fileName', 'Give the file name without a folder: 1 to 255 characters, no control characters or slashes.');
  const account = isUuid(input.accountId) ? await em.findOne(AccountRecord, { id: input.accountId, userId }) : null;
  if (!account) throw notFound('Account', input.accountId, 'input.accountId');
  if (account.archivedAt) throw badInput('input.accountId', 'The account is archived; restore it or import into another account.');
  const id = randomUUID();
  const token = randomBytes(32).toString('base64url');
  const now = new Date();
  const expiresAt = new Date(now.getTime() + settings.ttlMs);
  await em.getConnection().execute(
    `insert into statement_uploads (id, user_id, account_id, file_name, byte_size, token_hash, status, object_key, created_at, expires_at, updated_at)
       values (?, ?, ?, ?, ?, ?, 'AWAITING_FILE', ?, ?, ?, ?)`,
    [id, userId, account.id, fileName, input.byteSize, hashOf(token), `statements/${userId}/${id}`, now, expiresAt, now],
    'run',
  );
  const uploadUrl = new URL(`/uploads/statements/${id}`, settings.publicApiUrl);
  uploadUrl.searchParams.set('token', token);
  return { upload: await findUpload(em, userId, id), uploadUrl: uploadUrl.toString() };
}

/** Why a PUT of a file is refused: an HTTP status and a code and message for the client. */
export class UploadRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Step 2: the file itself. The token must match and be unexpired, the upload still waiting for its
 * file, and the body exactly the announced size; then it is streamed to object storage.
 */
export async function receiveFile(db: Database, objects: ObjectStore, id: string, token: string, length: number | null, body: Readable): Promise<StatementUploadRow> {
  const em = db.fork();
  const row = isUuid(id) ? await one(em, 'select * from statement_uploads where id = ?', [id]) : undefined;
  const expected = row ? Buffer.from(row.token_hash, 'hex') : Buffer.alloc(32);
  const given = Buffer.from(hashOf(token), 'hex');
  // Compared in constant time, and the same answer for an unknown id: the URL is the credential.
  if (!row || !timingSafeEqual(expected, given)) throw new UploadRefused(403, 'FORBIDDEN', 'This upload URL is not valid; ask for a new one with startStatementUpload.');
  if (row.expires_at.getTime() < Date.now()) throw new UploadRefused(403, 'FORBIDDEN', 'This upload URL has expired; ask for a new one with startStatementUpload.');
  if (row.status !== 'AWAITING_FILE')
    throw new UploadRefused(409, 'CONFLICT', `The file of this upload was received already (${row.status}); start a new upload for another file.`);
  if (length === null) throw new UploadRefused(411, 'BAD_REQUEST', 'Send the file with a Content-Length header.');
  if (length !== Number(row.byte_size)) {
    throw new UploadRefused(400, 'BAD_USER_INPUT', `The file is ${length} bytes but the upload was started for ${row.byte_size}; start a new upload with the right byteSize.`);
  }
  try {
    await objects.putStream(row.object_key, body, length, 'application/octet-stream');
  } catch (error) {
    throw new UploadRefused(400, 'BAD_USER_INPUT', `The file did not arrive whole (${(error as Error).message}); send it again.`);
  }
  const now = new Date();
  const received = await one(em, `update statement_uploads set status = 'RECEIVED', received_at = ?, updated_at = ? where id = ? and status = 'AWAITING_FILE' returning *`, [
    now,
    now,
    id,
  ]);
  // Two PUTs at once: the second to finish wrote the same bytes under the same key, and is told so.
  if (!received) throw new UploadRefused(409, 'CONFLICT', 'The file of this upload was received already; start a new upload for another file.');
  return received;
}

export interface ImportUploadInput extends Omit<ImportRequest, 'content' | 'accountId'> {
  uploadId: string;
}

/**
 * Step 3: starts importing a received file and answers at once (IMPORTING); `run` does the work in
 * the background. A file is booked once: after a dry run or a failed import (a wrong column
 * mapping, say) it can be imported again, after a real import it is a CONFLICT.
 */
export async function startImport(em: EntityManager, userId: string, input: ImportUploadInput): Promise<StatementUploadRow> {
  if (!IMPORT_FORMATS.includes(input.format)) throw badInput('input.format', `Use one of ${IMPORT_FORMATS.join(', ')}.`);
  if (input.format === 'CSV' && !input.csv) throw badInput('input.csv', 'A CSV import needs the column mapping.');
  const windowDays = input.duplicateWindowDays ?? 3;
  if (!Number.isInteger(windowDays) || windowDays < 0 || windowDays > 31) throw badInput('input.duplicateWindowDays', 'Give 0 to 31 days.');
  const upload = await findUpload(em, userId, input.uploadId, 'input.uploadId');
  if (upload.status === 'AWAITING_FILE') throw badInput('input.uploadId', 'The file has not arrived yet: PUT it to the uploadUrl first.');
  if (upload.status === 'EXPIRED') throw badInput('input.uploadId', 'This upload has expired and its file is deleted; start a new upload with startStatementUpload.');
  const request = { format: input.format, csv: input.csv ?? null, dryRun: input.dryRun ?? false, duplicateWindowDays: windowDays };
  const now = new Date();
  const started = await one(
    em,
    `update statement_uploads set status = 'IMPORTING', format = ?, request = ?::jsonb, phase = 'READING', lines_done = 0, line_count = null,
        import_id = null, row_count = null, imported_count = null, duplicate_count = null, error_code = null, error_message = null, error_row = null, updated_at = ?
      where id = ? and user_id = ? and (status in ('RECEIVED', 'FAILED') or (status = 'IMPORTED' and (request->>'dryRun')::boolean)) returning *`,
    [input.format, JSON.stringify(request), now, upload.id, userId],
  );
  if (!started) {
    throw conflict(
      upload.status === 'IMPORTING'
        ? `Upload ${upload.id} is being imported; poll statementUpload until it is IMPORTED or FAILED.`
        : `Upload ${upload.id} was imported already; its transactions carry importId ${upload.import_id}. A file is booked once.`,
    );
  }
  return started;
}

class ImportSuperseded extends Error {}

/** How often progress is written while an import runs: often enough for a progress bar, rarely enough to cost nothing. */
const PROGRESS_EVERY_MS = 250;

/**
 * Imports an upload marked IMPORTING: reads the file from object storage and runs the same
 * all-or-nothing import as importTransactions. The outcome (IMPORTED with its counts, or FAILED
 * with the code, message and line) is written in the import's own transaction, so an import is
 * never booked without its upload saying so. Never throws: a failure is the upload's state.
 */
export async function runImport(db: Database, objects: ObjectStore, logger: Logger, upload: StatementUploadRow): Promise<void> {
  const request = upload.request as (Omit<ImportRequest, 'content' | 'accountId'> & { format: ImportFormat }) | null;
  const fail = async (code: string, message: string, row: number | null) => {
    await db
      .fork()
      .getConnection()
      .execute(
        `update statement_uploads set status = 'FAILED', error_code = ?, error_message = ?, error_row = ?, phase = null, updated_at = ? where id = ? and status = 'IMPORTING'`,
        [code, message, row, new Date(), upload.id],
        'run',
      );
  };
  try {
    if (!request) throw new Error('the upload has no import request');
    const bytes = await objects.get(upload.object_key);
    if (!bytes) return await fail('NOT_FOUND', 'The uploaded file is gone from storage; upload it again.', null);
    const content = bytes.toString('utf8');
    let lastWrite = 0;
    let lastPhase: ImportPhase | undefined;
    let writing: Promise<unknown> = Promise.resolve();
    const progress = (phase: ImportPhase, done: number, total: number) => {
      const now = Date.now();
      // A new step is always shown; within a step, at most every PROGRESS_EVERY_MS and at its end.
      if (phase === lastPhase && now - lastWrite < PROGRESS_EVERY_MS && done < total) return;
      lastWrite = now;
      lastPhase = phase;
      // One write at a time, outside the import's transaction, so a client polling sees it.
      writing = writing.then(() =>
        db
          .fork()
          .getConnection()
          .execute(
            `update statement_uploads set phase = ?, lines_done = ?, line_count = ?, updated_at = ? where id = ? and status = 'IMPORTING'`,
            [phase, done, total, new Date(), upload.id],
            'run',
          )
          .catch((err: unknown) => logger.warn({ err, uploadId: upload.id }, 'import progress not recorded')),
      );
    };
    await importStatement(
      db.fork(),
      upload.user_id,
      { ...request, accountId: upload.account_id, content },
      {
        progress,
        async beforeCommit(tx, outcome) {
          await writing;
          const marked: unknown[] = await tx.getConnection().execute(
            `update statement_uploads set status = 'IMPORTED', phase = null, import_id = ?, row_count = ?, imported_count = ?, duplicate_count = ?,
                 lines_done = ?, line_count = ?, updated_at = ? where id = ? and status = 'IMPORTING' returning id`,
            [outcome.id, outcome.lines.length, outcome.imported, outcome.duplicates, outcome.lines.length, outcome.lines.length, new Date(), upload.id],
            'all',
            tx.getTransactionContext(),
          );
          // Another run of the same upload (resumed while this one was slow) finished first: book nothing twice.
          if (marked.length === 0) throw new ImportSuperseded();
        },
      },
    );
    logger.info({ uploadId: upload.id, userId: upload.user_id, dryRun: request.dryRun === true }, 'statement upload imported');
    // Booked: the transactions are the record now, and a bank statement is not kept longer than needed.
    if (!request.dryRun)
      await deleteFile(db, objects, upload).catch((err: unknown) => logger.warn({ err, uploadId: upload.id }, 'imported statement file not deleted; the sweep tries again'));
  } catch (error) {
    if (error instanceof ImportSuperseded) return;
    if (error instanceof AppError) {
      const code = String(error.extensions.code);
      const row = typeof error.extensions.row === 'number' ? error.extensions.row : null;
      await fail(code, error.message, row).catch((err: unknown) => logger.error({ err, uploadId: upload.id }, 'import failure not recorded'));
      return;
    }
    logger.error({ err: error, uploadId: upload.id }, 'statement upload import failed');
    await fail(ErrorCode.INTERNAL_SERVER_ERROR, 'The import failed on our side and wrote nothing; try importing the upload again later.', null).catch((err: unknown) =>
      logger.error({ err, uploadId: upload.id }, 'import failure not recorded'),
    );
  }
}

/**
 * An import whose process died while it ran (its transaction rolled back, nothing was booked) is
 * started again: uploads IMPORTING with no progress for `staleMs` are handed to `run` once more.
 */
export async function resumeStaleImports(db: Database, staleMs: number, run: (upload: StatementUploadRow) => void): Promise<number> {
  const rows: Record<string, unknown>[] = await db
    .fork()
    .getConnection()
    .execute(
      `update statement_uploads set updated_at = now(), phase = 'READING', lines_done = 0 where status = 'IMPORTING' and updated_at < ? returning *`,
      [new Date(Date.now() - staleMs)],
      'all',
    );
  for (const row of rows) run(uploadRow(row));
  return rows.length;
}

/** Deletes an upload's file from storage and records it, so that no sweep tries again. */
async function deleteFile(db: Database, objects: ObjectStore, upload: Pick<StatementUploadRow, 'id' | 'object_key'>): Promise<void> {
  await objects.delete(upload.object_key);
  await db.fork().getConnection().execute('update statement_uploads set file_deleted_at = now() where id = ?', [upload.id], 'run');
}

/**
 * The retention sweep: a bank statement is kept no longer than needed. An upload never booked (its
 * file not sent, received but not imported, failed, or only dry-run) whose last change is older than
 * `retentionMs` becomes EXPIRED; then every file of an expired or booked upload still in storage is
 * deleted (a deletion that failed before, storage being away, is tried again here). An upload waiting
 * for its file expires `retentionMs` after its URL did, long after any PUT under way has ended.
 */
export async function expireUploads(db: Database, objects: ObjectStore, retentionMs: number, now = new Date()): Promise<{ expired: number; filesDeleted: number }> {
  const connection = db.fork().getConnection();
  const cutoff = new Date(now.getTime() - retentionMs);
  const expired: Record<string, unknown>[] = await connection.execute(
    `update statement_uploads set status = 'EXPIRED', phase = null, updated_at = ?
      where file_deleted_at is null
        and ((status = 'AWAITING_FILE' and expires_at < ?)
          or (status in ('RECEIVED', 'FAILED') and updated_at < ?)
          or (status = 'IMPORTED' and coalesce((request->>'dryRun')::boolean, false) and updated_at < ?))
      returning id`,
    [now, cutoff, cutoff, cutoff],
    'all',
  );
  const kept: { id: string; object_key: string }[] = await connection.execute(
    `select id, object_key from statement_uploads
      where file_deleted_at is null and (status = 'EXPIRED' or (status = 'IMPORTED' and not coalesce((request->>'dryRun')::boolean, false)))
      order by updated_at limit 500`,
    [],
    'all',
  );
  let filesDeleted = 0;
  for (const upload of kept) {
    await deleteFile(db, objects, upload);
    filesDeleted++;
  }
  return { expired: expired.length, filesDeleted };
}

/** Imports with no progress for this long belong to a process that died: they are run again. */
const STALE_IMPORT_MS = 120_000;

/** The uploads of one budget service: settings, background imports, and the file receiver the HTTP route calls. */
export function statementUploads(options: { db: Database; logger: Logger; settings: UploadSettings; onImported: () => void }) {
  const { db, logger, settings } = options;
  const running = new Set<Promise<void>>();
  const importInBackground = (upload: StatementUploadRow) => {
    const run = runImport(db, settings.objects, logger, upload).then(options.onImported);
    running.add(run);
    void run.finally(() => running.delete(run));
  };
  const expire = async (now?: Date) => {
    const outcome = await expireUploads(db, settings.objects, settings.retentionMs, now);
    if (outcome.expired || outcome.filesDeleted) logger.info(outcome, 'statement uploads expired and files deleted');
    return outcome;
  };
  const sweep = setInterval(() => {
    resumeStaleImports(db, STALE_IMPORT_MS, importInBackground).catch((err: unknown) => logger.warn({ err }, 'stale imports not checked'));
    expire().catch((err: unknown) => logger.warn({ err }, 'statement upload retention not applied; the next sweep tries again'));
  }, STALE_IMPORT_MS / 2);
  sweep.unref();
  return {
    settings,
    importInBackground,
    receive: (id: string, token: string, length: number | null, body: Readable) => receiveFile(db, settings.objects, id, token, length, body),
    /** The retention sweep once (it also runs every minute); `now` for tests. */
    expire,
    /** Imports still running are left to roll back; another replica (or this one, restarted) runs them again. */
    stop() {
      clearInterval(sweep);
      settings.objects.close();
    },
    /** For tests: resolves when every import started so far has finished. */
    idle: () => Promise.all([...running]).then(() => undefined),
  };
}
export type StatementUploads = ReturnType<typeof statementUploads>;
