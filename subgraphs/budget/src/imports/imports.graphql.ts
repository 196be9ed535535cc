import { Arg, Authorized, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import { Money } from '@analytica/subgraph';
import { Category } from '../categories/categories.graphql.js';
import type { CategoryRecord } from '../categories/category.entity.js';
import type { BudgetContext } from '../context.js';
import type { TransactionRecord } from '../transactions/transaction.entity.js';
import { Transaction } from '../transactions/transactions.graphql.js';
import type { CsvMapping } from './csv-statement.js';
import { importStatement, type ImportedLine, type ImportFormat, type ImportOutcome } from './imports.js';

export enum ImportFormatEnum {
  CSV = 'CSV',
  OFX = 'OFX',
  QFX = 'QFX',
}
registerEnumType(ImportFormatEnum, {
  name: 'ImportFormat',
  description: 'CSV with a column mapping, or OFX/QFX (1.x SGML or 2.x XML).',
  valuesConfig: {
    CSV: { description: 'Comma- (or otherwise) separated values; needs a column mapping (csv).' },
    OFX: { description: 'Open Financial Exchange, 1.x (SGML) or 2.x (XML).' },
    QFX: { description: "Quicken's OFX variant; read like OFX." },
  },
});

enum AmountSignEnum {
  NORMAL = 'NORMAL',
  INVERTED = 'INVERTED',
}
registerEnumType(AmountSignEnum, {
  name: 'AmountSign',
  description: 'INVERTED for exports that show money out as positive amounts.',
  valuesConfig: {
    NORMAL: { description: 'Money out is negative in the file (the usual bank export).' },
    INVERTED: { description: 'Money out is positive in the file: every amount is negated on import.' },
  },
});

@InputType('CsvMappingInput', { description: 'Columns are header names, or 1-based column numbers when the file has no header.' })
export class CsvMappingInput implements CsvMapping {
  @Field(() => String, { nullable: true, description: 'One character; "," by default.' }) delimiter?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'true by default.' }) hasHeader?: boolean | null;
  @Field(() => String, { description: 'The column with the booking date.' }) date!: string;
  @Field(() => String, { nullable: true, description: 'YYYY, MM (or M), DD (or D), optionally HH, mm, ss; e.g. DD.MM.YYYY. YYYY-MM-DD by default.' })
  dateFormat?: string | null;
  @Field(() => String, { nullable: true, description: 'A signed amount column; or map debit and credit instead.' }) amount?: string | null;
  @Field(() => String, { nullable: true, description: 'Money out.' }) debit?: string | null;
  @Field(() => String, { nullable: true, description: 'Money in.' }) credit?: string | null;
  @Field(() => AmountSignEnum, { description: 'Whether money out is negative (NORMAL, the default) or positive (INVERTED) in amount.', nullable: true }) sign?:
    'NORMAL' | 'INVERTED' | null;
  @Field(() => String, { nullable: true, description: '"." (default) or ",".' }) decimalSeparator?: string | null;
  @Field(() => String, { description: 'The column with the payee (or description).' }) payee!: string;
  @Field(() => String, { description: 'A column with notes, if any.', nullable: true }) notes?: string | null;
}

@InputType('ImportTransactionsInput', { description: 'A statement file to import (importTransactions).' })
class ImportTransactionsInput {
  @Field(() => ID, { description: 'One of your accounts; every line is booked to it, in its currency.' }) accountId!: string;
  @Field(() => ImportFormatEnum, { description: "The file's format." }) format!: ImportFormat;
  @Field(() => String, { description: 'The file as text.' }) content!: string;
  @Field(() => CsvMappingInput, { nullable: true, description: 'Required for CSV.' }) csv?: CsvMappingInput | null;
  @Field(() => Boolean, { nullable: true, description: 'Preview: compute everything, write nothing.' }) dryRun?: boolean | null;
  @Field(() => Int, {
    nullable: true,
    description: 'A line repeating a booked transaction of the account (same amount and payee) within this many days is skipped; 3 by default, 0 to 31.',
  })
  duplicateWindowDays?: number | null;
}

