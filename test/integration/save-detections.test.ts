// saveDetections writes a batch set-wise; the result must be what saving each detection one by one
// gave: the per-conversation implementation it replaced is kept here as the reference, and both are
// run from the same starting state, on SQLite and PostgreSQL, and every table they write is compared
// (ids included: new items and tags get their ids in list order either way).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { ingestBatch } from '../../src/stages/ingest-batch.js';
import { ensureSource } from '../../src/store/queries.js';
import { saveDetection, saveDetections, type DetectionToSave } from '../../src/stages/save-detections.js';
import { addTag, confirmItem, markNotFeedback, removeTag } from '../../src/store/curation.js';
import { dbKind, type OpenedDb } from '../../src/store/db.js';
import type { Database } from '../../src/store/schema.js';
import type { AutoTag, DetectedFeedback } from '../../src/pipeline/feedback.js';
import { msg } from '../support/factories.js';
import { suiteDialects } from '../support/stores.js';

const T0 = Date.UTC(2024, 0, 10, 12, 0, 0);

// ---- The reference: the per-conversation implementation saveDetections replaced. ----

async function referenceSaveDetections(db: Kysely<Database>, list: readonly DetectionToSave[], now: number): Promise<Map<number, number | null>> {
  return db.transaction().execute(async (trx) => {
    const out = new Map<number, number | null>();
    for (const { conversationId, detected, summary } of list) {
      const id = await referenceSaveDetectionIn(trx, conversationId, detected, now);
      out.set(conversationId, id);
      if (id !== null && summary) await trx.updateTable('feedback_items').set({ summary: summary.text, summary_version: summary.version, updated_at: now }).where('id', '=', id).execute();
    }
    return out;
  });
}

async function referenceConversationExists(trx: Kysely<Database>, id: number): Promise<boolean> {
  const q = trx.selectFrom('conversations').select('id').where('id', '=', id);
  const row = await (dbKind(trx) === 'postgres' ? q.forShare() : q).executeTakeFirst();
  return row !== undefined;
}

async function referenceSaveDetectionIn(trx: Kysely<Database>, conversationId: number, d: DetectedFeedback | null, now: number): Promise<number | null> {
  const existing = await trx.selectFrom('feedback_items').selectAll().where('conversation_id', '=', conversationId).executeTakeFirst();
  if (existing && existing.status !== 'auto') {
    if (existing.status === 'confirmed' && d) await referenceReplaceAutoTags(trx, existing.id, d.tags, now);
    return existing.status === 'not_feedback' ? null : existing.id;
  }
  if (!d || !d.isFeedback) {
    if (existing) {
      await trx.deleteFrom('tags').where('item_id', '=', existing.id).where('provenance', '!=', 'human').execute();
      const humanTags = await trx.selectFrom('tags').select('id').where('item_id', '=', existing.id).executeTakeFirst();
      if (!humanTags) {
        await trx.deleteFrom('feedback_items').where('id', '=', existing.id).execute();
        await trx.deleteFrom('cluster_items').where('item_id', '=', existing.id).execute();
        return null;
      }
      return existing.id;
    }
    return null;
  }
  let id: number;
  if (!existing && !(await referenceConversationExists(trx, conversationId))) return null;
  if (existing) {
    id = existing.id;
    await trx
      .updateTable('feedback_items')
      .set({ message_id: d.messageId, kind: d.kind, kind_confidence: d.kindConfidence, sentiment: d.sentiment, model_version: d.modelVersion, updated_at: now })
      .where('id', '=', id)
      .execute();
  } else {
    const row = await trx
      .insertInto('feedback_items')
      .values({
        conversation_id: conversationId,
        message_id: d.messageId,
        kind: d.kind,
        kind_confidence: d.kindConfidence,
        sentiment: d.sentiment,
        status: 'auto',
        model_version: d.modelVersion,
        created_at: now,
        updated_at: now,
      })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    id = row.id;
  }
  await referenceReplaceAutoTags(trx, id, d.tags, now);
  return id;
}

