// The words of a message that state the need, as titles, summaries, quotes and the inbox show them.
// Pure. Mail carries much that is not the writer's own words: quoted text and attributions, signatures
// ("-- "), PGP armour, phone numbers, list footers and unsubscribe lines, lines hard-wrapped at 72
// columns. The connectors strip some of it; this is the last line of defence for whatever got through,
// from any platform, and the same rules check a language model's summary.

/** "> quoted", "| quoted", an IRC "<nick> quoted" line. */
const QUOTED_LINE = /^\s*(?:>|\|\s)/;
/** "On Tue, 3 Mar 2020 at 10:00, Jane <jane@x.org> wrote:" and its kin (also wrapped on one line). */
const ATTRIBUTION =
  /^\s*(?:\d{4}-\d{2}-\d{2},? \d{1,2}:\d{2}.{0,120}:|\d{1,2}[./]\d{1,2}[./]\d{2,4},? \d{1,2}:\d{2}.{0,120}:|on .{4,200}(?:wrote|schrieb|a écrit|escribió|scrisse)\s*:?|.{1,120}\b(?:wrote|writes|schrieb|a écrit)\s*:|-{2,}\s*(?:original message|forwarded message|ursprüngliche nachricht)\s*-{2,}.*|(?:from|sent|to|cc|subject|date|von|gesendet|an|betreff):\s.*)\s*$/i;
/** Lines that start a block nobody wrote for this thread: the signature and list footers. */
const SIGNATURE_START = /^(?:-- ?|--|__+|-{5,}|sent from my .{1,40}|get outlook for .{1,40}|best regards,?|kind regards,?|regards,?|cheers,?|thanks,?|thank you,?|br,?|mit freundlichen grüßen,?)\s*$/i;
/** A list footer or unsubscribe line (anywhere in a line). */
const FOOTER_LINE =
  /(?:\bunsubscribe\b|\bto (?:un)?subscribe\b|e-?mail: [\w.+-]+-(?:unsubscribe|help)@|\bmailing list\b.*\b(?:https?:\/\/|@)|\blistinfo\b|\bmailman\/listinfo\b|\byou (?:are )?receiv(?:ed|ing) this (?:message|email|mail)\b|\bgoogle groups\b|\bview this discussion on the web\b|\bfor additional commands\b|^\s*-{5,}\s*$)/i;
const PGP_SIGNED = /^-----BEGIN PGP SIGNED MESSAGE-----\s*$/;
const PGP_HASH = /^Hash:\s*\S+\s*$/i;
const PGP_BLOCK_START = /^-----BEGIN PGP (?:SIGNATURE|PUBLIC KEY BLOCK|MESSAGE)-----\s*$/;
const PGP_BLOCK_END = /^-----END PGP (?:SIGNATURE|PUBLIC KEY BLOCK|MESSAGE)-----\s*$/;
/** "(tel:+1 555 0100)", "tel: +49 ...", "Phone: ...", "Mobile: ...": contact details, never the need. */
const PHONE =
  /(?<![\w.:-])(?:\+?1[\s.-])?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?![\w.:-])|\(\s*tel:[^)]*\)|<tel:[^>]*>|\btel:\s*\+?[\d\s()./-]{6,}\d|\b(?:phone|mobile|cell|fax|tel\.?)\s*:?\s*\+?\d[\d\s()./-]{6,}\d/gi;
/** Bare mail addresses in angle brackets ("<jane@x.org>") are not words of the need. */
const ANGLE_ADDRESS = /<mailto:[^>]*>|<[\w.+-]+@[\w.-]+>/gi;

