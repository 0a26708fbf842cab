// Domain types, defined once. zod schemas where outside data enters (job payloads, config, exports).
import { z } from 'zod';

export const PLATFORMS = ['slack', 'discord', 'matrix', 'irc', 'mail', 'discourse', 'github'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** An author as the platform names them. `id` is stable on the platform (user id, email, nick@network). */
export const AuthorSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  email: z.string().nullish(),
  isBot: z.boolean().optional(),
  /** Slack: the author's workspace (team id); in a Slack Connect channel another company's, e.g. T0ACME. */
  team: z.string().nullish(),
  /** Discord: the author's roles in the guild (ids, with names where known); an empty list = no roles. */
  roles: z.array(z.object({ id: z.string(), name: z.string().nullish() })).optional(),
  /** Slack: the author is an admin or owner of the workspace (users.json / users.info `is_admin`, `is_owner`). */
  admin: z.boolean().optional(),
});
export type Author = z.infer<typeof AuthorSchema>;

export const AttachmentSchema = z.object({
  name: z.string(),
  contentType: z.string().nullish(),
  size: z.number().nullish(),
  url: z.string().nullish(),
});
export type Attachment = z.infer<typeof AttachmentSchema>;

/**
 * What a connector's `normalize` returns: one message, platform-neutral. Past this point no code knows
 * which platform a message came from.
 */
export const RawMessageSchema = z.object({
  externalId: z.string().min(1),
  /** Channel id on the platform (Slack channel id, mailing list id, `#channel`, room id). */
  channel: z.string().min(1),
  channelName: z.string().nullish(),
  author: AuthorSchema,
  /** Plain text as written (markup converted to text), the whole message. */
  text: z.string(),
  /** The new text only: quoted replies, signatures and list footers removed (mail); the same as text elsewhere. */
  cleanText: z.string().nullish(),
  sentAt: z.number().int(), // ms since epoch, UTC
  editedAt: z.number().int().nullish(),
  deleted: z.boolean().optional(),
  /** Native thread: the external id of the thread's root message. */
  threadId: z.string().nullish(),
  /** Native reply: the external id of the message this one answers. */
  replyTo: z.string().nullish(),
  /** Mail References chain, oldest first. */
  references: z.array(z.string()).optional(),
  subject: z.string().nullish(),
  permalink: z.string().nullish(),
  reactions: z.record(z.string(), z.number()).optional(),
  attachments: z.array(AttachmentSchema).optional(),
  /** A line relayed by a bridge bot: the real author is `author`; `relay` names the bridge. */
  relay: z.object({ bot: z.string(), network: z.string().nullish() }).nullish(),
  /** Platform labels that become tags (Discord forum tags, list names). */
  labels: z.array(z.string()).optional(),
  /** Key under which copies of the same message from several archives collapse (mail: Message-ID). */
  globalKey: z.string().nullish(),
});
export type RawMessage = z.infer<typeof RawMessageSchema>;

/** A connector's reason not to keep an item (joins, system lines); counted and reported, never silent. */
export interface Skip {
  skip: true;
  reason: string;
}
export const isSkip = (x: RawMessage | Skip): x is Skip => (x as Skip).skip === true;

/** Bad input that could not be read: kept with where it came from, never silently dropped. */
export const QuarantineEntrySchema = z.object({
  location: z.string(), // file:line / file@byte offset / message id
  reason: z.string(),
  excerpt: z.string(),
});
export type QuarantineEntry = z.infer<typeof QuarantineEntrySchema>;

export interface Page<Cursor> {
  items: unknown[];
  /** Where to resume after this page (versioned JSON-serialisable). */
  cursor: Cursor;
  /** What this page could not cover: a channel it may not read, a period it missed. */
  gaps?: Gap[];
  /** Time spent waiting on the platform's rate limits while reading this page. */
  rateLimitedMs?: number;
}

export interface NormalizeContext {
  source: string;
  /** Default channel for items that carry none (an mbox file imported with --channel). */
  channel?: string;
}

export interface Connector<Cursor> {
  platform: Platform;
  capabilities: { history: boolean; live: boolean; edits: boolean; threads: boolean };
  history(from: Cursor | undefined, signal: AbortSignal): AsyncIterable<Page<Cursor>>;
  live?(since: Cursor | undefined, signal: AbortSignal): AsyncIterable<Page<Cursor>>;
  /** Pure (no I/O); may be async where the platform's parser is (mailparser). */
  normalize(raw: unknown, ctx: NormalizeContext): RawMessage | Skip | Promise<RawMessage | Skip>;
}

/** A time gap a connector could not cover (downtime, an unreadable channel). */
export const GapSchema = z.object({
  channel: z.string().nullish(),
  from: z.number().int(),
  to: z.number().int().nullish(),
  reason: z.string(),
});
export type Gap = z.infer<typeof GapSchema>;

export const FEEDBACK_KINDS = ['bug', 'feature', 'question', 'docs', 'praise', 'complaint'] as const;
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];

/**
 * Kinds that can voice the same need, as groups: a bug and a complaint about it (a problem); a feature
 * request (a request); a question and the docs gap ("is there a way to ...?"); praise.
 */
