// The digest keeps its best `top` clusters without planning every active one: clusters are visited by a
// bound on their score (the weight of the people who wrote in their conversations in the period), and
// those that cannot beat the last kept entry are not read. The entries kept must be those of planning all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { clusterEntries } from '../../src/digest/clusters.js';
import { scoreBound } from '../../src/pipeline/digest-plan.js';
import { periodAuthors } from '../../src/store/clusters.js';
import { appWith, configYaml, seed, WEEK } from './support.js';

let app: App;

beforeAll(async () => {
  app = await appWith(configYaml(2525));
  await seed(app.db);
}, 60_000);
afterAll(async () => {
  await app?.close();
});

describe('the best clusters of a period', () => {
  const weightings: Array<Record<string, { weight: number }> | undefined> = [
    undefined,
    { customer: { weight: 3 } },
    { customer: { weight: 0.5 }, community: { weight: 2 } },
    { customer: { weight: -1 } },
  ];

  it('no cluster scores above its bound', async () => {
    const authors = await periodAuthors(app.db, WEEK.start, WEEK.end);
    for (const segments of weightings) {
      const all = await clusterEntries(app.db, WEEK, { segments });
      expect(all.length).toBeGreaterThan(2);
      for (const e of all) expect(e.entry.score).toBeLessThanOrEqual(scoreBound(authors.get(e.clusterId) ?? [], segments));
    }
  });

  it('keeps with `top` the entries that planning every cluster ranks first', async () => {
    for (const segments of weightings) {
      const all = await clusterEntries(app.db, WEEK, { segments });
      for (let top = 1; top <= all.length + 1; top++) {
        const best = await clusterEntries(app.db, WEEK, { segments, top });
        expect(best.map((e) => e.entry)).toEqual(all.slice(0, top).map((e) => e.entry));
      }
    }
  });
});
