// Feedback detection shared with helper threads gives exactly what detection on one thread gives, and a
// helper that cannot serve (another model) is dropped with its chunks detected here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DetectPool } from '../../src/threads/detect-pool.js';
import { compileRules, detectFeedback, type ConversationMessage, type TagRule } from '../../src/pipeline/feedback.js';
import { loadClassifierModel } from '../../src/models/classifier.js';
import { packageRoot } from '../../src/paths.js';

const model = loadClassifierModel();
const RULES: TagRule[] = [
  { tag: 'area:deploy', keywords: ['deploy', 'upload'], patterns: [], channels: [] },
  { tag: 'area:auth', keywords: [], patterns: ['log ?in|sso|oauth'], channels: ['#auth'] },
];
const compiled = compileRules(RULES);
const here = (m: readonly ConversationMessage[]) => detectFeedback(model, m, compiled, 'rules-test');

// Conversations of one to four messages from the shipped labelled set (real wording, every kind).
const texts = readFileSync(join(packageRoot(), 'data', 'labelled', 'gleaner-feedback.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);
const conversations: ConversationMessage[][] = Array.from({ length: 400 }, (_, i) =>
  Array.from({ length: 1 + (i % 4) }, (_, j) => ({
    id: i * 10 + j,
    text: texts[(i * 7 + j * 13) % texts.length]!,
    subject: j === 0 && i % 3 === 0 ? `Subject ${i}` : null,
    channel: i % 5 === 0 ? 'auth' : 'general',
    isBot: i % 11 === 0 && j === 0,
    labels: i % 9 === 0 ? ['platform:label'] : [],
  })),
);

/**
 * Detects the test conversations until `done` (up to 40 calls): a helper that starts slowly may take no
 * chunk of a call, this thread doing them all. Every call's result is checked.
 */
async function detectUntil(pool: DetectPool, modelVersion: string, done: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 40 && !done(); attempt++) {
    const got = await pool.detect({ modelVersion, rules: RULES, rulesVersion: 'rules-test', conversations }, here);
    expect(got).toEqual(conversations.map(here));
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('detection shared with helper threads', () => {
  const pools: DetectPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('gives what one thread gives, in order, call after call', async () => {
    const errors: string[] = [];
    const pool = new DetectPool(1, (m) => errors.push(m));
    pools.push(pool);
    const expected = conversations.map(here);
    expect(expected.filter((d) => d?.isFeedback).length).toBeGreaterThan(50);
    for (let round = 0; round < 3; round++) {
      const got = await pool.detect({ modelVersion: model.version, rules: RULES, rulesVersion: 'rules-test', conversations }, here);
      expect(got).toEqual(expected);
    }
    expect(errors).toEqual([]);
  });

  it('counts the chunks the helper did: work is shared, not all done here', async () => {
    const pool = new DetectPool(1);
    pools.push(pool);
    // Warm the helper up (it starts on first use), then count this thread's detections.
    await pool.detect({ modelVersion: model.version, rules: RULES, rulesVersion: 'rules-test', conversations }, here);
    let mine = 0;
    const counting = (m: readonly ConversationMessage[]) => {
      mine++;
      return here(m);
    };
    const big = [...conversations, ...conversations, ...conversations];
    const got = await pool.detect({ modelVersion: model.version, rules: RULES, rulesVersion: 'rules-test', conversations: big }, counting);
    expect(got).toEqual(big.map(here));
    expect(mine).toBeLessThan(big.length);
  });

  it('drops a helper that has another model and detects its chunks here', async () => {
    const errors: string[] = [];
    const pool = new DetectPool(1, (m) => errors.push(m));
    pools.push(pool);
    // Called again until the helper took a chunk (one that starts slowly may take none of a call).
    await detectUntil(pool, 'not-the-model', () => errors.some((e) => /another model|not-the-model/.test(e)));
    expect(errors.join('\n')).toMatch(/another model|not-the-model/);
  });

  it('takes a helper that does not answer in time for stuck and detects its chunks here', async () => {
    const errors: string[] = [];
    // 1 ms: no helper answers that fast, so every chunk it took times out. A helper that starts slowly
    // (a loaded machine) may take no chunk of a call, this thread doing them all: called again until
    // one was taken, every call's result checked.
    const pool = new DetectPool(1, (m) => errors.push(m), 1);
    pools.push(pool);
    await detectUntil(pool, model.version, () => errors.some((e) => /no answer/.test(e)));
    expect(errors.join('\n')).toMatch(/no answer in 1 ms/);
  });

  it('with no helper threads detects everything here', async () => {
    const pool = new DetectPool(0);
    pools.push(pool);
    let mine = 0;
    const got = await pool.detect({ modelVersion: model.version, rules: RULES, rulesVersion: 'rules-test', conversations }, (m) => {
      mine++;
      return here(m);
    });
    expect(got).toEqual(conversations.map(here));
    expect(mine).toBe(conversations.length);
  });
});
