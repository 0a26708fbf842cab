// Records the stages hand between the store and the pure pipeline: a conversation's messages as
// detection reads them, what detection found, an item as grouping reads it, a message as the priority
// sees it, a period of time. Data only.
import type { FeedbackKind } from './index.js';

export type Sentiment = 'negative' | 'neutral' | 'positive';

export interface PriorityMessage {
  messageId: number;
  conversationId: number;
  personId: number;
  personName: string;
  org: string | null;
  /** The person's segment: 'staff', 'bot', an org's segment, or 'community'. */
  segment: string;
  at: number;
  text: string;
  channel: string;
  platform: string;
  permalink: string | null;
  reactions?: Record<string, number> | null;
  /** The message's subject (mail), when it has one. */
  subject?: string | null;
}

export interface ItemForDoc {
  itemId: number;
  tags?: readonly string[];
  kind: FeedbackKind | null;
  /** Need-group probabilities (see NEED_GROUPS), when the classifier wrote them. */
  kindGroups?: readonly number[] | null;
  subject: string | null;
  reportMessageId: number;
  llmSummary?: string | null;
  messages: ReadonlyArray<{ messageId: number; personId: number; segment: string; text: string; at: number }>;
}

export interface ConversationMessage {
  id: number;
  text: string;
  subject: string | null;
  channel: string;
  isBot: boolean;
  labels: string[];
  /**
   * The author is staff or a maintainer: config `staff: true`, an org with segment staff (domain, Slack
   * team, Discord role), or an address at the domain that hosts the mailing list. Staff answer inside a
   * feedback thread; they never raise an item.
   */
  isStaff?: boolean;
}

export interface AutoTag {
  tag: string;
  provenance: 'rule' | 'model' | 'platform';
  confidence: number | null;
  version: string | null;
}

export interface DetectedFeedback {
  messageId: number;
  isFeedback: boolean;
  kind: FeedbackKind | null;
  kindConfidence: number;
  /** Probabilities of the need groups (problem, request, question, praise: see NEED_GROUPS), summing to 1; null when not feedback. */
  kindGroups?: number[] | null;
  feedbackConfidence: number;
  sentiment: Sentiment;
  modelVersion: string;
  tags: AutoTag[];
  /** The report's language (ISO 639-1), or null when too short to tell. */
  language?: string | null;
}

export interface Period {
  start: number;
  end: number; // exclusive
}
