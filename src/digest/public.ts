// The public edition: a team's approved edition for the community itself (`teams[].public: true`, or
// `gleaner digest --public`). It carries no names, emails, customer orgs or private channels: titles
// and quotes are scrubbed of every person's and org's name, handle and address the store and config
// know, of email addresses and of @mentions; quotes come only from public channels (`sources[].public`,
// default none) and from people who are not staff; channel lists name public channels only (the staff
// org's own name, usually the product's, stays); the
// sentence with its customer names, the summary, the score's evidence and the coverage are left out.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Config } from '../config/index.js';
import type { EditionRow } from '../store/digests.js';
import type { EditionJson } from '../model/digest.js';
import { applyCuration, EMPTY_CURATION, parseCuration } from './curation.js';
import { knownNames, quoteCandidates, type QuoteCandidate } from '../store/public.js';
import { getResolution } from '../store/loop.js';
import { sentenceExcerpt } from '../pipeline/own-words.js';
import { weekLabel } from '../pipeline/period.js';
import { safeUrl } from './render.js';

export interface PublicQuote {
  text: string;
  channel: string;
  url: string | null;
  at: string;
}

export interface PublicEntry {
  title: string;
  kind: string | null;
  trend: string | null;
  reporters: number;
  reportersToDate: number | null;
  channels: string[];
  firstSeen: string;
  lastSeen: string;
  quotes: PublicQuote[];
  resolution: { text: string; url: string | null } | null;
}

export interface PublicEdition {
  id: number;
  team: string;
  week: string;
  period: { start: string; end: string };
  publishedAt: string;
  entries: PublicEntry[];
}

/** Quotes per entry, and messages read per entry to find them and its public channels. */
const QUOTES = 2;
const MESSAGES_READ = 200;

/** Whether a source's channel is public by the config (`sources[].public`: true, or a list of channel names/ids). */
export function isPublicChannel(config: Config, source: string, channel: { externalId: string; name: string | null }): boolean {
  const p = config.sources.find((s) => s.name === source)?.public;
  if (p === true) return true;
  if (!Array.isArray(p)) return false;
  const norm = (s: string) => s.trim().toLowerCase().replace(/^#/, '');
  const names = [channel.externalId, channel.name ?? ''].filter(Boolean).map(norm);
  return p.some((x) => names.includes(norm(x)));
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
// Slack <@U…>, <!channel>, <#C…|name>; Discord <@123>, <@!123>, <@&123>; Matrix @user:server; @handles.
const MENTION = /<[@!#][^>\s]*>|@[\p{L}\p{N}._=-]+(?::[\p{L}\p{N}.-]+)?/gu;

/** Name variants worth removing: the whole name, each part of three letters or more, a handle's last segment. */
function variants(name: string): string[] {
  const out = new Set<string>();
  const clean = name.trim();
  if (clean.length >= 3) out.add(clean);
  for (const part of clean.split(/[\s/:]+/)) if (part.length >= 3) out.add(part.replace(/^[@#]/, ''));
  return [...out].filter((v) => v.length >= 3);
}

/** A function that removes the given people's and orgs' names, emails and mentions from a text. */
export function scrubber(people: readonly string[], orgs: readonly string[]): (text: string) => string {
  const build = (names: readonly string[]) => {
    const all = [...new Set(names.flatMap(variants))].sort((a, b) => b.length - a.length).map(escapeRe);
    return all.length ? new RegExp(`(?<![\\p{L}\\p{N}_])(?:${all.join('|')})(?![\\p{L}\\p{N}_])`, 'giu') : null;
  };
  const peopleRe = build(people.map((p) => p.replace(/^(email|slack|discord|matrix|irc|github|discourse):/, '')));
  const orgRe = build(orgs);
  return (text: string) => {
    let t = text.replace(EMAIL, '[address]').replace(MENTION, 'someone');
    if (orgRe) t = t.replace(orgRe, 'an organisation');
    if (peopleRe) t = t.replace(peopleRe, 'someone');
    return t;
  };
}

/** Every name the public edition must not carry: the store's people and orgs and the config's. */
async function publicScrubber(db: Kysely<Database>, config: Config): Promise<(text: string) => string> {
  const known = await knownNames(db);
  const people = [...known.people, ...config.people.flatMap((p) => [p.name, ...p.identities])];
  const orgs = [...known.orgs, ...config.orgs.filter((o) => o.segment !== 'staff').map((o) => o.name)];
  return scrubber(people, orgs);
}

const label = (q: QuoteCandidate) =>
  `${q.platform} ${q.platform === 'mail' || (q.channelName ?? '').startsWith('#') ? (q.channelName ?? q.channelExternalId) : `#${q.channelName ?? q.channelExternalId}`}`;

/** The public edition of a stored (or built) edition, with the curator's decisions applied. */
export async function publicEditionOf(
  db: Kysely<Database>,
  config: Config,
  e: Pick<EditionRow, 'id' | 'team' | 'periodStart' | 'periodEnd' | 'json' | 'curation' | 'approvedAt' | 'createdAt'>,
): Promise<PublicEdition> {
  const json = JSON.parse(e.json) as EditionJson;
  const curated = applyCuration(json, e.curation ? parseCuration(e.curation) : EMPTY_CURATION);
  const scrub = await publicScrubber(db, config);
  const entries: PublicEntry[] = [];
  for (const c of curated.clusters) {
    const ids = (c.evidence?.messages ?? []).slice(0, MESSAGES_READ).map((m) => m.messageId);
    const candidates = (await quoteCandidates(db, ids)).filter((q) => isPublicChannel(config, q.source, { externalId: q.channelExternalId, name: q.channelName }));
    const quotes: PublicQuote[] = [];
    const seen = new Set<string>();
    for (const q of candidates) {
      if (quotes.length >= QUOTES) break;
      if (q.isStaff) continue;
      const text = scrub(sentenceExcerpt(q.text)).trim();
      if (!text || seen.has(text)) continue;
      seen.add(text);
      quotes.push({ text, channel: label(q), url: safeUrl(q.permalink), at: new Date(q.at).toISOString() });
    }
    const m = /^cluster-(\d+)$/.exec(c.id);
    const r = m ? await getResolution(db, Number(m[1])) : null;
    entries.push({
      title: scrub(c.title),
      kind: c.kind,
      trend: c.trend,
      reporters: c.reporters,
      reportersToDate: c.reportersToDate ?? null,
      channels: [...new Set(candidates.map(label))],
      firstSeen: c.firstSeen,
      lastSeen: c.lastSeen,
      quotes,
      resolution: r?.resolvedAt != null ? { text: scrub(r.resolution ?? 'resolved'), url: safeUrl(r.url) } : null,
    });
  }
  return {
    id: e.id,
    team: e.team,
    week: weekLabel({ start: e.periodStart, end: e.periodEnd }),
    period: { start: new Date(e.periodStart).toISOString(), end: new Date(e.periodEnd).toISOString() },
    publishedAt: new Date(e.approvedAt ?? e.createdAt).toISOString(),
    entries,
  };
}

/** Whether an edition is published: its team is public and a curator approved it. */
export function isPublished(config: Config, e: Pick<EditionRow, 'team' | 'approvedAt'>): boolean {
  return e.approvedAt !== null && config.teams.some((t) => t.name === e.team && t.public);
}
