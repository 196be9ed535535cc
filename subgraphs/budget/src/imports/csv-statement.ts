import { AppError, ErrorCode, badInput } from '@analytica/errors';
import { parseDecimal } from '@analytica/money';
import { CsvSyntaxError, parseCsv } from './csv.js';

/** One line of a bank statement, ready to be checked for duplicates and booked. */
export interface StatementLine {
  /** Where it came from: the line number in a CSV file, the position of the transaction in an OFX file. */
  row: number;
  bookedAt: Date;
  amount: number;
  payee: string;
  notes: string | null;
  /** The bank's own id of the line (OFX FITID), when the format has one. */
  externalId: string | null;
}

/** How a bank's CSV export maps onto transactions. Columns are header names, or 1-based numbers without a header. */
export interface CsvMapping {
  delimiter?: string | null;
  hasHeader?: boolean | null;
  date: string;
  /** Tokens YYYY, MM, M, DD, D, HH, mm, ss; anything else is literal. Default YYYY-MM-DD. */
  dateFormat?: string | null;
  /** A signed amount column; or else debit and credit columns. */
  amount?: string | null;
  debit?: string | null;
  credit?: string | null;
  /** INVERTED for exports that show money out as positive (many credit card statements). */
  sign?: 'NORMAL' | 'INVERTED' | null;
  decimalSeparator?: string | null;
  payee: string;
  notes?: string | null;
}

export const MAX_STATEMENT_LINES = 200_000;

const rowError = (row: number, column: string | null, message: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, `Line ${row}${column ? `, column "${column}"` : ''}: ${message} Nothing was imported.`, {
    field: 'input.content',
    row,
    ...(column ? { column } : {}),
  });

const TOKENS: Record<string, string> = { YYYY: '(\\d{4})', MM: '(\\d{2})', M: '(\\d{1,2})', DD: '(\\d{2})', D: '(\\d{1,2})', HH: '(\\d{2})', mm: '(\\d{2})', ss: '(\\d{2})' };
type Part = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';
const PARTS: Record<string, Part> = { YYYY: 'year', MM: 'month', M: 'month', DD: 'day', D: 'day', HH: 'hour', mm: 'minute', ss: 'second' };

