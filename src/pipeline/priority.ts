// Reporters, score, trend and the sentence of a cluster. Pure: the cluster's items with their
// conversations' messages (authors already resolved to people, orgs and segments) come in; who voiced
// the need, an explained score, the trend and a sentence with its evidence go out.
//
// Reporters are the distinct people who voice the need: whoever raised it (the author of the item's
// report message, or the first non-staff author when staff wrote the message the detector picked) and
// everyone who says they have it too ("same here", "+1", "we see this too", "any update on this?"),
// in any conversation of the cluster. People who only answer, help or ask a follow-up question are not
// reporters; staff and bots never are. Reactions (a 👍 on the report) are not counted: exports give
// counts, not who reacted, so they cannot be tied to a person; they are kept in the evidence.
import { contentKey } from './dedupe/index.js';
import type { PriorityMessage } from '../model/records.js';
import type { ClusterEvidence, ReporterEvidence, ScoreExplanation, TrendEvidence, Trend, VoiceRole } from '../model/index.js';

export interface PriorityItem {
  itemId: number;
  reportMessageId: number;
  /** The item's conversation, oldest first, copies and deleted messages left out. */
  messages: PriorityMessage[];
}

export type { ClusterEvidence, VoiceRole, PriorityMessage };

export interface Voicing {
  itemId: number;
  role: VoiceRole;
  message: PriorityMessage;
}

/**
 * "Same here", "+1", "me too", "same at Acme", "yes please", "seconded", "we see this too", "any update
 * on this?", and the same said in German, Spanish, Portuguese or French: someone has the need too.
 */
const ME_TOO = new RegExp(
  [
    String.raw`\bsame (?:here|issue|problem|thing|bug|error|for (?:us|me)|over here)\b`,
    // "same at Acme", "same for our self-managed install", "same on Android" (not "same for the first
    // step, it ..."): leading the message,
    // after a chat reply's "nick: " at most.
    String.raw`^\s*(?:@?[\w.\-[\]|]{1,32}[:,]\s+)?(?:\+\s?1[,!.]?\s*)?same (?:at|for (?:us|me|our|my|we)|with (?:our|my)|on (?:our|my|android|ios|windows|linux|macos|mac|chrome|firefox|safari))\b`,
    String.raw`\bme too\b`,
    String.raw`\b(?:for|to|with) (?:us|me) (?:too|as well)\b`,
    String.raw`(?:^|[\s(,.])\+\s?1\b`,
    String.raw`(?:^|\s)👍\s*$`,
    String.raw`\b(?:yes|yes,) please\b`,
    String.raw`^\s*(?:seconded|second(?:ing)? this|bump|this)\b`,
    String.raw`\b(?:we|i)(?:'re| are|'m| am)? (?:also |too )?(?:see|seeing|have|having|hit|hitting|get|getting|experiencing|running into) (?:this|that|it|the same)(?: issue| problem| bug| error)? (?:too|as well)\b`,
    String.raw`\b(?:we|i) (?:also|too) (?:see|have|hit|get|need|want|would like|would love)\b`,
    String.raw`\b(?:are|am) seeing this too\b`,
    String.raw`\b(?:happening|happens) (?:to|for) (?:us|me) (?:too|as well)\b`,
    String.raw`\b(?:would|'d) (?:also )?love (?:this|that|to have this|to see this) (?:too|as well)\b`,
    String.raw`\bany (?:update|updates|news|eta|progress)\b`,
    // Asking again: "checking in on this again", "following up on this", "ping on this", "still broken for us",
    // "we still get a miss on every run", "still rebuilding everything here".
    String.raw`\b(?:checking|check) in (?:on|about) (?:this|it|that)\b|\bfollowing up on (?:this|my|our)\b|\bping(?:ing)? (?:on )?(?:this|that)\b|\bstill (?:broken|failing|fails|happening|happens|an issue|a problem|get|gets|getting|see|seeing|hit|hitting|rebuilding|waiting|crashing|hanging|stuck|need|needed|want|interested|very interested)\b`,
    String.raw`\bsame\s*[!.]*$`,
    // de, es, pt, fr
    String.raw`\b(?:ich auch|wir auch|bei (?:uns|mir) auch|hier auch|dito|gleiches problem)\b`,
    String.raw`(?:^|\s)(?:yo tambi[ée]n|a m[íi] tambi[ée]n|nosotros tambi[ée]n|igual (?:aqu[íi]|por aqu[íi]|nos pasa)|mismo problema|aqu[íi] tambi[ée]n)(?=$|[\s,.!:;])`,
    String.raw`(?:^|\s)(?:aqui tamb[ée]m|eu tamb[ée]m|n[óo]s tamb[ée]m|comigo tamb[ée]m|mesmo problema)(?=$|[\s,.!:;])`,
    String.raw`(?:^|\s)(?:moi aussi|nous aussi|pareil|idem|m[êe]me probl[èe]me|chez nous aussi)(?=$|[\s,.!:;])`,
  ].join('|'),
  'iu',
);

