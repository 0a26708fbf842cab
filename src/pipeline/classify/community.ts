// What a community channel carries besides feedback: release votes and their results, announcements and
// release notes, CI and build notifications, issue-tracker and code-host notification mails,
// newsletters, out-of-office replies, unsubscribe requests, greetings and pastes without a word of
// prose. Pure: subjects and texts in, a verdict with its reason out. The rules read the structure a
// channel gives (subject tags, the shape of a vote) before the words, and name no product.

import { isStopword } from '../dedupe/tokenize.js';

/** What a thread is, from its first subject: a thread of one of these kinds is not a report by itself. */
export type ThreadKind = 'vote' | 'announcement' | 'ci' | 'notification' | 'newsletter' | 'out-of-office' | 'unsubscribe';

/** Why one message is not feedback whatever the classifier says. */
export type NoiseReason = ThreadKind | 'bot' | 'staff' | 'greeting' | 'paste' | 'contribution' | 'resolved' | 'answer' | 'chatter';

// `[VOTE]`, `[RESULT][VOTE]`, `[CANCEL][VOTE]`, `[LAZY] ...`: ASF-style release and proposal votes.
const VOTE_TAG = /\[(?:vote|voting|result|results|cancel(?:led)?|lazy(?: consensus)?)\]/i;
// `[ANN]`, `[ANNOUNCE]`, `[RELEASE]`, `ANN: ...`, `Foo 1.2.3 released`, `Foo 1.2 is out`.
const ANNOUNCE_TAG = /\[(?:ann|announce|announcement|release|released|news)\]|^\s*(?:ann|announce)\s*:/i;
const RELEASED_SUBJECT = /\bv?\d+(?:\.\d+)+\S*\b.*\b(?:released|is (?:now )?(?:out|available)|are (?:now )?available)\s*[.!]?\s*$/i;
// Build servers and CI: "Build failed in Jenkins: ...", "Jenkins build is back to normal", "[CI] ...".
const CI_SUBJECT =
  /\b(?:jenkins|hudson|buildbot|travis(?:-ci)?|teamcity|bamboo|circleci|github actions)\b.*\b(?:build|job|run)\b|\bbuild (?:failed|fixed|succeeded|unstable|is back to normal|became unstable|still failing)\b|^\s*\[(?:ci|jenkins|build)\]/i;
// Tracker and code-host notifications: "[jira] [Commented] (KEY-1) ...", "[GitHub] foo pull request #12",
// "[owner/repo] Title (#12)", commit mails.
const NOTIFICATION_SUBJECT =
  /^\s*(?:re:\s*)?\[(?:jira|github|gitbox|bugzilla|issues?|commits?|git|svn|pr)\]|^\s*\[[\w.-]+\/[\w.-]+\]\s|^\s*(?:svn|git) commit:|\b(?:commented|opened|closed|merged|reopened) (?:on )?(?:a )?(?:new )?(?:pull request|issue)\b/i;
const NEWSLETTER_SUBJECT = /\bnewsletter\b|\b(?:weekly|monthly|quarterly) (?:digest|update|roundup|news)\b/i;
// "JDK 10 b29 Early Access is available", "Announcing foo 0.1.2", "2.0 beta 3 now available".
const AVAILABLE_SUBJECT = /\b(?:early access|preview|nightly|snapshot|beta|release candidate|rc\d*)\b.*\b(?:is|are) (?:now )?available\b|^\s*(?:\[[^\]]*\]\s*)*announc(?:ing|es?|ement)\b/i;
const NEWSLETTER_BODY =
  /\bwelcome to (?:the|this|our) [\w\s]{0,30}?\b(?:edition|issue|newsletter)\b|\bview (?:this (?:e-?mail|message) )?in (?:your|a) (?:web )?browser\b|\byou (?:are )?receiv(?:e|ing) this (?:e-?mail|newsletter|message) because\b|\bin this (?:edition|issue)\b/i;
// Out-of-office subjects and bodies in the languages a community list meets most.
const OOO_SUBJECT =
  /^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply|abwesenheit(?:snotiz)?|abwesend|r[ée]ponse automatique|absence|respuesta autom[áa]tica|fuera de la oficina|resposta autom[áa]tica|ausente|fora do escrit[óo]rio|on (?:annual )?leave|vacation reply)\b/i;
