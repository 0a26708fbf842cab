// Text normalisation and hashed features for the feedback classifier. Pure.
//
// Markdown, code, URLs and stack traces are folded into marker words (zzcode, zzstack, ...)
// before tokenising: their presence is the signal, their content is noise.
import { sentimentOf, type Sentiment } from './sentiment.js';

export interface FeatureConfig {
  /** Feature ids are FNV-1a hashes masked to this many bits. */
  hashBits: number;
  /** Character n-gram lengths (inclusive), taken within word boundaries. */
  charMin: number;
  charMax: number;
  /** Only the start of a long body is read (issue templates put the signal early). */
  bodyMaxChars: number;
  /** Block weights applied after each block is L2-normalised. */
  titleWeight: number;
  bodyWeight: number;
  charWeight: number;
  shapeWeight: number;
  /** Character n-grams of the title alone, a separate block (0 turns it off). */
  titleCharWeight: number;
  /** Add the lexicon sentiment (bucketed) as features: praise and complaint lean on it. */
  sentimentFeatures: boolean;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  hashBits: 22,
  charMin: 2,
  charMax: 5,
  bodyMaxChars: 4000,
  titleWeight: 1,
  bodyWeight: 1,
  charWeight: 1,
  shapeWeight: 0.5,
  titleCharWeight: 0,
  sentimentFeatures: true,
};

const STACK_LINE = [
  /^\s*at\s+[\w$.<>[\]/ -]+\s*\(?[^)\s]*:\d+(:\d+)?\)?\s*$/m, // JS / Java frames
  /^\s*File "[^"]+", line \d+/m, // Python
  /Traceback \(most recent call last\)/,
  /^\s*#\d+\s+0x[0-9a-f]+/im, // gdb / native
  /\b(Segmentation fault|core dumped|panicked at|Unhandled (promise )?rejection|Uncaught \w*Error)\b/i,
  /\b\w+(Error|Exception):\s/,
];

function looksLikeStack(s: string): boolean {
  return STACK_LINE.some((re) => re.test(s));
}

/**
 * Lower-cased text with markup folded into marker words. A rule runs only when the text holds the
 * character or word every match of it needs: most chat lines have no markup, and these passes were
 * a good part of classifying one.
 */
