import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Disentangler, FEATURE_NAMES, conversationsFromParents, disentangle, parseDisentangleModel, type ChatLine } from '../../src/pipeline/disentangle/index.js';
import { FeatureStream } from '../../src/pipeline/disentangle/features.js';
import { loadDisentangleModel } from '../../src/models/disentangle.js';
import { IRC_BASE_DATE_MS, parseAnnotation, parseIrcLog } from '../../src/eval/irc-log.js';
import { clustersFromLinks, conversationScores, linkScores, maxWeightMatching, scoreThreads, threadFile } from '../../src/eval/threads.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'disentangle');
const sampleLog = readFileSync(join(fixtures, 'ubuntu-2004-11-15_03.sample.raw.txt'), 'utf8');
const sampleAnnotation = readFileSync(join(fixtures, 'ubuntu-2004-11-15_03.sample.annotation.txt'), 'utf8');

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 12);
const line = (author: string, text: string, minute: number, system?: boolean): ChatLine => (system ? { author, text, at: T0 + minute * MIN, system } : { author, text, at: T0 + minute * MIN });

describe('thread metrics', () => {
  it('link precision / recall / F over (line, parent) pairs, several gold parents allowed', () => {
    const s = linkScores([
      {
        gold: [
          [1, 0],
          [2, 2],
          [3, 1],
          [3, 2],
        ],
        auto: [
          [1, 0],
          [2, 1],
          [3, 2],
        ],
      },
    ]);
    expect(s.p).toBeCloseTo(200 / 3, 6);
    expect(s.r).toBeCloseTo(50, 6);
    expect(s.f).toBeCloseTo(400 / 7, 6); // 2PR/(P+R) = 57.142857
  });

  it('conversations: links into the context join lines, then the context is cut off', () => {
    const c = clustersFromLinks([
      [1000, 998],
      [1001, 1000],
      [1002, 1002],
      [1003, 998],
    ]);
    expect(c).toEqual([[1000, 1001, 1003], [1002]]);
  });

  it('VI, one-to-one and exact match on a hand-made example', () => {
    const s = conversationScores([
      {
        gold: [
          [0, 1, 2],
          [3, 4],
        ],
        auto: [
          [0, 1],
          [2, 3, 4],
        ],
      },
    ]);
    // contingency: (a0,g0)=2, (a1,g0)=1, (a1,g1)=2; n=5
    const h = (ps: number[]): number => -ps.reduce((t, p) => t + p * Math.log(p), 0);
    const I = 0.4 * Math.log((2 * 5) / (2 * 3)) + 0.2 * Math.log((1 * 5) / (3 * 3)) + 0.4 * Math.log((2 * 5) / (3 * 2));
    const vi = h([0.4, 0.6]) + h([0.6, 0.4]) - 2 * I;
    expect(s.vi).toBeCloseTo(100 * (1 - vi / Math.log(5)), 6);
    expect(s.vi).toBeCloseTo(52.5414, 3);
    expect(s.oneToOne).toBeCloseTo(80, 6); // a0-g0 (2) + a1-g1 (2) of 5
    expect(s.exact).toEqual({ p: 0, r: 0, f: 0 });

    const perfect = conversationScores([{ gold: [[0, 1], [2]], auto: [[0, 1], [2]] }]);
    expect(perfect.vi).toBeCloseTo(100, 6);
    expect(perfect.oneToOne).toBeCloseTo(100, 6);
  });

  it('exact match ignores single-line conversations', () => {
    const s = conversationScores([
      {
        gold: [[0, 1], [2], [3, 4]],
        auto: [[0, 1], [2, 3], [4]],
      },
    ]);
    expect(s.exact.p).toBeCloseTo(50, 6); // {0,1} of {0,1},{2,3}
    expect(s.exact.r).toBeCloseTo(50, 6); // {0,1} of {0,1},{3,4}
    expect(s.exact.f).toBeCloseTo(50, 6);
  });

  it('one-to-one uses the best matching, not the greedy one', () => {
    expect(
      maxWeightMatching([
        [1, 9, 1],
        [9, 8, 1],
      ]),
    ).toBe(18);
    expect(
      maxWeightMatching([
        [5, 4],
        [4, 0],
        [0, 3],
      ]),
    ).toBe(8); // 4 + 4, not 5 + 3
  });

  it('scoreThreads returns the documented names in order', () => {
    const gold = parseAnnotation('0 0 -\n0 1 -\n2 2 -\n');
    const names = scoreThreads([{ name: 'x', gold, auto: gold }]).map(([n]) => n);
    expect(names).toEqual(['threads.vi', 'threads.one_to_one', 'threads.exact_p', 'threads.exact_r', 'threads.exact_f', 'threads.link_p', 'threads.link_r', 'threads.link_f']);
    expect(scoreThreads([{ name: 'x', gold, auto: gold }]).every(([, v]) => v === 100)).toBe(true);
  });
});

