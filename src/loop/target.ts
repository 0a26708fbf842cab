// Where a loop reply goes, per platform, from the thread where the need was voiced. Pure.
import type { VoicedThread } from '../store/loop.js';
import type { LoopConfig } from '../config/out.js';

export type ReplyTarget =
  | { platform: 'slack'; source: string; channel: string; threadTs: string }
  | { platform: 'discord'; source: string; channelId: string; messageId: string }
  | { platform: 'matrix'; source: string; roomId: string; eventId: string }
  | { platform: 'mail'; source: string; to: string; inReplyTo: string; references: string[]; subject: string }
  | { platform: 'irc'; source: string; network: string | null; channel: string; nick: string };

const stripKey = (key: string): string => key.replace(/^(g:|s\d+:)/, '');
const angle = (id: string): string => (id.startsWith('<') ? id : `<${id}>`);

/** A list's posting address: configured, the List-Id when it is an address, else `a.b.c` -> `a@b.c` (Mailman's List-Id form). */
export function listAddress(listId: string, lists: LoopConfig['lists']): string | null {
  const configured = lists[listId];
  if (configured) return configured;
  if (/^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(listId)) return listId;
  const m = /^([^.\s]+)\.([^.\s]+\.[^\s]+)$/.exec(listId);
  return m ? `${m[1]}@${m[2]}` : null;
}

/** The reply's target, or why there is none (a platform without a reply form, a thread it cannot name). */
export function replyTarget(t: VoicedThread, loop: LoopConfig): ReplyTarget | { skip: string } {
  switch (t.platform) {
    case 'slack': {
      // Slack ids are `<channel>/<ts>`; a reply goes into the thread of the message (or the thread it is in).
      const thread = t.refs.find((r) => r.kind === 'thread');
      const id = thread ? stripKey(thread.key) : t.messageExternalId;
      const m = /^([A-Z0-9]+)\/(\d+\.\d+)$/.exec(id);
      if (!m) return { skip: `slack message id ${id} does not name a channel and ts` };
      return { platform: 'slack', source: t.source, channel: m[1]!, threadTs: m[2]! };
    }
    case 'discord': {
      // The permalink names the channel the message is in (a thread's own id when it is in a thread).
      const m = t.permalink ? /\/channels\/[^/]+\/(\d+)\/(\d+)$/.exec(t.permalink) : null;
      return { platform: 'discord', source: t.source, channelId: m?.[1] ?? t.channelExternalId, messageId: t.messageExternalId };
    }
    case 'matrix':
      return { platform: 'matrix', source: t.source, roomId: t.channelExternalId, eventId: t.messageExternalId };
    case 'mail': {
      const to = listAddress(t.channelExternalId, loop.lists);
      if (!to) return { skip: `no posting address for the list ${t.channelExternalId}: add it under loop.lists` };
      // References: the thread's ancestors, then the parent (ingest keeps a parent named in both as `reply`).
      const refs = [...t.refs.filter((r) => r.kind === 'reference'), ...t.refs.filter((r) => r.kind === 'reply')].map((r) => angle(stripKey(r.key)));
      const own = angle(t.messageExternalId);
      const subject = (t.subject ?? '').trim();
      return {
        platform: 'mail',
        source: t.source,
        to,
        inReplyTo: own,
        references: [...refs.filter((r) => r !== own), own],
        subject: /^re:/i.test(subject) ? subject : `Re: ${subject || 'your report'}`,
      };
    }
    case 'irc': {
      // Without threads a reply is a line to the whole channel: only when `loop.irc` says so.
      if (!loop.irc) return { skip: 'IRC replies are off (loop.irc: false): a line would reach the whole channel' };
      if (!t.authorName) return { skip: 'the IRC reporter has no nick in the store' };
      const slash = t.channelExternalId.indexOf('/');
      const network = slash > 0 ? t.channelExternalId.slice(0, slash) : null;
      return { platform: 'irc', source: t.source, network, channel: t.channelName ?? t.channelExternalId.slice(slash + 1), nick: t.authorName };
    }
    default:
      return { skip: `no reply form for ${t.platform} yet` };
  }
}

/** The reply's text from the template: {title}, {resolution}, {url} (" — <link>" or nothing). */
export function replyText(template: string, r: { title: string; resolution: string | null; url: string | null }): string {
  return template
    .replace(/\{title\}/g, r.title)
    .replace(/\{resolution\}/g, r.resolution ?? 'resolved')
    .replace(/\{url\}/g, r.url ? ` — ${r.url}` : '');
}