const OOO_BODY =
  /\b(?:i am|i'm|i will be) (?:currently )?(?:out of (?:the )?office|away|on (?:annual |parental )?leave|on vacation|on holiday)\b|\bout of (?:the )?office (?:until|till|from)\b|\blimited access to (?:e-?mail|my e-?mail)\b|\bfora do escrit[óo]rio\b|\bacesso limitado\b|\bfuera de la oficina\b|\bacceso limitado\b|\babsent(?:e)? du bureau\b|\bacc[èe]s limit[ée]\b|\bnicht im b[üu]ro\b|\babwesend\b/i;
// "unsubscribe", "remove me from this list", "take me off this mailing list" (and the same asked in German,
// Spanish, French, Portuguese).
const UNSUBSCRIBE =
  /\bunsubscribe\b|\b(?:remove|delete|take) me (?:off|from)\b|\bremove me please\b|\b(?:abmelden|austragen)\b|\bdarme de baja\b|\bd[ée]sabonner\b|\bd[ée]sinscri(?:re|vez)\b|\bdescadastr|\bremover da lista\b/i;

/** The kind of a thread its (first) subject gives, or null for an ordinary thread. */
export function threadKindOf(subject: string | null | undefined): ThreadKind | null {
  if (!subject) return null;
  const s = subject.trim();
  if (OOO_SUBJECT.test(s.replace(/^(?:re|aw|fwd?|wg|sv|tr|rif|r):\s*/i, ''))) return 'out-of-office';
  if (VOTE_TAG.test(s)) return 'vote';
  if (NOTIFICATION_SUBJECT.test(s)) return 'notification';
  if (CI_SUBJECT.test(s)) return 'ci';
  if (ANNOUNCE_TAG.test(s) || RELEASED_SUBJECT.test(s) || AVAILABLE_SUBJECT.test(s)) return 'announcement';
  if (NEWSLETTER_SUBJECT.test(s)) return 'newsletter';
  if (/^\s*(?:re:\s*)?unsubscribe\b/i.test(s)) return 'unsubscribe';
  return null;
}

/** Threads whose starter is not a report (an announcement, a CI or tracker notification, a newsletter): a reply in one can be. */
const STRUCTURAL: ReadonlySet<ThreadKind> = new Set(['announcement', 'ci', 'notification', 'newsletter']);

/** Whether a thread of this kind only carries feedback in its replies. */
export function isStructuralThread(kind: ThreadKind | null): boolean {
  return kind !== null && STRUCTURAL.has(kind);
}

const words = (s: string) => s.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;

/** The text without quoted lines, a signature and its sign-off: what the author wrote themselves. */
export function ownWords(text: string): string {
  // One line (most chat messages): nothing quoted, no signature under it.
  if (!text.includes('\n')) return /^-- ?$/.test(text) || /^\s*>/.test(text) ? '' : text.trim();
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (/^-- ?$/.test(line)) break;
    if (/^\s*>/.test(line)) continue;
    lines.push(line);
  }
  return lines.join('\n').trim();
}