async function referenceReplaceAutoTags(trx: Kysely<Database>, itemId: number, tags: AutoTag[], now: number): Promise<void> {
  const human = await trx.selectFrom('tags').select(['tag', 'state']).where('item_id', '=', itemId).where('provenance', '=', 'human').execute();
  const removedByHuman = new Set(human.filter((h) => h.state === 'removed').map((h) => h.tag));
  await trx.deleteFrom('tags').where('item_id', '=', itemId).where('provenance', '!=', 'human').execute();
  const keep = tags.filter((t) => !removedByHuman.has(t.tag));
  if (keep.length) {
    await trx
      .insertInto('tags')
      .values(keep.map((t) => ({ item_id: itemId, tag: t.tag, provenance: t.provenance, confidence: t.confidence, version: t.version, actor: null, state: 'active', created_at: now })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

// ---- Fixtures ----

const rule = (tag: string, version = 'r1'): AutoTag => ({ tag, provenance: 'rule', confidence: null, version });
const model = (tag: string, confidence = 0.6): AutoTag => ({ tag, provenance: 'model', confidence, version: 'm1' });

function detection(messageId: number, over: Partial<DetectedFeedback> = {}): DetectedFeedback {
  return {
    messageId,
    isFeedback: true,
    kind: 'bug',
    kindConfidence: 0.8731,
    feedbackConfidence: 0.9,
    sentiment: 'negative',
    modelVersion: 'test-1',
    tags: [rule('area:auth'), model('okta')],
    ...over,
  };
}

interface Store {
  db: Kysely<Database>;
  /** Conversation id and first message id of conversation `k` (0-based). */
  conv(k: number): { id: number; msg: number };
}

/** `n` one-message conversations, the same ids on every fresh store. */
async function seed(opened: OpenedDb, n: number): Promise<Store> {
  const src = await ensureSource(opened.db, 'chat', 'slack', T0);
  const messages = Array.from({ length: n }, (_, k) => msg({ externalId: `c${k}`, channel: `ch${k % 3}`, text: `report number ${k}`, sentAt: T0 + k * 1000, author: { id: `U${k % 7}` } }));
  await ingestBatch(opened.db, { sourceId: src, normalizerVersion: 1, platform: 'slack', messages }, T0);
  const rows = await opened.db.selectFrom('messages').select(['id', 'external_id', 'conversation_id']).execute();
  const byExt = new Map(rows.map((r) => [r.external_id, r]));
  return {
    db: opened.db,
    conv(k) {
      const r = byExt.get(`c${k}`)!;
      return { id: r.conversation_id!, msg: r.id };
    },
  };
}

/** Every row the save writes, ids included. */
async function snapshot(db: Kysely<Database>): Promise<unknown> {
  return {
    items: await db.selectFrom('feedback_items').selectAll().orderBy('id').execute(),
    tags: await db.selectFrom('tags').selectAll().orderBy('id').execute(),
    placements: await db.selectFrom('cluster_items').selectAll().orderBy('item_id').execute(),
  };
}

type Save = (db: Kysely<Database>, list: readonly DetectionToSave[], now: number) => Promise<Map<number, number | null>>;

describe.each(suiteDialects)('saveDetections on %s', (kind, make) => {
  const dialect = make();
  beforeAll(() => dialect.beforeAll());
  afterAll(() => dialect.afterAll());

  /** Seeds a fresh store, sets it up, saves the batch with `save`; returns what it returned and every written row. */
  async function runWith(
    save: Save,
    n: number,
    setup: (s: Store) => Promise<void>,
    batch: (s: Store) => DetectionToSave[],
  ): Promise<{ result: Map<number, number | null>; rows: unknown; store: Store }> {
    const opened = await dialect.fresh();
    expect(opened.kind).toBe(kind);
    const store = await seed(opened, n);
    await setup(store);
    const result = await save(store.db, batch(store), T0 + 100);
    return { result, rows: await snapshot(store.db), store };
  }

  /** The mixed batch: every path of the save, and conversations listed twice. */
  async function mixedSetup(s: Store): Promise<void> {
    const item = async (k: number, over: Partial<DetectedFeedback> = {}) =>
      (await referenceSaveDetections(s.db, [{ conversationId: s.conv(k).id, detected: detection(s.conv(k).msg, over) }], T0)).get(s.conv(k).id)!;
    await item(0); // 0: automatic, re-detected with other tags
    const confirmedWithRemoval = await item(1); // 1: confirmed, a human removed 'okta'
    await confirmItem(s.db, confirmedWithRemoval, 'devrel', T0 + 1);
    await removeTag(s.db, confirmedWithRemoval, 'okta', 'devrel', T0 + 2);
    await confirmItem(s.db, await item(2), 'devrel', T0 + 3); // 2: confirmed, then detected as not feedback
    await markNotFeedback(s.db, await item(3), 'devrel', T0 + 4); // 3: "not feedback"
    const placed = await item(4); // 4: automatic and placed; no longer feedback
    const humanTagged = await item(5); // 5: automatic with a human tag and placed; no longer feedback
    await addTag(s.db, humanTagged, 'customer-impact', 'devrel', T0 + 5);
    await removeTag(s.db, await item(6), 'area:auth', 'devrel', T0 + 6); // 6: automatic, only a removal; no longer feedback
    await item(10, { tags: [] }); // 10: automatic, re-detected with a summary
    await item(11); // 11: automatic, then not feedback, then feedback again in the same batch
    await removeTag(s.db, await item(12), 'okta', 'devrel', T0 + 7); // 12: automatic, a human removed 'okta'
    await s.db.insertInto('clusters').values({ title: 'c', pinned_title: 0, summary: null, kind: null, first_seen: null, last_seen: null, created_at: T0, updated_at: T0 }).execute();
    await s.db
      .insertInto('cluster_items')
      .values([placed, humanTagged].map((item_id) => ({ cluster_id: 1, item_id, pinned: 0 })))
      .execute();
  }

  function mixedBatch(s: Store): DetectionToSave[] {
    const c = (k: number) => s.conv(k).id;
    const m = (k: number) => s.conv(k).msg;
    return [
      { conversationId: c(7), detected: detection(m(7), { tags: [rule('area:cli'), rule('area:cli'), model('windows', 0.7)] }), summary: { text: 'CLI breaks on Windows', version: 's1' } },
      {
        conversationId: c(0),
        detected: detection(m(0), { kind: 'complaint', kindConfidence: 0.51, sentiment: 'neutral', modelVersion: 'test-2', tags: [rule('area:sso', 'r2'), model('okta', 0.9)] }),
      },
      { conversationId: c(1), detected: detection(m(1), { kind: 'question', tags: [model('okta'), rule('area:billing')] }), summary: { text: 'confirmed one', version: 's1' } },
      { conversationId: c(2), detected: detection(m(2), { isFeedback: false, tags: [rule('area:docs')] }) },
      { conversationId: c(3), detected: detection(m(3)), summary: { text: 'never stored', version: 's1' } },
      { conversationId: c(4), detected: null },
      { conversationId: c(5), detected: detection(m(5), { isFeedback: false }), summary: { text: 'kept by its human tag', version: 's1' } },
      { conversationId: c(6), detected: null },
      { conversationId: c(8), detected: null }, // no item, nothing detected
      { conversationId: c(9), detected: detection(m(9), { isFeedback: false }) }, // no item, not feedback
      { conversationId: 999_999, detected: detection(m(9)) }, // merged away meanwhile
      { conversationId: c(10), detected: detection(m(10), { tags: [model('retention', 0.8)] }), summary: { text: 'retention question', version: 's2' } },
      { conversationId: c(11), detected: null },
      { conversationId: c(12), detected: detection(m(12), { tags: [model('okta'), rule('area:auth', 'r3')] }) },
      { conversationId: c(13), detected: detection(m(13), { tags: [] }) }, // new, no tags
      { conversationId: c(11), detected: detection(m(11), { kind: 'praise', sentiment: 'positive' }) }, // again: a new item
      { conversationId: c(4), detected: detection(m(4)) }, // again: a new item after its deletion
      { conversationId: c(7), detected: detection(m(7), { tags: [rule('area:cli')] }) }, // again: tags replaced
      { conversationId: c(14), detected: detection(m(14)) },
    ];
  }

  it('a mixed batch gives what saving one by one gave, row for row', async () => {
    const ref = await runWith(referenceSaveDetections, 15, mixedSetup, mixedBatch);
    const got = await runWith(saveDetections, 15, mixedSetup, mixedBatch);
    expect(got.result).toEqual(ref.result);
    expect(got.rows).toEqual(ref.rows);

    // And what that means, spelt out.
    const { db, conv } = got.store;
    const itemOf = async (k: number) => db.selectFrom('feedback_items').selectAll().where('conversation_id', '=', conv(k).id).executeTakeFirst();
    const tagsOf = async (id: number) =>
      (await db.selectFrom('tags').select(['tag', 'provenance', 'state']).where('item_id', '=', id).orderBy('tag').orderBy('provenance').execute()).map((t) => `${t.tag}/${t.provenance}/${t.state}`);
    const r = got.result;
    expect(await itemOf(0)).toMatchObject({ kind: 'complaint', kind_confidence: 0.51, sentiment: 'neutral', model_version: 'test-2', status: 'auto', updated_at: T0 + 100 });
    expect(await tagsOf(r.get(conv(0).id)!)).toEqual(['area:sso/rule/active', 'okta/model/active']);
    const confirmed = (await itemOf(1))!;
    expect(confirmed).toMatchObject({ kind: 'bug', status: 'confirmed', summary: 'confirmed one' });
    expect(await tagsOf(confirmed.id)).toEqual(['area:auth/human/active', 'area:billing/rule/active', 'okta/human/removed']);
    expect(await tagsOf((await itemOf(2))!.id)).toEqual(['area:auth/human/active', 'area:docs/rule/active', 'okta/human/active']);
    expect(r.get(conv(3).id)).toBeNull();
    expect(await itemOf(3)).toMatchObject({ status: 'not_feedback', summary: null });
    expect(r.get(conv(5).id)).toBe((await itemOf(5))!.id);
    expect(await itemOf(5)).toMatchObject({ summary: 'kept by its human tag' });
    expect(await tagsOf(r.get(conv(5).id)!)).toEqual(['customer-impact/human/active']);
    expect(r.get(conv(6).id)).toBe((await itemOf(6))!.id);
    expect(r.get(999_999)).toBeNull();
    expect(await db.selectFrom('feedback_items').select('id').where('conversation_id', '=', 999_999).executeTakeFirst()).toBeUndefined();
    expect(await tagsOf(r.get(conv(7).id)!)).toEqual(['area:cli/rule/active']);
    expect(await itemOf(7)).toMatchObject({ summary: 'CLI breaks on Windows', summary_version: 's1' });
    expect(await itemOf(10)).toMatchObject({ summary: 'retention question', summary_version: 's2', updated_at: T0 + 100 });
    expect(await tagsOf(r.get(conv(12).id)!)).toEqual(['area:auth/rule/active', 'okta/human/removed']);
    expect(r.get(conv(8).id)).toBeNull();
    expect(r.get(conv(9).id)).toBeNull();
    // 4 was deleted with its placement, then came back as a new item; 5 (human-tagged) kept its placement.
    expect(await itemOf(4)).toMatchObject({ status: 'auto', created_at: T0 + 100 });
    expect((await db.selectFrom('cluster_items').select('item_id').execute()).map((p) => p.item_id)).toEqual([r.get(conv(5).id)]);
  });

  it('a batch larger than one statement holds gives the same rows', async () => {
    const n = 1300;
    // Every third conversation already has an item, every fifth of those a human removal; every
    // seventh conversation is not feedback this time.
    const setup = async (s: Store) => {
      const first: DetectionToSave[] = [];
      for (let k = 0; k < n; k += 3) first.push({ conversationId: s.conv(k).id, detected: detection(s.conv(k).msg) });
      const ids = await referenceSaveDetections(s.db, first, T0);
      for (let k = 0; k < n; k += 15) await removeTag(s.db, ids.get(s.conv(k).id)!, 'okta', 'devrel', T0 + 1);
    };
    const batch = (s: Store) =>
      Array.from({ length: n }, (_, k): DetectionToSave => ({
        conversationId: s.conv(k).id,
        detected: k % 7 === 0 ? null : detection(s.conv(k).msg, { kind: k % 2 ? 'bug' : 'question', tags: [rule('area:auth', 'r2'), model('okta', 0.7), model(`t${k % 11}`, 0.5)] }),
        summary: k % 4 === 0 ? { text: `summary ${k}`, version: 's1' } : null,
      }));
    const ref = await runWith(referenceSaveDetections, n, setup, batch);
    const got = await runWith(saveDetections, n, setup, batch);
    expect(got.result).toEqual(ref.result);
    expect(got.rows).toEqual(ref.rows);
    expect((got.rows as { tags: unknown[] }).tags.length).toBeGreaterThan(2000);
  }, 120_000);

  it('saveDetection saves one conversation as the batch does', async () => {
    const opened = await dialect.fresh();
    const s = await seed(opened, 2);
    const id = await saveDetection(s.db, s.conv(0).id, detection(s.conv(0).msg), T0);
    expect(id).toEqual(expect.any(Number));
    expect(await saveDetection(s.db, s.conv(0).id, detection(s.conv(0).msg, { kind: 'question' }), T0 + 1)).toBe(id);
    expect(await saveDetection(s.db, 999_999, detection(s.conv(0).msg), T0 + 1)).toBeNull();
    expect(await saveDetection(s.db, s.conv(0).id, null, T0 + 2)).toBeNull();
    expect(await s.db.selectFrom('feedback_items').select('id').execute()).toEqual([]);
    expect(await s.db.selectFrom('tags').select('id').execute()).toEqual([]);
  });
});
