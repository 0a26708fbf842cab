// The optional language model against a local fake OpenAI-compatible endpoint: nothing is sent when
// it is disabled; only low-confidence items are sent for kind and area, with exactly the subject and
// the report text; answers become `model` tags with version llm:<model>; every failure keeps the
// classifier's answer and the stage finishes.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlmConfig } from '../../src/config/index.js';
import { buildRequest } from '../../src/llm/prompt.js';
import { isLowConfidence } from '../../src/llm/refine.js';
import { loadClassifierModel } from '../../src/models/classifier.js';
import { compileRules, detectFeedback } from '../../src/pipeline/feedback.js';
import { runEnrich } from '../../src/stages/enrich.js';
import { loadConversationMessages } from '../../src/store/feedback.js';
import { listItems, type ListedItem } from '../../src/store/tagging.js';
import { startFakeOpenAi, type FakeMode, type FakeOpenAi } from '../fakes/openai.js';
import { POSTS, TAG_RULES, tagApp, type Post, type TestApp } from './support.js';

const MORE: Post[] = [
  { subject: 'hmm', body: 'anyone else seeing the dashboard being weird today or is it just me' },
  { subject: 'Re: meetup', body: 'thanks, see you all on Thursday!' },
  { subject: 'billing', body: 'the invoice says 12 seats but we only have 9 people, who do I talk to' },
];
const AREAS = ['area:auth', 'area:export'];

