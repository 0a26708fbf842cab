// Lexicon-and-rules sentiment for chat and mail about a product. Pure and fast.
//
// Factual problem words (error, crash, fails) carry little weight on purpose: a plain bug report
// is neutral; frustration, praise and sarcasm are what move the score.
import type { Sentiment } from '../../model/records.js';

export type { Sentiment };

// Word -> strength; the sign comes from the table.
const POSITIVE: Record<string, number> = {
  love: 3,
  loved: 3,
  loving: 2.5,
  lovely: 2.5,
  great: 2,
  awesome: 3,
  amazing: 3,
  excellent: 3,
  fantastic: 3,
  superb: 3,
  brilliant: 3,
  wonderful: 2.5,
  nice: 2,
  good: 1.5,
  cool: 1,
  neat: 1.5,
  sweet: 1,
  thanks: 1.5,
  thank: 1.5,
  thx: 1.5,
  ty: 1,
  appreciate: 2,
  appreciated: 2,
  kudos: 2.5,
  props: 2,
  shoutout: 2,
  impressed: 2.5,
  impressive: 2.5,
  happy: 2,
  glad: 2,
  perfect: 2.5,
  perfectly: 2,
  beautiful: 2.5,
  gorgeous: 2.5,
  smooth: 1.5,
  slick: 2,
  solid: 1.5,
  helpful: 1.5,
  joy: 2.5,
  pleasure: 2.5,
  best: 2,
  better: 1,
  wow: 1.5,
  faster: 1,
  snappier: 1.5,
  flawlessly: 2.5,
  legend: 2.5,
  congrats: 2,
  congratulations: 2,
  generous: 2,
  useful: 1.5,
  easier: 1,
  simpler: 1,
  yay: 2,
  woohoo: 2,
  excited: 2,
  enjoy: 2,
  enjoying: 2,
  fair: 1,
  elegant: 2.5,
  delightful: 3,
  fast: 0.5,
  wild: 0.5,
  clear: 0.5,
  saved: 1.5,
  works: 0.5,
  worked: 1,
  fixed: 0.5,
  nicer: 2,
  consistent: 1,
  predictable: 1,
  easy: 1,
  welcome: 0.5,
};
const NEGATIVE: Record<string, number> = {
  hate: 3,
  hated: 3,
  terrible: 3,
  awful: 3,
  horrible: 3,
  worst: 3,
  bad: 2,
  worse: 2,
  annoying: 2.5,
  annoyed: 2.5,
  annoyance: 2,
  frustrating: 2.5,
  frustrated: 2.5,
  frustration: 2.5,
  disappointed: 2.5,
  disappointing: 2.5,
  disappointment: 2.5,
  ridiculous: 2.5,
  absurd: 2.5,
  useless: 2.5,
  unusable: 2.5,
  unacceptable: 3,
  ugh: 2,
  meh: 1.5,
  sucks: 3,
  suck: 2.5,
  painful: 2,
  painfully: 2,
  mess: 2,
  messy: 1.5,
  confusing: 1.5,
  confused: 1,
  sad: 2,
  tired: 2,
  stingy: 2,
  hostile: 2.5,
  betrayal: 3,
  nightmare: 3,
  garbage: 3,
  crap: 3,
  wtf: 2.5,
  bloated: 2,
  pushy: 2,
  noisy: 1,
  angry: 2.5,
  furious: 3,
  upset: 2,
  unhappy: 2.5,
  poor: 1.5,
  lousy: 2.5,
  horrendous: 3,
  pathetic: 3,
  shame: 2,
  shameful: 3,
  joke: 1.5,
  clunky: 1.5,
  sluggish: 1.5,
  slow: 1,
  slower: 1.5,
  flaky: 1.5,
  unreliable: 2,
  broken: 0.8,
  broke: 0.8,
  fail: 0.3,
  fails: 0.3,
  failing: 0.3,
  stuck: 0.8,
  outage: 1,
  outages: 1,
  worried: 1.5,
  afraid: 1,
  unfortunately: 1,
  sadly: 1.5,
  fed: 0,
  nobody: 1,
  seriously: 1,
  yet: 0.3,
  again: 0.5,
  rip: 1.5,
  dumb: 2,
  stupid: 2.5,
  insane: 1.5,
  mistake: 1,
  wrong: 0.5,
  bug: 0.2,
  buggy: 2,
  downhill: 2.5,
  backwards: 1.5,
  tedious: 2,
  misleading: 2,
  overpriced: 2.5,
  expensive: 1.5,
  cumbersome: 2,
  disaster: 3,
  waste: 2,
  wasted: 2,
  hassle: 2,
  worthless: 3,
  embarrassing: 2.5,
  tiring: 2,
  exhausting: 2.5,
  forever: 1,
  spam: 1,
  fault: 0.5,
  blame: 1,
};

