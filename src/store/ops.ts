// Figures for operations (/metrics): per source, what is stored and how its last pull went.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface SourceFigures {
  name: string;
  platform: string;
  messages: number;
  quarantined: number;
  lastPullAt: number | null;
  lastError: string | null;
}

export async function sourceFigures(db: Kysely<Database>): Promise<SourceFigures[]> {
  const sources = await db.selectFrom('sources').select(['id', 'name', 'platform', 'last_pull_at', 'last_error']).orderBy('name').execute();
  const messages = await db
    .selectFrom('messages')
    .select((eb) => ['source_id', eb.fn.countAll<number>().as('n')])
    .groupBy('source_id')
    .execute();
  const quarantined = await db
    .selectFrom('quarantine')
    .select((eb) => ['source_id', eb.fn.countAll<number>().as('n')])
    .groupBy('source_id')
    .execute();
  const m = new Map(messages.map((r) => [r.source_id, Number(r.n)]));
  const q = new Map(quarantined.map((r) => [r.source_id, Number(r.n)]));
  return sources.map((s) => ({
    name: s.name,
    platform: s.platform,
    messages: m.get(s.id) ?? 0,
    quarantined: q.get(s.id) ?? 0,
    lastPullAt: s.last_pull_at === null ? null : Number(s.last_pull_at),
    lastError: s.last_error,
  }));
}
