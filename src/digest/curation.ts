// A curator's decisions on one edition, stored as its `curation` JSON and applied at render time:
// hidden clusters, a pinned order, edited titles, and a "why this matters now" note per entry.
// Pure: the edition's JSON and the curation in, the edition as it will be rendered out.
import { z } from 'zod';
import type { EditionJson, SectionEntry } from '../model/digest.js';
import type { DigestCluster } from '../model/index.js';

const clusterId = z.string().min(1).max(100);
export const CurationSchema = z
  .object({
    /** Cluster ids left out of this edition (entries and sections). */
    hidden: z.array(clusterId).default([]),
    /** Cluster ids shown first, in this order; the rest follow by score. */
    order: z.array(clusterId).default([]),
    /** Edited titles by cluster id. */
    titles: z.record(clusterId, z.string().trim().min(1).max(300)).default({}),
    /** "Why this matters now", by cluster id. */
    notes: z.record(clusterId, z.string().trim().min(1).max(2000)).default({}),
  })
  .strict();
export type Curation = z.infer<typeof CurationSchema>;

export const EMPTY_CURATION: Curation = { hidden: [], order: [], titles: {}, notes: {} };

/** Parses stored or submitted curation; throws a clear error on anything else. */
export function parseCuration(value: unknown): Curation {
  const raw = typeof value === 'string' ? (JSON.parse(value) as unknown) : (value ?? {});
  const r = CurationSchema.safeParse(raw);
  if (!r.success) throw new Error(`invalid curation: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

export type CuratedCluster = DigestCluster & { note: string | null; pinned: boolean; originalTitle: string | null };
export type CuratedEdition = Omit<EditionJson, 'clusters'> & { clusters: CuratedCluster[]; hiddenCount: number };

export function applyCuration(e: EditionJson, c: Curation): CuratedEdition {
  const hidden = new Set(c.hidden);
  const title = (id: string, t: string) => c.titles[id] ?? t;
  const visible = e.clusters.filter((x) => !hidden.has(x.id));
  const pinnedIndex = new Map(c.order.map((id, i) => [id, i] as const));
  const pinned = visible.filter((x) => pinnedIndex.has(x.id)).sort((a, b) => pinnedIndex.get(a.id)! - pinnedIndex.get(b.id)!);
  const rest = visible.filter((x) => !pinnedIndex.has(x.id));
  const clusters: CuratedCluster[] = [...pinned, ...rest].map((x) => ({
    ...x,
    title: title(x.id, x.title),
    originalTitle: c.titles[x.id] !== undefined && c.titles[x.id] !== x.title ? x.title : null,
    note: c.notes[x.id] ?? null,
    pinned: pinnedIndex.has(x.id),
  }));
  const section = (xs: SectionEntry[]) => xs.filter((x) => !hidden.has(x.id)).map((x) => ({ ...x, title: title(x.id, x.title) }));
  const s = e.edition.sections;
  return {
    ...e,
    clusters,
    hiddenCount: e.clusters.length - visible.length,
    edition: { ...e.edition, sections: { new: section(s.new), rising: section(s.rising), resurfaced: section(s.resurfaced), quiet: section(s.quiet) } },
  };
}
