import { describe, expect, it } from 'vitest';
import { OFX_MAX_DEPTH, OFX_MAX_ELEMENTS, OfxError, parseOfx, parseOfxDate, parseOfxTree } from './ofx.js';
import { ofxSgml, ofxXml, type SampleLine } from './statement-samples.js';

const lines: SampleLine[] = [
  { posted: '20250303120000.000[-5:EST]', amount: '-42.50', fitId: '20250303001', name: 'CORNER MARKET', memo: 'Card 1234 groceries' },
  { posted: '20250304', amount: '2500.00', fitId: '20250304002', name: 'ACME CORP PAYROLL', type: 'DIRECTDEP' },
  { posted: '20250305093000[+5.30:IST]', amount: '-7.80', fitId: '20250305003', name: 'Fish & Chips <Deluxe>' },
];

describe('OFX 1.x (SGML)', () => {
  it('reads a bank statement with unclosed leaf elements: currency, account and every transaction', () => {
    const statement = parseOfx(ofxSgml(lines));
    expect(statement.currency).toBe('EUR');
    expect(statement.accountId).toBe('0123456789');
    expect(statement.transactions).toEqual([
      { index: 1, type: 'DEBIT', postedAt: new Date('2025-03-03T17:00:00.000Z'), amount: '-42.50', fitId: '20250303001', name: 'CORNER MARKET', memo: 'Card 1234 groceries' },
      { index: 2, type: 'DIRECTDEP', postedAt: new Date('2025-03-04T00:00:00.000Z'), amount: '2500.00', fitId: '20250304002', name: 'ACME CORP PAYROLL', memo: null },
      { index: 3, type: 'DEBIT', postedAt: new Date('2025-03-05T04:00:00.000Z'), amount: '-7.80', fitId: '20250305003', name: 'Fish & Chips <Deluxe>', memo: null },
    ]);
  });

  it("reads Quicken's QFX, which adds Intuit tags to the sign-on", () => {
    const statement = parseOfx(ofxSgml(lines.slice(0, 1), { intuit: true }));
    expect(statement.transactions).toHaveLength(1);
    expect(statement.transactions[0]!.name).toBe('CORNER MARKET');
  });

  it('ignores the optional end tag of a leaf element when a bank writes it', () => {
    const text = ofxSgml(lines.slice(0, 1)).replace('<TRNAMT>-42.50', '<TRNAMT>-42.50</TRNAMT>');
    expect(parseOfx(text).transactions[0]!.amount).toBe('-42.50');
  });
});

describe('OFX 2.x (XML)', () => {
  it('reads a credit card statement with closed elements and processing instructions', () => {
    const statement = parseOfx(ofxXml(lines));
    expect(statement.currency).toBe('EUR');
    expect(statement.accountId).toBe('4111********1111');
    expect(statement.transactions.map((t) => [t.fitId, t.amount, t.name, t.postedAt.toISOString()])).toEqual([
      ['20250303001', '-42.50', 'CORNER MARKET', '2025-03-03T17:00:00.000Z'],
      ['20250304002', '2500.00', 'ACME CORP PAYROLL', '2025-03-04T00:00:00.000Z'],
      ['20250305003', '-7.80', 'Fish & Chips <Deluxe>', '2025-03-05T04:00:00.000Z'],
    ]);
  });

  it('takes the payee from a PAYEE aggregate when there is no NAME', () => {
    const text = ofxXml(lines.slice(0, 1)).replace('<NAME>CORNER MARKET</NAME>', '<PAYEE><NAME>Corner Market Ltd</NAME><ADDR1>1 High St</ADDR1></PAYEE>');
    expect(parseOfx(text).transactions[0]!.name).toBe('Corner Market Ltd');
  });
});