describe('optional language model', () => {
  let fake: FakeOpenAi;
  let t: TestApp;
  let convIds: number[] = [];
  /** What the classifier alone says, per conversation, and which conversations are low-confidence. */
  const baseline = new Map<number, { kind: string | null; low: boolean; subject: string | undefined; text: string }>();
  const logLines: Array<Record<string, unknown>> = [];

  const llm = (over: Partial<LlmConfig> = {}): LlmConfig => ({
    enabled: true,
    baseUrl: fake.baseUrl,
    model: 'tiny-test',
    apiKey: 'sk-test-key',
    timeoutMs: 400,
    maxItemsPerRun: 50,
    minKindConfidence: 0.6,
    summaries: false,
    ...over,
  });

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    // Configured but disabled: the endpoint is named, nothing may be sent.
    t = await tagApp(`${TAG_RULES}llm:\n  enabled: false\n  baseUrl: ${fake.baseUrl}\n  model: tiny-test\n`);
    await t.importPosts([...POSTS, ...MORE]);
    t.app.ctx.log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, cb) => (logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) }));
    convIds = (await t.app.db.selectFrom('conversations').select('id').orderBy('id').execute()).map((r) => r.id);
    const model = loadClassifierModel();
    const rules = compileRules(t.app.config.tags);
    const convs = await loadConversationMessages(t.app.db, convIds);
    for (const id of convIds) {
      const messages = convs.get(id) ?? [];
      const d = detectFeedback(model, messages, rules, 'x');
      if (!d) continue;
      const m = messages.find((x) => x.id === d.messageId)!;
      baseline.set(id, { kind: d.kind, low: isLowConfidence(d, 0.6), subject: messages[0]?.subject ?? undefined, text: m.text });
    }
  }, 120_000);
  afterAll(async () => {
    await t?.app.close();
    await fake?.close();
  });

  const enrichAll = async (): Promise<ListedItem[]> => {
    await runEnrich(t.app.ctx, { conversationIds: convIds });
    await t.app.queue.idle({ timeoutMs: 60_000 });
    return listItems(t.app.db, { limit: 100 });
  };
  const kindsNow = (items: ListedItem[]) => new Map(items.map((i) => [i.conversationId, i.kind]));
  const lowIds = () => [...baseline].filter(([, b]) => b.low).map(([id]) => id);

  it('disabled (the default) sends nothing', async () => {
    expect(t.app.config.llm.enabled).toBe(false);
    await enrichAll();
    expect(fake.requests).toEqual([]);
    expect(lowIds().length).toBeGreaterThanOrEqual(3); // the fixture has low-confidence items to send
    expect(lowIds().length).toBeLessThan(baseline.size);
  });

  it.each<[FakeMode, (low: number) => number, string]>([
    ['500', (low) => Math.min(low, 3), 'http'],
    ['429', () => 1, 'rate_limited'],
    ['timeout', (low) => Math.min(low, 3), 'timeout'],
    ['garbage', (low) => Math.min(low, 3), 'invalid_answer'],
    ['bad-json-content', (low) => Math.min(low, 3), 'invalid_answer'],
    ['off-schema', (low) => Math.min(low, 3), 'invalid_answer'],
  ])(
    'falls back to the classifier when the endpoint answers %s',
    async (mode, expected, code) => {
      fake.requests.length = 0;
      logLines.length = 0;
      fake.mode = mode;
      t.app.ctx.config.llm = llm();
      const before = kindsNow(await listItems(t.app.db, { limit: 100 }));
      const items = await enrichAll();
      expect(kindsNow(items)).toEqual(before);
      expect(items.flatMap((i) => i.tags).some((x) => x.version?.startsWith('llm:'))).toBe(false);
      expect(fake.requests).toHaveLength(expected(lowIds().length));
      expect(logLines).toContainEqual(expect.objectContaining({ level: 40, code, llm: 'tiny-test', msg: 'language model failed; keeping the classifier answer' }));
      expect(JSON.stringify(logLines)).not.toContain('sk-test-key');
    },
    60_000,
  );

  it('sends only low-confidence items, exactly their subject and report text, and applies the answers', async () => {
    fake.requests.length = 0;
    fake.mode = 'ok';
    fake.answer = () => ({ kind: 'complaint', confidence: 0.77, area: 'area:auth', summary: 'Something is off.' });
    t.app.ctx.config.llm = llm();
    const items = await enrichAll();
    const low = lowIds();
    expect(fake.requests).toHaveLength(low.length);
    const expectedBodies = low.map((id) => {
      const b = baseline.get(id)!;
      return buildRequest('tiny-test', 'classify', { ...(b.subject ? { subject: b.subject } : {}), text: b.text }, AREAS);
    });
    expect(fake.requests.map((r) => r.body)).toEqual(expect.arrayContaining(expectedBodies));
    for (const r of fake.requests) {
      expect(r).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
      expect(r.headers.authorization).toBe('Bearer sk-test-key');
      const sent = JSON.stringify(r.body);
      expect(sent).not.toMatch(/example\.org|Member \d/); // no names, addresses or channels
    }
    // What the user message holds, spelled out once.
    const first = baseline.get(low[0]!)!;
    const user = JSON.parse(
      (fake.requests.find((r) => JSON.stringify(r.body).includes(JSON.stringify(first.text).slice(1, -1)))!.body as { messages: Array<{ content: string }> }).messages[1]!.content,
    ) as Record<string, unknown>;
    expect(Object.keys(user).sort()).toEqual(['areas', 'task', 'text', ...(first.subject ? ['subject'] : [])].sort());
    expect(user).toMatchObject({ areas: AREAS, text: first.text });

    for (const id of low) {
      const item = items.find((i) => i.conversationId === id)!;
      expect(item.kind).toBe('complaint');
      expect(item.tags).toContainEqual(expect.objectContaining({ tag: 'kind:complaint', provenance: 'model', confidence: 0.77, version: 'llm:tiny-test' }));
      expect(item.tags.filter((x) => x.tag === 'area:auth')).toHaveLength(1);
      expect(item.summary).toBeNull(); // summaries are off in this run
    }
    for (const [id, b] of baseline) if (!b.low && b.kind) expect(items.find((i) => i.conversationId === id)?.kind).toBe(b.kind);
  }, 60_000);

  it('writes one-line summaries of feedback items once, and leaves human decisions alone', async () => {
    fake.requests.length = 0;
    fake.answer = (body) => {
      const schema = (body as { response_format: { json_schema: { name: string } } }).response_format.json_schema.name;
      return schema === 'gleaner_summary' ? { summary: '  The   thing\nis broken.  ' } : { kind: 'none', confidence: 0.9, area: null, summary: 'x' };
    };
    t.app.ctx.config.llm = llm({ summaries: true, minKindConfidence: 0 });
    const items = await enrichAll();
    const feedback = items.filter((i) => i.status === 'auto');
    expect(feedback.length).toBeGreaterThan(0);
    for (const i of feedback) expect(i.summary).toBe('The thing is broken.');
    expect(fake.requests.every((r) => (r.body as { response_format: { json_schema: { name: string } } }).response_format.json_schema.name === 'gleaner_summary')).toBe(true);
    const sent = fake.requests.length;
    await enrichAll();
    expect(fake.requests.length).toBe(sent); // every item has its summary now
  }, 60_000);

  it('respects maxItemsPerRun', async () => {
    fake.requests.length = 0;
    fake.answer = () => ({ kind: 'bug', confidence: 0.5, area: null });
    t.app.ctx.config.llm = llm({ maxItemsPerRun: 1, minKindConfidence: 1 });
    await enrichAll();
    expect(fake.requests).toHaveLength(1);
  }, 60_000);
});
