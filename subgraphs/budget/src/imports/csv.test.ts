import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from './csv.js';

const read = (text: string, delimiter = ',') => parseCsv(text, { delimiter, maxRecords: 1000 }).map((r) => [r.line, ...r.cells]);
const failure = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error as CsvSyntaxError;
  }
  throw new Error('expected a CsvSyntaxError');
};

describe('the CSV reader', () => {
  it('reads quoted cells with delimiters, doubled quotes and line breaks, any line ending, a BOM, blank lines and spaces', () => {
    expect(read('\ufeffa, b ,c\r\n"x;y" , "say ""hi""",\n\n"two\nlines",2,3\r4,5,6\n')).toEqual([
      [1, 'a', 'b', 'c'],
      [2, 'x;y', 'say "hi"', ''],
      [4, 'two\nlines', '2', '3'],
      [6, '4', '5', '6'],
    ]);
    expect(read('a\tb\t\n1\t\t3', '\t')).toEqual([
      [1, 'a', 'b', ''],
      [2, '1', '', '3'],
    ]);
  });

  it('names the line of what it cannot read', () => {
    expect(failure(() => read('a,b\n1,2\n3\n'))).toMatchObject({ line: 3, message: 'line 3 has 1 columns where the first line has 2' });
    expect(failure(() => read('a,b\n"1,2\n3,4\n'))).toMatchObject({ line: 2, message: expect.stringMatching(/never closed/) });
    expect(failure(() => read('a,b\n1"x,2\n'))).toMatchObject({ line: 2, message: expect.stringMatching(/quote inside an unquoted cell/) });
    expect(failure(() => read('a,b\n"1"x,2\n'))).toMatchObject({ line: 2, message: expect.stringMatching(/after a closing quote/) });
    expect(failure(() => parseCsv('a\nb\nc\n', { delimiter: ',', maxRecords: 2 }))).toMatchObject({ kind: 'limit', line: 3 });
    expect(failure(() => read(','.repeat(300)))).toMatchObject({ message: 'line 1 has more than 256 columns' });
  });

  it('takes time linear in its input: a megabyte of hostile or ordinary CSV within a second', () => {
    const MB = 1024 * 1024;
    // Flat strings, as a request body is (a string built with repeat() is a rope that V8 reads slowly).
    const flat = (text: string) => JSON.parse(JSON.stringify(text)) as string;
    const inputs = {
      rows: `date,amount,payee\n${'2025-01-01,1,a\n'.repeat(MB / 15)}`,
      unclosedQuote: `a,b\n"${'x'.repeat(MB)}`,
      manyQuotes: `a\n"${'""'.repeat(MB / 2)}"\n`,
      commas: ','.repeat(MB),
      breaks: '\r'.repeat(MB),
    };
    for (const [name, raw] of Object.entries(inputs)) {
      const text = flat(raw);
      const started = performance.now();
      try {
        parseCsv(text, { delimiter: ',', maxRecords: 200_001 });
      } catch (error) {
        expect(error, name).toBeInstanceOf(CsvSyntaxError);
      }
      // Linear: tens of milliseconds on an idle machine; the bound leaves room for a busy one.
      expect(performance.now() - started, name).toBeLessThan(1000);
    }
  });
});
