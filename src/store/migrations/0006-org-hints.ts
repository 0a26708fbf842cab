// Migration 0006: what the platforms say about where a person belongs (a Slack Connect author's team id,
// a Discord member's roles) on each identity; on each person the rule that placed them in their org, and
// when that was resolved (null: not yet, or an identity's hints changed since).
import type { Kysely, Migration } from 'kysely';

export const m0006: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('identities').addColumn('org_hints', 'text').execute();
    await db.schema.alterTable('people').addColumn('org_evidence', 'text').execute();
    await db.schema.alterTable('people').addColumn('org_resolved_at', 'bigint').execute();
    await db.schema.createIndex('people_org_resolved').on('people').column('org_resolved_at').execute();
  },
};
