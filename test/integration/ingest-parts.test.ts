// A batch larger than one transaction holds (a job posted by hand, a huge export page) is stored in
// parts in time order: the same messages, threads and counts as when sent in import-sized batches,
// and the cursor moves with the last part.
import { afterEach, describe, expect, it } from 'vitest';
import { ingestBatch, MAX_TRANSACTION_MESSAGES } from '../../src/stages/ingest-batch.js';
import { ChannelThreader } from '../../src/pipeline/chat-threads.js';
import { loadDisentangleModel } from '../../src/models/disentangle.js';
import { ensureSource, getCheckpoint } from '../../src/store/queries.js';
import type { OpenedDb } from '../../src/store/db.js';
import type { RawMessage } from '../../src/model/index.js';
import { freshStore } from '../support/factories.js';

const T0 = Date.UTC(2026, 2, 2, 9);
const WORDS = 'export button login okta redirect loop upgrade helm chart metrics panel alert webhook retention crash timeout'.split(' ');
const stores: OpenedDb[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** Chat lines in two channels, in shuffled order, with an edit of an early line late in the batch. */
function lines(n: number): RawMessage[] {
  const out: RawMessage[] = [];
  for (let i = 0; i < n; i++) {
    const who = `nick${(i * 7) % 13}`;
    out.push({
      externalId: `l${i}`,
      channel: `#c${i % 2}`,
      author: { id: who, name: who },
      text: `${WORDS[i % WORDS.length]} ${WORDS[(i * 5) % WORDS.length]} ${who === 'nick3' ? 'same here, ' : ''}line ${i}`,
      sentAt: T0 + i * 3000,
    });
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  out.push({ ...out.find((m) => m.externalId === 'l5')!, text: 'edited: export button broken', editedAt: T0 + n * 3000 });
  return out;
}

async function stored(store: OpenedDb): Promise<Array<{ ext: string; text: string; thread: string }>> {
  const rows = await store.db.selectFrom('messages').select(['external_id', 'text', 'conversation_id']).orderBy('sent_at').orderBy('external_id').execute();
  const first = new Map<number | null, string>();
  for (const r of rows) if (!first.has(r.conversation_id)) first.set(r.conversation_id, r.external_id);
  return rows.map((r) => ({ ext: r.external_id, text: r.text, thread: first.get(r.conversation_id)! }));
}

describe('a batch over MAX_TRANSACTION_MESSAGES', () => {
  it('is stored in parts: the same messages and threads as import-sized batches, counts summed, cursor saved', async () => {
    const n = 2 * MAX_TRANSACTION_MESSAGES + 500;
    const batch = lines(n);
    const model = loadDisentangleModel();

    const whole = await freshStore();
    const sized = await freshStore();
    stores.push(whole, sized);
    const a = await ensureSource(whole.db, 'irc', 'irc', T0);
    const b = await ensureSource(sized.db, 'irc', 'irc', T0);
    const r = await ingestBatch(whole.db, { sourceId: a, platform: 'irc', messages: batch, normalizerVersion: 1, cursor: { key: 'cursor', value: 'end' } }, T0, {
      threader: new ChannelThreader(model),
    });
    expect(r).toMatchObject({ new: n, updated: 0, unchanged: 1 });
    expect(await getCheckpoint(whole.db, a, 'cursor')).toBe('end');

    // The same lines as an import sends them: in time order, 2000 at a time.
    const threader = new ChannelThreader(model);
    const ordered = [...new Map(batch.map((m) => [m.externalId, m])).values()].sort((x, y) => x.sentAt - y.sentAt);
    let conversations = 0;
    for (let s = 0; s < ordered.length; s += 2000) {
      const part = await ingestBatch(sized.db, { sourceId: b, platform: 'irc', messages: ordered.slice(s, s + 2000), normalizerVersion: 1 }, T0, { threader });
      conversations += part.conversationIds.length;
    }

    const got = await stored(whole);
    expect(got).toHaveLength(n);
    expect(got.find((m) => m.ext === 'l5')!.text).toBe('edited: export button broken');
    expect(got).toEqual(await stored(sized));
    // Lines were linked across the parts' seams, not only within a part.
    expect(new Set(got.map((m) => m.thread)).size).toBeLessThan(n / 2);
    expect(r.conversationIds.length).toBe(new Set(r.conversationIds).size);
    expect(r.conversationIds.length).toBeGreaterThan(0);
    expect(conversations).toBeGreaterThanOrEqual(r.conversationIds.length);
  }, 120_000);
});
