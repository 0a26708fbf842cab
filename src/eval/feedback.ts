// `gleaner eval feedback`: the pipeline's clusters scored against hand labels of real archives
// (data/labelled/*.labels.csv, GUIDELINE.md there). The figures, one `name: value` line each:
//   feedback.precision          of the labelled messages the clusters count, the share labelled feedback
//   feedback.recall             of the messages labelled feedback, the share attributed to a cluster
//   clusters.purity             mean over clusters of the share of their attributed feedback messages
//                               voicing the cluster's most common need
//   clusters.need_split         mean over needs (attributed anywhere) of the number of clusters they fall in
//   clusters.needs_split_share  share of those needs found in more than one cluster
//   feedback.kind_accuracy      of the counted messages labelled feedback, the share whose cluster shows
//                               the labelled kind (bug, feature, question, docs, praise, complaint)
// then counts, and with several archives the four main figures per archive (archive.<name>.*).
// A cluster *counts* the messages the digest counts (clusterPriority's reporters, each person once per
// cluster); a message is *attributed* to a cluster when the cluster counts it or counts its author from
// the same conversation (a reporter's follow-ups fold into one voicing by design).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { clusterMembers, getClusters, loadItems } from '../store/clusters.js';
import { messageKeys, type MessageKeyRow } from '../store/message-keys.js';
import { clusterPriority } from '../pipeline/priority.js';
import { parseCsvRecords } from './csv.js';

export const LABEL_KINDS = ['bug', 'feature', 'question', 'docs', 'praise', 'complaint', 'none'] as const;
export const LABEL_ROLES = ['reporter', 'me-too', 'answerer', 'staff', 'bot', 'other'] as const;
export type LabelKind = (typeof LABEL_KINDS)[number];
export type LabelRole = (typeof LABEL_ROLES)[number];

export interface MessageLabel {
  /** The archive's file name, e.g. maven-dev-2017-11.mbox. */
  archive: string;
  /** Mail: the Message-ID without angle brackets; Slack: the message ts. */
  id: string;
  /** Slack: the channel name; mail: ''. */
  channel: string;
  feedback: boolean;
  kind: LabelKind;
  role: LabelRole;
  /** The need the message voices, scoped by archive (`archive need`); null when not feedback. */
  need: string | null;
}

const COLUMNS = ['archive', 'id', 'channel', 'feedback', 'kind', 'role', 'need'] as const;

/** Labels from CSV text; every error names the file and the record. */
export function parseLabels(text: string, file: string): MessageLabel[] {
  const records = parseCsvRecords(text);
  const first = records[0];
  if (first) for (const c of COLUMNS) if (!(c in first)) throw new Error(`${file}: no \`${c}\` column; the header needs ${COLUMNS.join(',')}`);
  return records.map((r, i) => {
    const where = `${file} record ${i + 1}`;
    const archive = (r.archive ?? '').trim();
    const id = (r.id ?? '').trim().replace(/^<|>$/g, '');
    if (!archive || !id) throw new Error(`${where}: archive and id are required`);
    const fb = (r.feedback ?? '').trim().toLowerCase();
    if (fb !== 'yes' && fb !== 'no') throw new Error(`${where}: feedback must be yes or no, not ${JSON.stringify(r.feedback)}`);
    const kind = (r.kind ?? '').trim() as LabelKind;
    if (!LABEL_KINDS.includes(kind)) throw new Error(`${where}: kind must be one of ${LABEL_KINDS.join('/')}, not ${JSON.stringify(r.kind)}`);
    const role = (r.role ?? '').trim() as LabelRole;
    if (!LABEL_ROLES.includes(role)) throw new Error(`${where}: role must be one of ${LABEL_ROLES.join('/')}, not ${JSON.stringify(r.role)}`);
    const feedback = fb === 'yes';
    if (feedback === (kind === 'none')) throw new Error(`${where}: kind is none exactly when feedback is no`);
    const need = (r.need ?? '').trim();
    if (feedback && !need) throw new Error(`${where}: a feedback message needs a need id`);
    return { archive, id, channel: (r.channel ?? '').trim(), feedback, kind, role, need: feedback ? `${archive} ${need}` : null };
  });
}

export async function readLabels(paths: readonly string[]): Promise<MessageLabel[]> {
  const out: MessageLabel[] = [];
  for (const p of paths) out.push(...parseLabels(await readFile(p, 'utf8'), p));
  const seen = new Set<string>();
  for (const l of out) {
    const k = `${l.archive}\u0000${labelKey(l)}`;
    if (seen.has(k)) throw new Error(`${l.archive}: message ${labelKey(l)} is labelled twice`);
    seen.add(k);
  }
  return out;
}

/** What a label names a message by: the Message-ID, or `channel/ts` for chat. */
export const labelKey = (l: Pick<MessageLabel, 'id' | 'channel'>): string => (l.channel ? `${l.channel}/${l.id}` : l.id);

/** A labelled message as found in the store (null ids: not stored, e.g. skipped at import). */
export interface LabelledMessage {
  label: MessageLabel;
  messageId: number | null;
  conversationId: number | null;
  personId: number | null;
}