export function normalizeText(raw: string): string {
  let s = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
  // Fenced code: keep a marker, and a second one when it holds a trace or an error.
  if (s.includes('```')) s = s.replace(/```[\s\S]*?(```|$)/g, (block) => (looksLikeStack(block) ? ' zzcode zzstack \n' : ' zzcode \n'));
  // Stack frames and log lines outside fences.
  if (s.includes(':')) s = s.replace(/^\s*at\s+\S+.*:\d+(:\d+)?\)?\s*$/gm, ' zzstack ');
  if (s.includes('File "')) s = s.replace(/^\s*File "[^"]+", line \d+.*$/gm, ' zzstack ');
  if (s.includes('Traceback')) s = s.replace(/Traceback \(most recent call last\):?/g, ' zzstack ');
  if (s.includes('<!--')) s = s.replace(/<!--[\s\S]*?-->/g, ' '); // issue-template comments
  if (s.includes('](')) {
    s = s.replace(/!\[[^\]]*\]\([^)]*\)/g, ' zzimage ');
    s = s.replace(/\[([^\]]*)\]\((https?:\/\/[^)]*)\)/g, ' $1 zzurl ');
  }
  if (s.includes('://')) s = s.replace(/https?:\/\/\S+/g, ' zzurl ');
  if (s.includes('`')) s = s.replace(/`[^`\n]+`/g, ' zzinline ');
  if (s.includes('#')) s = s.replace(/^\s{0,3}#{1,6}\s+/gm, ' zzhead ');
  if (s.includes('[')) s = s.replace(/^\s*[-*+]\s+\[[ xX]\]\s*/gm, ' zzcheck ');
  s = s.replace(/^\s*(\d+[.)]|[-*+])\s+/gm, ' zzitem ');
  if (s.includes('Error') || s.includes('Exception')) s = s.replace(/\b\w+(Error|Exception)\b/g, ' zzerrname $& ');
  if (s.includes('/')) s = s.replace(/(?:[~.]?\/[\w.-]+){2,}\/?/g, ' zzpath ');
  if (s.includes('.')) s = s.replace(/\bv?\d+(\.\d+){1,3}([-+.][\w.]+)?\b/g, ' zzver ');
  if (s.includes('0x') || s.includes('0X')) s = s.replace(/\b0x[0-9a-f]+\b/gi, ' zzhex ');
  s = s.replace(/\b\d+\b/g, ' zznum ');
  if (s.includes(':')) s = s.replace(/:[a-z0-9_+-]+:/g, (m) => ` emo_${m.slice(1, -1)} `); // :tada: style
  if (s.includes('?')) s = s.replace(/\?/g, ' zzq ');
  if (s.includes('!')) s = s.replace(/!/g, ' zzbang ');
  return s.toLowerCase();
}

const WORD = /[\p{L}\p{N}_']+|\p{Extended_Pictographic}/gu;

export function tokenize(normalized: string): string[] {
  const out: string[] = [];
  for (const m of normalized.matchAll(WORD)) {
    let w = m[0];
    if (w.length > 30) continue;
    if (w.startsWith("'") || w.endsWith("'")) w = w.replace(/^'+|'+$/g, '');
    if (w) out.push(w);
  }
  return out;
}

/** 32-bit FNV-1a over UTF-16 code units. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Raw term counts of one block, keyed by hashed feature id: the distinct ids in the order they were
 * first counted (the order the vector's values are summed in) and their counts. A small open-addressing
 * table on plain arrays: a Map per block cost more than hashing the n-grams.
 */
export class Counts {
  readonly ids: number[] = [];
  readonly counts: number[] = [];
  /** Index + 1 into ids per slot; 0: empty. */
  private slots: number[] = new Array<number>(32).fill(0);
  private mask = 31;

  get size(): number {
    return this.ids.length;
  }

  add(id: number): void {
    for (let s = (id ^ (id >>> 13)) & this.mask; ; s = (s + 1) & this.mask) {
      const at = this.slots[s]!;
      if (at === 0) break;
      if (this.ids[at - 1] === id) {
        this.counts[at - 1]!++;
        return;
      }
    }
    this.ids.push(id);
    this.counts.push(1);
    if (this.ids.length * 2 > this.mask) this.rehash();
    else this.place(this.ids.length - 1);
  }

  private place(k: number): void {
    const id = this.ids[k]!;
    let s = (id ^ (id >>> 13)) & this.mask;
    while (this.slots[s] !== 0) s = (s + 1) & this.mask;
    this.slots[s] = k + 1;
  }

  private rehash(): void {
    this.mask = this.mask * 2 + 1;
    this.slots = new Array<number>(this.mask + 1).fill(0);
    for (let k = 0; k < this.ids.length; k++) this.place(k);
  }
}

function add(counts: Counts, id: number): void {
  counts.add(id);
}

function wordBlock(tokens: string[], ns: string, mask: number): Counts {
  const c = new Counts();
  // FNV-1a streams: fnv1a(b, fnv1a(a)) === fnv1a(a + b), so no strings are concatenated here.
  const seed = fnv1a(ns);
  let prev = fnv1a('<s> ', seed);
  for (const t of tokens) {
    const h = fnv1a(t, seed);
    add(c, h & mask);
    add(c, fnv1a(t, prev) & mask);
    prev = fnv1a(' ', h);
  }
  if (tokens.length) add(c, fnv1a('</s>', prev) & mask);
  return c;
}

function charBlock(tokens: string[], cfg: FeatureConfig, mask: number, ns = 'c|'): Counts {
  const c = new Counts();
  const seed = fnv1a(ns);
  for (const t of tokens) {
    if (t.startsWith('zz') || t.startsWith('emo_')) continue;
    // n-grams of ' ' + t + ' ', hashed incrementally from each start position.
    const len = t.length + 2;
    for (let i = 0; i + cfg.charMin <= len; i++) {
      let h = seed;
      const end = Math.min(len, i + cfg.charMax);
      for (let p = i; p < end; p++) {
        const code = p === 0 || p === len - 1 ? 32 : t.charCodeAt(p - 1);
        h = Math.imul((h ^ code) >>> 0, 0x01000193) >>> 0;
        if (p - i + 1 >= cfg.charMin) add(c, h & mask);
      }
    }
  }
  return c;
}

/** Length buckets and a few shape cues that words alone miss. */
function shapeBlock(title: string, body: string, bodyTokens: string[], mask: number): Counts {
  const c = new Counts();
  const n = bodyTokens.length;
  const bucket = n < 4 ? 'xs' : n < 12 ? 's' : n < 40 ? 'm' : n < 150 ? 'l' : 'xl';
  add(c, fnv1a('s|len_' + bucket) & mask);
  if (title.trim().endsWith('?')) add(c, fnv1a('s|title_q') & mask);
  if (/\?\s*$/.test(body.trim())) add(c, fnv1a('s|ends_q') & mask);
  if (!title) add(c, fnv1a('s|no_title') & mask);
  // Whole headings and checklist lines: issue and mail templates differ by kind.
  for (const m of body.matchAll(/^\s{0,3}(#{1,6}\s+.+|[-*]\s+\[[ xX]\].+|\*\*[^*\n]{3,60}\*\*)\s*$/gm)) {
    const phrase = (m[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N} ]+/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 80);
    if (phrase) add(c, fnv1a('h|' + phrase) & mask);
  }
  return c;
}

export interface Blocks {
  title: Counts;
  body: Counts;
  chars: Counts;
  titleChars: Counts;
  shape: Counts;
  /** The lexicon sentiment of title and text, computed once and reused by classify(). */
  sentiment: { sentiment: Sentiment; score: number };
}

/**
 * Feature blocks for one input. With no title (chat lines, mail without subject) the first
 * line stands in for it, the same at training and at inference.
 */
export function extractBlocks(input: { title?: string; text: string }, cfg: FeatureConfig): Blocks {
  const mask = cfg.hashBits >= 32 ? 0xffffffff : (1 << cfg.hashBits) - 1;
  const rawBody = input.text.length > cfg.bodyMaxChars ? input.text.slice(0, cfg.bodyMaxChars) : input.text;
  const rawTitle = input.title?.trim() ? input.title : (rawBody.split('\n').find((l) => l.trim()) ?? '').slice(0, 200);
  const bodyTokens = tokenize(normalizeText(rawBody));
  // A one-line chat message is its own stand-in title: its tokens are the body's.
  const titleTokens = rawTitle === rawBody ? bodyTokens : tokenize(normalizeText(rawTitle));
  const title = wordBlock(titleTokens, 't|', mask);
  const body = wordBlock(bodyTokens, 'b|', mask);
  // Without a real title the stand-in is the body's first line: its n-grams are in the body already.
  const hasTitle = Boolean(input.title?.trim());
  const chars = charBlock(hasTitle ? titleTokens.concat(bodyTokens.slice(0, 600)) : bodyTokens.slice(0, 600), cfg, mask);
  const shape = shapeBlock(input.title ?? '', rawBody, bodyTokens, mask);
  const sentiment = sentimentOf(input.title ? `${input.title}\n${rawBody}` : rawBody);
  if (cfg.sentimentFeatures) {
    const b = sentiment.score >= 0.6 ? 'pos2' : sentiment.score >= 0.3 ? 'pos1' : sentiment.score <= -0.6 ? 'neg2' : sentiment.score <= -0.3 ? 'neg1' : 'neu';
    add(shape, fnv1a('s|sent_' + b) & mask);
    if (b === 'pos2' || b === 'neg2') add(shape, fnv1a('s|sent_' + b.slice(0, 3)) & mask);
  }
  const titleChars = cfg.titleCharWeight > 0 ? charBlock(titleTokens, cfg, mask, 'ct|') : new Counts();
  return { title, body, chars, titleChars, shape, sentiment };
}
