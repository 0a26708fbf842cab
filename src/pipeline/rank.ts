// First ranking, before clusters exist: a period's conversations by distinct participants.
// Later stages replace the conversations with clusters; the output shape is the digest contract.
import type { DigestCluster, DigestQuote } from '../model/index.js';

export interface RankInput {
  id: number;
  subject: string | null;
  channel: string;
  startedAt: number;
  lastAt: number;
  messages: number;
  participants: number;
  feedback?: { kind: DigestCluster['kind']; tags: string[] } | null;
}

export interface RankQuote {
  conversationId: number;
  text: string;
  author: string | null;
  channel: string;
  url: string | null;
  at: number;
}

const QUOTE_CHARS = 280;

export function excerpt(text: string, max = QUOTE_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export function titleFor(c: Pick<RankInput, 'subject'>, firstQuote: string | undefined): string {
  const s = c.subject?.replace(/^\s*((re|fwd?|aw)\s*:\s*)+/i, '').trim();
  if (s) return excerpt(s, 120);
  if (firstQuote) return excerpt(firstQuote.split(/(?<=[.!?])\s/)[0] ?? firstQuote, 100);
  return '(untitled conversation)';
}

export function rankConversations(convs: RankInput[], quotes: RankQuote[], limit: number, quotesPer = 3): DigestCluster[] {
  const byConv = new Map<number, RankQuote[]>();
  for (const q of quotes) {
    const list = byConv.get(q.conversationId) ?? [];
    list.push(q);
    byConv.set(q.conversationId, list);
  }
  return [...convs]
    .sort((a, b) => b.participants - a.participants || b.messages - a.messages || b.lastAt - a.lastAt || a.id - b.id)
    .slice(0, limit)
    .map((c) => {
      const qs = byConv.get(c.id) ?? [];
      const outQuotes: DigestQuote[] = qs.slice(0, quotesPer).map((q) => ({ text: excerpt(q.text), author: q.author, channel: q.channel, url: q.url, at: new Date(q.at).toISOString() }));
      return {
        id: `conversation-${c.id}`,
        title: titleFor(c, qs[0]?.text),
        kind: c.feedback?.kind ?? null,
        tags: c.feedback?.tags ?? [],
        reporters: c.participants,
        mentions: c.messages,
        segments: {},
        channels: [c.channel],
        trend: null,
        firstSeen: new Date(c.startedAt).toISOString(),
        lastSeen: new Date(c.lastAt).toISOString(),
        score: c.participants,
        why: null,
        summary: null,
        quotes: outQuotes,
      };
    });
}