@ObjectType('ImportLine', { description: 'One line of an imported statement and what became of it.' })
class ImportLineType {
  @Field(() => Int, { description: 'Line number in a CSV file, or position of the transaction in an OFX file.' }) row!: number;
  @Field(() => GraphQLDateTimeISO, { description: 'Booking time from the file (UTC, ISO 8601; midnight when the file gives a date only).' }) bookedAt!: Date;
  @Field(() => String, { description: 'The payee from the file.' }) payee!: string;
  @Field(() => String, { description: 'Notes from the file, if any.', nullable: true }) notes!: string | null;
  @Field(() => String, { nullable: true, description: 'The bank id (OFX FITID).' }) externalId!: string | null;
}

@ObjectType('ImportResult', { description: 'The outcome of importTransactions: counts, and every line with what became of it.' })
class ImportResult {
  @Field(() => ID, { nullable: true, description: 'Null for a dry run.' }) id!: string | null;
  @Field(() => Boolean, { description: 'True when nothing was written (a preview).' }) dryRun!: boolean;
  @Field(() => Int, { description: 'Lines in the file.' }) rowCount!: number;
  @Field(() => Int, { description: 'Lines booked (or that would be, in a dry run).' }) imported!: number;
  @Field(() => Int, { description: 'Lines skipped as duplicates of booked transactions.' }) duplicates!: number;
  outcome!: ImportOutcome;
  currency!: string;
}

/** A line as shown: amounts in the account's currency. */
type LineView = ImportedLine & { currency: string };

@Resolver(() => ImportLineType)
export class ImportLineResolver {
  @FieldResolver(() => Money, { description: "The amount from the file, signed (negative is money out), in the account's currency." })
  amount(@Root() line: LineView): Money {
    return Money.of(line.amount, line.currency);
  }

  @FieldResolver(() => Category, { nullable: true, description: 'Given by your rules.' })
  async category(@Root() line: LineView, @Ctx() ctx: BudgetContext): Promise<CategoryRecord | null> {
    return line.categoryId ? ((await ctx.loaders.category.load(line.categoryId)) ?? null) : null;
  }

  @FieldResolver(() => Transaction, { nullable: true, description: 'The booked transaction this line repeats; it was not booked again.' })
  async duplicateOf(@Root() line: LineView, @Ctx() ctx: BudgetContext): Promise<TransactionRecord | null> {
    return line.duplicateOf ? ((await ctx.loaders.transaction.load(line.duplicateOf)) ?? null) : null;
  }

  @FieldResolver(() => Transaction, { nullable: true, description: 'What the line was booked as (null in a dry run and for duplicates).' })
  async transaction(@Root() line: LineView, @Ctx() ctx: BudgetContext): Promise<TransactionRecord | null> {
    return line.transactionId ? ((await ctx.loaders.transaction.load(line.transactionId)) ?? null) : null;
  }
}

@Resolver(() => ImportResult)
export class ImportResolver {
  @Authorized()
  @Mutation(() => ImportResult, {
    description: 'Imports a bank statement into one of your accounts, all lines or none; with dryRun, only previews. Bad input names the line.',
  })
  async importTransactions(
    @Arg('input', () => ImportTransactionsInput, { description: 'The file and how to read it.' }) input: ImportTransactionsInput,
    @Ctx() ctx: BudgetContext,
  ): Promise<ImportResult> {
    const { id: userId } = requireUser(ctx);
    const outcome = await importStatement(ctx.em, userId, input);
    if (!outcome.dryRun) {
      ctx.eventsRecorded();
      ctx.loaders.balance.clearAll();
    }
    const account = await ctx.loaders.account.load(input.accountId);
    return {
      id: outcome.id,
      dryRun: outcome.dryRun,
      rowCount: outcome.lines.length,
      imported: outcome.imported,
      duplicates: outcome.duplicates,
      outcome,
      currency: account?.currency ?? '',
    };
  }

  @FieldResolver(() => [ImportLineType], { description: 'The lines in file order.' })
  lines(
    @Root() result: ImportResult,
    @Arg('first', () => Int, { defaultValue: 100, description: '1 to 1000.' }) first: number,
    @Arg('offset', () => Int, { description: 'How many lines to skip from the start (0 or more).', defaultValue: 0 }) offset: number,
  ): LineView[] {
    if (!Number.isInteger(first) || first < 1 || first > 1000) throw badInput('first', 'Ask for 1 to 1000 lines.');
    if (!Number.isInteger(offset) || offset < 0) throw badInput('offset', 'Give an offset of 0 or more.');
    return result.outcome.lines.slice(offset, offset + first).map((line) => ({ ...line, currency: result.currency }));
  }
}
