// Digest test support: a store with clusters over several weeks (new, rising, resurfaced, quiet, and
// hostile community text), coverage records, and a real SMTP server on loopback that keeps what it
// receives and can be told to refuse.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { openApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import type { Database } from '../../src/store/schema.js';
import { tempDir } from '../support/factories.js';

export const DAY = 86_400_000;
/** Monday 2026-11-02 00:00 UTC: ISO week 2026-W45. The digest week is W48 (BASE + 21 days). */
export const BASE = Date.UTC(2026, 10, 2);
export const WEEK = { start: BASE + 21 * DAY, end: BASE + 28 * DAY };
/** Monday of W49, 09:00 UTC: the scheduled run reports on W48. */
export const NOW = BASE + 28 * DAY + 9 * 3600_000;

export const HOSTILE_TITLE = 'Login <script>alert("t")</script> is slow';
export const HOSTILE_TEXT = 'Login hangs <img src=x onerror="alert(1)"> <script>alert(2)</script> see <a href="javascript:alert(3)">here</a>';

export interface SmtpCapture {
  port: number;
  messages: Array<{ raw: string; envelope: { from: string; to: string[] } }>;
  /** Refuse the next n messages at the end of DATA with this reply code. */
  refuse(n: number, code?: number): void;
  /** Keep the next message but drop the connection before replying to its data. */
  dropNextReply(): void;
  parsed(i: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<SmtpCapture> {
  const messages: SmtpCapture['messages'] = [];
  let refusals = 0;
  let refusalCode = 451;
  let drop = false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refusals > 0) {
          refusals--;
          const err = new Error(refusalCode >= 500 ? 'Message rejected by policy' : 'Try again later') as Error & { responseCode: number };
          err.responseCode = refusalCode;
          return callback(err);
        }
        const envelope = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) };
        messages.push({ raw: Buffer.concat(chunks).toString('utf8'), envelope });
        if (drop) {
          // The server has the message; its reply never reaches the client.
          drop = false;
          const conns = (server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections;
          for (const c of conns) if (c.id === session.id) c._socket.destroy();
          return;
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    refuse(n, code = 451) {
      refusals = n;
      refusalCode = code;
    },
    dropNextReply() {
      drop = true;
    },
    parsed: (i) => simpleParser(messages[i]!.raw),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function configYaml(smtpPort: number, extra = ''): string {
  return `
segments:
  customer: { weight: 3 }
queue: { attempts: 3, backoffMs: 5 }
web: { baseUrl: "https://gleaner.example.org/", port: 8080 }
smtp: { host: 127.0.0.1, port: ${smtpPort}, secure: false, from: "Gleaner <digest@gleaner.example.org>" }
digest: { schedule: "0 9 * * 1", timezone: Europe/Berlin, top: 10, autoApprove: false, recipients: [everyone@example.org] }
${extra}
`;
}

export const TEAMS = `
teams:
  - name: product
    recipients: [pm@example.org, eng@example.org]
    filter: { kind: [bug, feature] }
  - name: docs
    recipients: [docs@example.org]
    filter: { kind: docs }
  - name: help-desk
    recipients: [help@example.org]
    filter: { channel: "#help" }
`;

export async function appWith(yaml: string, opts: { dbPath?: string; now?: () => number } = {}): Promise<App> {
  const dbPath = opts.dbPath ?? join(tempDir('gleaner-digest-'), 'gleaner.db');
  return openApp({ configObject: parseConfig(yaml, {}), db: dbPath, redisUrl: null, now: opts.now ?? (() => NOW) });
}

async function insert(db: Kysely<Database>, table: keyof Database, values: Record<string, unknown>): Promise<number> {
  const r = await db
    .insertInto(table)
    .values(values as never)
    .returning('id' as never)
    .executeTakeFirstOrThrow();
  return (r as unknown as { id: number }).id;
}

export interface SeededClusters {
  csv: number;
  dark: number;
  login: number;
  docs: number;
  sso: number;
}

/** Clusters over W40..W48, coverage records for W48. */
export async function seed(db: Kysely<Database>): Promise<SeededClusters> {
  const t0 = BASE;
  const acme = await insert(db, 'orgs', { name: 'Acme Corp', segment: 'customer', domains: '["acme.com"]' });
  const slack = await insert(db, 'sources', { name: 'lumen-slack', platform: 'slack', status: 'error', last_pull_at: t0 + 26 * DAY, last_error: 'invalid_auth: check the bot token', created_at: t0 });
  const mail = await insert(db, 'sources', { name: 'dev-list', platform: 'mail', status: 'ok', last_pull_at: t0 + 27 * DAY, last_error: null, created_at: t0 });
  const help = await insert(db, 'channels', { source_id: slack, external_id: 'C01', name: '#help', first_at: t0 - 60 * DAY, last_at: t0 + 25 * DAY });
  const bugs = await insert(db, 'channels', { source_id: slack, external_id: 'C02', name: '#bugs', first_at: t0 - 60 * DAY, last_at: t0 + 25 * DAY });
  const list = await insert(db, 'channels', { source_id: mail, external_id: 'dev@lists.example.org', name: 'dev@lists.example.org', first_at: t0 - 60 * DAY, last_at: t0 + 25 * DAY });
  await db
    .insertInto('gaps')
    .values({ source_id: slack, channel: '#bugs', from_at: t0 + 22 * DAY, to_at: t0 + 23 * DAY, reason: 'history not available (free plan)', created_at: t0 })
    .execute();
  await db
    .insertInto('source_events')
    .values({ source_id: slack, kind: 'rate_limited', at: t0 + 22 * DAY, duration_ms: 42_000, detail: null })
    .execute();
  await db
    .insertInto('source_events')
    .values({ source_id: slack, kind: 'pull_failed', at: t0 + 26 * DAY, detail: 'invalid_auth: check the bot token' })
    .execute();

  const person = async (name: string, org: number | null) => insert(db, 'people', { display_name: name, org_id: org, is_staff: 0, created_at: t0 });
  let idn = 0;
  const ident = async (personId: number) =>
    insert(db, 'identities', { kind: 'slack', value: `U${++idn}`, display_name: null, email: null, is_bot: 0, person_id: personId, link_evidence: null, created_at: t0 });
  const ada = await ident(await person('Ada', acme));
  const bob = await ident(await person('Bob', null));
  const cy = await ident(await person('Cy', null));
  const dee = await ident(await person('Dee', acme));
  const mal = await ident(await person('<img src=y onerror="alert(9)">Mallory', null));

  let seq = 0;
  const item = async (channel: number, sourceId: number, who: number, text: string, at: number, kind: string, tags: string[], url?: string) => {
    const conv = await insert(db, 'conversations', {
      channel_id: channel,
      root_message_id: null,
      subject: null,
      subject_key: null,
      started_at: at,
      last_at: at,
      message_count: 1,
      participant_count: 1,
      updated_at: at,
    });
    seq++;
    const msg = await insert(db, 'messages', {
      source_id: sourceId,
      channel_id: channel,
      external_id: `e${seq}`,
      ref_key: `r${seq}`,
      identity_id: who,
      text,
      clean_text: text,
      content_hash: `h${seq}`,
      sent_at: at,
      edited_at: null,
      deleted: 0,
      is_bot: 0,
      subject: null,
      permalink: url ?? `https://lumen.slack.com/archives/C01/p${seq}`,
      reactions: null,
      attachments: null,
      labels: null,
      relay: null,
      copy_of: null,
      conversation_id: conv,
      created_at: at,
      updated_at: at,
    });
    const id = await insert(db, 'feedback_items', {
      conversation_id: conv,
      message_id: msg,
      kind,
      kind_confidence: 0.9,
      sentiment: null,
      status: 'confirmed',
      model_version: 'test',
      created_at: at,
      updated_at: at,
    });
    for (const tag of tags)
      await db
        .insertInto('tags')
        .values({ item_id: id, tag, provenance: tag.startsWith('area:') ? 'rule' : 'model', confidence: null, version: 'test', actor: null, state: 'active', created_at: at })
        .execute();
    return id;
  };
  const cluster = async (title: string, kind: string, items: number[]) => {
    const id = await insert(db, 'clusters', { title, pinned_title: 0, summary: `Summary: ${title}`, kind, first_seen: null, last_seen: null, created_at: t0, updated_at: t0 });
    for (const i of items) await db.insertInto('cluster_items').values({ cluster_id: id, item_id: i, pinned: 0 }).execute();
    return id;
  };
  const w = (week: number, day = 1) => t0 + (week - 45) * 7 * DAY + day * DAY + 10 * 3600_000;

  // Rising: one voice in W46, three in W48.
  const csv = await cluster('CSV export crashes on large reports', 'bug', [
    await item(list, mail, bob, 'The CSV export fails for me too', w(46), 'bug', ['area:export']),
    await item(bugs, slack, ada, 'Export to CSV crashes with more than 10k rows', w(48, 1), 'bug', ['area:export']),
    await item(help, slack, cy, 'csv export crash on big reports', w(48, 2), 'bug', ['area:export']),
    await item(bugs, slack, dee, 'CSV export dies on large data', w(48, 3), 'bug', ['area:export']),
  ]);
  // New this week.
  const dark = await cluster('Dark mode for the dashboard', 'feature', [
    await item(help, slack, ada, 'Could we get a dark mode for the dashboard?', w(48, 2), 'feature', ['area:ui']),
    await item(help, slack, bob, 'Dark mode please, my eyes', w(48, 4), 'feature', ['area:ui']),
  ]);
  // New, with hostile community text everywhere.
  const login = await cluster(HOSTILE_TITLE, 'bug', [await item(bugs, slack, mal, HOSTILE_TEXT, w(48, 3), 'bug', ['area:auth'], 'javascript:alert(4)')]);
  // Quiet now: voiced in W46, silent in W48.
  const docs = await cluster('Install page has a broken link', 'docs', [
    await item(list, mail, cy, 'Docs: the install page links to a 404', w(46, 2), 'docs', ['area:docs']),
    await item(list, mail, bob, 'broken link on the install docs', w(47, 2), 'docs', ['area:docs']),
  ]);
  // Resurfaced: voiced in W40, silent since, voiced again in W48.
  const sso = await cluster('SSO with Okta', 'feature', [
    await item(list, mail, dee, 'Any plans for SSO with Okta?', w(40, 2), 'feature', ['area:auth']),
    await item(list, mail, ada, 'We need Okta SSO before rollout', w(48, 1), 'feature', ['area:auth']),
  ]);
  return { csv, dark, login, docs, sso };
}
