// Tokenizing for similarity: words, code identifiers (split on camelCase, dots, '#', '_', '-'),
// stack-trace frames, light English stemming, stopwords. Pure and allocation-light enough for
// reports of a few KB; chat shingling uses its own allocation-free path in minhash.ts.

const STOPWORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below ' +
    'between both but by can could did do does doing down during each few for from further had has have ' +
    'having he her here hers herself him himself his how i if in into is it its itself just me more most my ' +
    'myself no nor not now of off on once only or other our ours ourselves out over own same she should so ' +
    'some such than that the their theirs them themselves then there these they this those through to too ' +
    'under until up very was we were what when where which while who whom why will with would you your ' +
    'yours yourself yourselves also get got gets use used using via etc eg ie e.g i.e may might must shall ' +
    'one two us let lets im ive dont doesnt didnt cant cannot isnt wasnt wont thats theres'
  ).split(' '),
);

/** Drops the commonest English inflections so "failing"/"failed"/"fails" meet; deliberately crude. */
export function stem(w: string): string {
  const n = w.length;
  if (n <= 3) return w;
  if (w.endsWith('ies') && n > 4) return w.slice(0, -3) + 'y';
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (w.endsWith('ing') && n > 5) return undouble(w.slice(0, -3));
  if (w.endsWith('ed') && n > 4 && !w.endsWith('eed')) return undouble(w.slice(0, -2));
  if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) return w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  const n = w.length;
  if (n > 3 && w[n - 1] === w[n - 2] && !'lsz'.includes(w[n - 1]!)) return w.slice(0, -1);
  return w;
}

export function isStopword(w: string): boolean {
  return STOPWORDS.has(w);
}

// A compound token: word characters joined by '.', '#', '-', '/', ':' or '$' (java.io.IOException,
// ITestFoo#testBar, commons-text, CVE-2022-42889, s3a://bucket/path).
const COMPOUND = /[\p{L}\p{N}_$]+(?:[.#\-:/$][\p{L}\p{N}_$]+)*/gu;
const PART_SPLIT = /[.#\-:/$_]+/;
// camelCase / PascalCase / acronym boundaries: "HTTPServer2Impl" -> HTTP Server 2 Impl.
const CAMEL = /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{N}+/gu;

const VERSION = /^v?(\d{1,4}\.\d{1,4})((?:\.\d{1,6})+)?(?:[.-]?[a-z]+\d*)?$/i;

export interface ReportTerms {
  /** Word terms in reading order (stemmed, stopwords out): the source of bigrams. */
  words: string[];
  /** Extra terms that do not take part in bigrams: whole identifiers and their camelCase pieces. */
  extras: string[];
}

/**
 * Splits report text into words plus identifier terms. A compound such as
 * `org.apache.hadoop.fs.FileSystem.open` yields the words `org apache hadoop fs filesystem open`
 * and the extras `file system` (camel pieces); a compound of two or three parts is also kept whole,
 * since short identifiers like `FileUtils.unTar` name a thing precisely.
 */
export function tokenizeReport(text: string, camelAsWords = true): ReportTerms {
  const words: string[] = [];
  const extras: string[] = [];
  // The matches matchAll would give, from the one compiled expression (matchAll copies it per call;
  // a compound is never empty, so there is no empty match to step past).
  COMPOUND.lastIndex = 0;
  for (let m = COMPOUND.exec(text); m !== null; m = COMPOUND.exec(text)) {
    const raw = m[0];
    // Most compounds are one plain word: split only when there is something to split on.
    const joined = hasJoiner(raw);
    const parts = joined ? raw.split(PART_SPLIT) : [raw];
    if (parts.length > 1 && parts.length <= 3 && raw.length <= 48) {
      const whole = raw.toLowerCase();
      if (!/^[\d.:/-]+$/.test(whole)) extras.push(whole);
    }
    // Versions: 3.8.2 also yields v3.8, so "3.8.2" and "3.8.3" share a term. A version starts with a
    // digit or a v and holds a dot: other compounds are not tried.
    const version = joined && maybeVersion(raw) ? VERSION.exec(raw) : null;
    if (version) {
      extras.push('v' + version[1]!);
      if (version[2]) extras.push('v' + version[1]! + version[2]);
    }
    for (const part of parts) {
      if (part === '') continue;
      const lower = part.toLowerCase();
      if (isNoise(lower)) continue;
      if (!STOPWORDS.has(lower)) words.push(stem(lower));
      if (part !== lower && part !== part.toUpperCase()) {
        const pieces = part.match(CAMEL);
        if (pieces && pieces.length > 1) {
          for (const p of pieces) {
            const pl = p.toLowerCase();
            // Into the word stream: "AccessPoint" meets "access point", bigram included.
            if (pl.length > 1 && !STOPWORDS.has(pl) && !isNoise(pl)) (camelAsWords ? words : extras).push(stem(pl));
          }
        }
      }
    }
  }
  COMPOUND.lastIndex = 0;
  return { words, extras };
}

/** Whether a compound holds a character PART_SPLIT splits on. */
function hasJoiner(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    // . # - : / $ _
    if (c === 46 || c === 35 || c === 45 || c === 58 || c === 47 || c === 36 || c === 95) return true;
  }
  return false;
}

/** Whether VERSION can match: a digit or a v first (after which it needs a digit), and a dot somewhere. */
function maybeVersion(raw: string): boolean {
  const c = raw.charCodeAt(0);
  return ((c >= 48 && c <= 57) || c === 118 || c === 86) && raw.includes('.');
}

/** Single characters, long digit runs (timestamps, ids, addresses) and hex blobs carry no topic. */
function isNoise(w: string): boolean {
  if (w.length < 2) return true;
  if (w.length > 40) return true;
  const c = w.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    if (/^\d+$/.test(w)) return w.length > 6;
    if (/^[0-9a-f]{8,}$/.test(w)) return true;
  }
  return false;
}