/** Whether a message says its author has the need too. */
export function voicesNeed(text: string): boolean {
  return ME_TOO.test(text.slice(0, 500));
}

// A release vote or its result ("[VOTE] ...", "[RESULT][VOTE] ..."): its "+1"s are votes, not needs.
const VOTE_SUBJECT = /\[(?:vote|voting|result|results|cancel(?:led)?)\]/i;
const VOTE_LEAD = /^\s*[+-]\s?[01](?![\d.])\s*(?:\(\s*(?:non-?)?binding\s*\))?/i;

const QUOTES_OTHER = /^\s*(?:<[^>\s]{1,32}>\s*"|>\s)/;

const isPerson = (m: PriorityMessage) => m.segment !== 'staff' && m.segment !== 'bot';

/** Who raised each item and who said "me too", with the messages that show it. */
export function reporterVoicings(items: readonly PriorityItem[]): Voicing[] {
  const out: Voicing[] = [];
  for (const item of items) {
    const report = item.messages.find((m) => m.messageId === item.reportMessageId);
    const raiserMsg = report && isPerson(report) ? (item.messages.find((m) => m.personId === report.personId && isPerson(m)) ?? report) : item.messages.find(isPerson);
    // Quoting someone else's line and asking about it is a follow-up question, not raising the need.
    if (raiserMsg && !QUOTES_OTHER.test(raiserMsg.text)) out.push({ itemId: item.itemId, role: 'raised', message: raiserMsg });
    const vote = item.messages.some((m) => m.subject && VOTE_SUBJECT.test(m.subject));
    for (const m of item.messages) {
      if (m === raiserMsg || !isPerson(m) || !voicesNeed(m.text)) continue;
      if (vote && VOTE_LEAD.test(m.text)) continue;
      out.push({ itemId: item.itemId, role: 'me-too', message: m });
    }
  }
  return foldCopies(out);
}

/** The same words from the same person, or the same longer text within minutes (a bridge relay, a cross-post), count once. */
export function foldCopies(vs: Voicing[]): Voicing[] {
  const sorted = [...vs].sort((a, b) => a.message.at - b.message.at || a.message.messageId - b.message.messageId);
  const kept: Voicing[] = [];
  // In time order, the latest kept voicing of a text (overall and per person) and per person and
  // conversation is the closest one: comparing with it decides as comparing with every earlier one
  // would, without the pass over all of them that made a big cluster's digest quadratic.
  const latestOfKey = new Map<string, number>();
  const latestOfKeyPerson = new Map<string, number>();
  const latestOfPersonConv = new Map<string, number>();
  const seenIds = new Set<number>();
  for (const v of sorted) {
    if (seenIds.has(v.message.messageId)) continue;
    const at = v.message.at;
    const key = contentKey(v.message.text);
    const longEnough = v.message.text.trim().split(/\s+/).length >= 4;
    const person = String(v.message.personId);
    const prior = longEnough ? latestOfKey.get(key) : latestOfKeyPerson.get(`${key}\u0000${person}`);
    const copy = prior !== undefined && at - prior <= COPY_WINDOW_MS;
    // The same person saying it again within minutes (a relay with a typo fixed, a second line) is one mention.
    const said = latestOfPersonConv.get(`${person}\u0000${v.message.conversationId}`);
    const again = said !== undefined && at - said <= SAME_BREATH_MS;
    if (copy || again) continue;
    latestOfKey.set(key, at);
    latestOfKeyPerson.set(`${key}\u0000${person}`, at);
    latestOfPersonConv.set(`${person}\u0000${v.message.conversationId}`, at);
    seenIds.add(v.message.messageId);
    kept.push(v);
  }
  return kept;
}

const COPY_WINDOW_MS = 30 * 60 * 1000;
const SAME_BREATH_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;

export interface PriorityOptions {
  /** Segment weights (config `segments:`); defaults customer 3, partner 2, anything else 1. */
  weights?: Record<string, number>;
  /** Half-life of the recency factor in days (default 14). */
  halfLifeDays?: number;
  /** Previous periods the trend compares with (default 3). */
  trendWindows?: number;
}

export const DEFAULT_SEGMENT_WEIGHTS: Readonly<Record<string, number>> = { customer: 3, partner: 2, community: 1 };

export interface Period {
  start: number;
  end: number;
}

export interface ClusterPriority {
  /** Everyone who voiced the need up to the period's end, first voicing first. */
  reporters: ReporterEvidence[];
  /** Those who voiced it in the period, in the order of their first voicing in it (a subset of `reporters`). */
  periodReporters: ReporterEvidence[];
  mentions: number;
  /** Reporters per segment up to the period's end. */
  segments: Record<string, number>;
  /** Reporters per segment in the period. */
  periodSegments: Record<string, number>;
  channels: string[];
  firstSeen: number | null;
  lastSeen: number | null;
  score: number;
  trend: Trend;
  why: string;
  explanation: string;
  evidence: ClusterEvidence;
  /** Whether anyone voiced the need in the period. */
  active: boolean;
}

export const channelLabel = (m: Pick<PriorityMessage, 'platform' | 'channel'>): string => `${m.platform} ${m.channel.startsWith('#') || m.platform === 'mail' ? m.channel : `#${m.channel}`}`;

const iso = (t: number) => new Date(t).toISOString();
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Priority of one cluster as of the end of `period`: only what was said before the period ends counts.
 * The digest is about the period, so its ranking is the period's demand:
 *
 *   score = sum over the distinct people who voiced the need in the period of their segment's weight
 *           (customer 3, partner 2, community 1; the config's `segments:` weights)
 *
 * Ties are broken by the digest (more distinct reporters, then the to-date weight). What else the
 * evidence shows (channels, days since the last voicing, reporters new this period, the trend) is
 * reported beside the score, not folded into it: a product team reads "11 = 3 customers + 2 community
 * members this week", not a product of factors.
 */
export function clusterPriority(items: readonly PriorityItem[], period: Period, opts: PriorityOptions = {}): ClusterPriority {
  const weights = { ...DEFAULT_SEGMENT_WEIGHTS, ...(opts.weights ?? {}) };
  const halfLife = opts.halfLifeDays ?? 14;
  const voicings = reporterVoicings(items).filter((v) => v.message.at < period.end);
  const byPerson = new Map<number, Voicing[]>();
  for (const v of voicings) {
    const list = byPerson.get(v.message.personId) ?? [];
    list.push(v);
    byPerson.set(v.message.personId, list);
  }
  const reporters: ReporterEvidence[] = [...byPerson.values()]
    .map((vs) => ({
      personId: vs[0]!.message.personId,
      name: vs[0]!.message.personName,
      org: vs[0]!.message.org,
      segment: vs[0]!.message.segment,
      firstAt: iso(vs[0]!.message.at),
      messageIds: vs.map((v) => v.message.messageId),
    }))
    .sort((a, b) => a.firstAt.localeCompare(b.firstAt) || a.personId - b.personId);
  const segments: Record<string, number> = {};
  const segEvidence: ClusterEvidence['segments'] = {};
  for (const r of reporters) {
    segments[r.segment] = (segments[r.segment] ?? 0) + 1;
    const e = (segEvidence[r.segment] ??= { personIds: [], orgs: [] });
    e.personIds.push(r.personId);
    if (r.org && !e.orgs.includes(r.org)) e.orgs.push(r.org);
  }
  // This period's reporters, each from their first voicing in it: the week's count and its quotes.
  const firstInPeriod = new Map<number, number>();
  for (const v of voicings) if (v.message.at >= period.start && !firstInPeriod.has(v.message.personId)) firstInPeriod.set(v.message.personId, v.message.at);
  const periodReporters = reporters
    .filter((r) => firstInPeriod.has(r.personId))
    .map((r) => ({
      ...r,
      messageIds: byPerson
        .get(r.personId)!
        .filter((v) => v.message.at >= period.start)
        .map((v) => v.message.messageId),
    }))
    .sort((a, b) => firstInPeriod.get(a.personId)! - firstInPeriod.get(b.personId)! || a.personId - b.personId);
  const periodSegments: Record<string, number> = {};
  for (const r of periodReporters) periodSegments[r.segment] = (periodSegments[r.segment] ?? 0) + 1;
  const chanMap = new Map<string, { channel: string; platform: string; messageIds: number[] }>();
  for (const v of voicings) {
    const label = channelLabel(v.message);
    const c = chanMap.get(label) ?? { channel: label, platform: v.message.platform, messageIds: [] };
    c.messageIds.push(v.message.messageId);
    chanMap.set(label, c);
  }
  const channels = [...chanMap.keys()];
  const ats = voicings.map((v) => v.message.at);
  const firstSeen = ats.length ? Math.min(...ats) : null;
  const lastSeen = ats.length ? Math.max(...ats) : null;

  // Score: the period's distinct reporters, weighted by segment.
  const base = Object.entries(periodSegments)
    .map(([segment, n]) => ({ segment, reporters: n, weight: weights[segment] ?? 1 }))
    .sort((a, b) => b.weight - a.weight || a.segment.localeCompare(b.segment));
  const baseTotal = base.reduce((s, b) => s + b.reporters * b.weight, 0);
  const toDateTotal = Object.entries(segments).reduce((s, [segment, n]) => s + n * (weights[segment] ?? 1), 0);
  const spread = Math.min(2, 1 + 0.25 * Math.max(0, channels.length - 1));
  const daysSinceLast = lastSeen == null ? 0 : Math.max(0, (period.end - lastSeen) / DAY_MS);
  const recency = Math.pow(0.5, daysSinceLast / halfLife);
  const newReporters = reporters.filter((r) => Date.parse(r.firstAt) >= period.start).length;
  const velocity = reporters.length ? 1 + newReporters / reporters.length : 1;
  const score = round2(baseTotal);
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const formula =
    `${base.map((b) => `${b.reporters} ${b.segment} x ${b.weight}`).join(' + ') || '0'} = ${score} this period; ` +
    `to date ${plural(reporters.length, 'reporter')} (weight ${round2(toDateTotal)}) in ${plural(channels.length, 'channel')}, ` +
    `${newReporters} new this period, last voiced ${plural(Math.floor(daysSinceLast), 'day')} before the period end`;
  const explanation: ScoreExplanation = {
    formula,
    base,
    baseTotal: round2(baseTotal),
    channels: channels.length,
    spread: round2(spread),
    daysSinceLast: round2(daysSinceLast),
    recency: round2(recency),
    newReporters,
    velocity: round2(velocity),
    score,
  };

  const trendEv = trendOf(voicings, period, opts.trendWindows ?? 3);
  const reactions: Record<string, number> = {};
  for (const item of items) {
    const report = item.messages.find((m) => m.messageId === item.reportMessageId);
    for (const [k, n] of Object.entries(report?.reactions ?? {})) reactions[k] = (reactions[k] ?? 0) + n;
  }
  const evidence: ClusterEvidence = {
    reporters,
    channels: [...chanMap.values()],
    segments: segEvidence,
    messages: voicings.map((v) => ({
      messageId: v.message.messageId,
      itemId: v.itemId,
      personId: v.message.personId,
      role: v.role,
      at: iso(v.message.at),
      channel: channelLabel(v.message),
      platform: v.message.platform,
      permalink: v.message.permalink,
    })),
    reactions,
    score: explanation,
    trend: trendEv,
  };
  return {
    reporters,
    periodReporters,
    mentions: voicings.length,
    segments,
    periodSegments,
    channels,
    firstSeen,
    lastSeen,
    score,
    trend: trendEv.trend,
    why: whySentence({ reporters, channels: channels.length, segEvidence, firstSeen, asOf: period.end, trend: trendEv.trend }),
    explanation: formula,
    evidence,
    active: voicings.some((v) => v.message.at >= period.start),
  };
}

/** Distinct reporters per period-long window: this one against the `windows` before it. */
export function trendOf(voicings: readonly Voicing[], period: Period, windows = 3): TrendEvidence {
  const len = Math.max(1, period.end - period.start);
  const people = (from: number, to: number) => new Set(voicings.filter((v) => v.message.at >= from && v.message.at < to).map((v) => v.message.personId)).size;
  const current = people(period.start, period.end);
  const previous: number[] = [];
  for (let k = 1; k <= windows; k++) previous.push(people(period.start - k * len, period.start - (k - 1) * len));
  const before = people(-Infinity, period.start - windows * len);
  const prevTotal = previous.reduce((a, b) => a + b, 0);
  const prevAvg = prevTotal / windows;
  let trend: Trend;
  if (current > 0 && prevTotal === 0 && before === 0) trend = 'new';
  else if (current > 0 && prevTotal === 0) trend = 'resurfaced';
  else if (current >= prevAvg * 1.5 && current - prevAvg >= 1) trend = 'rising';
  else if (current <= prevAvg * 0.67) trend = 'falling';
  else trend = 'steady';
  return { trend, current, previous, before };
}

const SEGMENT_PLURAL: Record<string, string> = { customer: 'customers', partner: 'partners' };
const SEGMENT_ONE: Record<string, string> = { customer: 'a customer', partner: 'a partner' };

/** The segments other than the community, most people first. */
function segmentsBySize(segEvidence: ClusterEvidence['segments']): Array<[string, { personIds: number[]; orgs: string[] }]> {
  return Object.entries(segEvidence)
    .filter(([s]) => s !== 'community')
    .sort((a, b) => b[1].personIds.length - a[1].personIds.length || a[0].localeCompare(b[0]));
}

const orgsOf = (e: { orgs: string[] }) => (e.orgs.length ? ` (${e.orgs.join(', ')})` : '');

/** "5 people in 3 channels, 4 of them from customers (Acme, Globex); first seen 9 days ago, rising". */
export function whySentence(x: {
  reporters: ReadonlyArray<{ segment: string }>;
  channels: number;
  segEvidence: ClusterEvidence['segments'];
  firstSeen: number | null;
  asOf: number;
  trend: Trend;
}): string {
  const n = x.reporters.length;
  const head = `${n} ${n === 1 ? 'person' : 'people'} in ${x.channels} ${x.channels === 1 ? 'channel' : 'channels'}`;
  const parts = segmentsBySize(x.segEvidence).map(([s, e]) => {
    const k = e.personIds.length;
    if (n === 1) return `from ${SEGMENT_ONE[s] ?? s}${orgsOf(e)}`;
    return `${k === n ? (n === 2 ? 'both' : 'all') : k} of them from ${SEGMENT_PLURAL[s] ?? `${s}s`}${orgsOf(e)}`;
  });
  const seg = parts.length ? `, ${parts.join(' and ')}` : '';
  let when = '';
  if (x.firstSeen != null) {
    const days = Math.max(0, Math.floor((x.asOf - x.firstSeen) / DAY_MS));
    when = `; first seen ${days === 0 ? 'today' : `${days} day${days === 1 ? '' : 's'} ago`}`;
  }
  return `${head}${seg}${when}, ${x.trend}`;
}

/**
 * Who the people are, beyond the community, as a line of its own under a digest entry whose header
 * already gives the people, channels, dates and trend: "From a customer (Initech).", "3 of the 5 from
 * customers (Acme, Globex); 1 of the 5 from a partner (OSS Foundation)."; null when everyone is community.
 */
export function whoSentence(reporters: number, segEvidence: ClusterEvidence['segments']): string | null {
  const n = Math.max(reporters, 0);
  const parts = segmentsBySize(segEvidence).map(([s, e]) => {
    const k = e.personIds.length;
    const one = `${SEGMENT_ONE[s] ?? s}${orgsOf(e)}`;
    const many = `${SEGMENT_PLURAL[s] ?? `${s}s`}${orgsOf(e)}`;
    if (n <= 1) return `from ${one}`;
    if (k >= n) return `${n === 2 ? 'both' : `all ${n}`} from ${many}`;
    return k === 1 ? `1 of the ${n} from ${one}` : `${k} of the ${n} from ${many}`;
  });
  if (!parts.length) return null;
  const line = parts.join('; ');
  return `${line.charAt(0).toUpperCase()}${line.slice(1)}.`;
}
