// npm run bench -- tag [--items N] [--tagged N]: items tagged per second on one core through
// detectFeedback (classifier + config rules + platform labels) plus tag suggestions from human-tagged
// neighbours, on generated chat and mail conversations. Prints tag.items_per_s (CPU time of this
// single-threaded loop), tag.items_per_s_wall and tag.peak_rss_mb.
import { loadClassifierModel } from '../src/models/classifier.js';
import { compileRules, detectFeedback, type ConversationMessage } from '../src/pipeline/feedback.js';
import { createTagSuggester, reportDoc, withSuggestions, type HumanTaggedExample } from '../src/pipeline/suggest.js';
import { arg, figure, peakRssMb, rng } from './support.js';

const SUBJECTS = ['login', 'SSO', 'PDF export', 'CSV export', 'billing', 'webhooks', 'deploys', 'the CLI', 'the dashboard', 'API keys', 'rate limits', 'the docs'];
const OPENERS = [
  (s: string) => `${s} is broken since the last upgrade, getting a 500 every time`,
  (s: string) => `would be great if ${s} supported custom templates, any plans?`,
  (s: string) => `how do I configure ${s} for a team of 40 people?`,
  (s: string) => `the page about ${s} in the docs has a dead link and the wrong flag`,
  (s: string) => `love the new ${s}, saved us hours this week`,
  (s: string) => `honestly ${s} has been flaky for months and nobody answers our tickets`,
  () => 'good morning everyone',
  () => 'thanks, that worked!',
];
const REPLIES = ['same here', 'can you share the logs?', '+1', 'which version are you on?', 'fixed in 2.3 I think', 'ok thanks'];
const TEAMS = ['team:identity', 'team:reporting', 'team:billing', 'team:platform'];

function conversation(r: () => number, i: number, mail: boolean): ConversationMessage[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const subject = pick(SUBJECTS);
  const n = 1 + Math.floor(r() * 4);
  const out: ConversationMessage[] = [];
  for (let j = 0; j < n; j++) {
    const text = j === 0 ? pick(OPENERS)(subject) + (mail ? `\n\nSteps: open ${subject}, click save.\nExpected: it works.\nActual: it does not.\n\n-- \nSent from my laptop` : '') : pick(REPLIES);
    out.push({ id: i * 10 + j, text, subject: mail ? `[dev] ${subject}` : null, channel: mail ? 'dev@lists.example.org' : pick(['help', 'general', 'bugs']), isBot: false, labels: [] });
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const items = arg(args, 'items', 5000);
  const tagged = arg(args, 'tagged', 2000);
  const r = rng(42);
  const model = loadClassifierModel();
  const rules = compileRules([
    { tag: 'area:auth', keywords: ['login', 'sso', 'api keys'], patterns: [], channels: [] },
    { tag: 'area:export', keywords: ['pdf', 'csv', 'export'], patterns: ['\\bexport(s|ing)?\\b'], channels: [] },
    { tag: 'area:billing', keywords: ['billing', 'invoice', 'seats'], patterns: [], channels: ['billing'] },
  ]);
  // Human-tagged history the suggester learns from.
  const examples: HumanTaggedExample[] = [];
  for (let i = 0; i < tagged; i++) {
    const conv = conversation(r, 1_000_000 + i, r() < 0.3);
    const text = conv[0]!.text;
    const team = /login|sso|api keys/i.test(text) ? TEAMS[0]! : /export/i.test(text) ? TEAMS[1]! : /billing/i.test(text) ? TEAMS[2]! : TEAMS[3]!;
    examples.push({ conversationId: 1_000_000 + i, ...(conv[0]!.subject ? { title: conv[0]!.subject } : {}), text, tags: [team] });
  }
  const t0 = performance.now();
  const suggester = createTagSuggester(examples);
  figure('tag.suggester_build_ms', performance.now() - t0);
  const convs = Array.from({ length: items }, (_, i) => conversation(r, i, r() < 0.3));
  /** Tags on one item, and how many of them are suggestions. */
  const tagOne = (messages: ConversationMessage[], id: number): [number, number] => {
    const d = detectFeedback(model, messages, rules, 'rules-bench');
    if (!d) return [0, 0];
    const tags = withSuggestions(d, suggester, reportDoc(messages, d), id).tags;
    return [tags.length, tags.filter((t) => t.version === suggester.version).length];
  };
  for (let i = 0; i < Math.min(500, items); i++) tagOne(convs[i]!, i); // warm-up
  let tags = 0;
  let suggested = 0;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < items; i++) {
    const [n, s] = tagOne(convs[i]!, i);
    tags += n;
    suggested += s;
  }
  const wall = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  figure('tag.items', items);
  figure('tag.human_tagged_examples', tagged);
  figure('tag.tags_per_item', tags / items);
  figure('tag.suggestions_per_item', suggested / items);
  figure('tag.items_per_s', Math.round(items / cpuSeconds));
  figure('tag.items_per_s_wall', Math.round(items / wall));
  figure('tag.peak_rss_mb', peakRssMb());
}