/** A line that ends a sentence, or a block that is not prose (a list item, code, a table row). */
const ENDS_SENTENCE = /[.!?:;)"'`]\s*$/;
const BLOCK_LINE = /^\s*(?:[-*•+]\s|\d{1,2}[.)]\s|[$#>]\s|```|\||\t| {4})/;

/**
 * The writer's own words in a message: quoted text, attributions, PGP armour, the signature and
 * everything after it, list footers and phone numbers removed; hard-wrapped lines joined back into
 * their sentences (a paragraph's lines are joined unless a line ends a sentence or is a list item
 * or code). Paragraph breaks stay as "\n\n", other kept line breaks as "\n".
 */
export function ownWords(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  let inPgpBlock = false;
  let afterPgpHeader = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.trimEnd();
    if (PGP_SIGNED.test(line.trim())) {
      afterPgpHeader = true;
      continue;
    }
    if (afterPgpHeader) {
      // The armour header lines ("Hash: SHA256") run to the first blank line.
      if (PGP_HASH.test(line.trim()) || /^[\w-]+:\s/.test(line.trim())) continue;
      afterPgpHeader = false;
      if (line.trim() === '') continue;
    }
    if (PGP_BLOCK_START.test(line.trim())) {
      inPgpBlock = true;
      continue;
    }
    if (inPgpBlock) {
      if (PGP_BLOCK_END.test(line.trim())) inPgpBlock = false;
      continue;
    }
    // A dash-escaped line of a signed message ("- -- ") is the line itself.
    const unescaped = line.replace(/^- (?=-)/, '');
    if (/^-{2,}\s*(?:original message|ursprüngliche nachricht)\s*-{2,}/i.test(unescaped.trim())) break;
    if (/^from:\s/i.test(unescaped.trim()) && lines.slice(i + 1, i + 4).some((l) => /^\s*(?:sent|date|to):\s/i.test(l))) break;
    if (SIGNATURE_START.test(unescaped) && (unescaped.startsWith('-') || unescaped.startsWith('_') || restIsShort(lines, i))) break;
    if (QUOTED_LINE.test(unescaped)) continue;
    if (ATTRIBUTION.test(unescaped) && (nextIsQuote(lines, i) || /wrote\s*:?\s*$/i.test(unescaped))) continue;
    if (FOOTER_LINE.test(unescaped)) continue;
    kept.push(
      unescaped
        .replace(PHONE, '')
        .replace(ANGLE_ADDRESS, '')
        .replace(/[ \t]+$/, ''),
    );
  }
  return joinWrapped(kept);
}

/** After a sign-off line ("Regards,") only a name and contact lines follow: the signature. */
function restIsShort(lines: readonly string[], i: number): boolean {
  const rest: string[] = [];
  for (const l of lines.slice(i + 1)) {
    const t = l.trim().replace(/^- (?=-)/, '');
    // What follows a signature (armour, the list's footer) does not make it longer.
    if (PGP_BLOCK_START.test(t) || /^-{2,}\s*$|^-- ?$|^_{3,}$/.test(t) || FOOTER_LINE.test(t)) break;
    if (t) rest.push(t);
  }
  return rest.length <= 6 && rest.every((l) => l.length <= 80);
}

function nextIsQuote(lines: readonly string[], i: number): boolean {
  for (let k = i + 1; k < lines.length; k++) {
    const l = lines[k] ?? '';
    if (l.trim() === '') continue;
    return QUOTED_LINE.test(l);
  }
  return true;
}

/** Paragraphs with their hard-wrapped lines joined: a sentence is never split at a line wrap. */
function joinWrapped(lines: readonly string[]): string {
  const paragraphs: string[] = [];
  let cur = '';
  const flush = () => {
    if (cur.trim()) paragraphs.push(cur.trim());
    cur = '';
  };
  for (const l of lines) {
    if (l.trim() === '') {
      flush();
      continue;
    }
    if (!cur) cur = l;
    // A list item, a code line or a program's output record starts a line of its own (and ends the one before).
    else if (BLOCK_LINE.test(l) || ENDS_SENTENCE.test(cur) || BLOCK_LINE.test(cur) || isLabelValue(l) || isLabelValue(cur.slice(cur.lastIndexOf('\n') + 1))) cur += `\n${l}`;
    else cur += ` ${l.trim()}`;
  }
  flush();
  return paragraphs.join('\n\n').replace(/[ \t]{2,}/g, ' ');
}

/** Text nobody should see in a title or summary: armour, contact details, footers, a quote marker. */
const UNFIT = /-----(?:BEGIN|END) PGP|^\s*Hash:\s|\btel:|\bunsubscribe\b|\blistinfo\b|(?:^|\s)>\s|\bwrote:\s*$|^\s*-- ?$/im;

/** Whether a title, summary or quote (a model's too) is free of what ownWords removes. */
export function fitToShow(s: string): boolean {
  return s.trim().length > 0 && !UNFIT.test(s);
}

/**
 * A subject as a title: reply and forward prefixes ("Re:", "Fwd:", "AW:", "Re[2]:"), list tags
 * ("[users@httpd]"), ticket noise ("[JIRA] (PROJ-123)", "#1234:", "(Was: ...)", "[SOLVED]") removed.
 */
export function cleanSubject(subject: string): string {
  let s = subject.replace(/\s+/g, ' ').trim();
  for (let i = 0; i < 5; i++) {
    const before = s;
    s = s
      .replace(/^(?:(?:re|fwd?|aw|sv|vs|antw|wg|tr|rif|r)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+/i, '')
      .replace(/^(?:RE|FW|FWD)\s+(?=\S)/, '')
      .replace(/^\[[^\]]{1,60}\]\s*/, '')
      .replace(/^\([^)]{1,40}\)\s*(?=\S)/, '')
      .replace(/^(?:[A-Z][A-Z0-9]+-\d+|#\d+)\s*[:\-–]?\s*/, '')
      .trim();
    if (s === before) break;
  }
  return s
    .replace(/\s*[([](?:was|war|fwd?|re)\s*:[^)\]]*[)\]]\s*$/i, '')
    .replace(/\s*\((?:was|war)\s*:.*$/i, '')
    .replace(/\s+\[[^\]]{1,30}\]\s*$/, '')
    .trim();
}

