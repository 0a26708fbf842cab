// Text analysis of one chat line for disentanglement: content words, nick keys, flags' patterns. Pure.
// Split out of features.ts.

// ---------------------------------------------------------------------------------------------
// Text analysis

export const STOPWORDS = new Set(
  (
    'a an the and or but if then so of to in on at by for with from as is are was were be been being am ' +
    'i me my you your he she it its we our they them their this that these those there here what which who ' +
    'whom how why when where do does did done doing have has had having not no yes can could will would should ' +
    'shall may might must just also too very really only all any some more most other such than into about up ' +
    "out over again once off own same s t don dont im ive its it's i'm don't can't cant you're thats that's " +
    'get got go going one now know think like want need use using try well oh ok okay yeah yep lol hmm hm u ur'
  ).split(/\s+/),
);
export const THANKS = /\b(thanks|thank|thx|thnx|ty|cheers|appreciated?)\b/i;
export const GREETING = /^(hi|hello|hey|howdy|yo|greetings|morning|evening|good (morning|evening|afternoon))\b/i;
export const ACK = /^(ok|okay|k|yes|yeah|yep|yup|no|nope|nah|sure|right|ah|oh|hmm|hm|cool|great|nice|lol|true|exactly|indeed|np)\b/i;
export const URL = /(https?:\/\/|www\.)\S/i;
export const CODE = /[/~$|`]|\b(sudo|apt-get|apt|dpkg|ls|cd|grep|cat|mount)\b/;
export const SYSTEM_NICK_CHANGE = /\bis now known as (\S+)/i;

/** Lowercased nick key, as IRC compares nicks. */
export function nickKey(nick: string): string {
  return nick.toLowerCase();
}

const EDGE_PUNCT = /^[("'[{<@]+|[)"'\]}>:,.;!?]+$/g;
const LEADING = new Set([...'("\'[{<@'].map((c) => c.charCodeAt(0)));
const TRAILING = new Set([...')"\']}>:,.;!?'].map((c) => c.charCodeAt(0)));
export function stripEdges(tok: string): string {
  // Most tokens have neither: the pattern runs only when an end character is one it strips.
  if (!tok.length || (!LEADING.has(tok.charCodeAt(0)) && !TRAILING.has(tok.charCodeAt(tok.length - 1)))) return tok;
  return tok.replace(EDGE_PUNCT, '');
}

/** FNV-1a, 32-bit, signed. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

export function stripFirstAddress(text: string, addressee: string | undefined): string {
  if (addressee === undefined) return text;
  const sp = text.indexOf(' ');
  return sp < 0 ? '' : text.slice(sp + 1).trimStart();
}

/** Words of a line as the idf table counts them (for building the table at training time). */
export function contentWords(text: string): string[] {
  const out = new Set<string>();
  for (const raw of text.split(/\s+/)) {
    const w = stripEdges(raw.toLowerCase());
    if (w.length < 2 || STOPWORDS.has(w) || !/[a-z0-9]/.test(w)) continue;
    out.add(w);
  }
  return [...out];
}
