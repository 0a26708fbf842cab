// The clusters' state version (a counter kept by triggers, migration 0008) on SQLite and PostgreSQL:
// every placement change moves it (a cluster created or removed, an item placed, moved, pinned,
// unpinned or removed, by a worker or by a human's curation); a title or summary does not. The version
// applyPlacements returns is the one the next read sees, unless someone else changed a placement meanwhile.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { clusterStateVersion, firstClusterMembers } from '../../src/store/clusters.js';
import { applyDescriptions, applyPlacements } from '../../src/store/cluster-apply.js';
import { markNotFeedback, mergeClusters, moveItem, renameCluster, splitCluster } from '../../src/store/curation.js';
import { copyStore } from '../../src/store/copy.js';
import { openDb, type DbKind, type OpenedDb } from '../../src/store/db.js';
import { freshStore } from '../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const T0 = Date.UTC(2024, 0, 10, 12, 0, 0);

interface StoreUnderTest {
  open(): Promise<OpenedDb>;
  url(): string | undefined;
  drop(): Promise<void>;
}

function sqliteStore(): StoreUnderTest {
  return { open: () => freshStore(), url: () => undefined, drop: async () => {} };
}

function postgresStore(): StoreUnderTest {
  let database: TestDatabase | undefined;
  return {
    async open() {
      database = await createTestDatabase(inject('pgUrl'));
      return openDb(database.url, { poolSize: 4 });
    },
    url: () => database?.url,
    drop: async () => database?.drop(),
  };
}

const implementations: Array<[DbKind, () => StoreUnderTest]> = [
  ['sqlite', sqliteStore],
  ['postgres', postgresStore],
];

