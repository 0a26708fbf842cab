// The normalised content key of a chat or mail message: two messages with the same key say the
// same thing, whatever the bridge, client or platform did to the markup around it. Quoted reply
// text and signatures are the caller's to remove (the threading stage knows where they are).

import { Hash64Stream, hash64 } from './hash.js';

export interface ContentKeyOptions {
  /** Remove a leading bridge prefix such as `[irc] <nick> `, `<nick> ` or `[nick] ` (default true). */
  stripBridgePrefix?: boolean;
}

// `[irc] <nick> `, `[m] <nick>: `, `<nick> `, `<@nick> `, `[nick] `, `**nick**: ` (Discord/Matrix relays).
const BRIDGE_TAG = /^\s*\[[^\]\s]{1,24}\]\s*(?=<)/u;
const BRIDGE_NICK = /^\s*(?:<[@+%~&]?[^\s<>]{1,40}>|\[[^\]\s]{1,40}\]|\*\*[^*\s]{1,40}\*\*)\s*:?\s+/u;

/**
 * Removes leading bridge prefixes: an optional `[network]` tag followed by `<nick>`, or a lone
 * `[nick]` / `**nick**:`. Relay chains stack them (`[irc] <bot> [m] <nick> text`), so up to three go.
 */
export function stripBridgePrefix(text: string): string {
  let t = text;
  for (let round = 0; round < 3; round++) {
    const untagged = t.replace(BRIDGE_TAG, '');
    const m = BRIDGE_NICK.exec(untagged);
    // Keep the text when the "prefix" is all there is (e.g. a message that is just `<foo>`).
    if (!m || m[0].length >= untagged.trimEnd().length) return round === 0 ? text : t;
    t = untagged.slice(m[0].length);
  }
  return t;
}

// Query parameters that only track where a link was clicked.
const TRACKING_PARAM = /^(?:utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_[a-z]+|igshid|si|ref|ref_src|ref_url|source|spm|_hsenc|_hsmi|trk)$/i;
const URL_RE = /\bhttps?:\/\/[^\s<>|)\]]+/giu;

function normaliseUrl(url: string): string {
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt);
  const fragment = hashAt < 0 ? '' : url.slice(hashAt);
  const q = beforeHash.indexOf('?');
  let base = q < 0 ? beforeHash : beforeHash.slice(0, q);
  let query = '';
  if (q >= 0) {
    const kept = beforeHash
      .slice(q + 1)
      .split('&')
      .filter((kv) => kv !== '' && !TRACKING_PARAM.test(kv.split('=')[0] ?? ''));
    if (kept.length > 0) query = '?' + kept.join('&');
  }
  base = base.replace(/^https?:\/\/(?:www\.)?/i, '').replace(/\/+$/, '');
  return ' ' + base + query + (fragment.length > 1 ? fragment : '') + ' ';
}

/**
 * Normalised content key: NFKC, case-folded, markup, mentions, emoji shortcodes and link-tracking
 * parameters removed, every run of punctuation and whitespace collapsed to one space.
 * Slack `<url|label>` keeps the label; `<@U123>`, `<#C123|name>`, Discord `<@!123>` and `@nick` mentions go.
 */
export function contentKey(text: string, opts: ContentKeyOptions = {}): string {
  const ascii = ASCII.test(text);
  const t = rewritten(text, ascii, opts).toLowerCase();
  // Everything that is not a letter, a digit or a mark is separation; collapse it.
  return ascii ? t.replace(/[^a-z0-9]+/g, ' ').trim() : t.replace(/[^\p{L}\p{N}\p{M}]+/gu, ' ').trim();
}

/**
 * hash64 of contentKey(text, opts), with the key's length and its number of spaces (words - 1). An
 * ASCII text (most chat lines) is hashed as its key is read off it, without building the key: the
 * copy key of every new message is such a hash, and the key itself was a tenth of ingest's garbage.
 */
export function contentKeyHash(text: string, opts: ContentKeyOptions = {}): { hash: string; length: number; spaces: number } {
  if (!ASCII.test(text)) {
    const k = contentKey(text, opts);
    return { hash: hash64(k), length: k.length, spaces: k.split(' ').length - 1 };
  }
  const t = rewritten(text, true, opts);
  const h = new Hash64Stream();
  let spaces = 0;
  let gap = false;
  for (let i = 0; i < t.length; i++) {
    let c = t.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32; // toLowerCase, on ASCII
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      // A run of anything else between two letters or digits is one space; none at either end (trim).
      if (gap) {
        h.add(32);
        spaces++;
        gap = false;
      }
      h.add(c);
    } else if (h.length > 0) gap = true;
  }
  return { hash: h.digest(), length: h.length, spaces };
}

/** contentKey's rewrites of markup, links, mentions and shortcodes (and the bridge prefix), before case folding. */
function rewritten(text: string, ascii: boolean, opts: ContentKeyOptions): string {
  let t = ascii ? text : text.normalize('NFKC');
  if (opts.stripBridgePrefix !== false) t = stripBridgePrefix(t);
  // Each rewrite only runs when its trigger character is present: most chat lines have none.
  if (t.includes('<')) {
    t = t
      // Platform mention/channel tokens: Slack <@U…>, <#C…|name>, <!here>; Discord <@!id>, <#id>, <@&id>, <:emoji:id>.
      .replace(/<[@#!][^>\s]*>|<a?:\w+:\d+>/g, ' ')
      // Slack links <url|label> -> label, <url> -> url.
      .replace(/<((?:https?|mailto):[^|>\s]+)\|([^>]*)>/g, '$2')
      .replace(/<((?:https?|mailto):[^>\s]+)>/g, '$1')
      // HTML tags (mail, Matrix formatted_body).
      .replace(HTML_TAG, ' ');
  }
  // Markdown links [label](url) -> label url.
  if (t.includes('](')) t = t.replace(/\[([^\]]*)\]\(([^)\s]+)\)/g, '$1 $2');
  if (t.includes('://')) t = t.replace(URL_RE, normaliseUrl);
  // @mentions and :emoji_shortcodes:
  if (t.includes('@')) t = t.replace(/(^|[\s(])@[\w.-]+/gu, '$1 ');
  if (t.includes(':')) t = t.replace(/:[a-z0-9_+-]{2,32}:/g, ' ');
  return t;
}

// Common formatting tags only, so that an IRC-style `<nick>` is not mistaken for markup.
const HTML_TAG = /<\/?(?:a|b|i|u|s|em|strong|code|pre|br|p|div|span|blockquote|ul|ol|li|h[1-6]|del|strike|img|font|mx-reply|hr|table|tr|td|th)(?:\s[^<>]*)?\/?>/gi;

const ASCII = /^[\p{ASCII}]*$/u;