/** A message a cluster counts, with its conversation and author, and the kind the cluster shows. */
export interface CountedMessage {
  clusterId: number;
  messageId: number;
  conversationId: number;
  personId: number;
  kind?: string | null;
}

export interface FeedbackScores {
  precision: number;
  recall: number;
  purity: number;
  needSplit: number;
  needsSplitShare: number;
  kindAccuracy: number;
  labelled: number;
  labelledFeedback: number;
  notInStore: number;
  counted: number;
  countedLabelled: number;
  countedUnlabelled: number;
  clusters: number;
  needs: number;
}

/**
 * The figures from labelled messages and what the clusters count. Ratios with nothing to divide by
 * are 0 (no labelled message counted: precision 0; no feedback labelled: recall 0).
 */
export function scoreFeedback(labelled: readonly LabelledMessage[], counted: readonly CountedMessage[]): FeedbackScores {
  const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);
  // A stored message may carry several labels (a copy's label stands for its original): feedback when any says so.
  const feedbackOf = new Map<number, boolean>();
  // The kinds it is labelled with (as feedback).
  const kindsOf = new Map<number, Set<string>>();
  for (const l of labelled) {
    if (l.messageId === null) continue;
    feedbackOf.set(l.messageId, (feedbackOf.get(l.messageId) ?? false) || l.label.feedback);
    if (l.label.feedback) kindsOf.set(l.messageId, (kindsOf.get(l.messageId) ?? new Set()).add(l.label.kind));
  }
  const countedIds = new Set(counted.map((c) => c.messageId));
  let countedLabelled = 0;
  let countedFeedback = 0;
  for (const id of countedIds) {
    const fb = feedbackOf.get(id);
    if (fb === undefined) continue;
    countedLabelled++;
    if (fb) countedFeedback++;
  }
  // Kind: each counted feedback message once per cluster counting it, right when the cluster's kind is one it is labelled with.
  let kindJudged = 0;
  let kindRight = 0;
  for (const c of counted) {
    const kinds = kindsOf.get(c.messageId);
    if (!kinds || c.kind === undefined) continue;
    kindJudged++;
    if (c.kind !== null && kinds.has(c.kind)) kindRight++;
  }
  // Attribution: cluster -> counted message ids and (conversation, person) pairs.
  const byCluster = new Map<number, { ids: Set<number>; voices: Set<string> }>();
  for (const c of counted) {
    let e = byCluster.get(c.clusterId);
    if (!e) byCluster.set(c.clusterId, (e = { ids: new Set(), voices: new Set() }));
    e.ids.add(c.messageId);
    e.voices.add(`${c.conversationId} ${c.personId}`);
  }
  const feedback = labelled.filter((l) => l.label.feedback);
  const clustersOf = (l: LabelledMessage): number[] => {
    if (l.messageId === null) return [];
    const voice = `${l.conversationId} ${l.personId}`;
    const out: number[] = [];
    for (const [id, e] of byCluster) if (e.ids.has(l.messageId) || (l.conversationId !== null && e.voices.has(voice))) out.push(id);
    return out;
  };
  const needCountsByCluster = new Map<number, Map<string, number>>();
  const clustersByNeed = new Map<string, Set<number>>();
  let recalled = 0;
  for (const l of feedback) {
    const cs = clustersOf(l);
    if (cs.length) recalled++;
    const need = l.label.need ?? '';
    for (const c of cs) {
      const counts = needCountsByCluster.get(c) ?? new Map<string, number>();
      counts.set(need, (counts.get(need) ?? 0) + 1);
      needCountsByCluster.set(c, counts);
      const set = clustersByNeed.get(need) ?? new Set<number>();
      set.add(c);
      clustersByNeed.set(need, set);
    }
  }
  let puritySum = 0;
  for (const counts of needCountsByCluster.values()) {
    const values = [...counts.values()];
    puritySum += Math.max(...values) / values.reduce((a, b) => a + b, 0);
  }
  const spreads = [...clustersByNeed.values()].map((s) => s.size);
  return {
    precision: ratio(countedFeedback, countedLabelled),
    recall: ratio(recalled, feedback.length),
    purity: ratio(puritySum, needCountsByCluster.size),
    needSplit: ratio(
      spreads.reduce((a, b) => a + b, 0),
      spreads.length,
    ),
    needsSplitShare: ratio(spreads.filter((n) => n > 1).length, spreads.length),
    kindAccuracy: ratio(kindRight, kindJudged),
    labelled: labelled.length,
    labelledFeedback: feedback.length,
    notInStore: labelled.filter((l) => l.messageId === null).length,
    counted: countedIds.size,
    countedLabelled,
    countedUnlabelled: countedIds.size - countedLabelled,
    clusters: byCluster.size,
    needs: new Set(feedback.map((l) => l.label.need)).size,
  };
}

