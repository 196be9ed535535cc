import { Arg, Authorized, Ctx, Field, FieldResolver, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser } from '@analytica/auth';
import { AppError, ErrorCode } from '@analytica/errors';
import { Account } from '../accounts/accounts.graphql.js';
import type { AccountRecord } from '../accounts/account.entity.js';
import type { BudgetContext } from '../context.js';
import { CsvMappingInput, ImportFormatEnum } from '../imports/imports.graphql.js';
import { IMPORT_PHASES, type ImportFormat, type ImportPhase } from '../imports/imports.js';
import { findUpload, startImport, startUpload, UPLOAD_STATUSES, type StatementUploadRow, type UploadStatus } from './uploads.js';

const UploadStatusEnum = Object.fromEntries(UPLOAD_STATUSES.map((s) => [s, s])) as { [S in UploadStatus]: S };
registerEnumType(UploadStatusEnum, {
  name: 'StatementUploadStatus',
  description: 'Where an uploaded statement is: waiting for its file, received, importing, imported, failed, or expired.',
  valuesConfig: {
    AWAITING_FILE: { description: 'Started: PUT the file to the uploadUrl before it expires.' },
    RECEIVED: { description: 'The file is stored: call importStatement.' },
    IMPORTING: { description: 'Being imported in the background: poll progress.' },
    IMPORTED: { description: 'Done: every line booked (or, for a dry run, counted), see result. A booked file is deleted from storage.' },
    FAILED: { description: 'Nothing was booked: error says why and on which line; fix the mapping and import again.' },
    EXPIRED: {
      description:
        'Not booked within the retention period (24 hours after its last change by default; never for a booked import): the file is deleted from storage. Start a new upload.',
    },
  },
});

const ImportPhaseEnum = Object.fromEntries(IMPORT_PHASES.map((p) => [p, p])) as { [P in ImportPhase]: P };
registerEnumType(ImportPhaseEnum, {
  name: 'ImportPhase',
  description: 'The steps of an import, in order.',
  valuesConfig: {
    READING: { description: 'Reading and checking the lines of the file.' },
    MATCHING: { description: 'Finding duplicates of booked transactions and categorising by your rules.' },
    BOOKING: { description: 'Booking the new transactions.' },
    FINISHING: { description: 'Recording events and updating budgets; then it commits, all at once.' },
  },
});

@ObjectType('ImportProgress', { description: 'How far a running import is.' })
class ImportProgress {
  @Field(() => ImportPhaseEnum, { description: 'The step it is in.' }) phase!: ImportPhase;
  @Field(() => Int, { description: 'Lines through this step so far.' }) linesDone!: number;
  @Field(() => Int, { nullable: true, description: 'Lines in the file; null until the file is read.' }) lineCount!: number | null;
  @Field(() => Float, { description: 'Of the whole import, 0 to 1: a guide for a progress bar, not a promise of time.' }) fraction!: number;
}

@ObjectType('StatementImportResult', { description: 'What an uploaded statement import did; its transactions carry importId.' })
class StatementImportResult {
  @Field(() => ID, { nullable: true, description: 'The import (null for a dry run).' }) importId!: string | null;
  @Field(() => Int, { description: 'Lines in the file.' }) rowCount!: number;
  @Field(() => Int, { description: 'Lines booked (or that would be, in a dry run).' }) imported!: number;
  @Field(() => Int, { description: 'Lines skipped as duplicates of booked transactions.' }) duplicates!: number;
}

@ObjectType('ImportFailure', { description: 'Why an import wrote nothing: the same code and message importTransactions would answer.' })
class ImportFailure {
  @Field(() => String, { description: 'The extensions.code (README, "Errors"), e.g. BAD_USER_INPUT.' }) code!: string;
  @Field(() => String, { description: 'What is wrong and what to fix.' }) message!: string;
  @Field(() => Int, { nullable: true, description: 'The line of the file at fault, when one is.' }) row!: number | null;
}

@ObjectType('StatementUpload', { description: 'A statement file uploaded for import (startStatementUpload, then a PUT, then importStatement). Only its owner sees it.' })
export class StatementUpload {
  @Field(() => ID, { description: 'Id of the upload.' }) id!: string;
  @Field(() => String, { description: 'The file name given.' }) fileName!: string;
  @Field(() => Int, { description: 'The size of the file in bytes, as announced and received.' }) byteSize!: number;
  @Field(() => UploadStatusEnum, { description: 'Where the upload is.' }) status!: UploadStatus;
  @Field(() => ImportFormatEnum, { nullable: true, description: 'The format it is imported as; null until importStatement.' }) format!: ImportFormat | null;
  @Field(() => Boolean, { description: 'True when the import only counts and writes nothing.' }) dryRun!: boolean;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was started (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { description: 'Until when the uploadUrl takes the file (UTC, ISO 8601).' }) expiresAt!: Date;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'When the file arrived (UTC, ISO 8601).' }) receivedAt!: Date | null;
  row!: StatementUploadRow;
}

@ObjectType('StatementUploadStart', { description: 'Where to send the file: PUT its bytes to uploadUrl with a Content-Length of byteSize.' })
class StatementUploadStart {
  @Field(() => StatementUpload, { description: 'The upload, AWAITING_FILE.' }) upload!: StatementUpload;
  @Field(() => String, { description: 'A single-use URL on this API for one PUT of the file (any Content-Type); keep it secret, it is the credential.' }) uploadUrl!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'The URL stops working then (UTC, ISO 8601).' }) expiresAt!: Date;
  @Field(() => Int, { description: 'The largest file this API takes, in bytes.' }) maxBytes!: number;
}

