// Export files of every other format, fuzzed: mbox and pipermail archives (the splitter and the MIME
// normalizer), Slack export day files, DiscordChatExporter JSON, Element JSON. Valid-looking documents
// with hostile values in every field, cut short at random places, or plain noise: the importers
// quarantine or skip what they cannot read and never crash or hang.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/factories.js';
import { CASE_TIMEOUT_MS, FUZZ_RUNS, runImporter } from './support.js';

const dir = tempDir('gleaner-fuzz-exports-');
let seq = 0;
const fresh = (name: string): string => {
  const d = join(dir, String(seq++));
  mkdirSync(d, { recursive: true });
  return join(d, name);
};

const hostile = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom('', '\u0000', '=?utf-8?B?////?=', '=?x-unknown?Q?=FF=FE?=', '<script>', '\uFFFD', '\ud800'),
);
const anyValue = fc.oneof(
  hostile,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(hostile, { maxLength: 3 }),
  fc.dictionary(hostile, hostile, { maxKeys: 3 }),
);
/** A value of the expected kind most of the time, anything now and then. */
const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: anyValue, weight: 1 });
/** The document as JSON, sometimes cut short or with noise appended. */
const serialized = (doc: unknown) =>
  fc.tuple(fc.constantFrom('whole', 'cut', 'noise'), fc.nat(), hostile).map(([how, at, noise]) => {
    const text = JSON.stringify(doc) ?? 'null';
    if (how === 'cut') return text.slice(0, at % (text.length + 1));
    if (how === 'noise') return text + noise;
    return text;
  });

// ---- mail ----
const header = fc.oneof(
  fc
    .tuple(fc.constantFrom('From', 'To', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'References', 'Content-Type', 'Content-Transfer-Encoding', 'X-Mailman-Version'), hostile)
    .map(([k, v]) => `${k}: ${v}`),
  fc.constantFrom(
    'Content-Type: multipart/mixed; boundary="b1"',
    'Content-Type: text/html; charset=x-unknown',
    'Content-Transfer-Encoding: base64',
    'Content-Transfer-Encoding: quoted-printable',
    'Date: Wed, 10 Jan 2024 10:00:00 +0000',
    'Date: not a date',
  ),
);
const bodyLine = fc.oneof(hostile, fc.constantFrom('--b1', '--b1--', '>From escaped', 'From inside a body', '=E2=82=AC=', '////AAAA', ''));
const mboxMessage = fc
  .tuple(
    fc.constantFrom('From a@example.org Wed Jan 10 10:00:00 2024', 'From a at example.org  Wed Jan 10 10:00:00 2024', 'From x', 'From - Thu Jan  1 00:00:00 1970'),
    fc.array(header, { maxLength: 8 }),
    fc.array(bodyLine, { maxLength: 12 }),
  )
  .map(([from, hs, body]) => [from, ...hs, '', ...body].join('\n'));
const archive = fc.oneof(
  { arbitrary: fc.array(mboxMessage, { maxLength: 6 }).map((ms) => ms.join('\n\n')), weight: 4 },
  { arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('latin1')), weight: 1 },
);

describe('mail archives', () => {
  for (const format of ['mbox', 'pipermail']) {
    it(`${format}: splitter and normalizer survive fuzzed archives`, async () => {
      await fc.assert(
        fc.asyncProperty(archive, async (text) => {
          const file = fresh(format === 'pipermail' ? '2024-January.txt' : 'list.mbox');
          writeFileSync(file, text, 'latin1');
          const r = await runImporter(format, file);
          expect(r.items + r.quarantined >= 0).toBe(true);
        }),
        { numRuns: FUZZ_RUNS, timeout: CASE_TIMEOUT_MS },
      );
    }, 120_000);
  }
});

// ---- Slack export ----
const ts = fc.oneof(
  fc.tuple(fc.integer({ min: 1_500_000_000, max: 1_900_000_000 }), fc.integer({ min: 0, max: 999_999 })).map(([s, us]) => `${s}.${String(us).padStart(6, '0')}`),
  anyValue,
);
const slackMessage = fc.record(
  {
    type: mostly(fc.constant('message')),
    subtype: fc.option(fc.constantFrom('bot_message', 'channel_join', 'thread_broadcast', 'file_share', 'me_message', 'message_changed', 'tombstone'), { nil: undefined }),
    user: mostly(fc.constantFrom('U1', 'U2', 'U404')),
    text: mostly(hostile),
    ts,
    thread_ts: fc.option(ts, { nil: undefined }),
    edited: fc.option(fc.record({ user: anyValue, ts }), { nil: undefined }),
    files: fc.option(fc.array(fc.dictionary(hostile, anyValue, { maxKeys: 3 }), { maxLength: 2 }), { nil: undefined }),
    reactions: fc.option(anyValue, { nil: undefined }),
    blocks: fc.option(anyValue, { nil: undefined }),
  },
  { requiredKeys: [] },
);

