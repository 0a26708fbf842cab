// A small RFC 4180 CSV reader for evaluation data: quoted fields may hold commas, newlines
// (LF or CRLF) and doubled quotes. Whole-text parsing; streaming is not needed for a few MB.

import { InputError } from '../errors.js';

export class CsvError extends InputError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`${message} (CSV line ${line})`);
    this.name = 'CsvError';
  }
}

/** Parses CSV text into rows of fields. A leading UTF-8 BOM is ignored; a trailing newline ends the last row. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let quotedStartLine = 0;
  let inQuotes = false;
  let fieldWasQuoted = false;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        i++;
        continue;
      }
      // Copy a run of ordinary characters at once: far faster than char-by-char concatenation.
      let j = text.indexOf('"', i);
      if (j < 0) j = n;
      const chunk = text.slice(i, j);
      for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) line++;
      field += chunk;
      i = j;
      continue;
    }
    if (c === ',') {
      row.push(field);
      field = '';
      fieldWasQuoted = false;
      i++;
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldWasQuoted = false;
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
    } else if (c === '"' && field === '' && !fieldWasQuoted) {
      inQuotes = true;
      fieldWasQuoted = true;
      quotedStartLine = line;
      i++;
    } else {
      // Unquoted run up to the next delimiter; a stray quote inside an unquoted field is kept as is.
      let j = i;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 44 /* , */ || d === 10 || d === 13) break;
        j++;
      }
      field += text.slice(i, j);
      i = j;
    }
  }
  if (inQuotes) throw new CsvError('unterminated quoted field', quotedStartLine);
  if (field !== '' || fieldWasQuoted || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Parses CSV with a header row into records keyed by column name. Short rows get '' for missing columns. */
export function parseCsvRecords(text: string): Array<Record<string, string>> {
  const rows = parseCsv(text);
  const header = rows[0];
  if (!header) return [];
  const names = header.map((h) => h.trim());
  const out: Array<Record<string, string>> = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length === 1 && row[0] === '') continue; // blank line
    const rec: Record<string, string> = {};
    for (let c = 0; c < names.length; c++) rec[names[c]!] = row[c] ?? '';
    out.push(rec);
  }
  return out;
}
