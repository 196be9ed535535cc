import { describe, expect, it } from 'vitest';
import { dateReader, readAmount, readCsvStatement } from './csv-statement.js';

const badInput = (extensions: Record<string, unknown>) => expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', ...extensions }) });

const GERMAN = [
  'Buchungstag;Empfänger;Verwendungszweck;Soll;Haben',
  '03.03.2025;Eckladen GmbH;Lebensmittel;42,50;',
  '04.03.2025;ACME AG;Gehalt März;;2.500,00',
  '"05.03.2025";"Müller; Söhne";"Rechnung ""123""";1.234,56;',
].join('\n');

describe('CSV statements', () => {
  it('reads separate debit and credit columns, a decimal comma, a ; delimiter, quoted cells and DD.MM.YYYY dates', () => {
    const lines = readCsvStatement(
      GERMAN,
      { delimiter: ';', date: 'Buchungstag', dateFormat: 'DD.MM.YYYY', debit: 'Soll', credit: 'Haben', decimalSeparator: ',', payee: 'Empfänger', notes: 'Verwendungszweck' },
      'EUR',
    );
    expect(lines).toEqual([
      { row: 2, bookedAt: new Date('2025-03-03T00:00:00Z'), amount: -4_250, payee: 'Eckladen GmbH', notes: 'Lebensmittel', externalId: null },
      { row: 3, bookedAt: new Date('2025-03-04T00:00:00Z'), amount: 250_000, payee: 'ACME AG', notes: 'Gehalt März', externalId: null },
      { row: 4, bookedAt: new Date('2025-03-05T00:00:00Z'), amount: -123_456, payee: 'Müller; Söhne', notes: 'Rechnung "123"', externalId: null },
    ]);
  });

  it('reads a signed amount column, inverted for card exports, and columns by number without a header', () => {
    const card = 'Date,Description,Amount\n2025-03-01 14:05,COFFEE BAR,3.20\n2025-03-02 09:00,PAYMENT THANK YOU,-100.00\n';
    const lines = readCsvStatement(card, { date: 'Date', dateFormat: 'YYYY-MM-DD HH:mm', amount: 'Amount', sign: 'INVERTED', payee: 'Description' }, 'USD');
    expect(lines.map((l) => [l.bookedAt.toISOString(), l.amount])).toEqual([
      ['2025-03-01T14:05:00.000Z', -320],
      ['2025-03-02T09:00:00.000Z', 10_000],
    ]);
    const bare = readCsvStatement('3/1/2025,Shop,-1\n12/31/2024,(Refund),(2.5)\n', { hasHeader: false, date: '1', dateFormat: 'M/D/YYYY', payee: '2', amount: '3' }, 'EUR');
    expect(bare.map((l) => [l.bookedAt.toISOString().slice(0, 10), l.payee, l.amount])).toEqual([
      ['2025-03-01', 'Shop', -100],
      ['2024-12-31', '(Refund)', -250],
    ]);
    expect(readCsvStatement('Date,Payee,Amount\n2025-03-01,Ramen,-1200\n', { date: 'Date', payee: 'Payee', amount: 'Amount' }, 'JPY')[0]!.amount).toBe(-1200);
  });

  it('names the mapping field when a column does not exist or the mapping is incomplete', () => {
    const mapping = { delimiter: ';', date: 'Buchungstag', dateFormat: 'DD.MM.YYYY', debit: 'Soll', credit: 'Haben', decimalSeparator: ',', payee: 'Empfänger' };
    expect(() => readCsvStatement(GERMAN, { ...mapping, date: 'Datum' }, 'EUR')).toThrowError(badInput({ field: 'input.csv.date' }));
    expect(() => readCsvStatement(GERMAN, { ...mapping, notes: 'Notiz' }, 'EUR')).toThrowError(badInput({ field: 'input.csv.notes' }));
    expect(() => readCsvStatement(GERMAN, { ...mapping, credit: null }, 'EUR')).toThrowError(badInput({ field: 'input.csv.amount' }));
    expect(() => readCsvStatement(GERMAN, { ...mapping, amount: 'Soll' }, 'EUR')).toThrowError(badInput({ field: 'input.csv.amount' }));
    expect(() => readCsvStatement(GERMAN, { ...mapping, dateFormat: 'DD.MM' }, 'EUR')).toThrowError(badInput({ field: 'input.csv.dateFormat' }));
    expect(() => readCsvStatement('a,b\n1,2\n', { hasHeader: false, date: '3', payee: '1', amount: '2' }, 'EUR')).toThrowError(badInput({ field: 'input.csv.date' }));
  });

  it('names the line and column of a bad line: too many decimals, an impossible date, no amount, a missing cell', () => {
    const mapping = { date: 'Date', payee: 'Payee', amount: 'Amount' };
    const file = (line: string) => `Date,Payee,Amount\n2025-03-01,Fine,-1.00\n${line}\n`;
    expect(() => readCsvStatement(file('2025-03-02,Shop,-12.345'), mapping, 'EUR')).toThrowError(badInput({ field: 'input.content', row: 3, column: 'Amount' }));
    const yen = (amount: string) => `Date,Payee,Amount\n2025-03-01,Fine,-100\n2025-03-02,Shop,${amount}\n`;
    expect(() => readCsvStatement(yen('-12'), mapping, 'JPY')).not.toThrow();
    expect(() => readCsvStatement(yen('-12.5'), mapping, 'JPY')).toThrowError(badInput({ row: 3, column: 'Amount' }));
    expect(() => readCsvStatement(file('2025-02-30,Shop,-1.00'), mapping, 'EUR')).toThrowError(badInput({ row: 3, column: 'Date' }));
    expect(() => readCsvStatement(file('2025-03-02,Shop,0.00'), mapping, 'EUR')).toThrowError(badInput({ row: 3 }));
    expect(() => readCsvStatement(file('2025-03-02,,-1.00'), mapping, 'EUR')).toThrowError(badInput({ row: 3, column: 'Payee' }));
    expect(() => readCsvStatement(file('2025-03-02,Shop'), mapping, 'EUR')).toThrowError(badInput({ field: 'input.content', row: 3 }));
    expect(() => readCsvStatement('Date,Payee,Amount\n', mapping, 'EUR')).toThrowError(badInput({ field: 'input.content' }));
  });
});

