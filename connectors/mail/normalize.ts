// One mail message source -> RawMessage, shared by the mbox and pipermail importers and IMAP.
// mailparser does MIME, charsets and RFC 2047; what it gets wrong or leaves out (junk In-Reply-To,
// invalid dates turned into "now", List-Id) is read from the raw header lines here. A simple message
// (one text/plain part, ASCII headers) is read by simple-parse.ts instead, with the same result.
import { createHash } from 'node:crypto';
import { convert as htmlToText } from 'html-to-text';
import { simpleParser } from 'mailparser';
import { RawMessageSchema, type Attachment, type NormalizeContext, type RawMessage, type Skip } from '../../src/model/index.js';
import { parseSimpleMail, type MailView } from './simple-parse.js';

/** Bump when the output of `normalizeMail` changes, so stored raw items are re-normalized. */
export const MAIL_NORMALIZER_VERSION = 1;

/** What the mail importers and the IMAP connector put in `ImportItem.raw` / `Page.items`. */
export interface MailRaw {
  kind: 'mail';
  format: 'mbox' | 'pipermail' | 'imap';
  /** The message source (headers and body), From_ line excluded. */
  source: string;
  /** How `source` was decoded from bytes: Latin-1 sources are re-encoded byte-exact for parsing. */
  sourceEncoding: 'utf8' | 'latin1';
  /** The mbox From_ line, for the date fallback; null for IMAP. */
  fromLine: string | null;
  /** Archive file base name (the channel of last resort); null for IMAP. */
  archive: string | null;
  location: string;
  mailbox?: string;
  uid?: number;
  uidValidity?: string;
  /** IMAP INTERNALDATE, ms since epoch (the date fallback for IMAP). */
  internalDate?: number | null;
}

const skip = (reason: string): Skip => ({ skip: true, reason });

function asMailRaw(raw: unknown): MailRaw | null {
  if (typeof raw === 'string') {
    // A stored payload: an optional From_ line, then the message.
    const m = /^(From [^\n]*)\r?\n/.exec(raw);
    return {
      kind: 'mail',
      format: 'mbox',
      source: m ? raw.slice(m[0].length) : raw,
      sourceEncoding: 'utf8',
      fromLine: m?.[1] ?? null,
      archive: null,
      location: 'payload',
    };
  }
  if (raw && typeof raw === 'object' && (raw as { kind?: unknown }).kind === 'mail' && typeof (raw as { source?: unknown }).source === 'string') {
    return raw as MailRaw;
  }
  return null;
}

// ---- header helpers ----