/** The figures as printed, in the documented order. */
export function feedbackLines(s: FeedbackScores): Array<[string, number]> {
  return [
    ['feedback.precision', s.precision],
    ['feedback.recall', s.recall],
    ['clusters.purity', s.purity],
    ['clusters.need_split', s.needSplit],
    ['clusters.needs_split_share', s.needsSplitShare],
    ['feedback.kind_accuracy', s.kindAccuracy],
    ['feedback.labelled', s.labelled],
    ['feedback.labelled_feedback', s.labelledFeedback],
    ['feedback.labels_not_in_store', s.notInStore],
    ['feedback.counted', s.counted],
    ['feedback.unlabelled_counted', s.countedUnlabelled],
    ['clusters.counting', s.clusters],
    ['clusters.labelled_needs', s.needs],
  ];
}

/** Labels joined to stored messages: by Message-ID, or by `channel/ts` with the channel's name or id. */
export function joinLabels(labels: readonly MessageLabel[], rows: readonly MessageKeyRow[]): LabelledMessage[] {
  const byId = new Map(rows.map((r) => [r.messageId, r]));
  const byKey = new Map<string, MessageKeyRow>();
  for (const r of rows) {
    byKey.set(r.externalId, r);
    const slash = r.externalId.lastIndexOf('/');
    if (slash > 0 && r.externalId.slice(0, slash) === r.channelExternalId && r.channelName) byKey.set(`${r.channelName}/${r.externalId.slice(slash + 1)}`, r);
  }
  return labels.map((label) => {
    const found = byKey.get(labelKey(label));
    const row = found && found.copyOf !== null ? (byId.get(found.copyOf) ?? found) : found;
    return { label, messageId: row?.messageId ?? null, conversationId: row?.conversationId ?? null, personId: row?.personId ?? null };
  });
}

const ALL_TIME = { start: 0, end: Number.MAX_SAFE_INTEGER };

/** What every cluster in the store counts, as the digest counts it. */
export async function countedMessages(db: Kysely<Database>): Promise<CountedMessage[]> {
  const clusters = await getClusters(db);
  const members = await clusterMembers(
    db,
    clusters.map((c) => c.id),
  );
  const kindOf = new Map(clusters.map((c) => [c.id, c.kind]));
  const out: CountedMessage[] = [];
  for (const [clusterId, itemIds] of members) {
    const items = await loadItems(db, itemIds);
    if (!items.length) continue;
    const messages = new Map(items.flatMap((i) => i.messages).map((m) => [m.messageId, m]));
    for (const r of clusterPriority(items, ALL_TIME).reporters) {
      for (const id of r.messageIds) {
        const m = messages.get(id);
        if (m) out.push({ clusterId, messageId: id, conversationId: m.conversationId, personId: m.personId, kind: kindOf.get(clusterId) ?? null });
      }
    }
  }
  return out;
}

/** `maven-dev-2017-11.mbox` -> `maven_dev_2017_11`: an archive's name as a figure name part. */
export const archiveKey = (archive: string): string =>
  archive
    .replace(/\.(mbox|zip|json|txt)$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

/**
 * The figures over all labels, then, when the labels cover several archives, the four main figures
 * per archive (`archive.<name>.feedback.precision`, ...): each archive's labels against what the
 * clusters count of that archive's messages.
 */
export function feedbackReport(labelled: readonly LabelledMessage[], counted: readonly CountedMessage[]): Array<[string, number]> {
  const out = feedbackLines(scoreFeedback(labelled, counted));
  const archives = [...new Set(labelled.map((l) => l.label.archive))].sort();
  if (archives.length < 2) return out;
  for (const archive of archives) {
    const mine = labelled.filter((l) => l.label.archive === archive);
    const ids = new Set(mine.flatMap((l) => (l.messageId === null ? [] : [l.messageId])));
    const s = scoreFeedback(
      mine,
      counted.filter((c) => ids.has(c.messageId)),
    );
    const k = `archive.${archiveKey(archive)}`;
    out.push([`${k}.feedback.precision`, s.precision], [`${k}.feedback.recall`, s.recall], [`${k}.clusters.purity`, s.purity], [`${k}.clusters.need_split`, s.needSplit]);
  }
  return out;
}

/** Scores the store's clusters against the labels. */
export async function evalFeedbackOnStore(db: Kysely<Database>, labels: readonly MessageLabel[]): Promise<Array<[string, number]>> {
  const labelled = joinLabels(labels, await messageKeys(db));
  return feedbackReport(labelled, await countedMessages(db));
}

/** The archive files the labels name, from explicit paths first, then by file name among `candidates`. */
export function archivesFor(labels: readonly MessageLabel[], candidates: readonly string[]): string[] {
  const names = [...new Set(labels.map((l) => l.archive))].sort();
  const paths = names.map((name) => {
    // The labels may name the archive with a folder (`mbox/x.mbox`): the file name decides.
    const path = candidates.find((c) => c === name || basename(c) === basename(name));
    if (!path) throw new Error(`the labels name archive ${name}, which is neither given with --archive nor found under the archives folder`);
    return path;
  });
  return [...new Set(paths)];
}
