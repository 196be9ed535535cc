// Statement uploads (issue 15): a short-lived URL takes one file of the announced size into object
// storage (s3proxy here, as in stack mode), and importStatement imports it in the background with
// progress, all lines or none, exactly as importTransactions does for a file in the request.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAuth, dropSchema, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseBudgetEnv, startBudgetService } from '../index.js';
import { csvExport } from '../imports/statement-samples.js';

const schema = uniqueName('budget_upload_test');
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startBudgetService>>;
let url: string;
const ada = { id: randomUUID() };
const bob = { id: randomUUID() };

beforeAll(async () => {
  auth = await createTestAuth();
  service = await startBudgetService(
    parseBudgetEnv({
      ...auth.env,
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
      SCHEDULE_INTERVAL_MS: '0',
      S3_ENDPOINT: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:4569',
      S3_BUCKET: 'uploads-test',
      S3_ACCESS_KEY_ID: 'analytica',
      S3_SECRET_ACCESS_KEY: 'analytica-secret',
      S3_CREATE_BUCKET: 'true',
      PUBLIC_API_URL: 'https://api.example.test',
      STATEMENT_UPLOAD_MAX_BYTES: String(8 * 1024 * 1024),
    }),
  );
  url = `${service.url}/graphql`;
});

afterAll(async () => {
  await service?.stop();
  await auth?.close();
  await dropSchema(schema);
});

const as = (user: { id: string }) => (query: string, variables?: Record<string, unknown>) => gql(url, query, { token: auth.tokenFor(user), variables });
const asAda = as(ada);

const MAPPING = { date: 'Date', payee: 'Payee', amount: 'Amount', notes: 'Notes' };
const START = `mutation($input: StartStatementUploadInput!) {
  startStatementUpload(input: $input) { uploadUrl expiresAt maxBytes upload { id status fileName byteSize account { id } } }
}`;
const IMPORT = 'mutation($input: ImportStatementInput!) { importStatement(input: $input) { id status format dryRun } }';
const STATUS = `query($id: ID!) { statementUpload(id: $id) {
  status progress { phase linesDone lineCount fraction } result { importId rowCount imported duplicates } error { code message row }
} }`;

/** The JSON of an answer of the upload route. */
const refusal = async (answer: Response) => ((await answer.json()) as { error: { code: string; message: string } }).error;

async function openAccount(user = ada) {
  const opened = await as(user)('mutation { openAccount(input: { name: "Everyday", type: CHECKING, currency: "EUR" }) { id } }');
  expect(opened.errors).toBeUndefined();
  return opened.data.openAccount.id as string;
}

/** The upload URL answered is on the public API; the test sends the file to this service, which is what the gateway forwards to. */
const local = (uploadUrl: string) => {
  const u = new URL(uploadUrl);
  return `${service.url}${u.pathname}${u.search}`;
};

async function upload(accountId: string, file: string, user = ada) {
  const started = await as(user)(START, { input: { accountId, fileName: 'statement.csv', byteSize: Buffer.byteLength(file) } });
  expect(started.errors).toBeUndefined();
  const { uploadUrl, upload: created } = started.data.startStatementUpload;
  const put = await fetch(local(uploadUrl), { method: 'PUT', body: file, headers: { 'content-type': 'text/csv' } });
  expect(put.status, await put.clone().text()).toBe(200);
  return created.id as string;
}

const countTransactions = async (accountId: string) =>
  (
    await asAda('query($r: [_Any!]!, $a: ID!) { _entities(representations: $r) { ... on User { transactions(filter: { accountId: $a }) { totalCount } } } }', {
      r: [{ __typename: 'User', id: ada.id }],
      a: accountId,
    })
  ).data?._entities?.[0]?.transactions?.totalCount as number;

