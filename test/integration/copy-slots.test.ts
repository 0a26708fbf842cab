// Copies are looked up by slot (the copy key within its hour), on both stores: a relay in the next hour
// is still found, one past the window is not, and migration 0009 computes the slots of stored messages
// exactly as the ingest does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ingestBatch } from '../../src/stages/ingest-batch.js';
import type { OpenedDb } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { copySlotOf } from '../../src/pipeline/chat-threads.js';
import { msg } from '../support/factories.js';
import { suiteDialects } from '../support/stores.js';

const TEXT = 'The CSV export button does nothing on dashboards with more than fifty panels.';
// 10:50 UTC: its copies below fall in the next hour.
const T0 = Date.UTC(2026, 10, 10, 10, 50, 0);
const MIN = 60_000;

describe.each(suiteDialects)('copy slots on %s', (_kind, makeStore) => {
  const suite = makeStore();
  let store: OpenedDb;
  beforeAll(() => suite.beforeAll(), 60_000);
  afterAll(() => suite.afterAll());

  it('finds a copy in the next hour, in a later batch, and leaves one past the window alone', async () => {
    store = await suite.fresh();
    const slack = await ensureSource(store.db, 'slack', 'slack', T0);
    const discord = await ensureSource(store.db, 'discord', 'discord', T0);
    await ingestBatch(
      store.db,
      { sourceId: slack, platform: 'slack', messages: [msg({ externalId: 's1', channel: 'C1', text: TEXT, sentAt: T0, author: { id: 'U1', name: 'ada' } })], normalizerVersion: 1 },
      T0,
    );
    // 25 minutes later in another channel (11:15): a cross-post. 45 minutes later (11:35): said again.
    const r = await ingestBatch(
      store.db,
      {
        sourceId: discord,
        platform: 'discord',
        messages: [
          msg({ externalId: 'd1', channel: 'D1', text: TEXT, sentAt: T0 + 25 * MIN, author: { id: '7', name: 'ada' } }),
          msg({ externalId: 'd2', channel: 'D2', text: TEXT, sentAt: T0 + 70 * MIN, author: { id: '8', name: 'bo' } }),
        ],
        normalizerVersion: 1,
      },
      T0,
    );
    expect(r).toMatchObject({ new: 1, copies: 1 });
    const rows = await store.db.selectFrom('messages').select(['external_id', 'id', 'copy_of', 'copy_key', 'copy_slot', 'sent_at']).orderBy('id').execute();
    const byExt = Object.fromEntries(rows.map((x) => [x.external_id, x]));
    expect(byExt.d1!.copy_of).toBe(byExt.s1!.id);
    expect(byExt.d2!.copy_of).toBeNull();
    expect(byExt.s1!.copy_slot).not.toBe(byExt.d1!.copy_slot); // other hours, the same copy key
    expect(byExt.s1!.copy_key).toBe(byExt.d1!.copy_key);
    for (const x of rows) expect(x.copy_slot).toBe(copySlotOf(x.copy_key!, Number(x.sent_at)));
  });

  it('migration 0009 fills the slots of stored messages as the ingest computes them', async () => {
    store = await suite.fresh();
    const src = await ensureSource(store.db, 'irc', 'irc', T0);
    const messages = [0, 59, 61, 600, 6000].map((m, i) => msg({ externalId: `i${i}`, channel: '#c', text: `${TEXT} number ${i} of them`, sentAt: T0 + m * MIN - 3_600_000 * 24 * 400 }));
    messages.push(msg({ externalId: 'short', channel: '#c', text: 'ok', sentAt: T0 }));
    await ingestBatch(store.db, { sourceId: src, platform: 'irc', messages, normalizerVersion: 1 }, T0);
    const before = await store.db.selectFrom('messages').select(['id', 'copy_slot']).orderBy('id').execute();
    // Every one has a slot: a short line too carries a copy key (with its speaker's name), so a bridge's relay of it is a copy.
    expect(before.filter((b) => b.copy_slot !== null)).toHaveLength(6);
    // Back to the schema before 0009, the slots gone, and the migration run again.
    await store.db.updateTable('messages').set({ copy_slot: null }).execute();
    await store.db.schema.dropIndex('messages_copy_slot').execute();
    await store.db.schema.createIndex('messages_copy_key').on('messages').columns(['copy_key', 'sent_at']).execute();
    await sql`ALTER TABLE messages DROP COLUMN copy_slot`.execute(store.db);
    // Run 0009 itself: later migrations are recorded, so the migrator would refuse an out-of-order one.
    await migrations['0009_copy_slot']!.up(store.db);
    const after = await store.db.selectFrom('messages').select(['id', 'copy_slot']).orderBy('id').execute();
    expect(after).toEqual(before);
  });
});
