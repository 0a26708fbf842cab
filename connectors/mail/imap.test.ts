// Integration: the IMAP connector against a real Dovecot on a loopback port.
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSkip, type Page } from '../../src/model/index.js';
import { startDovecot, type RunningDovecot } from '../../test/support/dovecot.js';
import { createMailConnector, MailAuthError, type MailCursor, type MailRaw } from './index.js';

let server: RunningDovecot;
let admin: ImapFlow;

const message = (id: string, subject = `subject ${id}`): string =>
  `From: Tester <tester@example.org>\r\nTo: dev@example.org\r\nSubject: ${subject}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <${id}@example.org>\r\nList-Id: Dev list <dev.example.org>\r\n\r\nbody of ${id}\r\n`;

async function appendAll(box: string, ids: string[]): Promise<void> {
  for (const id of ids) await admin.append(box, message(id), ['\\Seen']);
}

async function collect(pages: AsyncIterable<Page<MailCursor>>): Promise<{ ids: string[]; cursors: MailCursor[]; sizes: number[] }> {
  const out = { ids: [] as string[], cursors: [] as MailCursor[], sizes: [] as number[] };
  for await (const page of pages) {
    out.sizes.push(page.items.length);
    for (const item of page.items) out.ids.push(/Message-ID: <([^@>]+)@/.exec((item as MailRaw).source)?.[1] ?? '?');
    out.cursors.push(page.cursor);
  }
  return out;
}

const configFor = (mailboxes: string[], password = server.password) => ({ host: server.host, port: server.port, secure: false, user: server.user, password, mailboxes });

beforeAll(async () => {
  server = await startDovecot();
  admin = new ImapFlow({ host: server.host, port: server.port, secure: false, auth: { user: server.user, pass: server.password }, logger: false });
  await admin.connect();
});

afterAll(async () => {
  await admin?.logout().catch(() => undefined);
  await server?.stop();
});

describe('IMAP connector against Dovecot', () => {
  it('history from no cursor gets everything in pages of 100; from a saved cursor only the newer ones', async () => {
    await admin.mailboxCreate('hist');
    const first = Array.from({ length: 150 }, (_, i) => `h${i}`);
    await appendAll('hist', first);
    const connector = createMailConnector(configFor(['hist']));
    const all = await collect(connector.history(undefined, new AbortController().signal));
    expect(all.ids).toEqual(first);
    expect(all.sizes).toEqual([100, 50]);
    const saved = all.cursors.at(-1);
    expect(saved?.v).toBe(1);
    expect(saved?.mailboxes.hist?.lastUid).toBe(150);
    expect(saved?.mailboxes.hist?.uidValidity).toMatch(/^\d+$/);

    // Nothing new: the N:* quirk would return the last UID again; it must be filtered out.
    const none = await collect(connector.history(saved, new AbortController().signal));
    expect(none.ids).toEqual([]);

    await appendAll('hist', ['h150', 'h151']);
    const newer = await collect(connector.history(saved, new AbortController().signal));
    expect(newer.ids).toEqual(['h150', 'h151']);
    expect(newer.cursors.at(-1)?.mailboxes.hist?.lastUid).toBe(152);

    // Resuming from the cursor after the first page: no gap, no duplicate.
    const mid = await collect(connector.history(all.cursors[0], new AbortController().signal));
    expect(mid.ids).toEqual([...first.slice(100), 'h150', 'h151']);

    // The items normalize to messages with the List-Id channel.
    const page = await connector.history(undefined, new AbortController().signal)[Symbol.asyncIterator]().next();
    const raw = (page.value as Page<MailCursor>).items[0];
    const msg = await connector.normalize(raw, { source: 'imap' });
    expect(isSkip(msg) ? msg.reason : msg.externalId).toBe('h0@example.org');
    expect(isSkip(msg) ? null : msg.channel).toBe('dev.example.org');
  });

  it('a changed UIDVALIDITY (mailbox deleted and recreated) rescans that mailbox from the start', async () => {
    await admin.mailboxCreate('recreated');
    await appendAll('recreated', ['r1', 'r2']);
    const connector = createMailConnector(configFor(['recreated']));
    const before = await collect(connector.history(undefined, new AbortController().signal));
    const cursor = before.cursors.at(-1);
    expect(before.ids).toEqual(['r1', 'r2']);

    await admin.mailboxDelete('recreated');
    await new Promise((r) => setTimeout(r, 1100)); // Dovecot derives UIDVALIDITY from the clock
    await admin.mailboxCreate('recreated');
    await appendAll('recreated', ['r1', 'r2', 'r3']);
    const after = await collect(connector.history(cursor, new AbortController().signal));
    expect(after.cursors.at(-1)?.mailboxes.recreated?.uidValidity).not.toBe(cursor?.mailboxes.recreated?.uidValidity);
    expect(after.ids).toEqual(['r1', 'r2', 'r3']);
  });

  it('live catches up, then delivers a newly appended message through IDLE; abort ends it', async () => {
    await admin.mailboxCreate('livebox');
    await appendAll('livebox', ['l1']);
    const connector = createMailConnector(configFor(['livebox']));
    const ac = new AbortController();
    const seen: string[] = [];
    let appended = false;
    const safety = setTimeout(() => ac.abort(), 15_000); // a missed IDLE event fails the assertion, not the suite
    const done = (async () => {
      for await (const page of connector.live!(undefined, ac.signal)) {
        for (const item of page.items) seen.push(/Message-ID: <([^@>]+)@/.exec((item as MailRaw).source)?.[1] ?? '?');
        if (seen.includes('l1') && !appended) {
          appended = true;
          setTimeout(() => void appendAll('livebox', ['l2']), 300);
        }
        if (seen.includes('l2')) ac.abort();
      }
    })();
    await done;
    clearTimeout(safety);
    expect(seen).toEqual(['l1', 'l2']);
  });

  it('abort ends a live stream that is waiting in IDLE', async () => {
    await admin.mailboxCreate('quiet');
    const connector = createMailConnector(configFor(['quiet']));
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 500);
    const pages = await collect(connector.live!(undefined, ac.signal));
    expect(pages.ids).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a wrong password gives MailAuthError with the server text and without the password', async () => {
    const connector = createMailConnector(configFor(['INBOX'], 'wrong-secret-123'));
    const err = await collect(connector.history(undefined, new AbortController().signal)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MailAuthError);
    const auth = err as MailAuthError;
    expect(auth.code).toBe('MAIL_AUTH');
    expect(auth.responseText).toMatch(/Authentication failed/);
    expect(auth.message).not.toContain('wrong-secret-123');
    expect(JSON.stringify(auth.cause, Object.getOwnPropertyNames(auth.cause ?? {}))).not.toContain('wrong-secret-123');
  });
});
