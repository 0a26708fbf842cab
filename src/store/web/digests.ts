// Digests: the drafts and the archive, one edition.
import type { Db } from './tables.js';

// Digests -----------------------------------------------------------------------------------------

export interface DigestRow {
  id: number;
  team: string;
  periodStart: number;
  periodEnd: number;
  status: string;
  createdAt: number;
  approvedAt: number | null;
  approvedBy: string | null;
  sentAt: number | null;
}

function toDigestRow(r: {
  id: number;
  team: string;
  period_start: number;
  period_end: number;
  status: string;
  created_at: number;
  approved_at: number | null;
  approved_by: string | null;
  sent_at: number | null;
}): DigestRow {
  const n = (x: number | null) => (x == null ? null : Number(x));
  return {
    id: r.id,
    team: r.team,
    periodStart: Number(r.period_start),
    periodEnd: Number(r.period_end),
    status: r.status,
    createdAt: Number(r.created_at),
    approvedAt: n(r.approved_at),
    approvedBy: r.approved_by,
    sentAt: n(r.sent_at),
  };
}

const DIGEST_COLUMNS = ['id', 'team', 'period_start', 'period_end', 'status', 'created_at', 'approved_at', 'approved_by', 'sent_at'] as const;

export async function listDigests(db: Db): Promise<{ drafts: DigestRow[]; archive: DigestRow[] }> {
  const rows = await db.selectFrom('digests').select(DIGEST_COLUMNS).orderBy('period_start', 'desc').orderBy('team').limit(500).execute();
  const all = rows.map(toDigestRow);
  // Drafts are what still needs a person: not yet approved, approved but not out, or a failed or unknown send.
  const archived = new Set(['sent', 'sending']);
  return { drafts: all.filter((d) => !archived.has(d.status)), archive: all.filter((d) => archived.has(d.status)) };
}

export async function getDigest(db: Db, id: number): Promise<(DigestRow & { html: string; text: string; json: string; curation: string | null }) | null> {
  const r = await db.selectFrom('digests').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? { ...toDigestRow(r), html: r.html, text: r.text, json: r.json, curation: r.curation } : null;
}
