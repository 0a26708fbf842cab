// Copies across sources in the store: a bridge relay imported before the original still yields to it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestBatch } from '../../src/stages/ingest-batch.js';
import { ensureSource, storeStats } from '../../src/store/queries.js';
import type { OpenedDb } from '../../src/store/db.js';
import { freshStore, msg } from '../support/factories.js';

const T0 = Date.UTC(2026, 10, 10, 9, 14, 5);
let store: OpenedDb;
beforeEach(async () => {
  store = await freshStore();
});
afterEach(async () => {
  await store.close();
});

describe('bridged copies', () => {
  it('IRC relays stored first become copies when the Matrix original arrives', async () => {
    const irc = await ensureSource(store.db, 'irc', 'irc', T0);
    const matrix = await ensureSource(store.db, 'matrix', 'matrix', T0);
    const text = 'After upgrading to 2.4, signing in through Okta redirects back to the login page forever.';
    await ingestBatch(
      store.db,
      {
        sourceId: irc,
        platform: 'irc',
        messages: [msg({ externalId: 'i1', channel: '#lumen', text, sentAt: T0 + 1000, author: { id: 'matrix:mei' }, relay: { bot: 'lumen-bridge', network: 'matrix' } })],
        normalizerVersion: 1,
      },
      T0,
    );
    const relayCopyOfOther = await ingestBatch(
      store.db,
      {
        sourceId: irc,
        platform: 'irc',
        messages: [msg({ externalId: 'i2', channel: '#lumen', text: `<mei[m]> ${text}`, sentAt: T0 + 2000, author: { id: 'lumen-bridge' }, relay: { bot: 'lumen-bridge', network: 'matrix' } })],
        normalizerVersion: 1,
      },
      T0,
    );
    expect(relayCopyOfOther.copies).toBe(0); // the same room, another author: not folded
    const r = await ingestBatch(
      store.db,
      { sourceId: matrix, platform: 'matrix', messages: [msg({ externalId: '$m1', channel: '!room', text, sentAt: T0, author: { id: '@mei:matrix.org' } })], normalizerVersion: 1 },
      T0,
    );
    expect(r).toMatchObject({ new: 1, copies: 0 });
    const rows = await store.db.selectFrom('messages').select(['external_id', 'id', 'copy_of']).orderBy('id').execute();
    const byExt = Object.fromEntries(rows.map((x) => [x.external_id, x]));
    expect(byExt.i1!.copy_of).toBe(byExt.$m1!.id);
    expect(byExt.$m1!.copy_of).toBeNull();
    const conv = await store.db
      .selectFrom('conversations')
      .innerJoin('messages', 'messages.conversation_id', 'conversations.id')
      .select(['conversations.message_count'])
      .where('messages.external_id', '=', 'i1')
      .executeTakeFirstOrThrow();
    expect(byExt.i2!.copy_of).toBe(byExt.$m1!.id); // the prefixed relay form too
    expect(conv.message_count).toBe(0); // the relays no longer count in their IRC thread
    expect((await storeStats(store.db)).messages).toBe(1);
  });

  it('a short line and a Matrix reply relayed between IRC and Matrix are each stored once', async () => {
    const irc = await ensureSource(store.db, 'irc', 'irc', T0);
    const matrix = await ensureSource(store.db, 'matrix', 'matrix', T0);
    // Matrix first: the appservice's puppet of the IRC user, and a Matrix user's reply.
    await ingestBatch(
      store.db,
      {
        sourceId: matrix,
        platform: 'matrix',
        messages: [
          msg({
            externalId: '$p1',
            channel: '!room',
            text: 'good morning all',
            sentAt: T0 + 1000,
            author: { id: '@libera_velvet:libera.chat' },
            relay: { bot: '@libera_velvet:libera.chat', network: 'irc' },
          }),
          msg({ externalId: '$r1', channel: '!room', text: 'no, still broken for me too', sentAt: T0 + 60_000, author: { id: '@tomek:matrix.org', name: 'Tomek Z' } }),
          msg({ externalId: '$o1', channel: '!room', text: 'good morning all', sentAt: T0 + 90_000, author: { id: '@ynez:matrix.org' } }),
        ],
        normalizerVersion: 1,
      },
      T0,
    );
    const r = await ingestBatch(
      store.db,
      {
        sourceId: irc,
        platform: 'irc',
        messages: [
          msg({ externalId: 'i1', channel: '#quarry', text: 'good morning all', sentAt: T0, author: { id: 'libera/velvet', name: 'velvet' } }),
          msg({
            externalId: 'i2',
            channel: '#quarry',
            text: 'velvet: no, still broken for me too',
            sentAt: T0 + 61_000,
            author: { id: 'matrix:tomek', name: 'tomek' },
            relay: { bot: 'tomek[m]', network: 'matrix' },
          }),
          msg({ externalId: 'i3', channel: '#quarry', text: 'good morning all', sentAt: T0 + 91_000, author: { id: 'matrix:ynez', name: 'ynez' }, relay: { bot: 'ynez[m]', network: 'matrix' } }),
        ],
        normalizerVersion: 1,
      },
      T0,
    );
    expect(r).toMatchObject({ new: 1, copies: 2 });
    const rows = await store.db.selectFrom('messages').select(['external_id', 'id', 'copy_of']).orderBy('id').execute();
    const byExt = Object.fromEntries(rows.map((x) => [x.external_id, x]));
    expect(byExt.$p1!.copy_of).toBe(byExt.i1!.id); // the puppet relay yields to the IRC original
    expect(byExt.i2!.copy_of).toBe(byExt.$r1!.id); // `nick: text` is the Matrix reply
    expect(byExt.i3!.copy_of).toBe(byExt.$o1!.id); // another person's short line is their own, relayed once
    expect(byExt.$o1!.copy_of).toBeNull();
    expect(byExt.i1!.copy_of).toBeNull();
    expect((await storeStats(store.db)).messages).toBe(3);
  });
});
