// Folding repeated voicings of a need (relays, cross-posts, a person saying it twice) keeps exactly
// what the pairwise rule keeps: checked against that rule, written out as it was, on random voicings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldCopies, type PriorityMessage, type Voicing } from '../../src/pipeline/priority.js';
import { contentKey } from '../../src/pipeline/dedupe/index.js';

const COPY_WINDOW_MS = 30 * 60 * 1000;
const SAME_BREATH_MS = 10 * 60 * 1000;

/** The rule as first written: compare each voicing with every one kept before it. */
function pairwise(vs: Voicing[]): Voicing[] {
  const sorted = [...vs].sort((a, b) => a.message.at - b.message.at || a.message.messageId - b.message.messageId);
  const kept: Voicing[] = [];
  const seen = new Map<string, Voicing[]>();
  const seenIds = new Set<number>();
  for (const v of sorted) {
    if (seenIds.has(v.message.messageId)) continue;
    const key = contentKey(v.message.text);
    const longEnough = v.message.text.trim().split(/\s+/).length >= 4;
    const prior = seen.get(key) ?? [];
    const copy = prior.some((p) => (p.message.personId === v.message.personId || longEnough) && Math.abs(p.message.at - v.message.at) <= COPY_WINDOW_MS);
    const again = kept.some((p) => p.message.personId === v.message.personId && p.message.conversationId === v.message.conversationId && v.message.at - p.message.at <= SAME_BREATH_MS);
    if (copy || again) continue;
    prior.push(v);
    seen.set(key, prior);
    seenIds.add(v.message.messageId);
    kept.push(v);
  }
  return kept;
}

const TEXTS = ['+1', 'me too', 'same here!', 'Same here', 'we see this too after the upgrade', 'We see this too after the upgrade.', 'the export button does nothing on big dashboards', 'any update?'];

const voicing = fc.record({
  itemId: fc.integer({ min: 1, max: 5 }),
  role: fc.constantFrom('raised' as const, 'me-too' as const),
  messageId: fc.integer({ min: 1, max: 40 }),
  conversationId: fc.integer({ min: 1, max: 4 }),
  personId: fc.integer({ min: 1, max: 5 }),
  minute: fc.integer({ min: 0, max: 120 }),
  text: fc.constantFrom(...TEXTS),
});

describe('folding voicings', () => {
  it('keeps what comparing with every earlier voicing keeps', () => {
    fc.assert(
      fc.property(fc.array(voicing, { maxLength: 60 }), (raw) => {
        const vs: Voicing[] = raw.map((r) => {
          const message: PriorityMessage = {
            messageId: r.messageId,
            conversationId: r.conversationId,
            personId: r.personId,
            personName: `p${r.personId}`,
            org: null,
            segment: 'community',
            at: r.minute * 60_000,
            text: r.text,
            channel: 'general',
            platform: 'slack',
            permalink: null,
          };
          return { itemId: r.itemId, role: r.role, message };
        });
        expect(foldCopies(vs)).toEqual(pairwise(vs));
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