describe('statement uploads', () => {
  it('takes a 4 MB statement through an upload URL and imports every line in the background, with progress on the way', async () => {
    const accountId = await openAccount();
    const file = csvExport(50_000);
    expect(Buffer.byteLength(file)).toBeGreaterThan(2_000_000);
    const started = await asAda(START, { input: { accountId, fileName: 'march.csv', byteSize: Buffer.byteLength(file) } });
    const { uploadUrl, expiresAt, maxBytes, upload: created } = started.data.startStatementUpload;
    expect(created).toMatchObject({ status: 'AWAITING_FILE', fileName: 'march.csv', byteSize: Buffer.byteLength(file), account: { id: accountId } });
    expect(uploadUrl).toMatch(new RegExp(`^https://api\\.example\\.test/uploads/statements/${created.id}\\?token=[\\w-]{43}$`));
    expect(new Date(expiresAt).getTime() - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(maxBytes).toBe(8 * 1024 * 1024);

    const put = await fetch(local(uploadUrl), { method: 'PUT', body: file });
    expect(await put.json()).toEqual({ id: created.id, status: 'RECEIVED', byteSize: Buffer.byteLength(file) });

    const importing = await asAda(IMPORT, { input: { uploadId: created.id, format: 'CSV', csv: MAPPING } });
    expect(importing.data.importStatement).toEqual({ id: created.id, status: 'IMPORTING', format: 'CSV', dryRun: false });
    const seen: { phase: string; linesDone: number; fraction: number }[] = [];
    const done = await eventually(
      async () => {
        const { statementUpload } = (await asAda(STATUS, { id: created.id })).data;
        if (statementUpload.progress) seen.push(statementUpload.progress);
        expect(statementUpload.status).toBe('IMPORTED');
        return statementUpload;
      },
      60_000,
      50,
    );
    expect(done.result).toMatchObject({ rowCount: 50_000, imported: 50_000, duplicates: 0 });
    expect(done.result.importId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await countTransactions(accountId)).toBe(50_000);
    // Progress moved forward while it ran, through more than one step, and only forward.
    expect(seen.some((p) => p.linesDone > 0)).toBe(true);
    expect(new Set(seen.map((p) => p.phase)).size).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.fraction).toBeGreaterThanOrEqual(seen[i - 1]!.fraction);

    // A booked file is booked once.
    const again = await asAda(IMPORT, { input: { uploadId: created.id, format: 'CSV', csv: MAPPING } });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('imports nothing from a statement with one bad line, and says which line and why', async () => {
    const accountId = await openAccount();
    const lines = csvExport(1_000).split('\n');
    lines[700] = '2024-01-15,Broken line,twelve euros,oops';
    const id = await upload(accountId, lines.join('\n'));
    await asAda(IMPORT, { input: { uploadId: id, format: 'CSV', csv: MAPPING } });
    const failed = await eventually(async () => {
      const { statementUpload } = (await asAda(STATUS, { id })).data;
      expect(statementUpload.status).toBe('FAILED');
      return statementUpload;
    });
    expect(failed.error).toMatchObject({ code: 'BAD_USER_INPUT', row: 701 });
    expect(failed.error.message).toMatch(/Line 701.*Nothing was imported/);
    expect(await countTransactions(accountId)).toBe(0);
  });

  it('previews with a dry run, imports after it, then deletes the stored file; a failed mapping can be fixed and imported again', async () => {
    const accountId = await openAccount();
    const id = await upload(accountId, csvExport(300));
    const run = async (input: Record<string, unknown>) => {
      const started = await asAda(IMPORT, { input: { uploadId: id, format: 'CSV', ...input } });
      expect(started.errors).toBeUndefined();
      return eventually(async () => {
        const { statementUpload } = (await asAda(STATUS, { id })).data;
        expect(statementUpload.status).toMatch(/IMPORTED|FAILED/);
        return statementUpload;
      });
    };
    const wrongMapping = await run({ csv: { ...MAPPING, amount: 'Betrag' } });
    expect(wrongMapping.error).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(wrongMapping.error.message).toContain('Betrag');
    const preview = await run({ csv: MAPPING, dryRun: true });
    expect(preview).toMatchObject({ status: 'IMPORTED', error: null, result: { importId: null, rowCount: 300, imported: 300 } });
    expect(await countTransactions(accountId)).toBe(0);
    const booked = await run({ csv: MAPPING });
    expect(booked.result).toMatchObject({ rowCount: 300, imported: 300 });
    expect(await countTransactions(accountId)).toBe(300);
    expect(await service.uploads!.settings.objects.get(`statements/${ada.id}/${id}`)).toBeNull();
    const twice = await asAda(IMPORT, { input: { uploadId: id, format: 'CSV', csv: MAPPING } });
    expect(twice.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(twice.errors?.[0]?.message).toContain(booked.result.importId);
  });

  it('refuses a wrong token, a wrong size, a second file and an expired URL, keeping nothing', async () => {
    const accountId = await openAccount();
    const file = csvExport(10);
    const started = (await asAda(START, { input: { accountId, fileName: 's.csv', byteSize: Buffer.byteLength(file) } })).data.startStatementUpload;
    const target = new URL(local(started.uploadUrl));
    const forged = new URL(target);
    forged.searchParams.set('token', 'x'.repeat(43));
    const wrongToken = await fetch(forged, { method: 'PUT', body: file });
    expect([wrongToken.status, (await refusal(wrongToken)).code]).toEqual([403, 'FORBIDDEN']);
    const tooLong = await fetch(target, { method: 'PUT', body: `${file}\n` });
    expect([tooLong.status, (await refusal(tooLong)).code]).toEqual([400, 'BAD_USER_INPUT']);
    const notYet = await asAda(IMPORT, { input: { uploadId: started.upload.id, format: 'CSV', csv: MAPPING } });
    expect(notYet.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.uploadId' });
    expect((await fetch(target, { method: 'PUT', body: file })).status).toBe(200);
    const second = await fetch(target, { method: 'PUT', body: file });
    expect([second.status, (await refusal(second)).code]).toEqual([409, 'CONFLICT']);

    const late = (await asAda(START, { input: { accountId, fileName: 'late.csv', byteSize: 3 } })).data.startStatementUpload;
    await service.db.fork().getConnection().execute(`update statement_uploads set expires_at = now() - interval '1 second' where id = ?`, [late.upload.id], 'run');
    const expired = await fetch(local(late.uploadUrl), { method: 'PUT', body: 'abc' });
    expect([expired.status, (await refusal(expired)).message]).toEqual([403, expect.stringContaining('expired')]);
  });

  it('expires what is not booked within the retention period and deletes its file; a fresh upload stays, a booked file is deleted even after a failed try', async () => {
    const accountId = await openAccount();
    const objects = service.uploads!.settings.objects;
    const keyOf = (id: string) => `statements/${ada.id}/${id}`;
    const sql = (query: string, params: unknown[]) => service.db.fork().getConnection().execute(query, params, 'run');
    const importAndWait = async (id: string, dryRun: boolean) => {
      expect((await asAda(IMPORT, { input: { uploadId: id, format: 'CSV', csv: MAPPING, dryRun } })).errors).toBeUndefined();
      await eventually(async () => expect((await asAda(STATUS, { id })).data.statementUpload.status).toBe('IMPORTED'));
    };
    const received = await upload(accountId, csvExport(20));
    const previewed = await upload(accountId, csvExport(20));
    await importAndWait(previewed, true);
    const booked = await upload(accountId, csvExport(20));
    await importAndWait(booked, false);
    expect(await objects.get(keyOf(booked))).toBeNull();
    // As if the deletion after booking had failed (storage away): the file is back, not recorded as deleted.
    await objects.put(keyOf(booked), 'left behind');
    await sql('update statement_uploads set file_deleted_at = null where id = ?', [booked]);
    const fresh = await upload(accountId, csvExport(20));
    const unsent = (await asAda(START, { input: { accountId, fileName: 'never.csv', byteSize: 10 } })).data.startStatementUpload.upload.id as string;
    // A day and an hour later for three of them (the retention is 24 hours by default).
    await sql(`update statement_uploads set updated_at = now() - interval '25 hours' where id in (?, ?)`, [received, previewed]);
    await sql(`update statement_uploads set expires_at = now() - interval '25 hours' where id = ?`, [unsent]);

    expect(await service.uploads!.expire()).toEqual({ expired: 3, filesDeleted: 4 });
    const statusOf = async (id: string) => (await asAda(STATUS, { id })).data.statementUpload.status as string;
    expect(await Promise.all([received, previewed, unsent, booked, fresh].map(statusOf))).toEqual(['EXPIRED', 'EXPIRED', 'EXPIRED', 'IMPORTED', 'RECEIVED']);
    for (const id of [received, previewed, booked]) expect(await objects.get(keyOf(id))).toBeNull();
    expect(await objects.get(keyOf(fresh))).not.toBeNull();
    const tooLate = await asAda(IMPORT, { input: { uploadId: received, format: 'CSV', csv: MAPPING } });
    expect(tooLate.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.uploadId' });
    expect(tooLate.errors?.[0]?.message).toMatch(/expired.*start a new upload/);
    // Done once: the next sweep finds nothing to do.
    expect(await service.uploads!.expire()).toEqual({ expired: 0, filesDeleted: 0 });
  });

  it("keeps uploads to their owner: another user's upload and account are NOT_FOUND", async () => {
    const accountId = await openAccount();
    const id = await upload(accountId, csvExport(5));
    const asBob = as(bob);
    expect((await asBob(STATUS, { id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await asBob(IMPORT, { input: { uploadId: id, format: 'CSV', csv: MAPPING } })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const intoAdas = await asBob(START, { input: { accountId, fileName: 'x.csv', byteSize: 10 } });
    expect(intoAdas.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.accountId' });
    const tooBig = await asAda(START, { input: { accountId, fileName: 'x.csv', byteSize: 8 * 1024 * 1024 + 1 } });
    expect(tooBig.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.byteSize' });
  });
});
