// Test data for the web UI: a fresh store with sources, people, conversations, feedback items, tags,
// clusters, digests and three accounts; some of the community text is hostile on purpose.
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import type { Database } from '../../src/store/schema.js';
import { addUser } from '../../src/web/auth.js';
import { tempDir } from '../support/factories.js';

export const PASSWORDS = { admin: 'admin-password-1', curator: 'curator-password-1', viewer: 'viewer-password-1' } as const;

export const HOSTILE_SCRIPT = '<script>window.__pwned = 1; alert("script")</script>';
export const HOSTILE_IMG = '<img src=x onerror="window.__pwned = 2; alert(\'img\')">';
export const HOSTILE_NAME = '<img src=y onerror="window.__pwned=3">Mallory';
export const HUGE_LINE = 'A'.repeat(1024 * 1024);

const DAY = 86_400_000;
export const BASE = Date.UTC(2026, 10, 2, 9, 0, 0); // Monday 2026-11-02

export interface Seeded {
  app: App;
  dir: string;
  clusters: { csv: number; dark: number; login: number };
  items: { hostile: number; huge: number; inbox: number[]; csv: number[] };
  people: { ada: number; bob: number; mallory: number };
  digests: { draft: number; sent: number };
  sourceUrl: string;
}

async function insert<T extends keyof Database>(db: Kysely<Database>, table: T, values: Record<string, unknown>): Promise<number> {
  const r = await db
    .insertInto(table)
    .values(values as never)
    .returning('id' as never)
    .executeTakeFirstOrThrow();
  return (r as unknown as { id: number }).id;
}