describe('dates and amounts as banks write them', () => {
  it('reads each date format strictly, refusing impossible dates and times', () => {
    expect(dateReader('DD/MM/YYYY', 'f')('31/12/2024')?.toISOString()).toBe('2024-12-31T00:00:00.000Z');
    expect(dateReader('YYYY-MM-DDTHH:mm:ss', 'f')('2024-02-29T23:59:59')?.toISOString()).toBe('2024-02-29T23:59:59.000Z');
    for (const text of ['31/04/2024', '29/02/2023', '1/1/2024', '01/01/24', '']) expect(dateReader('DD/MM/YYYY', 'f')(text), text).toBeNull();
    expect(dateReader('YYYY-MM-DD HH:mm', 'f')('2024-01-01 24:00')).toBeNull();
  });

  it('reads amounts exactly into minor units, with thousands separators, parentheses and a decimal comma', () => {
    expect(readAmount('1,234.56', 'EUR', '.')).toBe(123_456);
    expect(readAmount('1.234,56', 'EUR', ',')).toBe(123_456);
    expect(readAmount("1'234.5", 'CHF', '.')).toBe(123_450);
    expect(readAmount('(0.10)', 'USD', '.')).toBe(-10);
    expect(readAmount('0.1', 'BHD', '.')).toBe(100);
    expect(readAmount('12.345', 'EUR', '.')).toMatch(/2 decimal places/);
    expect(readAmount('12 EUR', 'EUR', '.')).toMatch(/not an amount/);
  });
});