/**
 * At most `max` characters of the need's words, ending at a sentence's end: whole sentences while they
 * fit; a first sentence longer than `max` is cut at a word, with an ellipsis.
 */
export function sentenceExcerpt(text: string, max = 280): string {
  const flat = ownWords(text).replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const parts = flat.split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'`(])/u);
  let out = '';
  for (const p of parts) {
    const next = out ? `${out} ${p}` : p;
    if (next.length > max) break;
    out = next;
  }
  if (out) return out.length < flat.length ? `${out} …` : out;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * A config fragment, a command, a log line or a list of links rather than a sentence a person wrote:
 * no title or summary is made of it.
 */
export function looksLikeCode(s: string): boolean {
  const t = s.trim();
  if (!t) return true;
  if (/^(?:curl|wget|sudo|apt(?:-get)?|yum|dnf|mvn|gradle|git|npm|docker|kubectl|openssl|apachectl|httpd|systemctl|\$|#|<\/?[A-Za-z])\s?/.test(t) && !/^#\d/.test(t)) return true;
  if (/\[(?:pid|client|tid)\b|\[[\w_]+:(?:error|warn|emerg|notice|info|debug|crit)\]|\bAH\d{5}\b|\b\d{1,2}:\d{2}:\d{2}\b|\b\d{1,3}(?:\.\d{1,3}){3}\b|%\{|\$\{/.test(t)) return true;
  if ((t.match(/\s\|\s/g) ?? []).length >= 2) return true;
  if (isLabelValue(t)) return true;
  // A source position (main.c(1186,57), Foo.java:42), a Windows path, a compiler's coded warning (warning C4244).
  if (/\b[\w-]+\.(?:c|h|cc|cpp|hpp|java|py|js|ts|go|rs|rb|php|cs|kt|scala|swift)(?:\(\d+(?:,\d+)?\)?|:\d+)|\w\\\w|\b(?:warning|error) [A-Z]{1,3}\d{3,5}\b/.test(t)) return true;
  // Config tags (<IfModule ...>), log timestamps ([Fri Jul 17 ...), calls (foo()), URLs spaced out, flags (-all +TLSv1.2).
  if (/<\/?[A-Z]\w*(?:\s[^>]*)?>|\[\w{3} \w{3} \d{1,2}\b|\w\s?\(\)|\b\w+:\s?\/\/\s|\w+=\S/.test(t)) return true;
  // Flags (-all +TLSv1.2), unless in a sentence a person wrote about them ("apache2 -V" and "apache2 -l" show that ...).
  if ((t.match(/(?:^|\s)[+-]{1,2}[A-Za-z]\w*/g) ?? []).length >= 2 && lowerWords(t) < 5) return true;
  const urls = (t.match(/\b(?:https?|ftp):\/\/\S+/gi) ?? []).join('').length;
  if (urls > t.length * 0.4) return true;
  const symbols = (t.replace(/\b(?:https?|ftp):\/\/\S+/gi, '').match(/[{}<>=|\\;$#%[\]]/g) ?? []).length;
  return symbols / t.length > 0.06;
}

/**
 * A program's "Label: value" line (Server version: Apache/2.4.29, Architecture: 64-bit): a label of at
 * most four words, then a short value with a number and at most one lower-case word, and no sentence's end.
 * A record of output, not a sentence a person wrote ("Update: still failing on 3.2" is one).
 */
function isLabelValue(line: string): boolean {
  const t = line.trim();
  const kv = /^[\p{L}][\p{L}'’]*(?: [\p{L}][\p{L}'’]*){0,3}:\s+(\S.{0,60})$/u.exec(t);
  return kv !== null && /\d/.test(kv[1]!) && !/[.!?]$/.test(t) && lowerWords(kv[1]!) <= 1;
}

/** Words of three or more lower-case letters: a sentence's words, where a config line or a program's output has names and numbers. */
function lowerWords(s: string): number {
  return (s.match(/(?<![\p{L}\d])\p{Ll}{3,}(?![\p{L}\d])/gu) ?? []).length;
}

/** Capitalises a phrase's first letter unless its first word is an identifier (mod_ssl, https://, jdk.java.net, -Dfoo). */
export function capitalise(s: string): string {
  const first = s.split(/\s/, 1)[0] ?? '';
  if (/[^\p{L}'’,;:!?.)]/u.test(first) || /\.\p{L}/u.test(first)) return s;
  return s.charAt(0).toUpperCase() + s.slice(1);
}