/** `queue`: run the app on BullMQ (a Redis URL and a key prefix of the test's own) instead of in-process. */
export async function seededApp(now: () => number = () => BASE + 30 * DAY, queue?: { redisUrl: string; prefix: string }): Promise<Seeded> {
  const dir = tempDir('gleaner-web-');
  const app = await openApp({
    configObject: parseConfig('segments:\n  customer: { weight: 3 }\n', {}),
    db: join(dir, 'gleaner.db'),
    redisUrl: queue?.redisUrl ?? null,
    queuePrefix: queue?.prefix,
    now,
  });
  const db = app.db;
  const t0 = BASE;

  const acme = await insert(db, 'orgs', { name: 'Acme Corp', segment: 'customer', domains: '["acme.com"]' });
  const oss = await insert(db, 'orgs', { name: 'OSS Foundation', segment: 'partner', domains: '[]' });
  const slack = await insert(db, 'sources', {
    name: 'lumen-slack',
    platform: 'slack',
    status: 'error',
    last_pull_at: t0 + 20 * DAY,
    last_error: 'Slack said invalid_auth <b>check the token</b>',
    created_at: t0,
  });
  const mail = await insert(db, 'sources', { name: 'dev-list', platform: 'mail', status: 'ok', last_pull_at: null, last_error: null, created_at: t0 });
  const help = await insert(db, 'channels', { source_id: slack, external_id: 'C01', name: '#help', first_at: t0, last_at: t0 + 25 * DAY });
  const bugs = await insert(db, 'channels', { source_id: slack, external_id: 'C02', name: '#bugs', first_at: t0, last_at: t0 + 25 * DAY });
  const list = await insert(db, 'channels', { source_id: mail, external_id: 'dev@lists.example.org', name: 'dev@lists.example.org', first_at: t0, last_at: t0 + 25 * DAY });
  await db
    .insertInto('checkpoints')
    .values({ source_id: slack, key: 'C01', cursor: '{"v":1,"ts":"1762074000.000100","ids":["x"]}', updated_at: t0 + 20 * DAY })
    .execute();
  await db
    .insertInto('gaps')
    .values({ source_id: slack, channel: '#bugs', from_at: t0 + 3 * DAY, to_at: t0 + 4 * DAY, reason: 'history not available (free plan)', created_at: t0 })
    .execute();
  await db.insertInto('quarantine').values({ source_id: mail, location: 'dev.mbox:1234', reason: 'truncated MIME part', excerpt: '<script>alert(1)</script>From: x', created_at: t0 }).execute();

  const person = async (name: string, org: number | null, staff = 0) => insert(db, 'people', { display_name: name, org_id: org, is_staff: staff, created_at: t0 });
  const ident = async (kind: string, value: string, personId: number, evidence: string | null = null, email: string | null = null) =>
    insert(db, 'identities', { kind, value, display_name: null, email, is_bot: 0, person_id: personId, link_evidence: evidence, created_at: t0 });
  const ada = await person('Ada Lovelace', acme);
  const bob = await person('Bob', null);
  const cleo = await person('Cleo (staff)', null, 1);
  const dan = await person('Dan', oss);
  const mallory = await person(HOSTILE_NAME, null);
  const adaSlack = await ident('slack', 'U01ADA', ada);
  await ident('email', 'ada@acme.com', ada, JSON.stringify({ rule: 'same-email', email: 'ada@acme.com' }), 'ada@acme.com');
  const bobMail = await ident('email', 'bob@example.org', bob, null, 'bob@example.org');
  const cleoSlack = await ident('slack', 'U03CLEO', cleo);
  const danSlack = await ident('slack', 'U04DAN', dan);
  const malSlack = await ident('slack', 'U05MAL', mallory);

  let seq = 0;
  const conversation = async (channel: number, sourceId: number, subject: string | null, msgs: Array<{ who: number; text: string; at: number; url?: string | null }>) => {
    const conv = await insert(db, 'conversations', {
      channel_id: channel,
      root_message_id: null,
      subject,
      subject_key: null,
      started_at: msgs[0]!.at,
      last_at: msgs[msgs.length - 1]!.at,
      message_count: msgs.length,
      participant_count: new Set(msgs.map((m) => m.who)).size,
      updated_at: t0,
    });
    const ids: number[] = [];
    for (const m of msgs) {
      seq++;
      ids.push(
        await insert(db, 'messages', {
          source_id: sourceId,
          channel_id: channel,
          external_id: `e${seq}`,
          ref_key: `r${seq}`,
          identity_id: m.who,
          text: m.text,
          clean_text: m.text,
          content_hash: `h${seq}`,
          sent_at: m.at,
          edited_at: null,
          deleted: 0,
          is_bot: 0,
          subject: null,
          permalink: m.url === undefined ? `https://lumen.slack.com/archives/C01/p${seq}` : m.url,
          reactions: null,
          attachments: null,
          labels: null,
          relay: null,
          copy_of: null,
          conversation_id: conv,
          created_at: m.at,
          updated_at: m.at,
        }),
      );
    }
    return { conv, first: ids[0]! };
  };
  const item = async (c: { conv: number; first: number }, kind: string, status: string, tags: Array<[string, string, number | null]>) => {
    const id = await insert(db, 'feedback_items', {
      conversation_id: c.conv,
      message_id: c.first,
      kind,
      kind_confidence: 0.81,
      sentiment: null,
      status,
      model_version: 'test',
      created_at: t0,
      updated_at: t0,
    });
    for (const [tag, provenance, confidence] of tags)
      await db.insertInto('tags').values({ item_id: id, tag, provenance, confidence, version: 'test', actor: null, state: 'active', created_at: t0 }).execute();
    return id;
  };
  const cluster = async (title: string, kind: string, itemIds: number[]) => {
    const id = await insert(db, 'clusters', { title, pinned_title: 0, summary: `Summary of ${title.toLowerCase()}.`, kind, first_seen: null, last_seen: null, created_at: t0, updated_at: t0 });
    for (const i of itemIds) await db.insertInto('cluster_items').values({ cluster_id: id, item_id: i, pinned: 0 }).execute();
    return id;
  };

  const c1 = await conversation(help, slack, null, [
    { who: adaSlack, text: 'Export to CSV crashes with a stack trace when the report has more than 10k rows', at: t0 + 1 * DAY },
    { who: cleoSlack, text: 'Thanks, we are looking into the CSV export.', at: t0 + 1 * DAY + 3600_000 },
  ]);
  const c2 = await conversation(list, mail, 'Re: CSV export broken', [
    { who: bobMail, text: 'The CSV export fails for me too, since the last release.', at: t0 + 8 * DAY, url: 'https://lists.example.org/archives/dev/2026-November/000123.html' },
  ]);
  const c3 = await conversation(bugs, slack, null, [{ who: danSlack, text: 'csv export: crash on large reports', at: t0 + 22 * DAY }]);
  const c4 = await conversation(help, slack, null, [{ who: adaSlack, text: 'Could we get a dark mode for the dashboard?', at: t0 + 2 * DAY }]);
  const c5 = await conversation(help, slack, null, [{ who: cleoSlack, text: 'Dark mode would help the night shift', at: t0 + 23 * DAY }]);
  const c6 = await conversation(bugs, slack, null, [
    { who: malSlack, text: `Login is slow ${HOSTILE_SCRIPT} and ${HOSTILE_IMG}`, at: t0 + 24 * DAY, url: 'javascript:window.__pwned=4' },
    { who: malSlack, text: 'see [here](javascript:alert(1)) and <a href="javascript:alert(2)">this</a>', at: t0 + 24 * DAY + 60_000, url: 'data:text/html,<script>alert(1)</script>' },
  ]);
  const c7 = await conversation(bugs, slack, null, [{ who: malSlack, text: `Login slow: ${HUGE_LINE}`, at: t0 + 24 * DAY + 120_000 }]);

  const i1 = await item(c1, 'bug', 'confirmed', [
    ['kind:bug', 'model', 0.9],
    ['area:export', 'rule', null],
  ]);
  const i2 = await item(c2, 'bug', 'confirmed', [
    ['kind:bug', 'model', 0.8],
    ['area:export', 'rule', null],
  ]);
  const i3 = await item(c3, 'bug', 'confirmed', [['kind:bug', 'model', 0.7]]);
  const i4 = await item(c4, 'feature', 'confirmed', [
    ['kind:feature', 'model', 0.88],
    ['area:ui', 'rule', null],
  ]);
  const i5 = await item(c5, 'feature', 'confirmed', [['kind:feature', 'model', 0.6]]);
  const i6 = await item(c6, 'bug', 'auto', [
    ['kind:bug', 'model', 0.55],
    ['area:auth', 'rule', null],
  ]);
  const i7 = await item(c7, 'bug', 'confirmed', [['kind:bug', 'model', 0.5]]);
  const csv = await cluster('CSV export crashes on large reports', 'bug', [i1, i2, i3]);
  const dark = await cluster('Dark mode for the dashboard', 'feature', [i4, i5]);
  const login = await cluster('Login is slow', 'bug', [i6, i7]);

  // Unclustered items waiting in the tag inbox.
  const inbox: number[] = [];
  const texts = [
    'The search box ignores accents',
    'Docs: the install page has a broken link',
    'Is there an API for exports?',
    'Please add SSO with Okta',
    'Upload fails with 413 on 20 MB files',
    'Love the new charts!',
  ];
  for (let k = 0; k < texts.length; k++) {
    const c = await conversation(help, slack, null, [{ who: k % 2 ? bobMail : danSlack, text: texts[k]!, at: t0 + (10 + k) * DAY }]);
    inbox.push(
      await item(c, k === 1 ? 'docs' : 'feature', 'auto', [
        [`kind:${k === 1 ? 'docs' : 'feature'}`, 'model', 0.6 + k / 20],
        ['area:search', 'rule', null],
      ]),
    );
  }

  const draftHtml = `<html><body><h1>Weekly digest</h1><p>CSV export crashes</p><script>parent.__pwned = 5</script><img src=x onerror="parent.__pwned=6"></body></html>`;
  const draft = await insert(db, 'digests', {
    team: 'product',
    period_start: t0 + 21 * DAY,
    period_end: t0 + 28 * DAY,
    status: 'draft',
    json: JSON.stringify({
      period: { start: new Date(t0 + 21 * DAY).toISOString(), end: new Date(t0 + 28 * DAY).toISOString() },
      clusters: [],
      stats: { messages: 0, conversations: 0, feedbackItems: 0, sources: [] },
    }),
    html: draftHtml,
    text: 'Weekly digest\nCSV export crashes',
    curation: null,
    message_id: null,
    created_at: t0 + 28 * DAY,
    approved_at: null,
    approved_by: null,
    sent_at: null,
  });
  const sent = await insert(db, 'digests', {
    team: 'product',
    period_start: t0 + 14 * DAY,
    period_end: t0 + 21 * DAY,
    status: 'sent',
    json: '{"clusters":[]}',
    html: '<p>Last week</p>',
    text: 'Last week',
    curation: null,
    message_id: '<x@y>',
    created_at: t0 + 21 * DAY,
    approved_at: t0 + 21 * DAY,
    approved_by: 'admin',
    sent_at: t0 + 21 * DAY + 3600_000,
  });

  await addUser(db, 'admin', 'admin', PASSWORDS.admin, t0);
  await addUser(db, 'curator', 'curator', PASSWORDS.curator, t0);
  await addUser(db, 'viewer', 'viewer', PASSWORDS.viewer, t0);

  return {
    app,
    dir,
    clusters: { csv, dark, login },
    items: { hostile: i6, huge: i7, inbox, csv: [i1, i2, i3] },
    people: { ada, bob, mallory },
    digests: { draft, sent },
    sourceUrl: 'https://lumen.slack.com/archives/C01/p1',
  };
}
