// Table types for Kysely. Times are integers (ms since epoch, UTC); JSON is stored as text.
import type { Generated } from 'kysely';

export interface SourcesTable {
  id: Generated<number>;
  name: string;
  platform: string;
  status: string; // 'ok' | 'error' | 'stopped'
  last_pull_at: number | null;
  last_error: string | null;
  created_at: number;
}
export interface ChannelsTable {
  id: Generated<number>;
  source_id: number;
  external_id: string;
  name: string | null;
  first_at: number | null;
  last_at: number | null;
}
export interface RawItemsTable {
  id: Generated<number>;
  source_id: number;
  external_id: string;
  payload: string;
  normalizer_version: number;
  fetched_at: number;
}
export interface MessagesTable {
  id: Generated<number>;
  source_id: number;
  channel_id: number;
  external_id: string;
  ref_key: string; // key replies and references point at (global for mail Message-IDs)
  identity_id: number;
  text: string;
  clean_text: string;
  content_hash: string;
  sent_at: number;
  edited_at: number | null;
  deleted: number; // 0/1
  is_bot: number;
  subject: string | null;
  permalink: string | null;
  reactions: string | null;
  attachments: string | null;
  labels: string | null;
  relay: string | null;
  copy_key: string | null;
  /** The hour of sent_at and the copy key (copySlotOf): what copy lookups probe. */
  copy_slot: string | null;
  stream: number; // 1 when part of the channel's main stream
  copy_of: number | null; // the original when this is a copy (another archive, a bridge relay, a cross-post)
  conversation_id: number | null;
  created_at: number;
  updated_at: number;
}
export interface MessageRefsTable {
  message_id: number;
  ref_key: string;
  kind: string; // 'thread' | 'reply' | 'reference' | 'subject'
}
export interface ConversationsTable {
  id: Generated<number>;
  channel_id: number;
  root_message_id: number | null;
  root_key: string | null;
  subject: string | null;
  subject_key: string | null;
  started_at: number;
  last_at: number;
  message_count: number;
  participant_count: number;
  updated_at: number;
  /** > 0 while the messages changed since feedback was last detected (migration 0010). */
  enrich_pending: Generated<number>;
}
export interface PeopleTable {
  id: Generated<number>;
  display_name: string;
  org_id: number | null;
  is_staff: number;
  created_at: number;
  /** JSON OrgEvidence: which rule placed the person in their org and made them staff. */
  org_evidence: string | null;
  /** When the org was last resolved (ms); null = to resolve (new person, or an identity's hints changed). */
  org_resolved_at: number | null;
}
export interface IdentitiesTable {
  id: Generated<number>;
  kind: string; // 'email' | 'slack' | 'discord' | 'irc' | 'matrix'
  value: string;
  display_name: string | null;
  email: string | null;
  is_bot: number;
  person_id: number;
  link_evidence: string | null;
  created_at: number;
  /** JSON OrgHints: the Slack team / Discord roles the platform last gave for this identity. */
  org_hints: string | null;
}
export interface OrgsTable {
  id: Generated<number>;
  name: string;
  segment: string;
  domains: string; // JSON array
}
export interface FeedbackItemsTable {
  id: Generated<number>;
  conversation_id: number;
  message_id: number; // the message that carries the report
  kind: string | null;
  kind_confidence: number | null;
  /** The report's need-group probabilities `problem,request,question,praise` (migration 0012). */
  kind_groups?: string | null;
  sentiment: string | null;
  status: string; // 'auto' | 'confirmed' | 'not_feedback'
  model_version: string | null;
  summary: string | null; // one line, from the optional language model
  summary_version: string | null;
  /** The need's own text, as grouping compares it (written by the cluster stage). */
  need_text?: string | null;
  created_at: number;
  updated_at: number;
  /** 1 from the insert until the cluster stage has seen the item placed (migration 0010). */
  cluster_pending: Generated<number>;
}
export interface ClusterMergesTable {
  id: Generated<number>;
  into_id: number;
  from_id: number;
  item_ids: string; // JSON array of the items that came from from_id
  score: number;
  actor: string; // 'auto' for the cluster stage
  created_at: number;
  undone_at: number | null;
}
export interface TagsTable {
  id: Generated<number>;
  item_id: number;
  tag: string;
  provenance: string; // 'rule' | 'model' | 'human' | 'platform'
  confidence: number | null;
  version: string | null;
  actor: string | null;
  state: string; // 'active' | 'removed' (a human removal is kept so re-runs never bring the tag back)
  created_at: number;
}
export interface ClustersTable {
  id: Generated<number>;
  title: string;
  pinned_title: number;
  summary: string | null;
  kind: string | null;
  first_seen: number | null;
  last_seen: number | null;
  created_at: number;
  updated_at: number;
  /** A curator's (or a tracker's) resolution (migration 0012): when, by whom, the reference and its link. */
  resolved_at?: number | null;
  resolved_by?: string | null;
  resolution?: string | null;
  resolution_url?: string | null;
  /** Descriptions owed (migration 0016): moved by each batch that postponed describing the cluster, cleared by the describer. */
  describe_pending: Generated<number>;
}
export interface ClusterItemsTable {
  cluster_id: number;
  item_id: number;
  pinned: number; // a human decision (moved here); later runs never move it again
}
/** One row (id 1): a counter that triggers move on every placement change (migration 0008). */
export interface ClusterStateTable {
  id: number;
  version: number;
}
export interface DigestsTable {
  id: Generated<number>;
  team: string;
  period_start: number;
  period_end: number;
  status: string; // 'draft' | 'approved' | 'sending' | 'sent'
  json: string;
  html: string;
  text: string;
  curation: string | null;
  message_id: string | null;
  created_at: number;
  approved_at: number | null;
  approved_by: string | null;
  sent_at: number | null;
  // Delivery (src/digest/send.ts): 'sending' is claimed with a token and a lease; the phase says
  // whether the SMTP transaction had begun when a sender stopped.
  send_phase: string | null; // 'claimed' | 'transmitting'
  lease_until: number | null;
  claim_token: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: number | null;
  recipients: string | null; // JSON array, as sent
  smtp_response: string | null;
  updated_at: number | null;
}
export interface CheckpointsTable {
  source_id: number;
  key: string;
  cursor: string;
  updated_at: number;
}
export interface GapsTable {
  id: Generated<number>;
  source_id: number;
  channel: string | null;
  from_at: number;
  to_at: number | null;
  reason: string;
  created_at: number;
}
export interface SourceEventsTable {
  id: Generated<number>;
  source_id: number;
  kind: string; // 'rate_limited' | 'pull_failed'
  at: number;
  duration_ms: number | null;
  detail: string | null;
}
export interface QuarantineTable {
  id: Generated<number>;
  source_id: number | null;
  location: string;
  reason: string;
  excerpt: string;
  created_at: number;
}
/** A cluster's issue in one tracker (migration 0012); one row per (cluster, tracker). */
export interface TrackerLinksTable {
  id: Generated<number>;
  cluster_id: number;
  tracker: string;
  external_id: string | null;
  issue_key: string | null;
  url: string | null;
  state: string | null; // 'open' | 'closed'
  claim_token: string | null;
  claim_until: number | null;
  last_error: string | null;
  last_error_code: string | null;
  pushed_at: number | null;
  synced_at: number | null;
  created_at: number;
}
/** A cluster resolved in a tracker, reopened, or voiced again after it was resolved (migration 0012). */
export interface ClusterResolutionsTable {
  cluster_id: number;
  status: string; // 'resolved' | 'reopened' | 'regressed'
  reference: string | null;
  reference_url: string | null;
  resolved_at: number | null;
  regressed_at: number | null;
  regression_items: Generated<number>;
  updated_at: number;
}
/** The webhook outbox (migration 0012): one row per event and webhook until delivered or given up. */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook: string;
  event: string;
  event_key: string;
  delivery_id: string;
  body: string;
  status: string; // 'pending' | 'delivered' | 'failed'
  attempts: Generated<number>;
  next_attempt_at: number;
  lease_until: number | null;
  response_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