@InputType('StartStatementUploadInput', { description: 'A statement file about to be uploaded.' })
class StartStatementUploadInput {
  @Field(() => ID, { description: 'One of your accounts; the statement is imported into it.' }) accountId!: string;
  @Field(() => String, { description: 'The file name, for your own reference.' }) fileName!: string;
  @Field(() => Int, { description: 'The exact size of the file in bytes.' }) byteSize!: number;
}

@InputType('ImportStatementInput', { description: 'How to import an uploaded statement (importStatement).' })
class ImportStatementInput {
  @Field(() => ID, { description: 'An upload of yours whose file has arrived (RECEIVED).' }) uploadId!: string;
  @Field(() => ImportFormatEnum, { description: "The file's format." }) format!: ImportFormat;
  @Field(() => CsvMappingInput, { nullable: true, description: 'Required for CSV.' }) csv?: CsvMappingInput | null;
  @Field(() => Boolean, { nullable: true, description: 'Count everything, write nothing.' }) dryRun?: boolean | null;
  @Field(() => Int, {
    nullable: true,
    description: 'A line repeating a booked transaction of the account (same amount and payee) within this many days is skipped; 3 by default, 0 to 31.',
  })
  duplicateWindowDays?: number | null;
}

const view = (row: StatementUploadRow): StatementUpload => ({
  id: row.id,
  fileName: row.file_name,
  byteSize: Number(row.byte_size),
  status: row.status,
  format: row.format,
  dryRun: row.request?.dryRun === true,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  receivedAt: row.received_at,
  row,
});

/** Rough shares of an import's time per phase (measured with bench/budget/import.ts): reading is quick, booking is most of it. */
const PHASE_SPAN: Record<ImportPhase, [number, number]> = { READING: [0, 0.05], MATCHING: [0.05, 0.25], BOOKING: [0.25, 0.85], FINISHING: [0.85, 1] };

function uploadsOf(ctx: BudgetContext) {
  if (!ctx.uploads) {
    throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'Statement uploads are not configured on this server (no object store); import with importTransactions instead.');
  }
  return ctx.uploads;
}

@Resolver(() => StatementUpload)
export class StatementUploadResolver {
  @Authorized()
  @Mutation(() => StatementUploadStart, { description: 'Starts an upload of a statement file too large for importTransactions (up to maxBytes); then PUT the file to uploadUrl.' })
  async startStatementUpload(
    @Arg('input', () => StartStatementUploadInput, { description: 'The account and the file.' }) input: StartStatementUploadInput,
    @Ctx() ctx: BudgetContext,
  ): Promise<StatementUploadStart> {
    const { id: userId } = requireUser(ctx);
    const uploads = uploadsOf(ctx);
    const { upload, uploadUrl } = await startUpload(ctx.em, uploads.settings, userId, input);
    return { upload: view(upload), uploadUrl, expiresAt: upload.expires_at, maxBytes: uploads.settings.maxBytes };
  }

  @Authorized()
  @Mutation(() => StatementUpload, {
    description:
      'Imports an uploaded statement in the background, all lines or none: answers at once (IMPORTING); poll statementUpload for progress and the outcome. After a dry run or a failure it may be called again; after a real import, CONFLICT.',
  })
  async importStatement(
    @Arg('input', () => ImportStatementInput, { description: 'The upload and how to read it.' }) input: ImportStatementInput,
    @Ctx() ctx: BudgetContext,
  ): Promise<StatementUpload> {
    const { id: userId } = requireUser(ctx);
    const uploads = uploadsOf(ctx);
    const started = await startImport(ctx.em, userId, input);
    uploads.importInBackground(started);
    return view(started);
  }

  @Authorized()
  @Query(() => StatementUpload, { description: 'One of your statement uploads: its status, progress while importing, and outcome.' })
  async statementUpload(@Arg('id', () => ID, { description: 'The upload (StatementUpload.id).' }) id: string, @Ctx() ctx: BudgetContext): Promise<StatementUpload> {
    const { id: userId } = requireUser(ctx);
    return view(await findUpload(ctx.em, userId, id));
  }

  @FieldResolver(() => Account, { description: 'The account it is imported into.' })
  async account(@Root() upload: StatementUpload, @Ctx() ctx: BudgetContext): Promise<AccountRecord | undefined> {
    return ctx.loaders.account.load(upload.row.account_id);
  }

  @FieldResolver(() => ImportProgress, { nullable: true, description: 'While IMPORTING: the step and lines done; null otherwise.' })
  progress(@Root() upload: StatementUpload): ImportProgress | null {
    const { row } = upload;
    if (row.status !== 'IMPORTING' || !row.phase) return null;
    const [from, to] = PHASE_SPAN[row.phase];
    const within = row.line_count ? Math.min(1, row.lines_done / row.line_count) : 0;
    return { phase: row.phase, linesDone: row.lines_done, lineCount: row.line_count, fraction: Math.round((from + (to - from) * within) * 1000) / 1000 };
  }

  @FieldResolver(() => StatementImportResult, { nullable: true, description: 'When IMPORTED: the counts; null otherwise.' })
  result(@Root() upload: StatementUpload): StatementImportResult | null {
    const { row } = upload;
    if (row.status !== 'IMPORTED') return null;
    return { importId: row.import_id, rowCount: row.row_count ?? 0, imported: row.imported_count ?? 0, duplicates: row.duplicate_count ?? 0 };
  }

  @FieldResolver(() => ImportFailure, { nullable: true, description: 'When FAILED: why, and on which line; null otherwise.' })
  error(@Root() upload: StatementUpload): ImportFailure | null {
    const { row } = upload;
    if (row.status !== 'FAILED') return null;
    return { code: row.error_code ?? ErrorCode.INTERNAL_SERVER_ERROR, message: row.error_message ?? 'The import failed.', row: row.error_row };
  }
}
