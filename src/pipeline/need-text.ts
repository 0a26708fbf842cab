// The need's own text: the sentences of a feedback item that state what its reporter needs, without
// greetings, quoted mail, signatures, stack traces, code blocks, thanks and the staff's answers.
// Clustering compares items on this text (plus what other non-staff people added in the thread),
// and `gleaner items --format json` shows it as `needText`. Pure.
import type { ItemForDoc } from '../model/records.js';
import { ownWords } from './own-words.js';
import { isStructuralThread, threadKindOf } from './classify/community.js';

const GREETING_LINE = /^(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening)|morning|hallo|hola|bonjour|salut|ol[aá]|oi|bom dia)\b[^.!?\n]{0,40}[,!:]?\s*$/iu;
const GREETING_LEAD = /^(?:(?:hi|hello|hey|hiya|greetings|morning|good (?:morning|afternoon|evening))(?:\s+(?:all|everyone|folks|team|there|guys|people|y'all|list))?[,!.:;\s-]+)/i;
/** A closing line after which only a signature follows. */
const CLOSING = /^(?:thanks?(?: you)?(?: (?:in advance|a lot|again))?|many thanks|cheers|best(?: regards)?|regards|kind regards|br|thx|merci|obrigad[oa]|gracias|danke|sent from my .*)[,.!]?\s*$/i;
const QUOTE_HEADER = /^(?:on .{4,120}wrote:|le .{4,120}a écrit\s*:|em .{4,120}escreveu:|am .{4,120}schrieb .{0,60}:|-{2,}\s*original message\s*-{2,}|from: .+)$/i;
const STACK_LINE =
  /^\s*(?:at [\w$.<>]+\(.*\)|at [\w$./\\:-]+:\d+|File ".+", line \d+|Traceback \(most recent call last\)|\.\.\. \d+ more|Caused by: |[\w.$]+(?:Exception|Error)(?::|$)|#\d+ 0x[0-9a-f]+)/;
const THANKS_SENTENCE = /^(?:thanks?(?: you)?(?: in advance)?|any ideas|any help (?:is )?appreciated|anyone\?|cheers)[.!?]*$/i;

/** Paragraphs of a message with quoted mail, signatures, code and stack traces removed (lines of a paragraph joined). */
function paragraphs(text: string): string[] {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .replace(/```[\s\S]*?```/g, '\n\n')
    .split('\n');
  const out: string[] = [];
  let cur: string[] = [];
  const flush = () => {
    if (cur.length) out.push(cur.join(' ').replace(/\s+/g, ' ').trim());
    cur = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.trim();
    if (t === '--' || t === '-- ' || line === '-- ' || /^_{5,}$/.test(t)) break; // signature delimiter
    if (QUOTE_HEADER.test(t)) break; // everything below is the quoted mail
    if (t.startsWith('>')) continue;
    if (STACK_LINE.test(line)) continue;
    if (CLOSING.test(t)) break; // "Thanks,\nJérôme": the signature follows
    if (t === '') flush();
    else cur.push(t);
  }
  flush();
  return out.filter(Boolean);
}

/** Sentences of a paragraph. */
function sentencesOf(p: string): string[] {
  return p
    .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'`(])/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A short last paragraph that is a name, a team or a company (a signature without a delimiter). */
function looksLikeSignature(p: string): boolean {
  const words = p.split(/\s+/);
  return words.length <= 8 && !/[.!?]$/.test(p) && !/\b(?:is|are|was|does|do|can|could|would|should|fails?|broken|need|want|please)\b/i.test(p);
}

/** The need sentences of one message's text. */
export function needSentences(text: string): string[] {
  // PGP armour, phone numbers and list footers go first (own-words.ts), then what only a need text drops.
  const paras = paragraphs(ownWords(text));
  while (paras.length > 1 && looksLikeSignature(paras[paras.length - 1]!)) paras.pop();
  const out: string[] = [];
  for (const p of paras) {
    if (GREETING_LINE.test(p)) continue;
    for (let s of sentencesOf(p)) {
      s = s.replace(GREETING_LEAD, '').trim();
      if (!s || THANKS_SENTENCE.test(s)) continue;
      out.push(s);
    }
  }
  return out;
}

const MAX_NEED_CHARS = 600;
const LIST_TAG = /^\s*(?:(?:re|fwd?|aw|sv|tr)\s*:\s*|\[[^\]]{1,40}\]\s*)+/i;
/** An IRC quote of another line ("<nick> "text" <-"). */
const IRC_QUOTE = /<[^>\s]{1,32}>\s*"[^"]*"\s*(?:<-)?/g;

/**
 * The item's report and what its raiser said first (up to 3 of the conversation's first 8 messages):
 * the raiser is the report's author when a person wrote it, else the first person in the thread.
 */
export function raiserMessages<M extends ItemForDoc['messages'][number]>(item: {
  reportMessageId: number;
  messages: readonly M[];
}): { report: M | undefined; raiser: number | undefined; raised: M[] } {
  const report = item.messages.find((m) => m.messageId === item.reportMessageId);
  const raiser = report && isPerson(report) ? report.personId : item.messages.find(isPerson)?.personId;
  const raised =
    raiser === undefined
      ? []
      : item.messages
          .slice(0, 8)
          .filter((m) => m.personId === raiser)
          .slice(0, 3);
  return { report, raiser, raised };
}

export function isPerson(m: { segment: string }): boolean {
  return m.segment !== 'staff' && m.segment !== 'bot';
}

/**
 * The subject that names the item's need: none in an announcement, CI, tracker or newsletter thread,
 * whose subject names what was announced or built, while the need is raised in a reply to it.
 */
export function needSubject(item: Pick<ItemForDoc, 'subject'>): string | null {
  return item.subject && !isStructuralThread(threadKindOf(item.subject)) ? item.subject : null;
}

/**
 * The need's own text of an item: its subject (list tags off) and the need sentences of what the
 * person who raised it wrote first (up to three of their first messages), at most MAX_NEED_CHARS.
 * Staff and bots only when nobody else wrote.
 */
export function needText(item: ItemForDoc): string {
  const { report, raised } = raiserMessages(item);
  let chosen = raised;
  if (report && isPerson(report) && !chosen.includes(report)) chosen = [report, ...chosen];
  if (!chosen.length) chosen = report ? [report] : item.messages.slice(0, 1);
  return needTextOf(
    item.subject,
    chosen.map((m) => m.text),
  );
}

/**
 * The need text of a subject and the texts its raiser wrote: the subject (list tags off) and the texts'
 * need sentences, each once, at most MAX_NEED_CHARS. A tracker's report is a title and one text.
 */
export function needTextOf(subject: string | null | undefined, texts: readonly string[]): string {
  const parts: string[] = [];
  const s = subject?.replace(LIST_TAG, '').trim();
  if (s) parts.push(s);
  for (const t of texts) parts.push(...needSentences(t.replace(IRC_QUOTE, ' ')));
  const seen = new Set<string>();
  let text = '';
  for (const p of parts) {
    const key = p.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    if (text.length + p.length + 1 > MAX_NEED_CHARS && text) break;
    text = text ? `${text}\n${p}` : p;
  }
  return text.slice(0, MAX_NEED_CHARS);
}

/**
 * What the rest of the thread's people (not staff, not bots, not the raiser) added: "+1, same on
 * Android", a second description of the same symptom. Part of the item's representation for
 * grouping, weighed less than the need text by being shorter (at most MAX_NEED_CHARS / 2).
 */
export function othersText(item: ItemForDoc): string {
  const { raiser } = raiserMessages(item);
  let text = '';
  for (const m of item.messages.slice(0, 12)) {
    if (!isPerson(m) || m.personId === raiser) continue;
    const s = needSentences(m.text.replace(IRC_QUOTE, ' ')).join(' ');
    if (!s) continue;
    if (text.length + s.length > MAX_NEED_CHARS / 2) break;
    text = text ? `${text}\n${s}` : s;
  }
  return text;
}
