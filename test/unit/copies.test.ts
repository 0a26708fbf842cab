import { describe, expect, it } from 'vitest';
import { COPY_SLOT_MS, COPY_WINDOW_MS, copyKeyOf, copySlotOf, linkUnthreaded, resolveCopies, speakerKeyOf, withoutReplyTemplate, type CopyEntry } from '../../src/pipeline/chat-threads.js';
import { loadDisentangleModel } from '../../src/models/disentangle.js';
import { copySlotsWanted, planVersions } from '../../src/pipeline/ingest-plan.js';
import type { RawMessage } from '../../src/model/index.js';

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
  it('a short line has a copy key with its speaker: the same name on both sides of a bridge, not two people', () => {
    const ircVelvet = copyKeyOf('good morning all', { id: 'libera/velvet', name: 'velvet' });
    expect(ircVelvet).not.toBeNull();
    expect(copyKeyOf('good morning all', { id: '@libera_velvet:libera.chat', name: 'velvet (IRC)' })).toBe(ircVelvet);
    expect(copyKeyOf('Good morning, all!', { id: 'matrix:velvet', name: 'velvet' })).toBe(ircVelvet);
    expect(copyKeyOf('good morning all', { id: '@ynez:matrix.org', name: 'Ynez' })).not.toBe(ircVelvet);
    expect(copyKeyOf('+1', { id: '@halvard:pub.solar' })).toBe(copyKeyOf('+1', { id: 'matrix:halvard', name: 'halvard' }));
    expect(speakerKeyOf({ id: '@_discord_1234:t2bot.io', name: 'x' })).toBe('1234');
    expect(speakerKeyOf({ id: 'matrix:caio.f', name: 'caio.f[m]' })).toBe('caio.f[m]'.replace('[m]', ''));
  });
  it("matrix-appservice-irc's reply templates are not part of what was said", () => {
    expect(withoutReplyTemplate('velvet: no, still broken for me too')).toBe('no, still broken for me too');
    expect(withoutReplyTemplate('<margaux[m]> "Bonjour, nos secrets apparaissen..." <- Thanks, confirmed.')).toBe('Thanks, confirmed.');
    expect(copyKeyOf('<oskar[m]> "Bonjour, nos secrets apparaissen..." <- Thanks, confirmed. Masking only matches the literal value today.')).toBe(
      copyKeyOf('Thanks, confirmed. Masking only matches the literal value today.'),
    );
  });
  it('a greeting or a brb line answers no earlier line', () => {
    const model = loadDisentangleModel();
    const line = (key: string, author: string, text: string, at: number) => ({ key, channel: 'c', author, text, at, threaded: false });
    const ctx = [line('a', 'tomek', 'would love anchors and aliases in the pipeline yaml', 0)];
    expect(linkUnthreaded(model, ctx, [line('b', 'tomek', 'brb, making pierogi for dinner', 600_000)]).size).toBe(0);
  });
});

describe('a copy belongs to its original conversation', () => {
  it("a reply to a relayed line lands in the original's conversation, on either side of the bridge", async () => {
    const { assignConversations } = await import('../../src/pipeline/thread.js');
    const t = (key: string, channelId: number, sentAt: number, over: Record<string, unknown> = {}) => ({
      key,
      refs: [] as Array<{ key: string; kind: 'reply' }>,
      channelId,
      subjectKey: null,
      isReplySubject: false,
      sentAt,
      ...over,
    });
    // IRC (channel 1): the report, stored earlier in conversation 99. Matrix (channel 2): its relay and a reply to the relay.
    const inputs = [t('mx-relay', 2, 1000, { original: { conversation: 99 } }), t('mx-reply', 2, 2000, { refs: [{ key: 'mx-relay', kind: 'reply' }] })];
    const r = assignConversations(inputs, { convOfKey: new Map(), convOfSubject: new Map() });
    expect(r.assign).toEqual([{ existing: 99 }, { existing: 99 }]);
    expect(r.fresh).toEqual([]);
    // Both sides in one batch: the relay follows its original, and so does the reply to the relay.
    const both = [t('irc-report', 1, 1000), t('mx-relay2', 2, 1500, { original: { key: 'irc-report' } }), t('mx-reply2', 2, 2000, { refs: [{ key: 'mx-relay2', kind: 'reply' }] })];
    const r2 = assignConversations(both, { convOfKey: new Map(), convOfSubject: new Map() });
    expect(r2.assign).toEqual([{ fresh: 0 }, { fresh: 0 }, { fresh: 0 }]);
    // Without the link the relay would start a conversation of its own in its channel.
    const plain = assignConversations([t('irc-report', 1, 1000), t('mx-relay2', 2, 1500), t('mx-reply2', 2, 2000, { refs: [{ key: 'mx-relay2', kind: 'reply' }] })], {
      convOfKey: new Map(),
      convOfSubject: new Map(),
    });
    expect(plain.assign).toEqual([{ fresh: 0 }, { fresh: 1 }, { fresh: 1 }]);
  });
});

describe('copy slots asked for', () => {
  const msg = (id: string, sentAt: number): RawMessage => ({ externalId: id, channel: 'c1', author: { id: 'a', name: 'a' }, text: 'after upgrading to 2.4 the login loops again', sentAt });
  const H = COPY_SLOT_MS;
  it('asks only for the hours the lookup span reaches: every slot a stored copy within it can be in', () => {
    // One message early in hour 10: the span (30 minutes either side) reaches hour 9, not hour 11.
    const v = planVersions(1, 'slack', 1, [msg('x', 10 * H + 60_000)], new Map());
    const want = copySlotsWanted(v)!;
    const key = v.copyKeys[0]!;
    expect(want.slots.sort()).toEqual([copySlotOf(key, 9 * H), copySlotOf(key, 10 * H)].sort());
    expect(want.minAt).toBe(10 * H + 60_000 - COPY_WINDOW_MS);
    // A batch reaching into the next hour asks for it too.
    const wide = copySlotsWanted(planVersions(1, 'slack', 2, [msg('x', 10 * H + 60_000), msg('y', 10 * H + 45 * 60_000)], new Map()))!;
    expect(wide.slots).toContain(copySlotOf(key, 11 * H));
  });
});
