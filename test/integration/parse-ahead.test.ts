// Parsing an export on a helper thread hands over exactly what parsing here gives: the same messages,
// cut into the same batches, with the same quarantine entries and skip counts; a file that cannot be
// read fails with its own error.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectImporter } from '../../src/runner/import.js';
import { ParseAhead } from '../../src/threads/parse-ahead.js';
import { isSkip, type RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';

/** One parse thread for the file, kept between files as an app's is. */
const parser = new ParseAhead();
afterAll(() => parser.close());

const httpd = join(import.meta.dirname, '..', '..', 'examples', 'mail', 'apache', 'httpd-users-2020-07.mbox');

async function here(file: string, batchSize: number) {
  const importer = detectImporter(file, undefined)!;
  const batches: RawMessage[][] = [];
  let current: RawMessage[] = [];
  const quarantine: string[] = [];
  const skipped: Record<string, number> = {};
  for await (const page of importer.read(file, { source: 't' })) {
    quarantine.push(...page.quarantine.map((q) => q.location));
    for (const item of page.items) {
      const out = await importer.normalize(item.raw, { source: 't' });
      if (isSkip(out)) skipped[out.reason] = (skipped[out.reason] ?? 0) + 1;
      else current.push(out);
      if (current.length >= batchSize) {
        batches.push(current);
        current = [];
      }
    }
  }
  if (current.length) batches.push(current);
  return { batches, quarantine, skipped };
}

async function ahead(file: string, batchSize: number) {
  const importer = detectImporter(file, undefined)!;
  const batches: RawMessage[][] = [];
  const quarantine: string[] = [];
  const skipped: Record<string, number> = {};
  for await (const b of parser.parse(file, importer.format, { source: 't', batchSize })) {
    if (b.messages.length) batches.push(b.messages);
    quarantine.push(...b.quarantine.map((q) => q.location));
    for (const [k, n] of Object.entries(b.skipped)) skipped[k] = (skipped[k] ?? 0) + n;
  }
  return { batches, quarantine, skipped };
}

describe('parsing ahead on a helper thread', () => {
  it('gives the same batches, quarantine and skips as parsing here', async () => {
    const expected = await here(httpd, 25);
    expect(expected.batches.length).toBeGreaterThan(2);
    expect(await ahead(httpd, 25)).toEqual(expected);
  });

  it('hands over hostile and broken lines as parsing here does (quarantined with their place)', async () => {
    const file = join(tempDir(), 'irc.#lumen.weechatlog');
    const lines = [
      '2026-10-05 09:00:00\tpriya\tanyone know why the login loops?',
      'not a log line at all',
      `2026-10-05 09:00:05\tsam\t<script>alert(1)</script> ${'x'.repeat(5000)}`,
      '2026-10-05 09:00:09\tjberg\tpriya: send the logs',
    ];
    writeFileSync(file, lines.join('\n') + '\n');
    const expected = await here(file, 2);
    expect(await ahead(file, 2)).toEqual(expected);
  });

  it('reads file after file on one thread, also after a reader that stopped midway', async () => {
    const importer = detectImporter(httpd, undefined)!;
    for await (const b of parser.parse(httpd, importer.format, { source: 't', batchSize: 10 })) {
      expect(b.messages.length).toBe(10);
      break; // the store failed: the rest of the file is abandoned
    }
    const expected = await here(httpd, 25);
    expect(await ahead(httpd, 25)).toEqual(expected);
    expect(await ahead(httpd, 40)).toEqual(await here(httpd, 40));
  });

  it("fails with the file's own error when the file cannot be read", async () => {
    const missing = join(tempDir(), 'gone.mbox');
    const importer = detectImporter(httpd, undefined)!;
    await expect(async () => {
      for await (const b of parser.parse(missing, importer.format, { source: 't', batchSize: 10 })) void b;
    }).rejects.toThrow(/gone\.mbox|ENOENT|no such file/i);
  });
});
