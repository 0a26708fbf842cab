// Sources: status, last pull, cursors, channel coverage, gaps, errors, quarantined input.
import type { Db } from './tables.js';

// Sources -----------------------------------------------------------------------------------------

export interface SourceView {
  id: number;
  name: string;
  platform: string;
  status: string;
  lastPullAt: number | null;
  lastError: string | null;
  checkpoints: Array<{ key: string; cursor: string; updatedAt: number }>;
  channels: Array<{ name: string; firstAt: number | null; lastAt: number | null }>;
  gaps: Array<{ channel: string | null; from: number; to: number | null; reason: string }>;
  quarantine: Array<{ id: number; location: string; reason: string; excerpt: string; createdAt: number }>;
}

export async function listSources(db: Db, quarantinePerSource = 20): Promise<{ sources: SourceView[]; unattributedQuarantine: SourceView['quarantine'] }> {
  const sources = await db.selectFrom('sources').selectAll().orderBy('name').execute();
  const out: SourceView[] = [];
  const q = (sourceId: number | null) => {
    let qq = db.selectFrom('quarantine').select(['id', 'location', 'reason', 'excerpt', 'created_at']).orderBy('id', 'desc').limit(quarantinePerSource);
    qq = sourceId == null ? qq.where('source_id', 'is', null) : qq.where('source_id', '=', sourceId);
    return qq.execute().then((rows) => rows.map((r) => ({ id: r.id, location: r.location, reason: r.reason, excerpt: r.excerpt, createdAt: Number(r.created_at) })));
  };
  for (const s of sources) {
    const cps = await db.selectFrom('checkpoints').select(['key', 'cursor', 'updated_at']).where('source_id', '=', s.id).orderBy('key').execute();
    const chs = await db.selectFrom('channels').select(['name', 'external_id', 'first_at', 'last_at']).where('source_id', '=', s.id).orderBy('name').execute();
    const gaps = await db.selectFrom('gaps').select(['channel', 'from_at', 'to_at', 'reason']).where('source_id', '=', s.id).orderBy('from_at').execute();
    out.push({
      id: s.id,
      name: s.name,
      platform: s.platform,
      status: s.status,
      lastPullAt: s.last_pull_at == null ? null : Number(s.last_pull_at),
      lastError: s.last_error,
      checkpoints: cps.map((c) => ({ key: c.key, cursor: c.cursor, updatedAt: Number(c.updated_at) })),
      channels: chs.map((c) => ({ name: c.name ?? c.external_id, firstAt: c.first_at == null ? null : Number(c.first_at), lastAt: c.last_at == null ? null : Number(c.last_at) })),
      gaps: gaps.map((g) => ({ channel: g.channel, from: Number(g.from_at), to: g.to_at == null ? null : Number(g.to_at), reason: g.reason })),
      quarantine: await q(s.id),
    });
  }
  return { sources: out, unattributedQuarantine: await q(null) };
}
