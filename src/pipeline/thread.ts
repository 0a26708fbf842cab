// Threading: which conversation each new message belongs to. Pure: the shell passes in what the store
// already knows (ref key -> conversation, channel+subject -> conversation) and saves the result.
//
// Native structure first: a reply or thread link to a known message joins its conversation (mail:
// In-Reply-To, then References newest to oldest, as JWZ does). Mail without a known parent falls back to
// the normalised subject when the subject says it is a reply. Anything else starts a conversation.

import type { ConversationRef, RefKind } from '../model/ingest.js';

export type { ConversationRef, RefKind };

export interface ThreadInput {
  key: string;
  refs: Array<{ key: string; kind: RefKind }>;
  channelId: number;
  subjectKey: string | null;
  isReplySubject: boolean;
  sentAt: number;
  /**
   * A copy (a bridge relay, a cross-post) belongs to its original's conversation: the original's key in
   * this batch, or the stored original's conversation. Replies threaded to the copy follow it there.
   */
  original?: { key: string } | { conversation: number };
}

export interface ThreadContext {
  /** Conversation of each message key already stored. */
  convOfKey: ReadonlyMap<string, number>;
  /** Conversation for `${channelId}\u0000${subjectKey}` among recent conversations. */
  convOfSubject: ReadonlyMap<string, number>;
}

export interface ThreadResult {
  assign: ConversationRef[];
  fresh: Array<{ channelId: number; subjectKey: string | null; firstInput: number }>;
}

const REF_ORDER: Record<RefKind, number> = { reply: 0, thread: 1, reference: 2 };

export function assignConversations(inputs: readonly ThreadInput[], ctx: ThreadContext): ThreadResult {
  const order = inputs.map((_, i) => i).sort((a, b) => inputs[a]!.sentAt - inputs[b]!.sentAt || a - b);
  const local = new Map<string, ConversationRef>();
  const subjects = new Map<string, ConversationRef>();
  const assign: ConversationRef[] = new Array<ConversationRef>(inputs.length);
  const fresh: ThreadResult['fresh'] = [];

  const resolve = (key: string): ConversationRef | undefined => {
    const l = local.get(key);
    if (l) return l;
    const e = ctx.convOfKey.get(key);
    return e === undefined ? undefined : { existing: e };
  };

  for (const i of order) {
    const m = inputs[i]!;
    // References are oldest-first; the nearest ancestor is the most reliable link.
    const refs = m.refs.length < 2 ? m.refs : [...m.refs].map((r, pos) => ({ ...r, pos })).sort((a, b) => REF_ORDER[a.kind] - REF_ORDER[b.kind] || b.pos - a.pos);
    let conv: ConversationRef | undefined = m.original ? ('key' in m.original ? resolve(m.original.key) : { existing: m.original.conversation }) : undefined;
    for (const r of conv ? [] : refs) {
      if (r.key === m.key) continue;
      conv = resolve(r.key);
      if (conv) break;
    }
    const subjKey = m.subjectKey ? `${m.channelId}\u0000${m.subjectKey}` : null;
    if (!conv && subjKey && (m.isReplySubject || m.refs.length > 0)) {
      conv = subjects.get(subjKey) ?? (ctx.convOfSubject.has(subjKey) ? { existing: ctx.convOfSubject.get(subjKey)! } : undefined);
    }
    if (!conv) {
      conv = { fresh: fresh.length };
      fresh.push({ channelId: m.channelId, subjectKey: m.subjectKey, firstInput: i });
    }
    assign[i] = conv;
    local.set(m.key, conv);
    // A thread whose first message is not here (a forum post's thread exported alone, a thread whose
    // starter was deleted): its messages still make one conversation, under the thread's key.
    for (const r of refs) if (r.kind === 'thread' && r.key !== m.key && !resolve(r.key)) local.set(r.key, conv);
    if (subjKey && !subjects.has(subjKey)) subjects.set(subjKey, conv);
  }
  return { assign, fresh };
}

const SUBJECT_PREFIX = /^\s*((re|aw|sv|fw|fwd|antw|wg)(\[\d+\])?\s*:\s*|\[[^\]]{1,40}\]\s*)/i;

/** Subject without reply/forward prefixes and list tags, case- and space-folded; null when empty. */
export function subjectKey(subject: string | null | undefined): { key: string | null; isReply: boolean } {
  if (!subject) return { key: null, isReply: false };
  let s = subject;
  let isReply = false;
  for (let i = 0; i < 10; i++) {
    const m = SUBJECT_PREFIX.exec(s);
    if (!m) break;
    if (m[2]) isReply = true;
    s = s.slice(m[0].length);
  }
  const key = s.replace(/\s+/g, ' ').trim().toLowerCase();
  return { key: key || null, isReply };
}