describe.each(implementations)('cluster state version: %s', (kind, make) => {
  const impl = make();
  let store: OpenedDb;
  let nextItem = 1;
  const version = () => clusterStateVersion(store.db);
  /** Feedback items (no conversation needed: the cluster tables are what is under test). */
  const items = async (n: number): Promise<number[]> => {
    const ids: number[] = [];
    for (let i = 0; i < n; i++, nextItem++) {
      await store.db
        .insertInto('feedback_items')
        .values({
          id: nextItem,
          conversation_id: nextItem,
          message_id: nextItem,
          kind: 'bug',
          kind_confidence: 0.9,
          sentiment: null,
          status: 'auto',
          model_version: 't',
          created_at: T0,
          updated_at: T0,
        })
        .execute();
      ids.push(nextItem);
    }
    return ids;
  };
  /** Runs `change` and says whether the version moved. */
  const moves = async (change: () => Promise<unknown>): Promise<boolean> => {
    const before = await version();
    await change();
    return (await version()) !== before;
  };

  beforeAll(async () => {
    store = await impl.open();
    expect(store.kind).toBe(kind);
  });
  afterAll(async () => {
    await store?.close();
    await impl.drop();
  });

  it('moves on every placement change, not on titles or summaries', async () => {
    const [a, b, c] = await items(3);
    let ids = new Map<number, number>();
    // A new cluster with its first item (a worker).
    expect(await moves(async () => (ids = (await applyPlacements(store.db, { place: [{ itemId: a!, clusterKey: -1 }] }, T0)).ids))).toBe(true);
    const c1 = ids.get(-1)!;
    // A new placement in an existing cluster.
    expect(await moves(() => applyPlacements(store.db, { place: [{ itemId: b!, clusterKey: c1 }] }, T0))).toBe(true);
    // A placement that already exists (the item keeps its cluster): nothing stored, nothing moves.
    expect(await moves(() => applyPlacements(store.db, { place: [{ itemId: b!, clusterKey: c1 }] }, T0))).toBe(false);
    // A new cluster alone (a human's split makes one, and moves and pins items into it).
    let c2 = 0;
    expect(
      await moves(
        async () =>
          (c2 = (
            await store.db
              .insertInto('clusters')
              .values({ title: 'empty', pinned_title: 0, summary: null, kind: null, first_seen: null, last_seen: null, created_at: T0, updated_at: T0 })
              .returning('id')
              .executeTakeFirstOrThrow()
          ).id),
      ),
    ).toBe(true);
    // A move: cluster_id updated (the human's move is an upsert on the item).
    expect(await moves(() => moveItem(store.db, b!, c2, T0 + 1))).toBe(true);
    expect(await moves(() => store.db.updateTable('cluster_items').set({ cluster_id: c1 }).where('item_id', '=', b!).execute())).toBe(true);
    // Pin and unpin.
    expect(await moves(() => store.db.updateTable('cluster_items').set({ pinned: 1 }).where('item_id', '=', a!).execute())).toBe(true);
    expect(await moves(() => store.db.updateTable('cluster_items').set({ pinned: 0 }).where('item_id', '=', a!).execute())).toBe(true);
    // An update that changes no value: no placement changed.
    expect(await moves(() => store.db.updateTable('cluster_items').set({ pinned: 0, cluster_id: c1 }).where('item_id', '=', a!).execute())).toBe(false);
    // Titles, summaries, kind, first/last seen: nothing the index holds.
    expect(await moves(() => renameCluster(store.db, c1, 'Okta login loop', true, T0 + 2))).toBe(false);
    expect(await moves(() => applyDescriptions(store.db, new Map([[c1, { title: 'x', summary: 'a summary', kind: 'bug', firstSeen: T0, lastSeen: T0 + 5 }]]), T0 + 3))).toBe(false);
    expect(await moves(() => applyDescriptions(store.db, new Map([[c1, { firstSeen: T0 - 5, lastSeen: T0 + 9 }]]), T0 + 4))).toBe(false);
    expect(
      await moves(() =>
        store.db
          .updateTable('clusters')
          .set({ pinned_title: 0, updated_at: T0 + 5 })
          .execute(),
      ),
    ).toBe(false);
    // A human's split (a new cluster, items moved and pinned) and merge (items moved, a cluster deleted).
    await applyPlacements(store.db, { place: [{ itemId: c!, clusterKey: c1 }] }, T0);
    let c3 = 0;
    expect(await moves(async () => (c3 = await splitCluster(store.db, c1, [c!], null, T0 + 6)))).toBe(true);
    expect(await moves(() => mergeClusters(store.db, c1, c3, T0 + 7))).toBe(true);
    // An item removed (marked not feedback: its placement goes).
    expect(await moves(() => markNotFeedback(store.db, c!, 'devrel', T0 + 8))).toBe(true);
    // Removing a placement that does not exist changes nothing.
    expect(await moves(() => store.db.deleteFrom('cluster_items').where('item_id', '=', c!).execute())).toBe(false);
    // A cluster deleted on its own (c2 is empty since b moved back).
    expect(await moves(() => store.db.deleteFrom('clusters').where('id', '=', c2).execute())).toBe(true);
    expect(await moves(() => store.db.deleteFrom('cluster_items').where('item_id', '=', a!).execute())).toBe(true);
  });

  it('a rolled-back change leaves it as it was', async () => {
    const [a] = await items(1);
    const before = await version();
    await expect(
      store.db.transaction().execute(async (trx) => {
        await trx.insertInto('clusters').values({ title: 't', pinned_title: 0, summary: null, kind: null, first_seen: null, last_seen: null, created_at: T0, updated_at: T0 }).execute();
        await trx.insertInto('cluster_items').values({ cluster_id: 1, item_id: a!, pinned: 0 }).execute();
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await version()).toBe(before);
  });

  it('applyPlacements returns the version the next read sees, and refuses a stale one', async () => {
    const [a, b, c] = await items(3);
    const v0 = await version();
    const first = await applyPlacements(
      store.db,
      {
        place: [
          { itemId: a!, clusterKey: -1 },
          { itemId: b!, clusterKey: -1 },
        ],
      },
      T0,
      v0,
    );
    expect(first.version).not.toBe(v0);
    expect(await version()).toBe(first.version);
    // Nothing to store (already placed): the version stays.
    const again = await applyPlacements(store.db, { place: [{ itemId: a!, clusterKey: first.ids.get(-1)! }] }, T0, first.version);
    expect(again.version).toBe(first.version);
    expect(await version()).toBe(first.version);
    // Someone else placed an item since: the caller's version is stale.
    await moveItem(store.db, c!, first.ids.get(-1)!, T0);
    await expect(applyPlacements(store.db, { place: [{ itemId: c!, clusterKey: -1 }] }, T0, first.version)).rejects.toThrow(/clusters changed/);
  });

  // PostgreSQL only (concurrent writers; a copy into PostgreSQL): registered on that store alone, not skipped on SQLite.
  if (kind === 'postgres')
    it('a placement removed by another transaction during applyPlacements is not taken as seen', async () => {
      const [a, b] = await items(2);
      const v0 = (await applyPlacements(store.db, { place: [{ itemId: a!, clusterKey: -1 }] }, T0)).version;
      // Another transaction (as an enrich batch would) removes a's placement and holds b, which the
      // cluster worker is about to place: the worker reads the version, waits for b, and the removal
      // commits before the worker's own change.
      const other = new pg.Client({ connectionString: impl.url() });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query('DELETE FROM cluster_items WHERE item_id = $1', [a]);
        await other.query('UPDATE feedback_items SET updated_at = updated_at + 1 WHERE id = $1', [b]);
        const saving = applyPlacements(store.db, { place: [{ itemId: b!, clusterKey: -1 }] }, T0, v0);
        await new Promise((r) => setTimeout(r, 300));
        await other.query('COMMIT');
        const saved = await saving;
        // The worker's index does not hold the removal: the next resync must see a change.
        expect(saved.version).not.toBe(await version());
      } finally {
        await other.end();
      }
    });

  if (kind === 'postgres')
    it('a copy into PostgreSQL: the target counter does not make it "not empty", and moves with the copied clusters', async () => {
      const src = await freshStore();
      const target = await createTestDatabase(inject('pgUrl'));
      const dst = await openDb(target.url);
      try {
        await src.db
          .insertInto('feedback_items')
          .values({ id: 1, conversation_id: 1, message_id: 1, kind: 'bug', kind_confidence: 0.9, sentiment: null, status: 'auto', model_version: 't', created_at: T0, updated_at: T0 })
          .execute();
        await applyPlacements(src.db, { place: [{ itemId: 1, clusterKey: -1 }] }, T0);
        const before = await clusterStateVersion(dst.db);
        const report = await copyStore(src.db, dst.db);
        expect(report.tables.map((t) => t.table)).not.toContain('cluster_state');
        expect(await dst.db.selectFrom('cluster_items').select(['cluster_id', 'item_id']).execute()).toEqual([{ cluster_id: 1, item_id: 1 }]);
        expect(await dst.db.selectFrom('cluster_state').selectAll().execute()).toHaveLength(1);
        expect(await clusterStateVersion(dst.db)).not.toBe(before);
      } finally {
        await dst.close();
        await src.close();
        await target.drop();
      }
    });

  it('writes need texts and descriptions and reads first members a chunk at a time, as one row at a time did', async () => {
    // Eleven new clusters of one item each, and three more items into the first one; every item's need text.
    const solo = await items(11);
    const more = await items(3);
    const needTexts = new Map([...solo, ...more].map((id) => [id, `need of ${id}: "quoted" \u00e9 \ud83d\ude00`]));
    const { ids } = await applyPlacements(store.db, { place: solo.map((itemId, i) => ({ itemId, clusterKey: -1 - i })), needTexts: new Map(solo.map((id) => [id, needTexts.get(id)!])) }, T0);
    const clusters = solo.map((_, i) => ids.get(-1 - i)!);
    const first = clusters[0]!;
    await applyPlacements(store.db, { place: more.map((itemId) => ({ itemId, clusterKey: first })), needTexts: new Map(more.map((id) => [id, needTexts.get(id)!])) }, T0);
    const stored = await store.db
      .selectFrom('feedback_items')
      .select(['id', 'need_text'])
      .where('id', 'in', [...needTexts.keys()])
      .execute();
    expect(new Map(stored.map((r) => [r.id, r.need_text]))).toEqual(needTexts);

    // The first members: lowest ids first, at most `limit`, in the order asked; a cluster with none is left out.
    const members = await firstClusterMembers(store.db, [clusters[2]!, 999_999, first, clusters[2]!], 3);
    expect([...members]).toEqual([
      [clusters[2], [solo[2]]],
      [first, [solo[0], more[0], more[1]]],
    ]);

    // Nine described (one with a pinned title), two with only their first/last seen moved.
    await renameCluster(store.db, clusters[1]!, 'Pinned by a human', true, T0 + 1);
    const described = new Map<number, { title: string; summary: string | null; kind: 'bug' | null; firstSeen: number; lastSeen: number } | { firstSeen: number; lastSeen: number }>();
    clusters.slice(0, 9).forEach((c, i) => described.set(c, { title: `Title ${i}`, summary: i % 2 ? null : `Summary ${i}.`, kind: i % 3 ? 'bug' : null, firstSeen: T0 + i, lastSeen: T0 + 100 + i }));
    clusters.slice(9).forEach((c, i) => described.set(c, { firstSeen: T0 - 1 - i, lastSeen: T0 + 200 + i }));
    await applyDescriptions(store.db, described, T0 + 7);
    const rows = await store.db.selectFrom('clusters').select(['id', 'title', 'summary', 'kind', 'first_seen', 'last_seen', 'updated_at']).where('id', 'in', clusters).orderBy('id').execute();
    expect(rows.map((r) => ({ ...r, first_seen: Number(r.first_seen), last_seen: Number(r.last_seen), updated_at: Number(r.updated_at) }))).toEqual(
      clusters.map((id, i) => {
        const d = described.get(id)!;
        const full = 'title' in d;
        return {
          id,
          title: i === 1 ? 'Pinned by a human' : full ? d.title : '(new cluster)',
          summary: full ? d.summary : null,
          kind: full ? d.kind : null,
          first_seen: d.firstSeen,
          last_seen: d.lastSeen,
          updated_at: T0 + 7,
        };
      }),
    );
  });
});
