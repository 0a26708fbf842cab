// IRC log files of the disentanglement data set -> ChatLine[], one ChatLine per line of the file
// (so annotation line numbers index the result directly).
//   *.raw.txt    irclogs.ubuntu.com style: "[03:41] <nick> text", "[10:00]  * nick action",
//                "=== nick has joined #ubuntu" (no time: takes the previous line's time)
//   *.ascii.txt  "rust 2018-05-29 [21:20:37] <nick> text" (channel, date, time)
// Lines without a date get a fixed base date plus their time of day; when the clock goes backwards
// the day rolls over.
import type { ChatLine } from '../pipeline/disentangle/index.js';

/** 2000-01-01T00:00:00Z: the date given to logs whose lines carry only a time of day. */
export const IRC_BASE_DATE_MS = Date.UTC(2000, 0, 1);
const DAY_MS = 86_400_000;

const ASCII_LINE = /^\S+ (\d{4})-(\d{2})-(\d{2}) \[(\d{1,2}):(\d{2})(?::(\d{2}))?\]\s?(.*)$/;
const TIMED_LINE = /^\[(\d{1,2}):(\d{2})(?::(\d{2}))?\]\s?(.*)$/;
const SYSTEM_TEXT = /^\S+ (\[[^\]]*\]\s+)?(has (joined|left|quit)|is now known as|entered the room|left the room|sets mode|was kicked|has changed the topic|changed the topic)/i;
const SERVICE_LINE = /^(Topic|Mode|ChanServ|NickServ|Notice|Netsplit)\b/i;

/** Body of a line after its time stamp -> author, text, system. */
function parseBody(body: string): { author: string; text: string; system: boolean } {
  const b = body.replace(/\s+$/, '');
  let m = /^<([^>]*)>\s?(.*)$/.exec(b);
  if (m) {
    // Nicks have no spaces; the corpus splits a few (`<bur[n] er>`): join them, as the IRC importer does.
    const nick = (m[1] ?? '').replace(/\s+/g, '');
    const text = (m[2] ?? '').replace(/^\t/, '').trim();
    if (nick.length > 0) return { author: nick, text, system: false };
    const sp = text.indexOf(' ');
    return { author: sp < 0 ? text : text.slice(0, sp), text, system: false };
  }
  m = /^===\s+(.*)$/.exec(b);
  if (m) {
    const rest = m[1] ?? '';
    const nick = rest.split(/\s+/)[0] ?? '';
    if (SYSTEM_TEXT.test(rest) || SERVICE_LINE.test(rest)) return { author: nick, text: rest, system: true };
    return { author: nick, text: `/me ${rest.slice(nick.length).trim()}`, system: false };
  }
  m = /^\s*\*\s+(\S+)\s*(.*)$/.exec(b);
  if (m) return { author: m[1] ?? '', text: `/me ${(m[2] ?? '').trim()}`, system: false };
  // notices: "-nick:#chan- text", "(nick/#chan) text"
  m = /^-([^:\s-][^:\s]*)(?::\S*)?-\s?(.*)$/.exec(b) ?? /^\(([^/\s)]+)(?:\/\S*)?\)\s?(.*)$/.exec(b);
  if (m) return { author: m[1] ?? '', text: (m[2] ?? '').trim(), system: false };
  const first = b.trim().split(/\s+/)[0] ?? '';
  return { author: first, text: b.trim(), system: true };
}

/** Parse a whole log file. One ChatLine per line (a trailing newline does not add a line). */
export function parseIrcLog(content: string, baseDateMs: number = IRC_BASE_DATE_MS): ChatLine[] {
  const rows = content.split('\n');
  if (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
  const out: ChatLine[] = [];
  let day = 0;
  let lastTod = -1;
  let lastAt = baseDateMs;
  for (const row0 of rows) {
    const row = row0.replace(/\r$/, '');
    let at: number | undefined;
    let body = row;
    const a = ASCII_LINE.exec(row);
    if (a) {
      const date = Date.UTC(Number(a[1]), Number(a[2]) - 1, Number(a[3]));
      at = date + ((Number(a[4]) * 60 + Number(a[5])) * 60 + Number(a[6] ?? 0)) * 1000;
      body = a[7] ?? '';
    } else {
      const t = TIMED_LINE.exec(row);
      if (t) {
        const tod = ((Number(t[1]) * 60 + Number(t[2])) * 60 + Number(t[3] ?? 0)) * 1000;
        if (lastTod >= 0 && tod < lastTod) day++;
        lastTod = tod;
        at = baseDateMs + day * DAY_MS + tod;
        body = t[4] ?? '';
      }
    }
    if (at !== undefined) lastAt = at;
    const { author, text, system } = parseBody(body);
    const line: ChatLine = { author, text, at: lastAt };
    if (system) line.system = true;
    out.push(line);
  }
  return out;
}

/** One annotation file -> (source, target) links; a line starting a conversation links to itself. */
export function parseAnnotation(content: string): Array<[number, number]> {
  const links: Array<[number, number]> = [];
  for (const row of content.split('\n')) {
    const nums = row
      .split(/\s+/)
      .filter((t) => /^\d+$/.test(t))
      .map(Number);
    if (nums.length === 0) continue;
    const source = Math.max(...nums);
    nums.splice(nums.indexOf(source), 1);
    if (nums.length === 0 || (nums.length === 1 && nums[0] === source)) links.push([source, source]);
    else for (const t of nums) links.push([source, t]);
  }
  return links;
}