/** Multi-word expressions, matched on the lower-cased text before word scoring. */
const PHRASES: Array<[RegExp, number]> = [
  [/\b(does ?n[o']?t|do ?n[o']?t|did ?n[o']?t|is ?n[o']?t|not|never|no longer|stopped|can ?n[o']?t get it to|won'?t) (work|working|works|load|loading|start|starting)\b/g, -2],
  [/\bfed up\b/g, -3],
  [/\b(losing|lost) (my )?patience\b/g, -2.5],
  [/\bcome on\b/g, -1.5],
  [/\bcash grab\b/g, -3],
  [/\bstep backwards?\b/g, -2],
  [/\bgone downhill\b/g, -1],
  [/\bthanks for nothing\b/g, -4.5],
  [/\b(not|isn'?t|wasn'?t) (ok|okay|acceptable|cool|fun|great|good enough)\b/g, -2],
  [/\bwhat are we paying for\b/g, -2.5],
  [/\bwho thought\b/g, -2],
  [/\b(third|fourth|fifth|\d+(st|nd|rd|th)) time\b/g, -1.5],
  [/\bso much for\b/g, -2],
  [/\bno way to\b/g, -0.8],
  [/\b(can'?t|cannot) believe\b/g, -1.5],
  [/\bcan'?t wait\b/g, 2],
  [/\bno (worries|problem|prob|stress)\b/g, 0],
  [/\b(well done|great job|nice job|good job|great work|nice work|keep it up|hats off)\b/g, 2.5],
  [/\b(works|worked) (great|perfectly|like a charm|flawlessly|fine)\b/g, 2],
  [/\b(game changer|life ?saver|saved (me|us|my))\b/g, 2.5],
  [/\b(above and beyond)\b/g, 2.5],
  [/\b(peace of mind)\b/g, 2],
  [/\bnot sure\b/g, 0],
  // Wishes are requests, not verdicts: "would be great if", "I'd love", "would be helpful".
  [/\b(would|'d|it'd|will) (also |really |so |be )*(be )?(great|nice|good|helpful|awesome|useful|perfect|cool|ideal|handy|love|like|appreciate|make)\b/g, 0],
  [/\b(best|good|easiest) (way|practice|question)\b/g, 0],
  [/\bgood (morning|afternoon|evening|night|luck)\b/g, 0],
  [/\b(sounds good|cool cool|be nice)\b/g, 0],
  [/\b(not anymore|no longer (works|reliable))\b/g, -2.5],
  [/\b(far|way) too (short|long|slow|low|high|many|much|expensive)\b/g, -2],
  [/\bnothing happens\b/g, -1.5],
  [/\bspent (\d+|an?|two|three) (hours?|days?)\b/g, -2],
  [/\bdo you (have|even have) any tests\b/g, -2.5],
  [/\bcan'?t imagine going back\b/g, 3],
  [/\bexactly (what|the)\b/g, 1.5],
  [/\bwell (written|designed|documented|done)\b/g, 2],
];

// Sarcasm: praise words right before a complaint ("great, another outage", "oh wonderful, stuck again").
const SARCASM = [
  /\b(oh )?(great|wonderful|fantastic|perfect|awesome|lovely|brilliant)[,.!]* (another|yet another|the .{0,30}(is|are) (down|stuck|broken) again)\b/,
  /\b(oh )?(great|wonderful|fantastic|perfect|lovely)[,.!]+ .{0,40}\b(again|broke|broken|stuck|down)\b/,
  /\bthanks a lot\b.{0,3}(🙄|🙃|😒)/,
  /\blove (spending|how|that i have to|having to)\b/,
  /\b(thanks|great|good) (a lot|job)?[.!]*\s*🙄/,
];

const POSITIVE_EMOJI = /(🙏|🔥|🎉|👏|❤️|❤|😍|👍|👌|🚀|✨|💯|🥳|😊|🙂|😄|😁|💙|💜|💚|🤩|🥰|:tada:|:heart:|:\+1:|:fire:|:rocket:|:clap:|:pray:|:raised_hands:|:smile:)/gu;
const NEGATIVE_EMOJI = /(😒|🙄|😩|😡|😠|😤|👎|💩|🤬|😞|😢|😭|😫|🤦|:rage:|:-1:|:facepalm:|:disappointed:|:unamused:|:cry:)/gu;
const MIXED_EMOJI = /🙃/gu;

const NEGATORS = new Set([
  'not',
  'no',
  'never',
  'nothing',
  'nobody',
  'neither',
  'nor',
  'without',
  'hardly',
  "don't",
  'dont',
  "doesn't",
  'doesnt',
  "didn't",
  'didnt',
  "isn't",
  'isnt',
  "wasn't",
  'wasnt',
  "aren't",
  'arent',
  "can't",
  'cant',
  'cannot',
  "won't",
  'wont',
  "shouldn't",
  "wouldn't",
  "haven't",
  "hasn't",
  'nope',
  'barely',
]);
const INTENSIFIERS: Record<string, number> = {
  very: 1.5,
  really: 1.4,
  so: 1.4,
  super: 1.5,
  extremely: 1.8,
  totally: 1.5,
  absolutely: 1.6,
  incredibly: 1.8,
  massively: 1.6,
  such: 1.3,
  truly: 1.4,
  genuinely: 1.3,
  insanely: 1.7,
  too: 1.2,
  way: 1.3,
  most: 1.3,
  huge: 1.4,
  soo: 1.5,
  sooo: 1.6,
  pretty: 1.1,
  quite: 1.1,
  literally: 1.2,
};
const DOWNTONERS: Record<string, number> = { bit: 0.6, slightly: 0.6, kinda: 0.7, somewhat: 0.7, little: 0.7, mostly: 0.8 };

// A greeting or sign-off "thanks" in mail is politeness, not sentiment.
const SIGN_OFF = /\n\s*(thanks|thank you|many thanks|cheers|best|regards|kind regards|best regards|thx)[,.!]?\s*(\n[^\n]{0,40}){0,2}\s*$/i;
const WORD = /[\p{L}\p{N}_']+|[.!?;]/gu;

// Whether any of the sarcasm patterns, or any of the phrases, occurs at all: a text in which none does
// (most of them) skips the passes one by one. When no phrase matches the text, no pass changes it, so
// none of them would have matched.
const ANY_SARCASM = new RegExp(SARCASM.map((re) => `(?:${re.source})`).join('|'));
const ANY_PHRASE = new RegExp(PHRASES.map(([re]) => `(?:${re.source})`).join('|'));
// Every emoji and :shortcode: above has a character outside ASCII or a colon.
const MAY_HAVE_EMOJI = /[:\u0080-\uffff]/;

/** Sentiment of a text: a label and a score in -1..1 (tanh of the summed evidence). */
export function sentimentOf(text: string): { sentiment: Sentiment; score: number } {
  let s = text;
  if (s.includes('```')) s = s.replace(/```[\s\S]*?(```|$)/g, ' ');
  if (s.includes('://')) s = s.replace(/https?:\/\/\S+/g, ' ');
  let signOff = 0;
  if (s.includes('\n') && SIGN_OFF.test(s)) {
    s = s.replace(SIGN_OFF, ' ');
    signOff = 0.3;
  }
  if (/subject:/i.test(s)) s = s.replace(/^\s*subject:.*$/im, (m) => m.replace(/\b(re|fwd?):/gi, ''));
  let lower = s.toLowerCase();
  if (lower.includes('’') || lower.includes('‘')) lower = lower.replace(/[’‘]/g, "'");
  let total = signOff;
  if (ANY_SARCASM.test(lower)) for (const re of SARCASM) if (re.test(lower)) total -= 3;
  if (ANY_PHRASE.test(lower)) {
    for (const [re, w] of PHRASES) {
      lower = lower.replace(re, () => {
        total += w;
        return ' ';
      });
    }
  }
  if (MAY_HAVE_EMOJI.test(lower)) {
    total += (lower.match(POSITIVE_EMOJI)?.length ?? 0) * 1.5;
    total -= (lower.match(NEGATIVE_EMOJI)?.length ?? 0) * 2;
    total -= (lower.match(MIXED_EMOJI)?.length ?? 0) * 1.5;
  }
  const words = lower.match(WORD) ?? [];
  let negateLeft = 0;
  let boost = 1;
  for (const raw of words) {
    const w = raw.startsWith("'") || raw.endsWith("'") ? raw.replace(/^'+|'+$/g, '') : raw;
    if (w === '' || w === '.' || w === '!' || w === '?' || w === ';') {
      negateLeft = 0;
      boost = 1;
      continue;
    }
    if (NEGATORS.has(w)) {
      negateLeft = 3;
      continue;
    }
    const intens = INTENSIFIERS[w] ?? DOWNTONERS[w];
    if (intens !== undefined) {
      boost *= intens;
      continue;
    }
    const pos = POSITIVE[w];
    const neg = NEGATIVE[w];
    if (pos || neg) {
      let v = pos ?? -(neg ?? 0);
      v *= boost;
      // "not bad" is mildly positive, "not great" mildly negative.
      if (negateLeft > 0) v = -v * 0.6;
      total += v;
      negateLeft = 0;
      boost = 1;
      continue;
    }
    if (negateLeft > 0) negateLeft--;
    boost = 1;
  }
  const bang = s.indexOf('!');
  const bangs = bang >= 0 && s.includes('!', bang + 1) ? 1.2 : 1;
  total *= bangs;
  const score = Math.tanh(total / 3);
  const sentiment: Sentiment = total >= 1 ? 'positive' : total <= -1 ? 'negative' : 'neutral';
  return { sentiment, score: Math.round(score * 1000) / 1000 };
}
