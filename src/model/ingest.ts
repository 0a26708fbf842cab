// The shapes the ingest stage passes between the store and its plan (src/pipeline/ingest-plan.ts):
// what the store read for a batch, and what the plan asks it to write. Data only.
import type { RawMessage } from './index.js';

export type RefKind = 'reply' | 'thread' | 'reference';

/** `existing` is a stored conversation id; `fresh` an index into the plan's new conversations. */
export type ConversationRef = { existing: number } | { fresh: number };

/** A message's original: a stored id, or a position among the batch's new messages. */
export type OriginalRef = { id: number } | { fresh: number };

export interface ChannelWanted {
  externalId: string;
  name: string | null;
}

export interface AuthorWanted {
  /** The platform's author id, as messages name it. */
  authorId: string;
  /** The identity's key: `email` for mail, else the platform. */
  kind: string;
  value: string;
  name: string | null;
  email: string | null;
  isBot: boolean;
  /** Org hints (Slack team, Discord roles) as JSON, from the author's latest message carrying any. */
  hints: string | null;
}

/** Store ids of a batch's channels and authors, by their external ids. */
export interface IngestRefs {
  channelIds: Map<string, number>;
  identityIds: Map<string, number>;
}

/** What the store holds for an external id. */
export interface StoredVersion {
  id: number;
  contentHash: string;
  conversationId: number | null;
  editedAt: number | null;
  deleted: boolean;
}

/** A stored message that may take part in copy detection (read by its copy slot). */
export interface StoredCopy {
  id: number;
  key: string;
  copyKey: string;
  channelId: number;
  identityId: number;
  at: number;
  relay: boolean;
  copyOf: number | null;
  conversationId: number | null;
}

/** A stored line of a channel's main stream (newest first when read). */
export interface StoredStreamLine {
  key: string;
  text: string;
  at: number;
  author: string;
}

export interface MessageUpdate {
  id: number;
  conversationId: number | null;
  m: RawMessage;
  hash: string;
}

export interface NewConversation {
  channelId: number;
  rootKey: string;
  subject: string | null;
  subjectKey: string | null;
  startedAt: number;
  lastAt: number;
  messageCount: number;
  participantCount: number;
}

export interface NewMessage {
  m: RawMessage;
  key: string;
  channelId: number;
  identityId: number;
  hash: string;
  copyKey: string | null;
  copySlot: string | null;
  stream: boolean;
  /** The original when it is stored already; one new in the batch is in `IngestPlan.copyFixes`. */
  copyOf: number | null;
  conversation: ConversationRef;
}

export interface IngestPlan {
  updates: MessageUpdate[];
  conversations: NewConversation[];
  messages: NewMessage[];
  /** New copies whose original is new too: [copy, original] positions, set once both have ids. */
  copyFixes: Array<[number, number]>;
  /** Stored messages whose original changed (a relay stored before its original): re-pointed. */
  repoint: Array<{ id: number; to: OriginalRef; conversationId: number | null }>;
  /** References of the new messages (native and inferred), kept for parents that arrive later. */
  refs: Array<{ fresh: number; refKey: string; kind: RefKind }>;
  /** Stored conversations the batch changes (edits, joins). */
  touched: Set<number>;
  counts: { new: number; updated: number; unchanged: number; copies: number };
}