describe('OFX problems', () => {
  it('refuses what is not an OFX statement', () => {
    expect(() => parseOfx('Date,Payee,Amount\n2025-03-01,Shop,-1.00')).toThrow(OfxError);
    expect(() => parseOfx('<OFX><SIGNONMSGSRSV1></SIGNONMSGSRSV1></OFX>')).toThrow(/no bank or credit card statement/);
    expect(() => parseOfxTree(ofxXml(lines).slice(0, 900))).toThrow(/cut short/);
  });

  it('names the transaction whose date or amount is missing or wrong', () => {
    const noAmount = ofxSgml(lines).replace('<TRNAMT>2500.00\r\n', '');
    expect(() => parseOfx(noAmount)).toThrowError(expect.objectContaining({ transaction: 2, message: 'TRNAMT is missing.' }));
    const badDate = ofxSgml(lines).replace('<DTPOSTED>20250304', '<DTPOSTED>20250230');
    expect(() => parseOfx(badDate)).toThrowError(expect.objectContaining({ transaction: 2 }));
  });
});

describe('OFX dates', () => {
  it('reads dates with and without time, milliseconds and time zone offsets, into UTC', () => {
    expect(parseOfxDate('20250301')?.toISOString()).toBe('2025-03-01T00:00:00.000Z');
    expect(parseOfxDate('20250301123456')?.toISOString()).toBe('2025-03-01T12:34:56.000Z');
    expect(parseOfxDate('20250301123456.789')?.toISOString()).toBe('2025-03-01T12:34:56.789Z');
    expect(parseOfxDate('20250301120000[-8:PST]')?.toISOString()).toBe('2025-03-01T20:00:00.000Z');
    expect(parseOfxDate('20250301120000.000[+9]')?.toISOString()).toBe('2025-03-01T03:00:00.000Z');
    expect(parseOfxDate('20250301120000[+5.30:IST]')?.toISOString()).toBe('2025-03-01T06:30:00.000Z');
  });

  it('refuses dates that do not exist or are not OFX dates', () => {
    for (const text of ['20250229', '20251301', '2025-03-01', '20250301250000', 'yesterday', '']) expect(parseOfxDate(text), text).toBeNull();
  });
});

describe('hostile OFX is read in time linear in its size, within bounds on nesting and elements', () => {
  const MB = 1024 * 1024;
  const flat = (text: string) => JSON.parse(JSON.stringify(text)) as string;
  const timed = (text: string) => {
    const started = performance.now();
    let error: unknown;
    try {
      parseOfxTree(text);
    } catch (e) {
      error = e;
    }
    return { ms: performance.now() - started, error: error as Error | undefined };
  };

  it('refuses deep nesting at once, and unmatched end tags cost nothing', () => {
    // <A> x n + </B> x n was quadratic: each end tag searched the whole stack.
    const n = Math.floor((82 * 1024 - 5) / 7);
    const deep = timed(flat(`<OFX>${'<A>'.repeat(n)}${'</B>'.repeat(n)}`));
    expect(deep.error?.message).toBe(`Elements are nested more than ${OFX_MAX_DEPTH} deep (at <A>).`);
    expect(deep.ms).toBeLessThan(100);
    const shallow = `<OFX>${'<A>'.repeat(OFX_MAX_DEPTH - 2)}`;
    const wide = timed(flat(`${shallow}${'</B>'.repeat(MB / 4)}`));
    expect(wide.error?.message).toMatch(/cut short/);
    expect(wide.ms).toBeLessThan(1000);
  });

  it('refuses unterminated comments and instructions after one look, and too many elements', () => {
    const comments = timed(flat(`<OFX>${'<!--'.repeat(MB / 4)}`));
    expect(comments.error?.message).toBe('A comment (<!--) is never closed.');
    expect(comments.ms).toBeLessThan(1000);
    const instructions = timed(flat(`<OFX><!-- a --><?x ?>${'<?'.repeat(MB / 2)}`));
    expect(instructions.error?.message).toBe('A processing instruction (<?) is never closed.');
    expect(instructions.ms).toBeLessThan(1000);
    const many = timed(flat(`<OFX>${'<A/>'.repeat(OFX_MAX_ELEMENTS + 1)}</OFX>`));
    expect(many.error?.message).toBe(`The file has more than ${OFX_MAX_ELEMENTS} elements.`);
    expect(many.ms).toBeLessThan(1000);
  });
});