describe('IRC log parsing', () => {
  it('reads messages, actions and service lines, one ChatLine per line', () => {
    const lines = parseIrcLog(sampleLog);
    expect(lines).toHaveLength(100);
    expect(lines[0]).toMatchObject({ author: 'f_favila', system: true });
    expect(lines[1]).toEqual({ author: 'Nafallo', text: 'ogra: what about it? :-)', at: IRC_BASE_DATE_MS + (2 * 60 + 32) * MIN });
    expect(lines[13]).toMatchObject({ author: 'ogra', text: expect.stringMatching(/^\/me goes to bed/) });
    expect(lines[13]?.system).toBeUndefined();
    // a service line without a time takes the previous line's time
    expect(lines[2]).toMatchObject({ author: 'binary_10', system: true, at: lines[1]?.at });
  });

  it('joins nicks the corpus split with a space', () => {
    expect(parseIrcLog('[06:03] <bur[n] er> anyone have issues\n')[0]).toMatchObject({ author: 'bur[n]er', text: 'anyone have issues' });
  });

  it('rolls the day over when the clock goes backwards, and reads dated lines', () => {
    const l = parseIrcLog('[23:59] <a> x\n[00:01] <b> y\n');
    expect(l[0]?.at).toBe(IRC_BASE_DATE_MS + (23 * 60 + 59) * MIN);
    expect((l[1]?.at ?? 0) - (l[0]?.at ?? 0)).toBe(2 * MIN);
    const a = parseIrcLog("rust 2018-05-29 [21:20:37] <talchas> but I don't know that I'd bother \n" + 'mediawiki 2019-02-18 [04:19:44] * bd808 offers Azxiana a soothing beverage  \n');
    expect(a[0]).toEqual({ author: 'talchas', text: "but I don't know that I'd bother", at: Date.UTC(2018, 4, 29, 21, 20, 37) });
    expect(a[1]).toMatchObject({ author: 'bd808', text: '/me offers Azxiana a soothing beverage' });
  });

  it('annotation: the larger number is the line, a self link starts a conversation', () => {
    expect(parseAnnotation('1002 1003 -\n1004 1004 -\n998 1005 -\n')).toEqual([
      [1003, 1002],
      [1004, 1004],
      [1005, 998],
    ]);
  });
});

describe('features', () => {
  const cfg = { window: 50, idf: {}, idfUnknown: 10 };
  const pairNames = (s: FeatureStream, l: ChatLine, k: number): string[] => {
    const x = s.extract(l);
    const out: string[] = [];
    for (let p = x.pairStart[k] as number; p < (x.pairStart[k + 1] as number); p++) out.push(FEATURE_NAMES[x.pairIdx[p] as number] as string);
    return out;
  };

  it('detects addressing by nick and buckets time and distance', () => {
    const s = new FeatureStream(cfg);
    const lines = [line('alice', 'how do I mount a usb stick?', 0), line('Bob', 'anyone around?', 1)];
    for (const l of lines) s.commit(s.extract(l), s.length);
    const reply = line('carol', 'alice: try the disks tool', 1.5);
    const x = s.extract(reply);
    expect(x.info.addressee).toBe('alice');
    expect(x.info.mentions).toEqual(['alice']);
    // candidate 1 is alice's line (newest first), 90 s and 2 lines back
    const toAlice = pairNames(s, reply, 1);
    expect(toAlice[0]).toBe('p.dist<=2,time_s<=120');
    expect(toAlice).toContain('p.s_addresses_c');
    const toBob = pairNames(s, reply, 0);
    expect(toBob[0]).toBe('p.dist<=1,time_s<=30');
    expect(toBob).not.toContain('p.s_addresses_c');
    // nicks are matched case-insensitively, with trailing punctuation, anywhere in the line
    expect(s.extract(line('dave', 'ask BOB, he knows', 2)).info.mentions).toEqual(['bob']);
    // a word that is not a nick seen so far is not a mention
    expect(s.extract(line('dave', 'erin: hi', 2)).info.addressee).toBeUndefined();
  });

  it('service lines have no candidates and start their own conversation', () => {
    const s = new FeatureStream(cfg);
    s.commit(s.extract(line('alice', 'hello', 0)), 0);
    const x = s.extract(line('bob', 'bob has joined #ubuntu', 1, true));
    expect(x.cands).toHaveLength(0);
  });
});