/** One chat post of a digest edition to one destination (migration 0012): the claim that makes it happen once. */
export interface DigestPostsTable {
  id: Generated<number>;
  digest_id: number;
  source: string;
  channel: string;
  platform: string;
  status: string; // 'pending' | 'sending' | 'sent' | 'failed' | 'unknown'
  phase: string | null; // 'claimed' | 'transmitting'
  claim_token: string | null;
  lease_until: number | null;
  attempts: Generated<number>;
  last_error: string | null;
  external_id: string | null;
  posted_at: number | null;
  created_at: number;
  updated_at: number;
}
/** A reply to a thread where a resolved need was voiced (migration 0012). */
export interface LoopRepliesTable {
  id: Generated<number>;
  cluster_id: number;
  conversation_id: number;
  source_id: number;
  platform: string;
  target: string; // JSON ReplyTarget
  text: string;
  status: string; // 'draft' | 'approved' | 'sending' | 'sent' | 'failed' | 'unknown' | 'dismissed'
  phase: string | null;
  claim_token: string | null;
  lease_until: number | null;
  attempts: Generated<number>;
  last_error: string | null;
  external_id: string | null;
  link: string | null;
  approved_by: string | null;
  approved_at: number | null;
  sent_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface Database {
  sources: SourcesTable;
  channels: ChannelsTable;
  raw_items: RawItemsTable;
  messages: MessagesTable;
  message_refs: MessageRefsTable;
  conversations: ConversationsTable;
  people: PeopleTable;
  identities: IdentitiesTable;
  orgs: OrgsTable;
  feedback_items: FeedbackItemsTable;
  tags: TagsTable;
  clusters: ClustersTable;
  cluster_items: ClusterItemsTable;
  cluster_state: ClusterStateTable;
  cluster_merges: ClusterMergesTable;
  digests: DigestsTable;
  checkpoints: CheckpointsTable;
  gaps: GapsTable;
  quarantine: QuarantineTable;
  source_events: SourceEventsTable;
  tracker_links: TrackerLinksTable;
  cluster_resolutions: ClusterResolutionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  digest_posts: DigestPostsTable;
  loop_replies: LoopRepliesTable;
}
