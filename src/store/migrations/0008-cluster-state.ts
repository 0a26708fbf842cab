// Migration 0008: the clusters' state version as a counter (one row) that triggers move on every change
// the cluster stage's in-memory index holds: a cluster created or removed, an item placed or removed, an
// item moved to another cluster, pinned or unpinned. Title, summary, kind and first/last seen do not move
// it. Reading it costs one row, where counting and summing both cluster tables cost a scan per batch.
//
// SQLite: row triggers (one writer at a time: the counter moves inside the writing transaction).
// PostgreSQL: deferred constraint triggers, and the counter moves once per transaction, when it commits
// (applyPlacements in store/cluster-apply.ts moves it earlier with SET CONSTRAINTS ... IMMEDIATE, to read its own version). A
// transaction that removes a placement (an enrich or ingest batch, a human's curation) so takes the
// counter's row lock as its last act: it never holds that lock while waiting for another, and a cluster
// worker holding items FOR SHARE cannot wait on it in a cycle. The transaction-local setting
// gleaner.cluster_state_bumped keeps it to one row update per transaction (a placement batch inserts
// hundreds of rows). TRUNCATE, which fires no row triggers, moves it by a statement trigger.
// The counter row is re-created by the first change if it was removed (a test emptying every table).
import { SqliteAdapter, sql, type Kysely, type Migration } from 'kysely';

export const m0008: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('cluster_state')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('version', 'bigint', (c) => c.notNull())
      .execute();
    await db.insertInto('cluster_state').values({ id: 1, version: 0 }).execute();
    if (db.getExecutor().adapter instanceof SqliteAdapter) {
      const bump = sql.raw('INSERT INTO cluster_state (id, version) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET version = version + 1');
      await sql`CREATE TRIGGER cluster_state_clusters_insert AFTER INSERT ON clusters BEGIN ${bump}; END`.execute(db);
      await sql`CREATE TRIGGER cluster_state_clusters_delete AFTER DELETE ON clusters BEGIN ${bump}; END`.execute(db);
      await sql`CREATE TRIGGER cluster_state_cluster_items_insert AFTER INSERT ON cluster_items BEGIN ${bump}; END`.execute(db);
      await sql`CREATE TRIGGER cluster_state_cluster_items_delete AFTER DELETE ON cluster_items BEGIN ${bump}; END`.execute(db);
      await sql`CREATE TRIGGER cluster_state_cluster_items_update AFTER UPDATE OF item_id, cluster_id, pinned ON cluster_items
        WHEN OLD.item_id IS NOT NEW.item_id OR OLD.cluster_id IS NOT NEW.cluster_id OR OLD.pinned IS NOT NEW.pinned
        BEGIN ${bump}; END`.execute(db);
      return;
    }
    await sql`CREATE FUNCTION cluster_state_bump() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('gleaner.cluster_state_bumped', true) IS DISTINCT FROM 'on' THEN
          INSERT INTO cluster_state (id, version) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET version = cluster_state.version + 1;
          PERFORM set_config('gleaner.cluster_state_bumped', 'on', true);
        END IF;
        RETURN NULL;
      END
    $$`.execute(db);
    // Not queued at all once this transaction moved the counter (WHEN is evaluated at once, not deferred).
    const pending = sql.raw(`current_setting('gleaner.cluster_state_bumped', true) IS DISTINCT FROM 'on'`);
    await sql`CREATE CONSTRAINT TRIGGER cluster_state_clusters AFTER INSERT OR DELETE ON clusters
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (${pending}) EXECUTE FUNCTION cluster_state_bump()`.execute(db);
    await sql`CREATE CONSTRAINT TRIGGER cluster_state_cluster_items AFTER INSERT OR DELETE ON cluster_items
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (${pending}) EXECUTE FUNCTION cluster_state_bump()`.execute(db);
    await sql`CREATE CONSTRAINT TRIGGER cluster_state_cluster_items_move AFTER UPDATE OF item_id, cluster_id, pinned ON cluster_items
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
      WHEN ((OLD.item_id, OLD.cluster_id, OLD.pinned) IS DISTINCT FROM (NEW.item_id, NEW.cluster_id, NEW.pinned) AND ${pending})
      EXECUTE FUNCTION cluster_state_bump()`.execute(db);
    await sql`CREATE TRIGGER cluster_state_clusters_truncate AFTER TRUNCATE ON clusters FOR EACH STATEMENT EXECUTE FUNCTION cluster_state_bump()`.execute(db);
    await sql`CREATE TRIGGER cluster_state_cluster_items_truncate AFTER TRUNCATE ON cluster_items FOR EACH STATEMENT EXECUTE FUNCTION cluster_state_bump()`.execute(db);
  },
};