describe('Slack export', () => {
  it('day files, users.json and channels.json survive fuzzing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(slackMessage, { maxLength: 12 }).chain(serialized),
        fc.oneof(fc.constant(JSON.stringify([{ id: 'U1', name: 'priya' }])), fc.json()),
        fc.oneof(fc.constant(JSON.stringify([{ id: 'C1', name: 'help' }])), fc.json()),
        async (day, users, channels) => {
          const root = fresh('export');
          mkdirSync(join(root, 'help'), { recursive: true });
          writeFileSync(join(root, 'users.json'), users);
          writeFileSync(join(root, 'channels.json'), channels);
          writeFileSync(join(root, 'help', '2024-01-10.json'), day);
          await runImporter('slack-export', root);
        },
      ),
      { numRuns: FUZZ_RUNS, timeout: CASE_TIMEOUT_MS },
    );
  }, 120_000);
});

// ---- DiscordChatExporter ----
const snowflake = fc.bigInt({ min: 1n, max: 2n ** 63n }).map(String);
const dceUser = fc.record({ id: mostly(snowflake), name: mostly(hostile), nickname: fc.option(hostile, { nil: null }), isBot: mostly(fc.boolean()) });
const dceMessage = fc.record(
  {
    id: mostly(snowflake),
    type: mostly(fc.constantFrom('Default', 'Reply', 'ThreadCreated', 'ChannelPinnedMessage', 'GuildMemberJoin')),
    timestamp: mostly(fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    timestampEdited: fc.option(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      { nil: null },
    ),
    content: mostly(hostile),
    author: mostly(dceUser),
    attachments: fc.option(anyValue, { nil: undefined }),
    embeds: fc.option(anyValue, { nil: undefined }),
    reactions: fc.option(anyValue, { nil: undefined }),
    mentions: fc.option(fc.array(dceUser, { maxLength: 2 }), { nil: undefined }),
    reference: fc.option(fc.record({ messageId: mostly(snowflake) }), { nil: undefined }),
  },
  { requiredKeys: ['id', 'timestamp', 'content'] },
);
const dceDoc = fc.record(
  {
    guild: mostly(fc.record({ id: snowflake, name: hostile })),
    channel: mostly(fc.record({ id: snowflake, type: fc.constantFrom('GuildTextChat', 'GuildPublicThread'), name: hostile, category: fc.option(hostile, { nil: null }) })),
    messages: mostly(fc.array(dceMessage, { maxLength: 10 })),
  },
  { requiredKeys: [] },
);

describe('DiscordChatExporter JSON', () => {
  it('survives fuzzed exports', async () => {
    await fc.assert(
      fc.asyncProperty(dceDoc.chain(serialized), async (text) => {
        const file = fresh('Guild - chan [1].json');
        writeFileSync(file, text);
        await runImporter('discord-export', file);
      }),
      { numRuns: FUZZ_RUNS, timeout: CASE_TIMEOUT_MS },
    );
  }, 120_000);
});

// ---- Element ----
const eventId = fc.oneof(fc.stringMatching(/^\$[A-Za-z0-9]{1,10}$/), anyValue);
const content = fc.record(
  {
    msgtype: mostly(fc.constantFrom('m.text', 'm.notice', 'm.emote', 'm.image')),
    body: mostly(hostile),
    format: fc.option(fc.constant('org.matrix.custom.html'), { nil: undefined }),
    formatted_body: fc.option(hostile, { nil: undefined }),
    'm.relates_to': fc.option(
      fc.record(
        {
          rel_type: mostly(fc.constantFrom('m.thread', 'm.replace', 'm.annotation')),
          event_id: eventId,
          key: fc.option(hostile, { nil: undefined }),
          'm.in_reply_to': fc.option(fc.record({ event_id: eventId }), { nil: undefined }),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
    'm.new_content': fc.option(anyValue, { nil: undefined }),
  },
  { requiredKeys: [] },
);
const matrixEvent = fc.record(
  {
    type: mostly(fc.constantFrom('m.room.message', 'm.reaction', 'm.room.member', 'm.room.redaction', 'm.room.encrypted')),
    sender: mostly(fc.constantFrom('@a:example.org', '@b:example.org')),
    content: mostly(content),
    origin_server_ts: mostly(fc.integer({ min: 0, max: 4_000_000_000_000 })),
    event_id: eventId,
    room_id: mostly(fc.constant('!r:example.org')),
    unsigned: fc.option(anyValue, { nil: undefined }),
    state_key: fc.option(hostile, { nil: undefined }),
  },
  { requiredKeys: [] },
);
const elementDoc = fc.record(
  {
    room_name: mostly(hostile),
    room_creator: mostly(hostile),
    topic: mostly(hostile),
    export_date: mostly(hostile),
    exported_by: mostly(hostile),
    messages: mostly(fc.array(matrixEvent, { maxLength: 10 })),
  },
  { requiredKeys: [] },
);

describe('Element JSON', () => {
  it('survives fuzzed exports', async () => {
    await fc.assert(
      fc.asyncProperty(elementDoc.chain(serialized), async (text) => {
        const file = fresh('Element - room - Chat Export - 2024-01-10.json');
        writeFileSync(file, text);
        await runImporter('element-export', file);
      }),
      { numRuns: FUZZ_RUNS, timeout: CASE_TIMEOUT_MS },
    );
  }, 120_000);
});