export const NEED_GROUPS = ['problem', 'request', 'question', 'praise'] as const;
export const NEED_GROUP_OF: Readonly<Record<FeedbackKind, number>> = { bug: 0, complaint: 0, feature: 1, question: 2, docs: 2, praise: 3 };

export type TagProvenance = 'rule' | 'model' | 'human' | 'platform';

export type Trend = 'new' | 'rising' | 'steady' | 'falling' | 'resurfaced';

/** The digest JSON contract: fields a stage cannot fill yet are null or empty, never invented. */
export interface DigestQuote {
  text: string;
  author: string | null;
  channel: string | null;
  url: string | null;
  at: string;
}
export interface DigestStatus {
  /** What the answer says: fixed, workaround, known issue, planned, answered. */
  label: string;
  text: string;
  author: string | null;
  channel: string | null;
  url: string | null;
  at: string;
}
export interface DigestCluster {
  id: string;
  title: string;
  kind: FeedbackKind | null;
  tags: string[];
  /** People who voiced the need in the period. */
  reporters: number;
  /** People who voiced it up to the period's end (clusters; absent on older stored editions). */
  reportersToDate?: number;
  mentions: number;
  /** The period's reporters per segment. */
  segments: Record<string, number>;
  /** Reporters per segment up to the period's end. */
  segmentsToDate?: Record<string, number>;
  /** A staff or maintainer answer in the thread ("fixed in 4.2.1", "workaround: ..."), quoted and linked. */
  status?: DigestStatus | null;
  channels: string[];
  trend: Trend | null;
  firstSeen: string;
  lastSeen: string;
  score: number;
  why: string | null;
  summary: string | null;
  quotes: DigestQuote[];
  /** How the score was computed, in words and numbers (clusters only). */
  scoreExplanation?: string;
  /** What every number of `why` rests on: people, channels, messages (clusters only). */
  evidence?: ClusterEvidence;
  /** The cluster's issues in trackers (`gleaner push`). */
  issues?: DigestIssue[];
  /** Resolved in a tracker, reopened, or voiced again after it was resolved (a regression). */
  resolution?: DigestResolution | null;
}
export interface DigestIssue {
  tracker: string;
  key: string;
  url: string;
  state: 'open' | 'closed' | null;
}
export interface DigestResolution {
  status: 'resolved' | 'reopened' | 'regressed';
  reference: string | null;
  referenceUrl: string | null;
  resolvedAt: string | null;
  regressedAt: string | null;
}
export interface DigestSourceStats {
  name: string;
  from: string | null;
  to: string | null;
  gaps: Array<{ channel: string | null; from: string; to: string | null; reason: string }>;
}
export interface DigestJson {
  period: { start: string; end: string };
  clusters: DigestCluster[];
  stats: {
    messages: number;
    conversations: number;
    feedbackItems: number;
    sources: DigestSourceStats[];
    /** Mail lists quoted in the digest whose quotes have no web archive link (no Archived-At, no `archives:` entry). */
    listsWithoutArchive?: string[];
  };
}

// Cluster evidence: every number a digest entry or the web UI shows links back to these.
export type VoiceRole = 'raised' | 'me-too';
export interface EvidenceMessage {
  messageId: number;
  itemId: number;
  personId: number;
  role: VoiceRole;
  at: string;
  channel: string;
  platform: string;
  permalink: string | null;
}

export interface ReporterEvidence {
  personId: number;
  name: string;
  org: string | null;
  segment: string;
  firstAt: string;
  messageIds: number[];
}

export interface ScoreExplanation {
  formula: string;
  base: Array<{ segment: string; reporters: number; weight: number }>;
  baseTotal: number;
  channels: number;
  spread: number;
  daysSinceLast: number;
  recency: number;
  newReporters: number;
  velocity: number;
  score: number;
}

export interface TrendEvidence {
  trend: Trend;
  /** Distinct reporters voicing the need in this period and in each previous one (most recent first). */
  current: number;
  previous: number[];
  before: number;
}

/** What every number of the sentence rests on, so a UI or a digest can link to it. */
export interface ClusterEvidence {
  reporters: ReporterEvidence[];
  channels: Array<{ channel: string; platform: string; messageIds: number[] }>;
  segments: Record<string, { personIds: number[]; orgs: string[] }>;
  messages: EvidenceMessage[];
  reactions: Record<string, number>;
  score: ScoreExplanation;
  trend: TrendEvidence;
}

/**
 * Puppet users of Matrix bridges: matrix-appservice-irc's `@<network>_<nick>:server` (`@libera_ana:libera.chat`),
 * and `@_discord_<id>`, `@_slack_<id>`, `@telegram_<id>` style puppets of other bridges.
 */
export const MATRIX_PUPPET =
  /^@(?:_?(?:discord|slack|telegram|whatsapp|signal|irc|gitter|xmpp)_|(?:libera|liberachat|freenode|oftc|irc|ircnet|efnet|gimpnet|snoonet|hackint|rizon|quakenet|esper|undernet|dalnet|geekshed|mozilla)_)(.+?):[^:]+$/i;