describe('model', () => {
  it('rejects junk with a clear error', () => {
    expect(() => parseDisentangleModel({})).toThrow(/invalid disentanglement model/);
    expect(() => parseDisentangleModel('nope')).toThrow(/invalid disentanglement model/);
    const m = loadDisentangleModel();
    expect(() => parseDisentangleModel({ ...m, features: m.features.slice(1) })).toThrow(/different feature set/);
    expect(() => parseDisentangleModel({ ...m, w2: m.w2.slice(1) })).toThrow(/w2/);
    expect(() => parseDisentangleModel({ ...m, b1: m.b1.map(() => 'x') })).toThrow(/invalid disentanglement model/);
    expect(parseDisentangleModel(JSON.parse(JSON.stringify(m))).version).toBe(m.version);
  });

  it('incremental pushes give the same parents as the batch call', () => {
    const model = loadDisentangleModel();
    const lines = parseIrcLog(sampleLog);
    const batch = disentangle(lines, model);
    const d = new Disentangler(model);
    const inc = lines.map((l) => d.push(l));
    expect(inc).toEqual(batch);
    expect(batch.every((p, i) => p <= i && p >= Math.max(0, i - model.config.window))).toBe(true);
  });

  it('a line observed (its parent not asked for) leaves the same state as one pushed: later parents are the same', () => {
    const model = loadDisentangleModel();
    const lines = parseIrcLog(sampleLog);
    const pushed = disentangle(lines, model);
    const d = new Disentangler(model);
    // Every third line is context only (as a line threaded already is).
    const mixed = lines.map((l, i) => (i % 3 === 1 ? (d.observe(l), null) : d.push(l)));
    const asked = pushed.map((p, i) => (i % 3 === 1 ? null : p));
    expect(mixed).toEqual(asked);
    // Not trivially so: the lines asked for do link to earlier lines, observed ones among them.
    expect(asked.filter((p, i) => p !== null && p !== i && p % 3 === 1).length).toBeGreaterThan(5);
  });

  it('a bounded window: a small window never links further back', () => {
    const model = loadDisentangleModel();
    const lines = parseIrcLog(sampleLog);
    const d = new Disentangler(model, { window: 5 });
    lines.forEach((l, i) => {
      const p = d.push(l);
      expect(i - p).toBeLessThanOrEqual(5);
      expect(p).toBeLessThanOrEqual(i);
    });
  });

  it('threads a small conversation with explicit addressing', () => {
    const model = loadDisentangleModel();
    const lines = [
      line('alice', 'how do I mount a usb drive in ubuntu?', 0),
      line('bob', 'anyone know why my wifi drops every few minutes?', 1),
      line('carol', 'alice: plug it in and it should show up under /media', 2),
      line('dave', 'bob: which wifi chipset do you have?', 2),
      line('alice', 'carol: thanks, it shows up now', 3),
      line('bob', 'dave: an intel 3945', 4),
    ];
    const parents = disentangle(lines, model);
    expect(parents.slice(2)).toEqual([0, 1, 2, 3]);
    expect(conversationsFromParents(parents)).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('scores reasonably on the fixture sample', () => {
    const f = threadFile('sample', sampleLog, sampleAnnotation, loadDisentangleModel());
    const scores = Object.fromEntries(scoreThreads([f]));
    expect(scores['threads.link_f']).toBeGreaterThan(50);
    expect(scores['threads.vi']).toBeGreaterThan(80);
  });
});

describe('conversationsFromParents', () => {
  it('labels each line with the earliest line of its component', () => {
    expect(conversationsFromParents([0, 0, 2, 1, 2, 5])).toEqual([0, 0, 2, 0, 2, 5]);
    // transitive: 3 -> 2 -> 0
    expect(conversationsFromParents([0, 1, 0, 2])).toEqual([0, 1, 0, 0]);
    expect(conversationsFromParents([])).toEqual([]);
    // out-of-range parents count as new conversations
    expect(conversationsFromParents([0, 7, -1])).toEqual([0, 1, 2]);
  });
});
