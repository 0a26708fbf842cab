// Every IRC log format's line parser, and each format's importer over whole fuzzed files: no crash,
// no hang; unreadable lines are skipped or quarantined.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { IRC_LOG_FORMATS, parseIrcLogLine } from '../../connectors/irc/importer-logs.js';
import { tempDir } from '../support/factories.js';
import { CASE_TIMEOUT_MS, FUZZ_RUNS, runImporter } from './support.js';

const nick = fc.stringMatching(/^[A-Za-z_[\]{}^`|\\-][A-Za-z0-9_[\]{}^`|\\-]{0,15}$/);
const text = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('', ' ', '\t', '\u0000', '\r', '\u202e', '\u0001ACTION waves\u0001'));
const time = fc.oneof(fc.constantFrom('[07:59:01]', '07:59', '[2024-01-31 07:59:01]', '2024-01-31 07:59:01', '2024-01-31T07:59:01', '[25:99:99]', '[]', '1706687941'), fc.string({ maxLength: 20 }));
/** Lines shaped like each format's (timestamps, <nick>, * nick, -->, ***, tabs) with fuzz in every slot. */
const line = fc.oneof(
  fc.tuple(time, nick, text).map(([t, n, x]) => `${t} <${n}> ${x}`),
  fc.tuple(time, nick, text).map(([t, n, x]) => `${t}\t${n}\t${x}`),
  fc.tuple(time, nick, text).map(([t, n, x]) => `${t} * ${n} ${x}`),
  fc.tuple(time, nick, text).map(([t, n, x]) => `${t} *** ${n} ${x}`),
  fc.tuple(time, nick, text).map(([t, n, x]) => `${t}\t-->\t${n} ${x}`),
  fc.tuple(time, text).map(([t, x]) => `${t} -!- ${x}`),
  fc.tuple(time, text).map(([t, x]) => `--- Day changed ${t} ${x}`),
  fc.constantFrom('**** BEGIN LOGGING AT Thu Jan  1 00:00:00 2024', '--- Log opened Wed Jan 31 07:00:00 2024', '****  Beginning of log  ****'),
  text,
);

describe('IRC log line parsers', () => {
  for (const format of IRC_LOG_FORMATS) {
    it(`${format}: any line parses or is rejected, never throws`, () => {
      fc.assert(
        fc.property(line, (l) => void parseIrcLogLine(format, l)),
        { numRuns: FUZZ_RUNS * 3 },
      );
    });
  }
});

describe('IRC log importers over whole files', () => {
  const dir = tempDir('gleaner-fuzz-irc-');
  for (const format of IRC_LOG_FORMATS) {
    it(`${format}: fuzzed files import or quarantine`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(line, { maxLength: 40 }), fc.constantFrom('\n', '\r\n'), async (lines, eol) => {
          const sub = join(dir, `${format}-${n++}`, '#chan');
          mkdirSync(sub, { recursive: true });
          const file = join(sub, '2024-01-31.log');
          writeFileSync(file, lines.join(eol));
          await runImporter(format, file);
        }),
        { numRuns: Math.ceil(FUZZ_RUNS / 4), timeout: CASE_TIMEOUT_MS },
      );
    }, 120_000);
  }
});
