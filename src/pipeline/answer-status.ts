// The status line of a digest entry: what staff or a maintainer answered in the cluster's threads
// ("fixed in 4.2.1", "workaround: ...", "known issue"), quoted in their words and linked. Pure.
import type { DigestStatus } from '../model/index.js';
import { channelLabel, type PriorityMessage } from './priority.js';
import type { Period } from './period.js';
import { ownWords } from './own-words.js';
import { quoteLink, type ArchiveConfig, type ArchiveMessage } from './archives.js';

type StatusMessage = PriorityMessage & Partial<Pick<ArchiveMessage, 'externalId' | 'channelExternal'>>;

interface StatusItem {
  reportMessageId: number;
  messages: readonly StatusMessage[];
}

/** Answers that say where the need stands, strongest first. `maintainer`: said by someone who can fix it. */
const ANSWERS: ReadonlyArray<{ label: string; re: RegExp; maintainer: boolean }> = [
  {
    label: 'fixed',
    re: /\b(?:(?:fixed|resolved|addressed|solved) (?:in|by|with|as of|since) (?:release |version |v)?\d+(?:\.\d+)+|fix(?:ed)? (?:is )?(?:coming|landing|landed|going out|will (?:ship|land|be out)|ships|shipped|released) in|(?:has|have) been (?:fixed|resolved)|is (?:now )?fixed|(?:i|we)(?:'ve| have)? (?:committed|merged|pushed|landed) (?:a |the )?fix|fix (?:has been |was )?(?:committed|merged|released))\b/i,
    maintainer: true,
  },
  { label: 'workaround', re: /\bwork-?arounds?\b\s*(?:is|:|for now|until)|\bas a work-?around\b|\bin the meantime,? (?:you can|use|set)\b/i, maintainer: false },
  // "A fix that ignores the digest ships in 3.8.1": the fix and its release, a few words apart.
  { label: 'fixed', re: /\bfix\b[^.;!?]{0,60}\b(?:ships|lands|is coming|goes out|will (?:ship|land|be (?:out|released))) (?:in|with|on|next)\b/i, maintainer: false },
  { label: 'known issue', re: /\b(?:a |this is a |it's a |it is a )?known (?:issue|bug|problem|limitation|regression)\b/i, maintainer: false },
  { label: 'confirmed', re: /^\s*(?:thanks,?\s*)?confirmed\b|\b(?:we|i) (?:can )?(?:confirm|reproduced?) (?:this|it|the)\b|\bwe can reproduce\b/im, maintainer: false },
  {
    label: 'planned',
    re: /\b(?:we(?:'re| are) fixing|(?:is|are) being (?:added|fixed|worked on))\b|\b(?:on (?:our|the) roadmap|planned for (?:the )?(?:next|\d)|(?:we(?:'re| are)|team is) (?:actively )?working on (?:it|this|a fix)|tracked (?:in|as|at) (?:issue |ticket )?[#A-Z]?[\w-]*\d)\b/i,
    maintainer: false,
  },
  { label: 'investigating', re: /\b(?:we(?:'re| are)|team is) (?:looking into|investigating) (?:it|this|the)\b/i, maintainer: false },
];

const MAX_STATUS_CHARS = 240;

/** The sentence(s) that carry the answer, whole: from the one that matches, at most MAX_STATUS_CHARS. */
function answerSentence(text: string, re: RegExp): string | null {
  const sentences = ownWords(text)
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'`(])/u);
  const i = sentences.findIndex((s) => re.test(s));
  if (i < 0) return null;
  let out = sentences[i]!;
  // "Workaround:" alone says little: the sentence after it is the workaround.
  if (out.length < 60 && sentences[i + 1] && out.length + sentences[i + 1]!.length < MAX_STATUS_CHARS) out += ` ${sentences[i + 1]}`;
  if (out.length > MAX_STATUS_CHARS) {
    const cut = out.slice(0, MAX_STATUS_CHARS);
    out = `${cut.slice(0, Math.max(cut.lastIndexOf(' '), MAX_STATUS_CHARS * 0.6)).trimEnd()}…`;
  }
  // "Hi Priscilla, thanks, we are ..." : the greeting is not the answer.
  return out.replace(/^(?:hi|hello|hey|dear)(?:\s+[\p{L}.'-]+)?\s*[,!:]\s*/iu, '').trim();
}

/**
 * The latest answer in the cluster's threads, up to the period's end, from staff (any of the answers)
 * or from someone who is not a reporter and says it is fixed (a maintainer on a community list).
 * Null when nobody answered so.
 */
export function answerStatus(items: readonly StatusItem[], period: Period, archives: readonly ArchiveConfig[] = []): DigestStatus | null {
  let best: { m: StatusMessage; label: string; text: string; rank: number } | null = null;
  for (const item of items) {
    // The reporter's own words are not an answer; a staff message the detector took for the report still is.
    const report = item.messages.find((m) => m.messageId === item.reportMessageId);
    const reporter = report && report.segment !== 'staff' && report.segment !== 'bot' ? report.personId : undefined;
    // What was said before the report (the announcement a reply answers) cannot answer it.
    const since = report?.at ?? -Infinity;
    for (const m of item.messages) {
      if (m.at >= period.end || m.at < since || m.segment === 'bot' || m.personId === reporter) continue;
      const staff = m.segment === 'staff';
      for (let rank = 0; rank < ANSWERS.length; rank++) {
        const a = ANSWERS[rank]!;
        if (!staff && !a.maintainer) continue;
        if (!a.re.test(m.text)) continue;
        const text = answerSentence(m.text, a.re);
        if (!text) continue;
        // The latest answer says where things stand; on the same instant the stronger one.
        if (!best || m.at > best.m.at || (m.at === best.m.at && rank < best.rank)) best = { m, label: a.label, text, rank };
        break;
      }
    }
  }
  if (!best) return null;
  const m = best.m;
  return { label: best.label, text: best.text, author: m.personName, url: quoteLink(m, archives), at: new Date(m.at).toISOString(), channel: channelLabel(m) };
}