/** Compiles a date format such as DD.MM.YYYY into a strict reader that refuses impossible dates (UTC). */
export function dateReader(format: string, field: string): (text: string) => Date | null {
  const parts: Part[] = [];
  let pattern = '';
  for (let i = 0; i < format.length;) {
    const token = ['YYYY', 'MM', 'DD', 'HH', 'mm', 'ss', 'M', 'D'].find((t) => format.startsWith(t, i));
    if (token) {
      pattern += TOKENS[token];
      parts.push(PARTS[token]!);
      i += token.length;
    } else {
      pattern += format[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i += 1;
    }
  }
  if (!parts.includes('year') || !parts.includes('month') || !parts.includes('day') || new Set(parts).size !== parts.length) {
    throw badInput(field, `"${format}" is not a date format: use YYYY, MM (or M) and DD (or D) once each, e.g. DD/MM/YYYY.`);
  }
  const regex = new RegExp(`^${pattern}$`);
  return (text) => {
    const match = regex.exec(text.trim());
    if (!match) return null;
    const value: Record<Part, number> = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    parts.forEach((part, i) => (value[part] = Number(match[i + 1])));
    const date = new Date(Date.UTC(value.year, value.month - 1, value.day, value.hour, value.minute, value.second));
    const exact =
      date.getUTCFullYear() === value.year &&
      date.getUTCMonth() === value.month - 1 &&
      date.getUTCDate() === value.day &&
      date.getUTCHours() === value.hour &&
      date.getUTCMinutes() === value.minute &&
      date.getUTCSeconds() === value.second;
    return exact && value.year >= 1900 ? date : null;
  };
}

/** Reads an amount as the bank writes it ("1.234,56", "(12.30)", "-5") into minor units, exactly. */
export function readAmount(text: string, currency: string, decimalSeparator: string): number | string {
  let cleaned = text.trim();
  let negative = false;
  const parenthesised = /^\((.*)\)$/.exec(cleaned);
  if (parenthesised) {
    cleaned = parenthesised[1]!;
    negative = true;
  }
  if (decimalSeparator === ',') cleaned = cleaned.replace(/[.\s']/g, '').replace(',', '.');
  try {
    const amount = parseDecimal(cleaned, currency, 'amount');
    return negative ? -amount : amount;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Reads a CSV statement with a column mapping. Any problem refuses the whole file: a mapping that
 * names a column the file does not have names that mapping field; a bad line names the line and
 * the column.
 */
export function readCsvStatement(content: string, mapping: CsvMapping, currency: string): StatementLine[] {
  const { records, line } = csvStatementReader(content, mapping, currency);
  return records.map(line);
}

/**
 * readCsvStatement in two steps: the file read into records and the mapping checked (one linear
 * pass), then `line` for each record, so that a caller may convert the records a slice at a time
 * and let other work run in between (importStatement). The same checks, in the same order.
 */
export function csvStatementReader(
  content: string,
  mapping: CsvMapping,
  currency: string,
): { records: { record: string[]; line: number }[]; line: (record: { record: string[]; line: number }) => StatementLine } {
  const delimiter = mapping.delimiter ?? ',';
  if (delimiter.length !== 1 || /[\r\n"]/.test(delimiter)) throw badInput('input.csv.delimiter', 'Give one character, e.g. "," or ";" or a tab.');
  const decimalSeparator = mapping.decimalSeparator ?? '.';
  if (decimalSeparator !== '.' && decimalSeparator !== ',') throw badInput('input.csv.decimalSeparator', 'Use "." or ",".');
  const readDate = dateReader(mapping.dateFormat ?? 'YYYY-MM-DD', 'input.csv.dateFormat');
  const hasAmount = mapping.amount != null;
  const hasSides = mapping.debit != null || mapping.credit != null;
  if (hasAmount === hasSides || (hasSides && (mapping.debit == null || mapping.credit == null))) {
    throw badInput('input.csv.amount', 'Map either one signed amount column, or both a debit and a credit column.');
  }

  const hasHeader = mapping.hasHeader ?? true;
  let records: { record: string[]; line: number }[];
  try {
    // Linear in the content, and stops at the line limit rather than reading on.
    records = parseCsv(content, { delimiter, maxRecords: MAX_STATEMENT_LINES + (hasHeader ? 1 : 0) }).map((r) => ({ record: r.cells, line: r.line }));
  } catch (error) {
    if (!(error instanceof CsvSyntaxError)) throw error;
    if (error.kind === 'limit') throw badInput('input.content', `Import at most ${MAX_STATEMENT_LINES} lines at once.`);
    throw rowError(error.line, null, `this is not readable CSV (${error.message}).`);
  }
  const header = hasHeader ? records.shift()?.record : undefined;
  if (records.length === 0) throw badInput('input.content', 'The file has no transactions.');
  const width = header?.length ?? records[0]!.record.length;

  const column = (name: string | null | undefined, key: string): { index: number; label: string } | null => {
    if (name == null) return null;
    if (header) {
      const index = header.findIndex((h) => h.trim().toLowerCase() === name.trim().toLowerCase());
      if (index === -1) throw badInput(`input.csv.${key}`, `The file has no column "${name}"; its columns are ${header.map((h) => `"${h}"`).join(', ')}.`);
      return { index, label: header[index]! };
    }
    const index = Number(name);
    if (!Number.isInteger(index) || index < 1 || index > width) throw badInput(`input.csv.${key}`, `Without a header, give a column number from 1 to ${width}.`);
    return { index: index - 1, label: `#${index}` };
  };
  const date = column(mapping.date, 'date')!;
  const payee = column(mapping.payee, 'payee')!;
  const notes = column(mapping.notes, 'notes');
  const amount = column(mapping.amount, 'amount');
  const debit = column(mapping.debit, 'debit');
  const credit = column(mapping.credit, 'credit');
  const sign = mapping.sign === 'INVERTED' ? -1 : 1;

  const line = ({ record, line: row }: { record: string[]; line: number }): StatementLine => {
    const cell = (c: { index: number }) => record[c.index] ?? '';
    const bookedAt = readDate(cell(date));
    if (!bookedAt) throw rowError(row, date.label, `"${cell(date)}" is not a date in the format ${mapping.dateFormat ?? 'YYYY-MM-DD'}.`);
    let value: number;
    if (amount) {
      const read = readAmount(cell(amount), currency, decimalSeparator);
      if (typeof read === 'string') throw rowError(row, amount.label, read);
      value = read;
    } else {
      const side = (c: { index: number; label: string }) => {
        if (cell(c) === '') return 0;
        const read = readAmount(cell(c), currency, decimalSeparator);
        if (typeof read === 'string') throw rowError(row, c.label, read);
        return Math.abs(read);
      };
      value = side(credit!) - side(debit!);
    }
    if (value === 0) throw rowError(row, (amount ?? debit)!.label, 'the line moves no money.');
    const name = cell(payee).trim();
    if (name.length < 1 || name.length > 200) throw rowError(row, payee.label, 'the payee must have 1 to 200 characters.');
    const note = notes ? cell(notes).trim() || null : null;
    if (note && note.length > 2000) throw rowError(row, notes!.label, 'notes are at most 2000 characters.');
    return { row, bookedAt, amount: sign * value, payee: name, notes: note, externalId: null };
  };
  return { records, line };
}
