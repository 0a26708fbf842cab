// The optional embeddings endpoint: with it, paraphrases that share no word are grouped; without it
// (down, failing, answering nonsense) the shipped need vectors are used and grouping goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedNeeds } from '../../src/llm/embeddings.js';
import { NeedGrouper, type NeedDoc } from '../../src/pipeline/grouping.js';
import { startFakeEmbeddings, type FakeEmbeddings } from '../fakes/openai-embeddings.js';

const T0 = Date.UTC(2026, 4, 4);
const docs: NeedDoc[] = [
  { itemId: 1, need: 'the sign-in page keeps bouncing me back', at: T0, kind: 'bug' },
  { itemId: 2, need: 'authentication redirect cycle after upgrading', at: T0 + 60_000, kind: 'bug' },
  { itemId: 3, need: 'please add a dark theme to dashboards', at: T0 + 120_000, kind: 'feature' },
];
/** The fake model: the two login texts point the same way, the rest elsewhere. */
const embed = (t: string) => (/sign-in|authentication/.test(t) ? [1, 0.1, 0] : [0, 0.2, 1]);

function group(vectors: Map<number, Float32Array>): NeedGrouper {
  const g = new NeedGrouper();
  for (const [id, v] of vectors) g.setEmbedding(id, v);
  g.add(docs);
  const plan = g.regroup(docs.map((d) => d.itemId));
  const ids = new Map<number, number>();
  let next = 1;
  for (const key of plan.place.values()) if (key < 0 && !ids.has(key)) ids.set(key, next++);
  g.commit(plan, ids);
  return g;
}

let fake: FakeEmbeddings;
beforeAll(async () => {
  fake = await startFakeEmbeddings(embed);
});
afterAll(async () => {
  await fake.close();
});

describe('need vectors from an embeddings endpoint', () => {
  it('groups paraphrases that share no word, sending only the need texts', async () => {
    const endpoint = { baseUrl: fake.baseUrl, model: 'm', timeoutMs: 2000 };
    const r = await embedNeeds(endpoint, docs);
    expect(r.error).toBeNull();
    expect(fake.requests.at(-1)!.body).toEqual({ model: 'm', input: docs.map((d) => d.need) });
    const g = group(r.vectors);
    expect(g.clusterOf(1)).toBe(g.clusterOf(2));
    expect(g.clusterOf(3)).not.toBe(g.clusterOf(1));
    // Without the vectors the shipped representation does not see it (the paraphrases share no word).
    const shipped = group(new Map());
    expect(shipped.clusterOf(1)).not.toBe(shipped.clusterOf(2));
  });

  it('endpoint down or failing: the error is reported, the shipped vectors are used and every item is placed', async () => {
    for (const mode of ['500', 'garbage'] as const) {
      fake.mode = mode;
      const r = await embedNeeds({ baseUrl: fake.baseUrl, model: 'm', timeoutMs: 2000 }, docs);
      expect(r.error).not.toBeNull();
      const g = group(r.vectors);
      for (const d of docs) expect(g.clusterOf(d.itemId)).toBeDefined();
    }
    fake.mode = 'ok';
    const down = await embedNeeds({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 2000 }, docs);
    expect(down.error?.code).toBe('network');
    expect(down.vectors.size).toBe(0);
    const g = group(down.vectors);
    for (const d of docs) expect(g.clusterOf(d.itemId)).toBeDefined();
  });
});
