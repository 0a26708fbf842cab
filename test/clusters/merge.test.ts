// A conversation merged into another after both were tagged and clustered (a missing middle message
// arrives late and links them): the merged-away item leaves with its placement and tags, nothing
// points at a deleted item or conversation, and what is left is clustered.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { runIngest } from '../../src/stages/ingest.js';
import { runCluster } from '../../src/stages/cluster.js';
import type { RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';

let app: App | undefined;
afterAll(async () => {
  await app?.close();
});

const T0 = Date.UTC(2026, 10, 9);
const mail = (id: string, at: number, subject: string, text: string, replyTo?: string): RawMessage => ({
  externalId: id,
  globalKey: id,
  channel: 'users@lists.example.org',
  author: { id: `${id.slice(1, 2)}@example.com`, name: id.slice(1, 2), email: `${id.slice(1, 2)}@example.com` }, // users, not the list host's own people (staff)
  text,
  sentAt: T0 + at * 3_600_000,
  subject,
  replyTo: replyTo ?? null,
  references: replyTo ? [replyTo] : [],
});

async function step(a: App, sourceId: number, messages: RawMessage[]): Promise<void> {
  await runIngest(a.ctx, { sourceId, platform: 'mail', messages, normalizerVersion: 1 });
  await a.queue.idle({ queues: ['enrich'] });
  const items = (await a.db.selectFrom('feedback_items').select('id').execute()).map((r) => r.id);
  if (items.length) await runCluster(a.ctx, { itemIds: items });
}

describe('conversations merged after clustering', () => {
  it('leave no placement, tag or item behind', async () => {
    app = await openApp({ configObject: parseConfig(''), db: join(tempDir(), 'merge.db'), redisUrl: null, now: () => Date.UTC(2026, 10, 16) });
    startWorkers(app, ['enrich']);
    const sourceId = await ensureSource(app.db, 'users-list', 'mail', Date.now());
    // A report, and a reply to a message not archived yet: two conversations, both feedback.
    await step(app, sourceId, [
      mail('<a@x>', 0, 'CSV export crashes the dashboard', 'The CSV export button crashes the dashboard page when the table has more than fifty rows.'),
      mail('<c@x>', 2, 'Re: Big tables', 'Same here: exporting a big table to CSV crashes the dashboard page for us too.', '<b@x>'),
    ]);
    const before = await app.db.selectFrom('feedback_items').select(['id', 'conversation_id']).execute();
    expect(before.length).toBe(2);
    expect((await app.db.selectFrom('cluster_items').select('item_id').execute()).length).toBe(2);

    // The missing middle message arrives: a reply to the report, and the parent of the second one.
    await step(app, sourceId, [mail('<b@x>', 1, 'Re: CSV export crashes the dashboard', 'Which version are you on? Big tables export fine for me.', '<a@x>')]);

    const convs = await app.db.selectFrom('conversations').select('id').execute();
    expect(convs.length).toBe(1);
    const items = await app.db.selectFrom('feedback_items').select(['id', 'conversation_id']).execute();
    expect(items.map((i) => i.conversation_id)).toEqual([convs[0]!.id]);
    const placements = await app.db.selectFrom('cluster_items').select('item_id').execute();
    expect(placements.map((p) => p.item_id)).toEqual(items.map((i) => i.id));
    const tagged = await app.db.selectFrom('tags').select('item_id').distinct().execute();
    for (const t of tagged) expect(items.map((i) => i.id)).toContain(t.item_id);
    const messages = await app.db.selectFrom('messages').select('conversation_id').execute();
    expect(new Set(messages.map((m) => m.conversation_id))).toEqual(new Set([convs[0]!.id]));
  }, 120_000);
});
