import { describe, expect, it } from 'vitest';
import { COPY_WINDOW_MS, copyKeyOf, resolveCopies, type CopyEntry } from '../../src/pipeline/chat-threads.js';

const e = (key: string, at: number, over: Partial<CopyEntry> = {}): CopyEntry => ({ key, copyKey: 'k', channel: 'c1', author: 'a', at, relay: false, ...over });

describe('copy resolution', () => {
  it('the relayed line yields to the original even when it came first', () => {
    const out = resolveCopies([e('irc-relay', 1000, { channel: 'irc', relay: true, author: 'bridge' }), e('matrix', 2000, { channel: 'matrix', author: 'mei' })]);
    expect([...out]).toEqual([['irc-relay', 'matrix']]);
  });
  it('the earliest is the original among plain messages; a cross-post is a copy whoever posted it', () => {
    const out = resolveCopies([e('b', 5000, { channel: 'general' }), e('a', 1000, { channel: 'help' }), e('c', 9000, { channel: 'random', author: 'z' })]);
    expect(Object.fromEntries(out)).toEqual({ b: 'a', c: 'a' });
  });
  it('two people saying the same thing in one room are two voices; the same person twice is a paste', () => {
    const out = resolveCopies([e('a', 0), e('b', 1000, { author: 'someone-else' }), e('c', 2000)]);
    expect(Object.fromEntries(out)).toEqual({ c: 'a' });
  });
  it('outside the window it is said again, not copied', () => {
    const out = resolveCopies([e('a', 0, { channel: 'x' }), e('b', COPY_WINDOW_MS + 1, { channel: 'y' })]);
    expect(out.size).toBe(0);
  });
  it('short lines have no copy key', () => {
    expect(copyKeyOf('thanks!')).toBeNull();
    expect(copyKeyOf('+1')).toBeNull();
    expect(copyKeyOf('After upgrading to 2.4 the login loops')).toBe(copyKeyOf('<mei[m]> after upgrading to 2.4   the LOGIN loops'));
  });
});
