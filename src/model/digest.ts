// What the digest's plans work with and return (src/pipeline/digest-plan.ts, src/pipeline/edition-plan.ts):
// the store's counts and coverage for a period, a team's filter, and the edition as stored.
import type { DigestCluster, DigestJson } from './index.js';

/** A team's filter (config `teams[].filter`): every key must match, any of its values. */
export interface EditionFilter {
  kind?: string[] | undefined;
  tag?: string[] | undefined;
  area?: string[] | undefined;
  segment?: string[] | undefined;
  channel?: string[] | undefined;
}

export interface StoreStats {
  messages: number;
  conversations: number;
  feedbackItems: number;
  clusters: number;
  quarantined: number;
  sources: Array<{
    name: string;
    platform: string;
    channels: string[];
    messages: number;
    from: number | null;
    to: number | null;
    gaps: Array<{ channel: string | null; from: number; to: number | null; reason: string }>;
  }>;
}

export interface CoverageRecord {
  sources: Array<{
    name: string;
    platform: string;
    status: string;
    lastPullAt: number | null;
    lastError: string | null;
    channels: Array<{ name: string; firstAt: number | null; lastAt: number | null; messages: number; conversations: number; feedbackItems: number; people: number }>;
    gaps: Array<{ channel: string | null; from: number; to: number | null; reason: string }>;
    rateLimitedMs: number;
    rateLimitedPages: number;
    failures: Array<{ at: number; detail: string | null }>;
  }>;
}

export interface SectionEntry {
  id: string;
  title: string;
  kind: DigestCluster['kind'];
  trend: DigestCluster['trend'];
  reporters: number;
  why: string | null;
  firstSeen: string;
  lastSeen: string;
}

export interface ChannelActivity {
  source: string;
  platform: string;
  channel: string;
  messages: number;
  conversations: number;
  feedbackItems: number;
  people: number;
}

export interface Coverage {
  channelsCovered: number;
  channelsSilent: number;
  sources: Array<{ name: string; platform: string; status: string; lastPullAt: string | null; channels: number }>;
  gaps: Array<{ source: string; channel: string | null; from: string; to: string | null; reason: string }>;
  rateLimits: Array<{ source: string; waitedMs: number; pages: number }>;
  failed: Array<{ source: string; error: string; at: string | null }>;
}

export interface EditionExtras {
  version: 1;
  team: string;
  filter: EditionFilter;
  /** Clusters active in the week that matched the team's filter (before `top`). */
  matching: number;
  sections: { new: SectionEntry[]; rising: SectionEntry[]; resurfaced: SectionEntry[]; quiet: SectionEntry[] };
  activity: ChannelActivity[];
  coverage: Coverage;
}

/** What an edition stores: the digest contract plus the edition's own parts. */
export type EditionJson = DigestJson & { edition: EditionExtras };

export function isEditionJson(x: unknown): x is EditionJson {
  return typeof x === 'object' && x !== null && 'edition' in x && 'clusters' in x;
}
