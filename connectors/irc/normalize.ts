// One IRC line (captured live, replayed by CHATHISTORY, or read from a log file) -> RawMessage or Skip.
// Pure: the identity of a line is a hash of what it says, so re-reading it gives the same id.
import { createHash } from 'node:crypto';
import type { NormalizeContext, RawMessage, Skip } from '../../src/model/index.js';
import { detectRelay, stripFormatting, type BridgeRule } from './bridges.js';

export const IRC_NORMALIZER_VERSION = 1;

/** Lines that carry what someone said. */
export type IrcSpeechKind = 'privmsg' | 'notice' | 'action';
/** Lines that only say something happened in the channel: skipped, counted per kind. */
export type IrcEventKind = 'join' | 'part' | 'quit' | 'nick' | 'mode' | 'topic' | 'kick' | 'server-event';
export type IrcLineKind = IrcSpeechKind | IrcEventKind;

/** The raw item every IRC path yields and the store keeps beside the message (versioned JSON). */
export interface IrcLine {
  v: 1;
  kind: IrcLineKind;
  /** Network name when a source spans several networks; null for one network and for log files. */
  network: string | null;
  /** `#channel` as written; null for a private message. */
  channel: string | null;
  /** Who sent it; null for the server itself. */
  nick: string | null;
  /** The message text as received (formatting codes kept; normalize strips them). */
  text: string;
  /** ms since epoch, UTC: server-time when offered, receive time otherwise, log time for files. */
  time: number;
  /** Position among lines of the same channel sharing `time` (keeps identical lines apart). */
  seq: number;
  /** IRCv3 msgid, when the server offered it. */
  msgid?: string | null;
  /** `+draft/reply` / `+reply` client tag: the msgid this line answers. */
  replyTo?: string | null;
  /** Services account (account-tag), when offered. */
  account?: string | null;
  /** Sent by the connector's own nick. */
  self?: boolean;
  /** Sent by the server (no nick prefix or a server name). */
  fromServer?: boolean;
}

export interface IrcNormalizeOptions {
  bridges?: readonly BridgeRule[];
  /** Log URL with {channel} (URL-encoded, with `#`), {channelBare} (without `#`), {date} {time} (UTC) and {msgid}. */
  permalinkTemplate?: string | null;
  /** Extra nicks to mark as bots (besides services and bridge bots). */
  bots?: readonly string[];
}

/** Nicks that name a bot by convention: `quarry-bot`, `ci_bot`, `jenkins-ci`, `bot-builds`. */
const BOT_NICK = /(?:^|[-_.|])(?:bot|ci|jenkins|notify|notifier|builds?)\d*$|^(?:bot|ci|jenkins)[-_.|]/i;
const SERVICES = /^(?:ChanServ|NickServ|MemoServ|OperServ|HostServ|BotServ|Global|SaslServ|Alis|HistServ)$/i;

/** The stable id of a line without msgid: (network, channel, time, nick, text, sequence within that time). */
export function lineHash(l: Pick<IrcLine, 'network' | 'channel' | 'time' | 'nick' | 'text' | 'seq'>): string {
  const h = createHash('sha256');
  h.update([l.network ?? '', (l.channel ?? '').toLowerCase(), String(l.time), l.nick ?? '', l.text, String(l.seq)].join('\u0000'));
  return `irc-${h.digest('hex').slice(0, 32)}`;
}

export function externalIdOf(l: IrcLine): string {
  return l.msgid ? l.msgid : lineHash(l);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Fills a permalink template; null when it needs a msgid the line does not have. */
export function permalinkFor(template: string | null | undefined, l: IrcLine): string | null {
  if (!template || !l.channel) return null;
  if (template.includes('{msgid}') && !l.msgid) return null;
  const d = new Date(l.time);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return template
    .replaceAll('{channelBare}', encodeURIComponent(l.channel.replace(/^[#&!+]+/, '')))
    .replaceAll('{channel}', encodeURIComponent(l.channel))
    .replaceAll('{date}', date)
    .replaceAll('{time}', encodeURIComponent(time))
    .replaceAll('{msgid}', encodeURIComponent(l.msgid ?? ''));
}

export function isIrcLine(x: unknown): x is IrcLine {
  const l = x as Partial<IrcLine> | null;
  return !!l && typeof l === 'object' && l.v === 1 && typeof l.kind === 'string' && typeof l.text === 'string' && typeof l.time === 'number' && Number.isFinite(l.time);
}

/** `irc:<source>/<nick>` identities: author.id is `<source>/<nick>` (nick lower-cased). */
export function ircAuthorId(source: string, network: string | null, nick: string): string {
  return network ? `${source}/${network}/${nick.toLowerCase()}` : `${source}/${nick.toLowerCase()}`;
}

export function normalizeIrcLine(raw: unknown, ctx: NormalizeContext, opts: IrcNormalizeOptions = {}): RawMessage | Skip {
  if (!isIrcLine(raw)) return { skip: true, reason: 'not an IRC line' };
  const l = raw;
  switch (l.kind) {
    case 'privmsg':
    case 'notice':
    case 'action':
      break;
    default:
      return { skip: true, reason: l.kind };
  }
  if (l.fromServer || !l.nick) return { skip: true, reason: 'server notice' };
  if (l.self) return { skip: true, reason: 'own message' };
  const channel = l.channel ?? ctx.channel ?? null;
  if (!channel) return { skip: true, reason: 'private message' };
  const plain = stripFormatting(l.text).replace(/\s+$/u, '');
  if (l.kind === 'notice' && SERVICES.test(l.nick)) return { skip: true, reason: 'services notice' };

  const verdict = detectRelay(stripFormatting(l.nick), plain, opts.bridges ?? []);
  let author: RawMessage['author'];
  let said: string;
  let relay: RawMessage['relay'] = null;
  let speaker: string;
  if (verdict.kind === 'relay') {
    const r = verdict.relay;
    speaker = r.nick;
    said = r.text;
    author = {
      id: r.protocol ? `${r.protocol}:${r.nick}` : `${ircAuthorId(ctx.source, l.network, r.bot)}/${r.nick.toLowerCase()}`,
      name: r.nick,
      isBot: false,
    };
    relay = { bot: r.bot, network: r.protocol };
  } else {
    speaker = l.nick;
    said = plain;
    const bot = verdict.kind === 'bridge-bot' || SERVICES.test(l.nick) || BOT_NICK.test(l.nick) || (opts.bots ?? []).some((b) => b.toLowerCase() === l.nick?.toLowerCase());
    author = { id: ircAuthorId(ctx.source, l.network, l.nick), name: l.nick, isBot: bot };
  }
  const text = l.kind === 'action' ? `* ${speaker} ${said}`.trimEnd() : said;
  if (!text.trim()) return { skip: true, reason: 'empty message' };
  return {
    externalId: externalIdOf(l),
    channel: l.network ? `${l.network}/${channel}` : channel,
    channelName: channel,
    author,
    text,
    cleanText: text,
    sentAt: Math.round(l.time),
    threadId: null,
    replyTo: l.replyTo ?? null,
    permalink: permalinkFor(opts.permalinkTemplate, { ...l, channel }),
    relay,
  };
}