function headerValue(parsed: MailView, name: string): string | null {
  for (const h of parsed.headerLines) {
    if (h.key === name) {
      const idx = h.line.indexOf(':');
      return h.line
        .slice(idx + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim();
    }
  }
  return null;
}

function angleIds(value: string): string[] {
  const ids: string[] = [];
  for (const m of value.matchAll(/<([^<>\s]+)>/g)) if (m[1]) ids.push(m[1].trim());
  return ids;
}

/** Message-ID without `<>`, trimmed; the local part keeps its case. */
export function cleanMessageId(value: string | null | undefined): string | null {
  if (!value) return null;
  const inAngles = angleIds(value);
  const id = (inAngles[0] ?? value.replace(/[<>]/g, '')).trim();
  return id && !/\s/.test(id) ? id : null;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** The asctime date of a From_ line, read as UTC (mbox writers use UTC or an unknown local zone). */
export function fromLineDate(fromLine: string | null): number | null {
  if (!fromLine) return null;
  const m = / (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d\d):(\d\d)(?::(\d\d))?(?: .*?)? (\d{4})\b/.exec(fromLine);
  if (!m) return null;
  const t = Date.UTC(Number(m[6]), MONTHS[m[1] ?? ''] ?? 0, Number((m[2] ?? '').trim()), Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
  return Number.isFinite(t) ? t : null;
}

/** RFC 5322 date (with the usual junk: comments, missing zone, two-digit years); null when unreadable. */
export function parseMailDate(value: string | null): number | null {
  if (!value) return null;
  const cleaned = value
    .replace(/\([^)]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  for (const candidate of [cleaned, cleaned.replace(/^[A-Za-z]+,?\s*/, ''), cleaned.replace(/ ([A-Z]{3,5}|[+-]\d{4}) .*$/, ' $1')]) {
    const t = Date.parse(candidate);
    if (Number.isFinite(t) && t > 0) return t;
  }
  return null;
}

// ---- bots ----

const BOT_LOCAL_PART =
  /^(?:no-?reply|do-?not-?reply|noreply-[\w.-]+|mailer-daemon|postmaster|jira|git|gitbox|github|jenkins|hudson|buildbot|builds?|ci|notifications?|notify|bugzilla|bugs|sonar\w*|dependabot|renovate|travis|automation|robot|bot)$/i;

export function isAutomatedSender(address: string): boolean {
  const [local = '', domain = ''] = address.toLowerCase().split('@');
  if (BOT_LOCAL_PART.test(local)) return true;
  if (/(?:^|[-_.])no-?reply$|(?:^|[-_.])bot$|\[bot\]$/.test(local)) return true;
  return domain === 'noreply.github.com' || domain.endsWith('.noreply.github.com');
}

function detectBot(parsed: MailView, address: string): boolean {
  const auto = headerValue(parsed, 'auto-submitted');
  if (auto && !/^no\b/i.test(auto)) return true;
  if (headerValue(parsed, 'x-autoreply') || headerValue(parsed, 'x-autorespond')) return true;
  return isAutomatedSender(address);
}

// ---- pipermail ----

/** `user at host` -> `user@host`, for one address token only. */
export function deobfuscateAddress(token: string): string {
  const m = /^(\S+) at (\S+)$/.exec(token.trim());
  return m ? `${m[1]}@${m[2]}` : token;
}

const SCRUB_MARKER = /^-{14} next part -{14}$/;

/** Removes Mailman's `-------------- next part --------------` notices, returning what they described. */
export function stripScrubbedAttachments(text: string): { text: string; attachments: Attachment[] } {
  if (!text.includes('next part')) return { text, attachments: [] };
  const lines = text.split('\n');
  const out: string[] = [];
  const attachments: Attachment[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!SCRUB_MARKER.test(line.trimEnd())) {
      out.push(line);
      continue;
    }
    const next = (lines[i + 1] ?? '').trim();
    const scrubbed = /^An? (?:HTML attachment|non-text attachment|embedded (?:and charset-unspecified text|message)) was scrubbed\.\.\.$/.exec(next);
    if (!scrubbed) continue; // an inline text part follows: keep it, drop the marker line
    const fields: Record<string, string> = {};
    let j = i + 2;
    for (; j < lines.length; j++) {
      const f = /^(Name|Type|Size|Desc|URL): ?(.*)$/.exec((lines[j] ?? '').trimEnd());
      if (!f) break;
      fields[f[1] ?? ''] = f[2] ?? '';
    }
    const size = /^(\d+) bytes$/.exec(fields.Size ?? '');
    const url = /^<?([^<>\s]+)>?$/.exec(fields.URL ?? '');
    const html = next.startsWith('An HTML');
    attachments.push({
      name: fields.Name ?? (html ? 'attachment.html' : 'attachment'),
      contentType: fields.Type ?? (html ? 'text/html' : null),
      size: size ? Number(size[1]) : null,
      url: url?.[1] ?? null,
    });
    i = j - 1;
  }
  return { text: out.join('\n').replace(/\s+$/, '\n'), attachments };
}

// ---- new text only ----

const QUOTED = /^\s*>/;
const ATTRIBUTIONS: RegExp[] = [
  /^On\b.{0,300}\bwrote:?$/i,
  /^.{1,300}\b(?:wrote|writes):$/i,
  /^Am\b.{0,300}\bschrieb\b.{0,200}:$/,
  /^.{1,300}\bschrieb:$/,
  /^Le\b.{0,300}\ba écrit ?:$/,
  /^.{1,300}\ba écrit ?:$/,
  /^El\b.{0,300}\bescribió:$/,
  /^Il\b.{0,300}\bha scritto:$/,
  /^Op\b.{0,300}\bschreef\b.{0,200}:$/,
];
const ATTRIBUTION_START = /^(?:On|Am|Le|El|Il|Op)\s/;
const MOBILE_SIGNATURE = /^(?:Sent from my \w[\w ]*|Sent from (?:Mail|Outlook) for \w+|Get Outlook for \w+|Envoyé de mon \w+|Von meinem \w+ gesendet)\.?$/i;

function isAttribution(block: string): boolean {
  const s = block.replace(/\s+/g, ' ').trim();
  return s.length > 0 && ATTRIBUTIONS.some((re) => re.test(s));
}

/** Index of the first line where everything after is not new text (signature, footer, forwarded original). */
function cutIndex(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trimEnd();
    const raw = lines[i] ?? '';
    if (QUOTED.test(raw)) continue;
    if (raw === '-- ' || raw === '--' || line === '-- ') return i;
    if (/^-{2,}\s*Original Message\s*-{2,}/i.test(line)) return i;
    const c = line.charCodeAt(0);
    if ((c === 0x5f /* _ */ || c === 0x2d) /* - */ && line.length >= 20) {
      const following = lines
        .slice(i + 1, i + 5)
        .map((l) => l.trim())
        .filter((l) => l !== '');
      if (/^_{20,}$/.test(line) && following.some((l) => /^(?:From|De|Von|Sent|Envoyé|Gesendet):|mailing list|listinfo|\S+ at \S+\.\S+|@/i.test(l))) return i;
      if (/^-{20,}$/.test(line) && /^To unsubscribe, e-mail:/i.test(following[0] ?? '')) return i;
    }
    if (c === 0x46 /* F */ && /^From: .+/.test(line) && /^(?:Sent|Date): .+/.test((lines[i + 1] ?? '').trim()) && /^(?:To|Subject|Cc): /.test((lines[i + 2] ?? '').trim())) return i;
  }
  return lines.length;
}

/** The text a message adds: quotes, attributions, signatures, list footers and forwarded originals removed. */
export function extractNewText(text: string): string {
  const all = text.replace(/\r\n?/g, '\n').split('\n');
  const lines = all.slice(0, cutIndex(all));
  const out: string[] = [];
  const nextNonBlank = (from: number): string | undefined => {
    for (let k = from; k < lines.length; k++) if ((lines[k] ?? '').trim() !== '') return lines[k];
    return undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (QUOTED.test(line)) continue;
    if (MOBILE_SIGNATURE.test(line.trim())) continue;
    // Attribution lines, possibly wrapped over up to three lines, before a quote (or at the very end).
    let attribution = 0;
    for (let span = 1; span <= 3 && i + span <= lines.length; span++) {
      const last = (lines[i + span - 1] ?? '').trimEnd();
      if (QUOTED.test(last) || last === '') break;
      // A wrapped attribution (Gmail) starts with its introducing word; generic "X wrote:" is one line.
      if (span > 1 && !ATTRIBUTION_START.test(line)) break;
      if (!last.endsWith(':') && !/wrote$/i.test(last)) continue; // cheap pre-check before the regexes
      if (isAttribution(lines.slice(i, i + span).join(' '))) {
        const after = nextNonBlank(i + span);
        if (after === undefined || QUOTED.test(after)) attribution = span;
        break;
      }
    }
    if (attribution > 0) {
      i += attribution - 1;
      continue;
    }
    out.push(line.trimEnd());
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// ---- normalize ----

/** The message text that is parsed; its bytes are `Buffer.from(text, raw.sourceEncoding)`. */
export function mailSourceText(raw: MailRaw): string {
  if (raw.format === 'pipermail' && !/^content-type:/im.test(splitHead(raw.source))) {
    // pipermail keeps decoded text without MIME headers: say what it is so mailparser does not guess.
    return `Content-Type: text/plain; charset=${raw.sourceEncoding === 'utf8' ? 'utf-8' : 'iso-8859-1'}\n${raw.source}`;
  }
  return raw.source;
}

function splitHead(source: string): string {
  const m = /\r?\n\r?\n/.exec(source);
  return m ? source.slice(0, m.index) : source;
}

function htmlBodyToText(html: string): string {
  return htmlToText(html, {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ],
  }).trim();
}

function listId(parsed: MailView): { id: string; name: string | null } | null {
  const value = headerValue(parsed, 'list-id');
  if (!value) return null;
  const m = /^(.*?)<([^<>\s]+)>\s*$/.exec(value);
  if (!m) {
    const bare = value.trim();
    return /^[\w.-]+$/.test(bare) ? { id: bare, name: null } : null;
  }
  const name = (m[1] ?? '')
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();
  return { id: (m[2] ?? '').trim(), name: name || null };
}

function archivedAt(parsed: MailView): string | null {
  const value = headerValue(parsed, 'archived-at');
  if (!value) return null;
  const url = (angleIds(value)[0] ?? value).trim();
  return /^https?:\/\/\S+$/i.test(url) ? url : null; // ASF archives put a date here: never a permalink
}

function references(parsed: MailView): string[] {
  const value = headerValue(parsed, 'references');
  if (!value) return [];
  const ids = angleIds(value);
  if (ids.length > 0) return [...new Set(ids)];
  return value.split(/\s+/).filter((t) => t.includes('@'));
}

function syntheticId(date: string | null, from: string, subject: string, body: string): string {
  const hash = createHash('sha256')
    .update(`${date ?? ''}\n${from}\n${subject}\n${body}`)
    .digest('hex');
  return `gleaner-${hash.slice(0, 32)}`;
}

/**
 * Normalizes one mail. Never throws for bad data: a Skip carries the reason, for the caller to
 * quarantine. `sentAt` comes from Date, else the From_ line (or IMAP INTERNALDATE); a message with no
 * readable date at all is skipped with a reason rather than dated 1970.
 */
export function normalizeMail(raw: unknown, ctx: NormalizeContext): Promise<RawMessage | Skip> {
  return normalizeMailWith(raw, ctx, {});
}

export interface NormalizeMailOptions {
  /** Read simple messages with simple-parse.ts (default true); false sends every message to mailparser. */
  fastPath?: boolean;
}

/** `normalizeMail` with options; the tests compare both paths with it. */
export async function normalizeMailWith(raw: unknown, ctx: NormalizeContext, options: NormalizeMailOptions): Promise<RawMessage | Skip> {
  const item = asMailRaw(raw);
  if (!item) return skip('not a mail item: expected { kind: "mail", source } or a message source string');
  const source = mailSourceText(item);
  const encoding = item.sourceEncoding === 'latin1' ? 'latin1' : 'utf8';
  let parsed: MailView | null = options.fastPath === false ? null : parseSimpleMail(source, encoding);
  if (!parsed) {
    try {
      parsed = await simpleParser(Buffer.from(source, encoding), { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
    } catch (err: unknown) {
      return skip(`unreadable message (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  try {
    const messageIdHeader = headerValue(parsed, 'message-id');
    const dateHeader = headerValue(parsed, 'date');
    const fromHeader = headerValue(parsed, 'from');
    const subject = parsed.subject ?? headerValue(parsed, 'subject');
    if (!messageIdHeader && !dateHeader && !fromHeader && subject == null) {
      return skip('not a mail message: no From, Date, Subject or Message-ID header');
    }

    const sentAt = parseMailDate(dateHeader) ?? fromLineDate(item.fromLine) ?? item.internalDate ?? null;
    if (sentAt === null) return skip(`no usable date: Date header ${dateHeader ? `"${dateHeader}" does not parse` : 'missing'} and no From_ line or IMAP date`);

    let address = parsed.from?.value[0]?.address ?? '';
    let name = parsed.from?.value[0]?.name ?? '';
    if (!address && fromHeader) {
      // pipermail `user at host (Name)` when the importer did not repair it (a stored payload)
      const m = /^(\S+ at \S+)(?:\s+\((.*)\))?$/.exec(fromHeader);
      if (m) {
        address = deobfuscateAddress(m[1] ?? '');
        name = m[2] ?? name;
      }
    }
    if (!address.includes('@')) {
      const sender = headerValue(parsed, 'sender');
      const envelope = item.fromLine ? /^From (\S+@\S+) /.exec(item.fromLine)?.[1] : undefined;
      address = cleanMessageId(sender) ?? envelope ?? address;
    }
    address = address.trim();
    if (!address) return skip('no sender: the message has no From address');
    const email = address.toLowerCase();

    let text = parsed.text ?? '';
    if (text.trim() === '' && typeof parsed.html === 'string') text = htmlBodyToText(parsed.html);
    text = text.replace(/\r\n?/g, '\n');
    const scrub = stripScrubbedAttachments(text);
    text = scrub.text;
    const attachments: Attachment[] = [...parsed.attachments.map((a) => ({ name: a.filename ?? 'unnamed', contentType: a.contentType ?? null, size: a.size ?? null })), ...scrub.attachments];

    const refs = references(parsed);
    const inReplyTo = headerValue(parsed, 'in-reply-to');
    const replyIds = inReplyTo ? angleIds(inReplyTo) : [];
    const replyTo = replyIds[replyIds.length - 1] ?? (inReplyTo && /^\S+@\S+$/.test(inReplyTo) ? inReplyTo : null);

    const externalId = cleanMessageId(messageIdHeader) ?? syntheticId(dateHeader, email, subject ?? '', text);
    const list = listId(parsed);
    const channel = list?.id ?? ctx.channel ?? item.archive ?? item.mailbox ?? 'mail';

    const message: RawMessage = {
      externalId,
      globalKey: externalId,
      channel,
      channelName: list ? (list.name ?? list.id) : null,
      author: { id: email, name: name.trim() || null, email, isBot: detectBot(parsed, email) },
      text,
      cleanText: extractNewText(text),
      sentAt,
      replyTo,
      references: refs,
      subject: subject ?? null,
      permalink: archivedAt(parsed),
      attachments,
    };
    const checked = RawMessageSchema.safeParse(message);
    if (!checked.success) return skip(`message does not fit the model: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return message;
  } catch (err: unknown) {
    return skip(`unreadable message (${err instanceof Error ? err.message : String(err)})`);
  }
}
