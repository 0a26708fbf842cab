// When links made ahead on a helper thread may stand for linking on the storing thread (AheadCheck),
// and that the helper's linker gives what a channel threader continuing over the same lines gives.
import { describe, expect, it } from 'vitest';
import { AheadCheck, AheadLinker, type AheadLinks } from '../../src/pipeline/link-ahead.js';
import { ChannelThreader, type StreamMessage } from '../../src/pipeline/chat-threads.js';
import { loadDisentangleModel } from '../../src/models/disentangle.js';

const T0 = Date.UTC(2026, 9, 5, 9);
const line = (i: number, author: string, text: string): StreamMessage => ({ key: `k${i}`, channel: '#c', author, text, at: T0 + i * 20_000, threaded: false });
const links = (keys: string[], prevLastKey: string | null, gen = 0): AheadLinks => ({ keys, prevLastKey, gen, links: [] });
const lines = (...ids: number[]) => ids.map((i) => line(i, 'a', 'x'));

describe('AheadCheck', () => {
  it('takes a fresh channel, then batches that continue from the last one taken', () => {
    const c = new AheadCheck();
    expect(c.accept('c', links(['k1', 'k2'], null), null, lines(1, 2))).toBe(true);
    expect(c.accept('c', links(['k3'], 'k2'), 'k2', lines(3))).toBe(true);
  });

  it('refuses other lines, another store position, a state the store did not take, or a stale generation', () => {
    const c = new AheadCheck();
    expect(c.accept('c', undefined, null, lines(1))).toBe(false);
    // the store holds lines the helper never saw
    expect(c.accept('c', links(['k1'], null), 'k0', lines(1))).toBe(false);
    expect(c.accept('c', links(['k1', 'k2'], null), null, lines(1))).toBe(false);
    expect(c.accept('c', links(['k1', 'k2'], null), null, lines(1, 2))).toBe(true);
    // the helper linked k3 (never taken: the store found it stored), then k4 after it
    expect(c.accept('c', links(['k4'], 'k3'), 'k3', lines(4))).toBe(false);
    const g = c.seeded('c', 'k4');
    expect(g).toBe(1);
    expect(c.accept('c', links(['k5'], 'k4', 0), 'k4', lines(5))).toBe(false);
    expect(c.accept('c', links(['k5'], 'k4', 1), 'k4', lines(5))).toBe(true);
  });
});

describe('AheadLinker', () => {
  it('links as a threader continuing over the same batches does, and from a seed as one given that context', () => {
    const model = loadDisentangleModel();
    const stream = [
      line(1, 'priya', 'anyone know why the okta login loops after upgrading to 2.4?'),
      line(2, 'sam', 'what is the best way to set retention to 30 days'),
      line(3, 'jberg', 'priya: can you send the server logs from the login attempt?'),
      line(4, 'priya', 'jberg: sure, sending them in a minute'),
      line(5, 'lena', 'sam: retention is under settings, data, then retention'),
      line(6, 'sam', 'lena: thanks, found it'),
    ];
    const ahead = new AheadLinker(model);
    const here = new ChannelThreader(model);
    const a1 = ahead.link('c', stream.slice(0, 3));
    const a2 = ahead.link('c', stream.slice(3));
    expect(a1.prevLastKey).toBeNull();
    expect(a2.prevLastKey).toBe('k3');
    expect(new Map(a1.links)).toEqual(here.link('c', [], stream.slice(0, 3)));
    expect(new Map(a2.links)).toEqual(here.link('c', null, stream.slice(3)));
    expect(a2.links.length).toBeGreaterThan(0);

    const seeded = new AheadLinker(model);
    seeded.seed('c', 3, stream.slice(0, 2), stream.slice(2, 4));
    const s = seeded.link('c', stream.slice(4));
    const fresh = new ChannelThreader(model);
    fresh.link('c', stream.slice(0, 2), stream.slice(2, 4));
    expect(s.gen).toBe(3);
    expect(s.prevLastKey).toBe('k4');
    expect(new Map(s.links)).toEqual(fresh.link('c', null, stream.slice(4)));
  });
});
