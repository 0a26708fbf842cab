// Links from a mail quote to a web archive of its list. A mail's own `Archived-At` header wins (the
// connector keeps it as the permalink); otherwise the list's entry in config `archives:` makes one
// from the Message-ID (Pony Mail, Hyperkitty, mail-archive.com) or the date (a pipermail month).
// Pure: no network; the link is a template filled in, never looked up.
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const ARCHIVE_TYPES = ['ponymail', 'hyperkitty', 'pipermail', 'mail-archive'] as const;
export type ArchiveType = (typeof ARCHIVE_TYPES)[number];

/**
 * One list's archive: `list` is the List-Id (`users.httpd.apache.org`) or the channel name a mail was
 * imported under; `type` picks a URL pattern and `base` its host, or `url` is a template of its own.
 * Placeholders: {messageId} (URL-encoded, no angle brackets), {messageIdAngle} (encoded with them),
 * {hyperkittyHash}, {list} (the List-Id), {listAddress} (users@httpd.apache.org), {listName} (users),
 * {yyyy}, {mm}, {Month} (July) of the message's date.
 */
export const ArchiveConfigSchema = z
  .object({
    list: z.string().min(1),
    type: z.enum(ARCHIVE_TYPES).optional(),
    base: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'base is an http(s) URL')
      .optional(),
    url: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'url is an http(s) URL template')
      .optional(),
  })
  .strict()
  .refine((a) => a.type !== undefined || a.url !== undefined, { message: 'an archive needs a type (ponymail, hyperkitty, pipermail, mail-archive) or a url template' });
export type ArchiveConfig = z.infer<typeof ArchiveConfigSchema>;

const DEFAULT_BASE: Record<ArchiveType, string> = {
  ponymail: 'https://lists.apache.org',
  hyperkitty: 'https://mail.python.org/archives',
  pipermail: 'https://mail.python.org',
  'mail-archive': 'https://www.mail-archive.com',
};

const PATTERN: Record<ArchiveType, string> = {
  // Pony Mail resolves a Message-ID in its thread permalink (lists.apache.org keeps the old form working).
  ponymail: '{base}/thread.html/{messageIdAngle}',
  // Hyperkitty (Mailman 3) names a message by the base32 SHA-1 of its Message-ID.
  hyperkitty: '{base}/list/{listAddress}/message/{hyperkittyHash}/',
  // Pipermail numbers messages as it archives them: the month's thread index is the closest link.
  pipermail: '{base}/pipermail/{listName}/{yyyy}-{Month}/thread.html',
  'mail-archive': '{base}/search?l=mid&q={messageId}',
};

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Mailman 3's message hash: base32 of the SHA-1 of the Message-ID without angle brackets. */
export function hyperkittyHash(messageId: string): string {
  const digest = createHash('sha1').update(messageId.replace(/^<|>$/g, ''), 'utf8').digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** users.httpd.apache.org -> users@httpd.apache.org (a List-Id is the list's address with its first dot). */
function listAddress(list: string): string {
  if (list.includes('@')) return list;
  const dot = list.indexOf('.');
  return dot > 0 ? `${list.slice(0, dot)}@${list.slice(dot + 1)}` : list;
}

export interface ArchiveMessage {
  platform: string;
  /** The list (List-Id) or channel the mail was stored under. */
  channel: string;
  channelExternal?: string;
  /** The Message-ID. */
  externalId?: string;
  permalink: string | null;
  at: number;
}

/** The archive configured for a message's list, if any. */
export function archiveFor(m: Pick<ArchiveMessage, 'channel' | 'channelExternal'>, archives: readonly ArchiveConfig[]): ArchiveConfig | undefined {
  const norm = (k: string) => listAddress(k.toLowerCase().replace(/^<|>$/g, ''));
  const keys = [m.channelExternal, m.channel].filter((k): k is string => !!k).map(norm);
  return archives.find((a) => keys.includes(norm(a.list)));
}

/** A web link for a quote: its permalink (Archived-At for mail), else its list's archive template; null when there is none. */
export function quoteLink(m: ArchiveMessage, archives: readonly ArchiveConfig[] = []): string | null {
  if (m.permalink) return m.permalink;
  if (m.platform !== 'mail' || !m.externalId || m.externalId.startsWith('gleaner-')) return null;
  const a = archiveFor(m, archives);
  if (!a) return null;
  const template = a.url ?? PATTERN[a.type!];
  const base = (a.base ?? (a.type ? DEFAULT_BASE[a.type] : '')).replace(/\/+$/, '');
  const list = (m.channelExternal ?? m.channel).replace(/^<|>$/g, '');
  const id = m.externalId.replace(/^<|>$/g, '');
  const d = new Date(m.at);
  const values: Record<string, string> = {
    base,
    messageId: encodeURIComponent(id),
    messageIdAngle: encodeURIComponent(`<${id}>`),
    hyperkittyHash: hyperkittyHash(id),
    list: encodeURIComponent(list),
    listAddress: encodeURIComponent(listAddress(list)).replace(/%40/g, '@'),
    listName: encodeURIComponent(listAddress(list).split('@')[0] ?? list),
    yyyy: String(d.getUTCFullYear()),
    mm: String(d.getUTCMonth() + 1).padStart(2, '0'),
    Month: MONTHS[d.getUTCMonth()]!,
  };
  return template.replace(/\{(\w+)\}/g, (whole, k: string) => values[k] ?? whole);
}