// A vote: "+1", "+1 (binding)", "-1 (non-binding)", "+0", "-0", "0" on a line of its own or leading it.
const VOTE_LINE = /^\s*(?:\[\s*x\s*\]\s*)?([+-]\s?[01]|0)(?![\d.])\s*(?:\(\s*(?:non-?)?binding\s*\))?/im;
// A concrete failure: what a -1 that reports a bug says.
const FAILURE =
  /\b(?:fail(?:s|ed|ing|ure)?|errors?|exceptions?|broken|breaks|crash(?:es|ed)?|regression|does(?:n't| not) (?:work|build|compile|start|run)|(?:can't|cannot|could not|couldn't|unable to) (?:build|compile|run|start|resolve|find|load|install)|NPE|NullPointerException|stack ?trace|not (?:signed|found)|mismatch)\b/i;

/** "+1" / "-1" / "0" when the message is a vote (its own words start with one), else null. */
export function voteOf(text: string): '+1' | '-1' | '0' | null {
  const own = ownWords(text);
  // The vote leads the message, after at most a greeting line.
  const head = own
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, 2)
    .join('\n');
  const m = VOTE_LINE.exec(head);
  if (!m) return null;
  const v = m[1]!.replace(/\s/g, '');
  return v === '+1' ? '+1' : v === '-1' ? '-1' : '0';
}

/** Own words that report a concrete failure (a build that fails, an exception, a regression). */
export function reportsFailure(text: string): boolean {
  return FAILURE.test(ownWords(text));
}

/** A "-1" that reports a concrete failure: a bug report inside a vote thread. */
export function isFailingVote(text: string): boolean {
  return voteOf(text) === '-1' && FAILURE.test(ownWords(text));
}

// A greeting or sign-off with nothing else in it: "good morning all", "gm everyone", "brb", "cheers".
const GREETING =
  /^(?:(?:good )?(?:morning|afternoon|evening|night)|gm|gn|hi|hello|hey|hiya|yo|howdy|hallo|moin|guten (?:morgen|tag|abend)|buongiorno|bonjour|bonsoir|salut|hola|buenos d[íi]as|buenas(?: tardes| noches)?|ol[áa]|bom dia|boa (?:tarde|noite)|servus|cheers|bye|ciao|brb|afk|gtg|back|re|o\/|\\o|thanks?(?: you)?|thx|ty|tschüss|à plus|até logo|hasta luego)\b[\s,!.:;-]*(?:(?:all|everyone|everybody|folks|people|team|guys|y'all|friends|again|alle|zusammen|à tous|todos|pessoal|a todos)\b[\s,!.:;-]*)?/iu;

// Stepping away from the room: "brb, making dinner", "afk for an hour", "gtg, cheers".
const AWAY = /^(?:brb|afk|gtg|g2g|bbl|bbiab|back in \d+|off to bed|heading out|signing off|logging off)\b/i;

/** A line that only greets, signs off or steps away (a few words, no question): said to the room, not a reply. */
export function isGreeting(text: string): boolean {
  const t = ownWords(text).trim();
  if (!t || t.length > 80 || t.includes('?')) return false;
  if (AWAY.test(t) && words(t) <= 12) return true;
  const m = GREETING.exec(t);
  if (!m) return false;
  return words(t.slice(m[0].length)) === 0;
}

// Agreement that points back at what was just said: "same error on our side", "+1", "me too", "we're
// seeing this too", "ditto", and the same in German, Spanish, Portuguese and French. It opens the line.
const AGREES_WITH_PREVIOUS = new RegExp(
  [
    String.raw`^(?:\+\s?1|same(?:\s+(?:here|issue|problem|error|bug|thing|for (?:us|me)|on our side|over here))?|me too|ditto|seconded|yes,? (?:this|same))(?=$|[\s,.!:;)])|^this\s*[!.]*$`,
    String.raw`^(?:we|i)(?:'re| are|'m| am|'ve| have)? (?:also |too )?(?:see|seeing|saw|seen|have|having|had|hit|hitting|get|getting|got|experiencing|experienced|running into|ran into) (?:this|that|it|the same(?: thing)?|something (?:like|similar to) (?:this|that|it))\b[^.!?\n]{0,30}\b(?:too|as well)\b`,
    String.raw`^(?:ich auch|wir auch|bei (?:uns|mir) auch|gleiches problem|yo tambi[ée]n|a m[íi] tambi[ée]n|mismo problema|aqu[íi] tambi[ée]n|aqui tamb[ée]m|eu tamb[ée]m|comigo tamb[ée]m|mesmo problema|moi aussi|nous aussi|pareil|m[êe]me probl[èe]me|chez nous aussi)(?=$|[\s,.!:;])`,
  ].join('|'),
  'iu',
);

/** What an agreeing line says after its agreement ("same here: the login loops" -> "the login loops"). */
export function agreementRest(text: string): string {
  const t = ownWords(text).trim();
  return t.replace(AGREES_WITH_PREVIOUS, '').replace(/^[\s,.!:;)-]+/, '');
}

/**
 * A chat line whose first words agree with something said just before ("same error on our side", "+1",
 * "me too"): it has a referent, the line it agrees with, even when nothing else links them.
 */
export function agreesWithPrevious(text: string): boolean {
  const t = ownWords(text).trim();
  return t.length > 0 && t.length <= 400 && AGREES_WITH_PREVIOUS.test(t);
}

// Lines that are not prose: log lines, JSON/code, shell prompts, stack frames and error lines, indented
// code, tables of numbers.
const CODE_LINE =
  /^\s*(?:[{}[\]()<>]|["'][^"']*["']\s*:|[\w.-]+@[\w.-]+[:\s~]|\$ |# |>>> |at\s+\S+\(|File "|Traceback\b|Caused by:|Exception in thread\b|[\w.]*(?:Error|Exception|NotFound|Failure|Fault)(?::|$)|[a-z_]\w*(?:\.\w+)+:\s|[A-Z]\d{4}\s+\d\d:\d\d|\d{4}-\d\d-\d\d[ T]\d\d:\d\d|\[\d|[\w.]+\s*[=:]\s*\S+[,;]?\s*$|\S+\.(?:py|js|ts|java|cpp|c|go|rs|rb|sh|xml|json|yml|yaml):\d+)|^\s{2,}\S|[(){}[\];=*]{2,}|\w\([^)\s]*\)\s*$/;

/**
 * A paste with (almost) no prose of its own: a log, a stack trace, a JSON document, a shell session, a
 * bare link. Such a message carries evidence for a report, not the report: fewer than `minProse`
 * words on prose lines.
 */
export function isBarePaste(text: string, minProse = 6): boolean {
  const own = ownWords(text);
  // A bare link, also one said to someone ("@hamza: https://...").
  if (/^\s*(?:@?[\w.\-[\]|]{1,32}[:,]\s+)?<?https?:\/\/\S+>?\s*$/.test(own) || FILE_SHARED.test(own)) return true;
  const allLines = own.split('\n').filter((l) => l.trim());
  const lines = own
    .replace(/```[\s\S]*?(?:```|$)/g, '\n')
    .split('\n')
    .filter((l) => l.trim());
  if (allLines.length < 3) return false;
  let prose = 0;
  let asks = false;
  for (const l of lines) {
    if (CODE_LINE.test(l)) continue;
    const letters = (l.match(/\p{L}/gu) ?? []).length;
    if (letters < l.replace(/\s/g, '').length * 0.6) continue;
    prose += words(l);
    // Quoted strings and bracketed arguments are the program's words, not the author's.
    if (ASKS_OR_REPORTS.test(l.replace(/(['"`])[^'"`]*\1/g, ' ').replace(/\([^()]*\)/g, ' '))) asks = true;
  }
  // Prose lines that neither ask, nor say what is wrong, nor speak of the author: program output.
  return prose < minProse || (!asks && allLines.length - lines.length + countCode(lines) >= 2);
}

/** Lines that are code or data (not prose). */
function countCode(lines: readonly string[]): number {
  let n = 0;
  for (const l of lines) if (CODE_LINE.test(l) || (l.match(/\p{L}/gu) ?? []).length < l.replace(/\s/g, '').length * 0.6) n++;
  return n;
}

// A file shared with nothing said: "@dana uploaded a file: cities (https://...)" (Slack's old notice).
const FILE_SHARED = /^\s*@?[\w.-]+ (?:uploaded|shared) (?:a file|an image|a snippet|a post)\b[^\n]*$/i;
// What a person's own prose does around a paste: asks, says what is wrong, or speaks of themselves.
const ASKS_OR_REPORTS =
  /\?|\b(?:i|i'm|i've|me|my|we|we're|our|us|you|please|help|how|why|what|when|can't|cannot|could|would|should|need|want|wish|issue|problem|bug|error|fail\w*|broken|crash\w*|doesn't|does not|won't|isn't|not work\w*|unable|expected|instead|wrong|getting|get|got|seeing|see)\b/i;

// A contribution: the author says they did the work ("I implemented ...", "we opened a PR") and points at
// the pull or merge request or patch that carries it. Project work, not a report of a need.
const DID_WORK = /\b(?:i|we)(?:'ve| have| just)? (?:just )?(?:implemented|submitted|opened|created|pushed|prepared|raised|sent|added|fixed|wrote)\b/i;
const CHANGE_REF = /\/pull\/\d+|\/merge_requests\/\d+|\/pull-requests\/\d+|\b(?:PR|pull request|merge request|MR)\s*#?\d+|\bpatch (?:attached|is attached)\b/i;

/** The author presents their own change (a pull request, a patch): a contribution, not feedback. */
export function isContribution(text: string): boolean {
  const own = ownWords(text);
  return (
    DID_WORK.test(own) &&
    CHANGE_REF.test(own) &&
    !FAILURE.test(
      own
        .replace(CHANGE_REF, ' ')
        .split('\n')
        .slice(0, 3)
        .join(' ')
        .replace(/\b(?:fix(?:es|ed)?|fixing)\b[^.\n]*/gi, ' '),
    )
  );
}

// "Thanks, turned out to be a firewall issue", "solved it, thank you", "never mind, works now".
const THANKS = /\b(?:thanks|thank you|thx|ty|cheers|danke|merci|gracias|obrigad[oa])\b/i;
const SOLVED =
  /\b(?:turned out|turns out|solved|resolved|sorted(?: it)?(?: out)?|figured (?:it )?out|(?:fixed|working|works) now|(?:it|that) (?:works|worked|did it|did the trick|fixed it)|my (?:bad|mistake)|never ?mind|nvm|problem (?:is )?gone|all good now)\b/i;

/** A short note that the author's problem is solved, with thanks: closes a need, raises none. */
export function isResolvedThanks(text: string): boolean {
  const own = ownWords(text);
  return words(own) <= 50 && !own.includes('?') && THANKS.test(own) && SOLVED.test(own) && !/\b(?:but|still|however|except)\b/i.test(own);
}

// Advice to someone else: "Try the following link ...", "Have a look at mod_remoteip", "You can set ...".
const ADVICE_LEAD =
  /^(?:(?:maybe|perhaps|i think|i'd|i would|so|ok(?:ay)?|well|yes|no)[,\s]+)?(?:try|have a look|take a look|look at|see|check|read|make sure|you (?:can|could|need to|have to|might|may want to|will need to|probably want to)|the (?:docs?|documentation|manual) (?:says?|explains?|covers?))\b/i;
/** The writer's own trouble: a reply that states it is a report (or a follow-up), not advice. */
const OWN_TROUBLE = /\b(?:i|we)(?:'m|'ve| am| have| had| get| got| see| saw| tried| still| can't| cannot| need| want)\b|\b(?:my|our)\b/i;

const REPLY_SUBJECT = /^\s*(?:re|aw|sv|antw|vs|rif|r|wg|odp)\s*(?:\[\d+\])?\s*:/i;

/** A reply's subject ("Re: ...", "AW: ...", "Odp: ..."). */
export function isReplySubject(subject: string | null | undefined): boolean {
  return REPLY_SUBJECT.test(subject ?? '');
}

/** A reply that gives advice to whoever asked, asking and reporting nothing of its own (`own`: its own words): an answer. */
function isAnswer(own: string, subject: string | null | undefined): boolean {
  const t = own.trim();
  return isReplySubject(subject) && ADVICE_LEAD.test(t) && !t.includes('?') && !OWN_TROUBLE.test(t);
}

/** Own words that name nothing ("so... what now then?", "and why?"): no need can be told in them alone. */
function namesNothing(own: string): boolean {
  const ws = own
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  return ws.length > 0 && ws.every(isStopword);
}

/** Why a message is noise by its own text (whatever thread it is in), or null. */
export function messageNoiseOf(text: string, subject: string | null | undefined): NoiseReason | null {
  const own = ownWords(text);
  const sk = threadKindOf(subject);
  if (sk === 'out-of-office' || OOO_BODY.test(own.slice(0, 400))) return 'out-of-office';
  if (sk === 'unsubscribe' || (words(own) <= 25 && UNSUBSCRIBE.test(own))) return 'unsubscribe';
  if (NEWSLETTER_BODY.test(own.slice(0, 2000))) return 'newsletter';
  if (isGreeting(own)) return 'greeting';
  if (isBarePaste(text)) return 'paste';
  if (isContribution(text)) return 'contribution';
  if (isResolvedThanks(text)) return 'resolved';
  if (isAnswer(own, subject)) return 'answer';
  if (namesNothing(own)) return 'chatter';
  return null;
}
